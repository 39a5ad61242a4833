"""Tests of the latent-search engine and the yeh2017 / vitoria2019 methods (tiny nets, CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from inpaintkit import weights
from inpaintkit.errors import InpaintError
from inpaintkit.losses.latent import context_loss, importance_weights
from inpaintkit.methods.latent_search import latent_search, vitoria2019, yeh2017
from inpaintkit.models.wgan_resnet import WGANResNetConfig, build_wgan_resnet

S, Z = 16, 8


class LinearG(nn.Module):
    """A 'perfect' generator: a fixed linear map of z, so the truth is in its range."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.A = nn.Parameter(torch.randn(3 * S * S, Z, generator=g) * 0.3 / Z**0.5)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (z @ self.A.T).view(-1, 3, S, S)


class TinyD(nn.Module):
    """A tiny critic with BatchNorm, to check eval mode and restoring the training flag."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 4, 3, 2, 1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten()
        )
        self.fc = nn.Linear(4 * (S // 2) ** 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.net(x)).squeeze(1)


def _center_mask(b: int = 1) -> torch.Tensor:
    m = torch.zeros(b, 1, S, S)
    m[:, :, 5:11, 5:11] = 1
    return m


def _truth(G: nn.Module, b: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    z_true = torch.rand(b, Z, generator=torch.Generator().manual_seed(5)) * 1.6 - 0.8
    with torch.no_grad():
        return z_true, G(z_true)


def test_recovers_the_hole_with_a_perfect_generator() -> None:
    G = LinearG()
    z_true, y = _truth(G)
    assert y.abs().max() < 1  # the truth is a valid image
    m = _center_mask(2)
    out, z, loss = latent_search(
        G, None, y * (1 - m), m, z_dim=Z, iterations=100, lr=0.03, blend=False, progress=False
    )
    assert out.shape == y.shape and z.shape == (2, Z) and loss.shape == (2,)
    assert ((out - y) * m).abs().max() < 0.01  # the hole is recovered
    assert (z - z_true).abs().max() < 0.02
    assert torch.equal(out * (1 - m), y * (1 - m))  # known pixels untouched
    assert (loss < 0.1).all()
    with torch.no_grad():  # the loss returned is the objective at the z returned
        expected = context_loss(G(z), y, importance_weights(m))
    assert torch.allclose(loss, expected)


def test_gradient_loss_and_wgan_prior_path() -> None:
    G, D = LinearG(), TinyD()
    _, y = _truth(G, 1)
    m = _center_mask()
    kw = {"z_dim": Z, "iterations": 40, "lr": 0.03, "blend": False, "progress": False}
    start = latent_search(G, D, y, m, **{**kw, "iterations": 0})
    res = latent_search(
        G, D, y, m, prior="normal", alpha=0.1, beta=0.9, prior_loss="wgan", prior_weight=0.5, **kw
    )
    base = latent_search(
        G,
        D,
        y,
        m,
        prior="normal",
        alpha=0.1,
        beta=0.9,
        prior_loss="wgan",
        prior_weight=0.5,
        **{**kw, "iterations": 0},
    )
    assert res.loss.item() < base.loss.item()  # the search lowers the Vitoria objective
    assert not torch.equal(start.z, base.z)  # uniform vs normal initialisation


@pytest.mark.parametrize("prior", ["uniform", "normal"])
def test_z_stays_in_the_box(prior: str) -> None:
    G = LinearG()
    z_far = torch.full((1, Z), 1.5)  # the best latent lies outside [-1, 1]
    with torch.no_grad():
        y = G(z_far)
    calls: list[float] = []
    res = latent_search(
        G, None, y, _center_mask(), z_dim=Z, prior=prior, iterations=30, lr=0.1,
        blend=False, progress=False, callback=lambda step, loss: calls.append(loss),
    )  # fmt: skip
    assert res.z.abs().max() <= 1.0
    assert res.z.max() == 1.0  # pushed against the box
    assert len(calls) == 30


def test_restarts_keep_the_best() -> None:
    # With 0 iterations the returned latent must be the best of the B x R initial draws.
    G = LinearG()
    _, y = _truth(G, 2)
    m = _center_mask(2)
    res = latent_search(
        G,
        None,
        y,
        m,
        z_dim=Z,
        iterations=0,
        restarts=5,
        blend=False,
        progress=False,
        generator=torch.Generator().manual_seed(3),
    )
    z0 = torch.rand(10, Z, generator=torch.Generator().manual_seed(3)) * 2 - 1  # same draw
    with torch.no_grad():
        w = importance_weights(m.repeat_interleave(5, 0))
        losses = context_loss(G(z0), y.repeat_interleave(5, 0), w).view(2, 5)
    best = losses.argmin(1)
    assert torch.equal(res.z, z0.view(2, 5, Z)[torch.arange(2), best])
    assert torch.allclose(res.loss, losses.min(1).values)
    assert not torch.equal(best, torch.zeros(2, dtype=torch.long))  # the test is not trivial


def test_same_seed_same_output() -> None:
    G, D = LinearG(), TinyD()
    _, y = _truth(G, 1)
    m = _center_mask()

    def run(seed: int) -> tuple[torch.Tensor, ...]:
        g = torch.Generator().manual_seed(seed)
        return latent_search(
            G, D, y, m, z_dim=Z, iterations=5, restarts=2, generator=g, blend=False, progress=False
        )

    a, b, c = run(1), run(1), run(2)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert not torch.equal(a.z, c.z)


def test_callback_can_cancel_and_modes_are_restored() -> None:
    G, D = LinearG(), TinyD()
    D.train()
    G.eval()
    _, y = _truth(G, 1)
    steps: list[int] = []

    def cancel(step: int, loss: float) -> None:
        steps.append(step)
        if step == 3:
            raise KeyboardInterrupt("cancelled by the user")

    with pytest.raises(KeyboardInterrupt):
        latent_search(
            G,
            D,
            y,
            _center_mask(),
            z_dim=Z,
            iterations=100,
            callback=cancel,
            blend=False,
            progress=False,
        )
    assert steps == [1, 2, 3]
    assert D.training and not G.training  # restored as they were
    assert all(p.grad is None for p in [*G.parameters(), *D.parameters()])  # weights untouched


def test_early_stop() -> None:
    G = LinearG()
    _, y = _truth(G, 1)
    steps: list[int] = []
    latent_search(
        G,
        None,
        y,
        _center_mask(),
        z_dim=Z,
        iterations=100,
        early_stop_tol=10.0,
        callback=lambda s, v: steps.append(s),
        blend=False,
        progress=False,
    )
    assert steps == [1, 2]  # any change is within 10x of the previous loss: stop at step 2


def test_bad_input() -> None:
    G = LinearG()
    y = torch.zeros(1, 3, S, S)
    with pytest.raises(InpaintError):
        latent_search(G, None, y, torch.zeros(1, 1, S, S + 1), z_dim=Z, progress=False)
    with pytest.raises(InpaintError):
        latent_search(G, None, y, _center_mask(), z_dim=Z, prior="cauchy", progress=False)
    with pytest.raises(InpaintError):
        latent_search(
            G,
            None,
            torch.zeros(1, 3, 8, 8),
            torch.zeros(1, 1, 8, 8),
            z_dim=Z,
            iterations=1,
            progress=False,
        )


def test_blend_keeps_known_pixels_and_constants() -> None:
    pytest.importorskip("inpaintkit.blend")
    from inpaintkit.methods.latent_search import compose

    y = torch.full((1, 3, S, S), 0.25)
    m = _center_mask()
    out = compose(y * (1 - m), m, torch.full_like(y, -0.5), blend=True)
    # Poisson blending keeps gradients (zero) with the known border (0.25): a constant fill
    assert torch.allclose(out, y, atol=1e-5)


# ----- the registered methods, with a tiny model file written by the test ----------------------


@pytest.fixture
def weights_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    user = tmp_path / "user"
    user.mkdir()
    monkeypatch.setenv("INPAINTKIT_WEIGHTS", str(user))
    monkeypatch.setattr(weights, "bundled_dir", lambda: tmp_path / "bundled")  # nothing bundled
    return user


def _install_tiny_vitoria(folder: Path, name: str = "vitoria2019_tiny16") -> Path:
    torch.manual_seed(0)
    cfg = WGANResNetConfig(z_dim=Z, image_size=S, dim=4)
    G, D = build_wgan_resnet(cfg)
    tensors = {f"G.{k}": v for k, v in G.state_dict().items()}
    tensors |= {f"D.{k}": v for k, v in D.state_dict().items()}
    tensors = {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}
    path = folder / f"{name}.safetensors"
    save_file(tensors, str(path))
    card = {"model": "wgan_resnet", "architecture": cfg.to_dict(), "data": "none (test)"}
    path.with_suffix(".json").write_text(json.dumps(card))
    return path


def test_vitoria_resizes_and_notes(weights_dirs: Path) -> None:
    _install_tiny_vitoria(weights_dirs)
    assert weights.list_installed("wgan_resnet") == ["tiny16"]
    image = torch.rand(1, 3, 20, 24, generator=torch.Generator().manual_seed(0)) * 2 - 1
    mask = torch.zeros(1, 1, 20, 24)
    mask[:, :, 6:14, 8:16] = 1
    image = image * (1 - mask)
    res = vitoria2019(image, mask, model="tiny16", iterations=3, blend=False, progress=False)
    assert res.image.shape == (1, 3, 20, 24)
    # a square crop around the hole at the model's scale (issue 22 #3), not the squashed image
    assert res.notes == [
        "filled a 16 px square crop around the holes of 24x20 for the tiny16 model"
    ]
    assert torch.equal(res.image * (1 - mask), image)  # known pixels bit-exact
    assert res.extras["z"].shape == (1, Z) and res.extras["z"].abs().max() <= 1
    assert res.extras["loss"].shape == (1,)
    again = vitoria2019(image, mask, iterations=3, blend=False, progress=False)  # the only model
    assert torch.equal(again.image, res.image)  # same seed, same output
    other = vitoria2019(image, mask, iterations=3, blend=False, progress=False, seed=1)
    assert not torch.equal(other.image, res.image)


def test_model_given_as_path_and_no_resize(weights_dirs: Path, tmp_path: Path) -> None:
    path = _install_tiny_vitoria(tmp_path, "vitoria2019_elsewhere")
    image = torch.zeros(2, 3, S, S)
    res = vitoria2019(
        image, _center_mask(2), model=str(path), iterations=2, blend=False, progress=False
    )
    assert res.notes == [] and res.image.shape == (2, 3, S, S)


def test_no_model_installed(weights_dirs: Path) -> None:
    image, mask = torch.zeros(1, 3, S, S), _center_mask()
    with pytest.raises(InpaintError, match=r"none is installed.*inpaintkit train dcgan"):
        yeh2017(image, mask, progress=False)
    _install_tiny_vitoria(weights_dirs)
    with pytest.raises(InpaintError, match=r"'celeba64' is installed \(installed: tiny16\)"):
        vitoria2019(image, mask, model="celeba64", progress=False)
    with pytest.raises(InpaintError, match="does not exist"):
        vitoria2019(image, mask, model="/nowhere/x.safetensors", progress=False)
    _install_tiny_vitoria(weights_dirs, "vitoria2019_second16")
    # several installed, no celeba64 among them: the first by name runs (issue 22 #1)
    from inpaintkit.weights import default_model

    assert default_model("vitoria2019") == "second16"
    res = vitoria2019(image, mask, progress=False, iterations=2)
    assert res.extras["model"].endswith("vitoria2019_second16.safetensors")


def test_wrong_architecture_in_card(weights_dirs: Path) -> None:
    path = _install_tiny_vitoria(weights_dirs, "yeh2017_fake16")  # a WGAN named as a DCGAN
    with pytest.raises(InpaintError, match="holds a wgan_resnet model"):
        yeh2017(torch.zeros(1, 3, S, S), _center_mask(), model="fake16", progress=False)
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(InpaintError, match="cannot read model file"):
        yeh2017(torch.zeros(1, 3, S, S), _center_mask(), model="fake16", progress=False)
    path.with_suffix(".json").unlink()
    with pytest.raises(InpaintError, match="model card"):
        yeh2017(torch.zeros(1, 3, S, S), _center_mask(), model="fake16", progress=False)


def test_resize_never_leaks_hole_content() -> None:
    from inpaintkit.methods.latent_search import _resize_known

    mask = torch.zeros(1, 1, 20, 24)
    mask[:, :, 3:9, 5:17] = 1
    image = torch.full((1, 3, 20, 24), 0.5) * (1 - mask) + 7.0 * mask  # garbage in the hole
    small, hole = _resize_known(image, mask, S)
    assert hole.shape == (1, 1, S, S) and small.shape == (1, 3, S, S)
    known = hole.expand_as(small) == 0
    assert torch.allclose(small[known], torch.full_like(small[known], 0.5), atol=1e-6)
    assert (small[~known] == 0).all()
    assert abs(hole.mean().item() - mask.mean().item()) < 0.05  # the hole keeps its share


def test_yeh_end_to_end_through_the_api(weights_dirs: Path) -> None:
    # A model file written by the training code's exporter, then the public API on uint8 pixels.
    from dataclasses import asdict

    import numpy as np

    import inpaintkit
    from inpaintkit.models.dcgan import DCGANConfig, build_dcgan
    from inpaintkit.train.export import export_model

    cfg = DCGANConfig(z_dim=Z, image_size=32, ngf=4, ndf=4)
    G, D = build_dcgan(cfg)
    card = {"model": "dcgan", "architecture": asdict(cfg)}
    export_model(weights_dirs, "yeh2017_tiny32", {"G": G, "D": D}, card=card)
    assert weights.installed_for("yeh2017") == ["tiny32"]
    pixels = np.random.default_rng(0).integers(0, 256, (40, 36, 3), dtype=np.uint8)
    hole = np.zeros((40, 36), bool)
    hole[12:26, 10:24] = True
    out = inpaintkit.inpaint(pixels, hole, "yeh2017", iterations=3, restarts=2, progress=False)
    assert out.pixels.shape == pixels.shape and out.pixels.dtype == np.uint8
    assert np.array_equal(out.pixels[~hole], pixels[~hole])
    assert out.notes == [
        "filled a 32 px square crop around the holes of 36x40 for the tiny32 model"
    ]
    assert out.extras["z"].shape == (1, Z) and out.extras["z"].abs().max() <= 1


@pytest.fixture
def one_thread():
    """One intra-op thread: on a busy 2-core machine, 2 threads make tiny ops much slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.usefixtures("one_thread")
