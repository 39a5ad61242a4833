"""Latent encoders (amortised search): the network, the ``latent_encoder`` recipe, the sidecar
files beside a model, and the latent search starting from them. Tiny generators made here."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch.utils.data import TensorDataset

from inpaintkit import weights
from inpaintkit.cli.train import add_train_parser
from inpaintkit.errors import InpaintError
from inpaintkit.methods.latent_loop import latent_search
from inpaintkit.models.dcgan import DCGANConfig, build_dcgan
from inpaintkit.models.latent_encoder import LATENT_ENCODER, LatentEncoderConfig
from inpaintkit.registry import get_method
from inpaintkit.train.config import resolve
from inpaintkit.train.loop import Trainer
from inpaintkit.train.recipes import get_recipe
from inpaintkit.weights.encoders import find_encoder
from inpaintkit.weights.write import export_model, install_model, model_card, verify_model

pytestmark = pytest.mark.usefixtures("one_thread")

S, Z = 16, 8
GEN = DCGANConfig(image_size=32, ngf=4, ndf=4, z_dim=Z)
FAST = {"workers": 0, "progress": False, "tensorboard": False, "n_samples": 6}


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "user"
    monkeypatch.setenv("INPAINTKIT_WEIGHTS", str(d))
    return d


@pytest.fixture
def generator(tmp_path: Path, user_dir: Path) -> Path:
    """A tiny DCGAN installed as ``yeh2017_tiny32`` (random weights, seeded)."""
    torch.manual_seed(3)
    G, D = build_dcgan(GEN)
    for layer in G.modules():  # DCGAN's N(0, 0.02) init makes G(z) nearly constant in z
        if isinstance(layer, torch.nn.Conv2d | torch.nn.ConvTranspose2d | torch.nn.Linear):
            torch.nn.init.normal_(layer.weight, 0.0, 0.3)
    card = model_card(
        model="dcgan", architecture=dataclasses.asdict(GEN), data="none (test)", steps=1,
        images_seen=1, command="test", precision="fp32",
    )  # fmt: skip
    path, _ = export_model(tmp_path / "gen", "dcgan", {"G": G, "D": D}, card=card)
    return install_model(path, "yeh2017_tiny32")


def _trainer(out: Path, steps: int, *, resume: Path | None = None, **recipe: object) -> Trainer:
    r = get_recipe("latent_encoder")
    sets = {
        "loop": {**FAST, "steps": steps, "sample_every": 0, "ckpt_every": 1, "keep_last": 0},
        "recipe": {"generator": "yeh2017_tiny32", "width": 4, "batch_size": 4, **recipe},
    }
    loop, cfg = resolve(r.config_cls, sets=sets, loop_defaults=r.loop_defaults)
    data = TensorDataset(
        torch.rand(8, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    )
    return Trainer(r, data, loop=loop, cfg=cfg, out_dir=out, resume=resume)


# --- the network ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [8, 16, 64])
def test_encoder_shapes_range_and_gradients(size: int) -> None:
    cfg = LatentEncoderConfig(z_dim=Z, image_size=size, width=4)
    E = LATENT_ENCODER.build(cfg)["E"]
    assert len(cfg.channels) == size.bit_length() - 3
    x = torch.rand(3, 3, size, size) * 2 - 1
    m = (torch.rand(3, 1, size, size) < 0.3).float()
    z = E(x, m)
    assert z.shape == (3, Z) and bool(z.abs().max() < 1) and torch.isfinite(z).all()
    z.square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in E.parameters())


def test_encoder_ignores_hole_content_and_bad_configs_raise() -> None:
    E = LATENT_ENCODER.build(LatentEncoderConfig(z_dim=Z, image_size=S, width=4))["E"].eval()
    x = torch.rand(2, 3, S, S) * 2 - 1
    m = torch.zeros(2, 1, S, S)
    m[..., 4:12, 4:12] = 1
    assert torch.equal(E(x, m), E(torch.where(m > 0, torch.rand_like(x), x), m))
    for bad in ({"image_size": 24}, {"width": 0}, {"prior": "laplace"}):
        with pytest.raises(InpaintError):
            LatentEncoderConfig(**bad).validate()  # type: ignore[arg-type]


# --- the recipe -----------------------------------------------------------------------------


def test_recipe_learns_and_exports_with_its_generator(tmp_path: Path, generator: Path) -> None:
    t = _trainer(tmp_path / "run", 30, real_fraction=0.0, lr=3e-3)

    def probe() -> float:  # E's z error on a fixed batch of the generator's samples
        g = torch.Generator().manual_seed(9)
        batch_ctx = dataclasses.replace(t.ctx, generator=g)
        images, holes, z = t.recipe.batch(batch_ctx, None)
        with torch.no_grad():
            return float((t.nets["E"].eval()(images * (1 - holes), holes) - z).square().mean())

    first = probe()
    t.nets["E"].train()
    result = t.run()
    last = probe()
    assert last < 0.7 * first, (first, last)  # measured 0.283 -> 0.143 in 30 steps
    card = json.loads(result.export.with_suffix(".json").read_text())
    assert card["model"] == "latent_encoder" and card["generator"] == "yeh2017_tiny32"
    assert card["architecture"] == {"z_dim": Z, "image_size": 32, "prior": "uniform", "width": 4}
    assert card["generator_sha256"] == weights.encoders.model_sha256(generator)
    assert (tmp_path / "run/samples").is_dir()


def test_recipe_mixes_real_images_and_resumes_exactly(tmp_path: Path, generator: Path) -> None:
    t = _trainer(tmp_path / "a", 2, real_fraction=0.5)
    t.run()
    assert t.images_seen == 2 * 4  # a real batch per step (half of it used)
    _trainer(tmp_path / "b", 1, real_fraction=0.5).run()
    rest = _trainer(tmp_path / "b", 2, resume=tmp_path / "b", real_fraction=0.5).run()
    assert rest.checkpoint is not None
    for name in ("models.safetensors", "optim.safetensors"):
        a = load_file(str(tmp_path / "a/checkpoints/step_000002" / name))
        b = load_file(str(rest.checkpoint / name))
        assert a.keys() == b.keys() and len(a) > 0
        assert all(torch.equal(a[k], b[k]) for k in a), name
    with pytest.raises(InpaintError, match=r"recipe\.generator"):
        _trainer(tmp_path / "c", 1, generator="deepfill_natural128")


# --- files and the method -------------------------------------------------------------------


def _cli_train(out: Path) -> Path:
    import inpaintkit.data

    parser = argparse.ArgumentParser(prog="inpaintkit")
    add_train_parser(parser.add_subparsers(dest="command"))
    argv = ["train", "latent_encoder", "--data", "fake:/x", "--out", str(out), "--steps", "2"]
    argv += ["--batch-size", "4", "--workers", "0", "--no-progress", "--sample-every", "0"]
    argv += ["--set", "recipe.generator=yeh2017_tiny32", "--set", "recipe.width=4"]
    args = parser.parse_args(argv)
    args.argv = ["inpaintkit", *argv]
    data = TensorDataset(torch.rand(8, 3, 32, 32) * 2 - 1)
    orig = getattr(inpaintkit.data, "open_dataset", None)
    inpaintkit.data.open_dataset = lambda spec, *, size, **kw: data  # type: ignore[attr-defined]
    try:
        assert args.func(args) == 0
    finally:
        if orig is not None:
            inpaintkit.data.open_dataset = orig  # type: ignore[attr-defined]
    return out / "export/latent_encoder.safetensors"


def _inputs() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    m = torch.zeros(2, 1, 32, 32)
    m[..., 8:24, 8:24] = 1
    return x * (1 - m), m


def test_install_beside_its_model_and_the_default_start_switches(
    tmp_path: Path, generator: Path, user_dir: Path
) -> None:
    fn = get_method("yeh2017").fn
    x, m = _inputs()
    opts = {"model": "tiny32", "iterations": 3, "progress": False}
    before = fn(x, m, **opts)
    assert before.extras["start"] == "random"
    with pytest.raises(InpaintError, match="latent encoder"):
        fn(x, m, start="encoder", **opts)

    export = _cli_train(tmp_path / "enc")
    installed = install_model(export)  # the card names its generator: no --name needed
    assert installed == user_dir / "yeh2017_tiny32.encoder.safetensors"
    assert find_encoder(generator) == installed and verify_model(installed) == []
    installed_models = weights.list_installed("yeh2017")
    assert "tiny32" in installed_models and not any("encoder" in d for d in installed_models)

    auto, again = fn(x, m, **opts), fn(x, m, **opts)
    assert auto.extras["start"] == "encoder" and torch.equal(auto.image, again.image)
    assert any("latent encoder" in n for n in auto.notes)
    assert torch.equal(fn(x, m, start="encoder", **opts).image, auto.image)
    assert torch.equal(fn(x, m, start="random", **opts).image, before.image)
    assert not torch.equal(auto.image, before.image)
    # the fast preset's 32 random candidates are dropped beside the encoder's z unless asked for
    fast = fn(x, m, preset="fast", **opts)
    assert torch.equal(fast.image, fn(x, m, preset="fast", init_candidates=1, **opts).image)

    # preset auto (the default) from an encoder: the amortised settings where none were given
    from inpaintkit.methods.latent_presets import AMORTISED, preset_steps

    bare = {"model": "tiny32", "progress": False}
    assert preset_steps("yeh2017")(bare) == AMORTISED["iterations"] == 150
    assert preset_steps("yeh2017")({**bare, "start": "random"}) == 1500
    steps: list[int] = []
    auto_default = fn(x, m, callback=lambda step, loss: steps.append(step), **bare)
    assert max(steps) == 150 and any("preset auto: 150 bf16" in n for n in auto_default.notes)
    assert torch.equal(auto_default.image, fn(x, m, preset="amortised", **bare).image)
    given = fn(x, m, callback=lambda step, loss: steps.append(-step), **opts)  # iterations=3
    assert min(steps) == -3 and torch.equal(given.image, auto.image)

    # iterations=0: the fill is G(E(x, m)) itself
    E = weights.load_model("latent_encoder", installed).nets["E"]
    zero = fn(x, m, **{**opts, "iterations": 0})
    with torch.no_grad():
        assert torch.allclose(zero.extras["z"], E(x, m), atol=1e-6)

    # a changed generator file: the encoder no longer applies, and verify says why
    G, D = build_dcgan(GEN)
    card = json.loads(generator.with_suffix(".json").read_text())
    export_model(generator.parent, generator.stem, {"G": G, "D": D}, card=card)
    assert find_encoder(generator) is None
    assert any("another" in p for p in verify_model(installed))
    assert fn(x, m, **opts).extras["start"] == "random"


def test_search_starts_at_z_init_and_candidates_around_it() -> None:
    torch.manual_seed(0)
    G, D = build_dcgan(GEN)
    x, m = _inputs()
    z0 = torch.tensor([[0.5] * Z, [2.0] * Z])  # the second is clipped into the box
    common = {"z_dim": Z, "progress": False, "blend": False}
    out = latent_search(G.eval(), D.eval(), x, m, iterations=0, z_init=z0, **common)
    assert torch.equal(out.z, z0.clamp(-1, 1))
    seen: list[tuple[int, torch.Tensor]] = []
    latent_search(
        G, D, x, m, iterations=2, z_init=z0, init_candidates=4, init_jitter=0.05,
        on_latent=lambda step, z: seen.append((step, z.clone())), **common,
    )  # fmt: skip
    assert [s for s, _ in seen] == [0, 1, 2]
    assert float((seen[0][1] - z0.clamp(-1, 1)).abs().max()) < 0.5  # near the start
    with pytest.raises(ValueError, match="z_init"):
        latent_search(G, D, x, m, iterations=0, z_init=z0[:1], **common)