def test_bf16_precision_runs_the_nets_in_bf16_and_keeps_float32_out() -> None:
    G, D = LinearG(), TinyD()
    _, y = _truth(G, 2)
    m = _center_mask(2)
    seen: list[torch.dtype] = []
    hook = G.register_forward_hook(lambda mod, inp, out: seen.append(out.dtype))

    def search(precision: str) -> tuple[torch.Tensor, ...]:
        return latent_search(
            G, D, y * (1 - m), m, z_dim=Z, iterations=60, lr=0.03, prior_weight=1e-4,
            blend=False, progress=False, precision=precision,
        )  # fmt: skip

    fp32 = search("fp32")
    assert set(seen) == {torch.float32}
    seen.clear()
    bf16 = search("bf16")
    hook.remove()
    assert set(seen) == {torch.bfloat16}  # G ran under autocast on every call
    assert all(t.dtype == torch.float32 for t in bf16)  # images, z and loss stay float32
    assert not torch.equal(bf16.z, fp32.z)  # the precision did change the arithmetic
    # ... but the search still recovers the hole (bf16 has ~3 significant digits)
    assert ((bf16.images - y) * m).abs().max() < 0.05
    assert torch.equal(bf16.images * (1 - m), y * (1 - m))
    assert (bf16.z - fp32.z).abs().max() < 0.05
    with pytest.raises(InpaintError, match="precision must be 'fp32' or 'bf16'"):
        latent_search(G, None, y, m, z_dim=Z, progress=False, precision="fp16")


# ----- better starts and presets ---------------------------------------------------------------


def test_init_candidates_start_from_the_best_draw() -> None:
    # With 0 iterations the returned latent is the start: with k candidates it must be the
    # lowest-loss of the first draw and the k-1 next draws of the same generator.
    G = LinearG()
    _, y = _truth(G, 3)
    m = _center_mask(3)
    kw = {"z_dim": Z, "iterations": 0, "blend": False, "progress": False}
    one = latent_search(G, None, y, m, generator=torch.Generator().manual_seed(4), **kw)
    many = latent_search(
        G, None, y, m, generator=torch.Generator().manual_seed(4), init_candidates=8, **kw
    )
    draws = torch.rand(8 * 3, Z, generator=torch.Generator().manual_seed(4)) * 2 - 1
    draws = draws.view(8, 3, Z)  # candidate c of image b is draws[c, b]
    with torch.no_grad():
        w = importance_weights(m)
        losses = torch.stack([context_loss(G(draws[c]), y, w) for c in range(8)])  # (8, 3)
    best = losses.argmin(0)
    assert torch.equal(one.z, draws[0])
    assert torch.equal(many.z, draws[best, torch.arange(3)])
    assert (many.loss <= one.loss).all() and (many.loss < one.loss).any()
    with pytest.raises(InpaintError, match="init_candidates"):
        latent_search(G, None, y, m, init_candidates=0, **kw)


def test_presets_resolve_and_overrides_win() -> None:
    from inpaintkit.methods.latent_search import PRESETS, resolve_preset

    paper = resolve_preset("yeh2017", "paper")
    assert paper == {"iterations": 1500, "precision": "fp32", "init_candidates": 1,
                     "early_stop_tol": None}  # fmt: skip
    assert resolve_preset("vitoria2019", "paper")["iterations"] == 1000
    fast = resolve_preset("yeh2017", "fast", iterations=None, init_candidates=4)
    assert fast["init_candidates"] == 4 and fast["precision"] == "bf16"
    assert fast["iterations"] == PRESETS["yeh2017"]["fast"]["iterations"] < 1500
    assert resolve_preset("yeh2017", "fast", early_stop_tol=0.0)["early_stop_tol"] is None
    with pytest.raises(InpaintError, match="preset must be one of auto, paper, fast, amortised"):
        resolve_preset("yeh2017", "quick")


def test_fast_preset_runs_the_method(weights_dirs: Path) -> None:
    _install_tiny_vitoria(weights_dirs)
    image = torch.rand(2, 3, S, S, generator=torch.Generator().manual_seed(0)) * 2 - 1
    mask = _center_mask(2)
    image = image * (1 - mask)
    calls: list[int] = []
    res = vitoria2019(
        image, mask, preset="fast", iterations=4, blend=False, progress=False,
        callback=lambda step, loss: calls.append(step),
    )  # fmt: skip
    assert calls == [1, 2, 3, 4]  # the override beats the preset's 200 steps
    assert torch.equal(res.image * (1 - mask), image)
    with pytest.raises(InpaintError, match="preset"):
        vitoria2019(image, mask, preset="slow", progress=False)


def test_big_photo_small_hole_is_searched_on_a_crop_at_the_model_scale(
    weights_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22 #3: a 96x64 photo with a small hole: the search sees the S x S crop around
    the hole at full resolution (aspect ratio kept), not the whole photo squashed to S x S."""
    import inpaintkit.methods.latent_search as ls

    _install_tiny_vitoria(weights_dirs)
    seen = {}
    real = ls.latent_search

    def spy(G, D, x, m, **kw):
        seen["x"], seen["m"] = x.clone(), m.clone()
        return real(G, D, x, m, **kw)

    monkeypatch.setattr(ls, "latent_search", spy)
    image = torch.rand(1, 3, 64, 96, generator=torch.Generator().manual_seed(1)) * 2 - 1
    mask = torch.zeros(1, 1, 64, 96)
    mask[:, :, 40:46, 70:76] = 1  # 6x6 hole: the crop is the model's 16x16
    res = vitoria2019(image * (1 - mask), mask, iterations=2, blend=False, progress=False)
    assert seen["x"].shape == (1, 3, S, S)
    y0, x0 = 43 - S // 2, 73 - S // 2  # centred on the hole
    assert torch.equal(seen["m"], mask[:, :, y0 : y0 + S, x0 : x0 + S])
    assert torch.equal(seen["x"], (image * (1 - mask))[:, :, y0 : y0 + S, x0 : x0 + S])
    assert torch.equal(res.image * (1 - mask), image * (1 - mask))


def test_hole_wider_than_the_image_is_high_is_refused_before_any_search(
    weights_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22 #3: refused up front, with the reason, before the (minutes-long) search."""
    import inpaintkit.methods.latent_search as ls

    _install_tiny_vitoria(weights_dirs)

    def must_not_run(*args, **kwargs):
        raise AssertionError("the search ran before the refusal")

    monkeypatch.setattr(ls, "latent_search", must_not_run)
    image, mask = torch.zeros(1, 3, 40, 120), torch.zeros(1, 1, 40, 120)
    mask[:, :, 10:20, 5:100] = 1  # 95 px wide, the image is 40 px high
    with pytest.raises(InpaintError, match=r"vitoria2019 fills a square crop.*95x10 px.*40 px"):
        vitoria2019(image, mask, iterations=2, progress=False)
