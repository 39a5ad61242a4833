"""Context Encoder (Pathak et al. 2016): model, recipe ``context_encoder``, method; tiny and CPU."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.utils.data import TensorDataset

import inpaintkit
import inpaintkit.methods.context_encoder as ce_method
import inpaintkit.train.context_encoder as ce_train
import inpaintkit.weights as weights
from inpaintkit.errors import InpaintError
from inpaintkit.masks import make_mask
from inpaintkit.models.context_encoder import (
    ContextDiscriminator,
    ContextEncoder,
    ContextEncoderConfig,
    build_context_encoder,
)
from inpaintkit.registry import get_model
from inpaintkit.train import Trainer, get_recipe, train
from inpaintkit.train.config import resolve
from inpaintkit.train.recipes import Ctx

pytestmark = pytest.mark.usefixtures("one_thread")


TINY = {"nef": 4, "ngf": 4, "ndf": 4, "bottleneck": 8}
FAST = {"workers": 0, "progress": False, "tensorboard": False, "n_samples": 6, "device": "cpu"}


def _tiny(size: int = 16, **kw) -> ContextEncoderConfig:
    return ContextEncoderConfig(image_size=size, **{**TINY, **kw})


def _images(n: int, size: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


def _centre_hole(n: int, size: int) -> torch.Tensor:
    m = torch.from_numpy(make_mask("center", (size, size)).astype(np.float32))
    return m.expand(n, 1, size, size).clone()


# --- model -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [16, 32])
def test_shapes_and_range(size: int) -> None:
    G, D = build_context_encoder(_tiny(size))
    x, m = _images(3, size), _centre_hole(3, size)
    out = G(x, m)
    assert out.shape == (3, 3, size, size)
    assert torch.isfinite(out).all() and out.min() >= -1 and out.max() <= 1
    logits = D(out)
    assert logits.shape == (3,) and torch.isfinite(logits).all()
    assert get_model("context_encoder") is build_context_encoder


def test_layer_widths_are_the_papers() -> None:
    cfg = ContextEncoderConfig()  # 128 px: nef, nef, 2nef, 4nef, 8nef down to 4x4
    assert cfg.down_resolutions == [64, 32, 16, 8, 4]
    assert cfg.enc_channels == [64, 64, 128, 256, 512]
    assert cfg.dec_channels == [512, 256, 128, 64, 64]
    assert cfg.d_channels == [64, 64, 128, 256, 512]
    assert _tiny(16).enc_channels == [16, 32] and _tiny(16).dec_channels == [32, 16]
    assert ContextEncoderConfig(image_size=64).enc_channels == [64, 128, 256, 512]  # DCGAN's
    G = ContextEncoder(_tiny(32))
    convs = [m for m in G.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size, c.stride) for c in convs] == [((4, 4), (2, 2))] * 3
    bns = [m.num_features for m in G.encoder if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns == [16, 32]  # channels 8, 16, 32: none after the first conv
    D = ContextDiscriminator(_tiny(32))
    assert [m.num_features for m in D.modules() if isinstance(m, torch.nn.BatchNorm2d)] == [16, 32]


def test_default_parameter_count() -> None:
    with torch.device("meta"):  # counts shapes without allocating the 70M weights
        G, D = build_context_encoder()
    k = 4 * 4
    enc = 3 * 64 * k + 64  # first conv: bias, no BN
    enc += sum(a * b * k + 2 * b for a, b in [(64, 64), (64, 128), (128, 256), (256, 512)])
    neck = 512 * 4000 * k + 2 * 4000  # 4x4 valid conv to 4000 channels + BN
    dec = 4000 * 512 * k + 2 * 512  # 1 -> 4
    dec += sum(a * b * k + 2 * b for a, b in [(512, 256), (256, 128), (128, 64), (64, 64)])
    dec += 64 * 3 * k + 3  # last deconv with bias, tanh
    d = 3 * 64 * k + 64
    d += sum(a * b * k + 2 * b for a, b in [(64, 64), (64, 128), (128, 256), (256, 512)])
    d += 512 * 1 * k + 1  # head
    n_g = sum(p.numel() for p in G.parameters())
    n_d = sum(p.numel() for p in D.parameters())
    print(f"context_encoder 128 px: G {n_g:,} parameters, D {n_d:,}")
    assert n_g == enc + neck + dec == 71_190_275
    assert n_d == d == 2_831_297


def test_prefill_ignores_hole_content() -> None:
    G = ContextEncoder(_tiny(16, fill_value=(0.5, -0.25, 0.0)))
    x, m = _images(2, 16), _centre_hole(2, 16)
    other = torch.where(m.bool(), torch.full_like(x, float("nan")), x)  # hole: NaN
    G.train()  # batch statistics: any leak of the hole would change everything
    assert torch.equal(G(x, m), G(other, m))
    G.eval()
    assert torch.equal(G(x, m), G(other, m))
    # the prefill colour is the config's: same output as an input already holding it
    filled = torch.where(m.bool(), torch.tensor([0.5, -0.25, 0.0]).view(1, 3, 1, 1), x)
    assert torch.equal(G(x, m), G(filled, torch.zeros_like(m)))
    assert "fill" not in G.state_dict()


def test_gradients_reach_every_parameter() -> None:
    G, D = build_context_encoder(_tiny(16))
    x, m = _images(4, 16), _centre_hole(4, 16)
    w = torch.randn(4, generator=torch.Generator().manual_seed(2))
    (D(G(x, m)) * w).sum().backward()
    for name, p in [*G.named_parameters(), *D.named_parameters()]:
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"image_size": 48}, "power of two"),
        ({"image_size": 8}, "power of two"),
        ({"mask_kind": "circle"}, "mask_kind"),
        ({"fill_value": (0.0, 2.0, 0.0)}, "fill_value"),
        ({"fill_value": (0.0, 0.0)}, "fill_value"),
        ({"bottleneck": 0}, "bottleneck"),
    ],
)
def test_bad_config(kw: dict, match: str) -> None:
    with pytest.raises(InpaintError, match=match):
        ContextEncoderConfig(**kw).validate()


def test_card_lists_become_tuples() -> None:
    cfg = ContextEncoderConfig(fill_value=[0.1, 0.2, 0.3])  # as json.loads gives it
    assert cfg.fill_value == (0.1, 0.2, 0.3)


# --- losses and masks of the recipe ----------------------------------------------------------


def test_overlap_weights_golden() -> None:
    m = torch.zeros(1, 1, 5, 6)
    m[0, 0, 0, 0] = 1  # a corner pixel
    m[0, 0, 3, 4] = 1
    w = ce_train.overlap_weights(m, overlap=1, overlap_weight=10.0)
    expected = torch.tensor(
        [
            [1, 10, 0, 0, 0, 0],
            [10, 10, 0, 0, 0, 0],
            [0, 0, 0, 10, 10, 10],
            [0, 0, 0, 10, 1, 10],
            [0, 0, 0, 10, 10, 10],
        ],
        dtype=torch.float32,
    )
    assert torch.equal(w[0, 0], expected)
    # the paper's square hole: a 7 px ring around it, nothing further out
    big = torch.zeros(1, 1, 32, 32)
    big[..., 12:20, 12:20] = 1
    w = ce_train.overlap_weights(big, overlap=7, overlap_weight=10.0)
    assert int((w == 1).sum()) == 64 and int((w == 10).sum()) == 22 * 22 - 64
    assert w[0, 0, 5, 5] == 10 and w[0, 0, 4, 4] == 0 and w[0, 0, 26, 26] == 10
    assert torch.equal(ce_train.overlap_weights(big, overlap=0), big)


def test_weighted_l2_golden() -> None:
    target = torch.zeros(1, 3, 1, 3)
    pred = target.clone()
    pred[0, :, 0, 1] = 2.0  # error 2 at the hole pixel, every channel
    pred[0, 0, 0, 0] = 1.0  # error 1 at a band pixel, one channel
    w = torch.tensor([10.0, 1.0, 0.0]).view(1, 1, 1, 3)  # band, hole, outside
    pred[0, :, 0, 2] = 5.0  # outside: weight 0, ignored
    # (10 * 1 + 1 * 3 * 4) / (3 * (10 + 1))
    assert ce_train.weighted_l2(pred, target, w).item() == pytest.approx(22 / 33)
    assert ce_train.weighted_l2(pred, target, torch.zeros_like(w)).item() == 0.0


def test_sample_masks_one_per_image_and_seeded() -> None:
    a = ce_train.sample_masks("box", 4, 16, torch.Generator().manual_seed(3))
    b = ce_train.sample_masks("box", 4, 16, torch.Generator().manual_seed(3))
    assert a.shape == (4, 1, 16, 16) and a.dtype == torch.float32 and torch.equal(a, b)
    assert len({tuple(x.flatten().tolist()) for x in a}) > 1  # not one mask for the batch
    g = torch.Generator().manual_seed(3)
    seed = int(torch.randint(0, 2**31 - 1, (4,), generator=g)[0])
    assert np.array_equal(a[0, 0].numpy().astype(bool), make_mask("box", (16, 16), seed=seed))


def test_generator_loss_is_the_papers_mix() -> None:
    recipe = get_recipe("context_encoder")
    cfg = ce_train.ContextEncoderTrainConfig(model=_tiny(16, mask_kind="box"), batch_size=4)
    models = recipe.build(cfg, torch.device("cpu"))
    G, D = models.nets["G"], models.nets["D"]
    assert models.optimizers["G"].param_groups[0]["lr"] == pytest.approx(2e-3)  # 10x D's
    assert models.optimizers["D"].param_groups[0]["lr"] == pytest.approx(2e-4)
    real = _images(4, 16)
    ctx = Ctx(nets=models.nets, cfg=cfg, device=torch.device("cpu"),
              generator=torch.Generator().manual_seed(7), batch_size=4)  # fmt: skip
    out = ce_train.g_step(ctx, real)
    # by hand, with the same draws: flips, then one mask per image
    g = torch.Generator().manual_seed(7)
    flipped = ce_train.random_hflip(real, g)
    mask = ce_train.sample_masks("box", 4, 16, g)
    pred = G(flipped, mask)
    w = ce_train.overlap_weights(mask, overlap=7, overlap_weight=10.0)
    rec = ((pred - flipped) ** 2 * w).sum() / (3 * w.sum())
    adv = torch.nn.functional.softplus(-D(pred * mask + flipped * (1 - mask))).mean()
    assert out["l2"].item() == pytest.approx(rec.item(), rel=1e-5)
    assert out["adv"].item() == pytest.approx(adv.item(), rel=1e-5)
    assert out["loss"].item() == pytest.approx(0.999 * rec.item() + 0.001 * adv.item(), rel=1e-5)


def test_defaults_and_phases() -> None:
    cfg = ce_train.ContextEncoderTrainConfig()
    assert (cfg.batch_size, cfg.lr, cfg.beta1, cfg.beta2) == (64, 2e-4, 0.5, 0.999)
    assert (cfg.l2_weight, cfg.adv_weight, cfg.overlap, cfg.overlap_weight) == (
        0.999, 0.001, 7, 10.0,
    )  # fmt: skip
    assert cfg.model.image_size == 128 and cfg.model.bottleneck == 4000 and cfg.flip
    recipe = get_recipe("context_encoder")
    assert [(p.name, p.optimizer, p.needs_data) for p in recipe.phases(cfg)] == [
        ("D", "D", True),
        ("G", "G", True),
    ]
    l2_only = ce_train.ContextEncoderTrainConfig(adv_weight=0.0)
    assert [p.name for p in recipe.phases(l2_only)] == ["G"]
    with pytest.raises(InpaintError, match="batch_size"):
        ce_train.ContextEncoderTrainConfig(batch_size=1).validate()
    with pytest.raises(InpaintError, match="overlap"):
        ce_train.ContextEncoderTrainConfig(overlap=-1).validate()


# --- training through the loop, then the method ----------------------------------------------


def _train_tiny(out: Path) -> Path:
    recipe = get_recipe("context_encoder")
    sets = {
        "loop": {**FAST, "steps": 3, "sample_every": 0, "ckpt_every": 100},
        "recipe": {"batch_size": 4, "model": {**TINY, "image_size": 16, "mask_kind": "box",
                                              "fill_value": [0.1, -0.1, 0.0]}},
    }  # fmt: skip
    loop, cfg = resolve(recipe.config_cls, sets=sets, loop_defaults=recipe.loop_defaults)
    res = train(recipe, TensorDataset(_images(8, 16)), loop=loop, cfg=cfg, out_dir=out)
    assert res.step == 3 and not res.stopped and res.export is not None
    return res.export


def test_train_export_and_inpaint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import inpaintkit

    monkeypatch.setenv("INPAINTKIT_WEIGHTS", str(tmp_path / "empty"))
    path = _train_tiny(tmp_path / "run")
    with (tmp_path / "run/log.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    for r in rows:  # G's loss is the paper's mix of its logged parts
        mix = 0.999 * float(r["G_l2"]) + 0.001 * float(r["G_adv"])
        assert float(r["G_loss"]) == pytest.approx(mix, rel=1e-5)
        assert 0 < float(r["D_real"]) < 1 and 0 < float(r["D_fake"]) < 1
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["model"] == "context_encoder" and card["steps"] == 3
    assert card["architecture"]["mask_kind"] == "box"
    assert card["architecture"]["fill_value"] == [0.1, -0.1, 0.0]
    keys = load_file(str(path)).keys()
    assert keys and all(k.startswith("G.") for k in keys)  # D is not exported
    assert (tmp_path / "run/samples/step_000003.png").is_file()

    # the method at the model's size: hole content ignored, model kind reported
    x, m = _images(2, 16, seed=5), _centre_hole(2, 16)
    res = ce_method.context_encoder(x, m, model=str(path))
    assert res.image.shape == (2, 3, 16, 16) and torch.isfinite(res.image).all()
    assert res.image.abs().max() <= 1 and res.notes == []
    assert res.extras == {"model": str(path), "model_mask_kind": "box"}
    noisy = torch.where(m.bool(), -x, x)
    assert torch.equal(ce_method.context_encoder(noisy, m, model=str(path)).image, res.image)

    # another size: a square crop around the hole (issue 22 #3), resized in and out, with a
    # note; known pixels pasted back bit-exactly
    pixels = np.random.default_rng(0).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    hole = np.zeros((24, 40), bool)
    hole[8:16, 10:30] = True
    done = inpaintkit.inpaint(pixels, hole, "context_encoder", model=str(path))
    assert done.pixels.shape == pixels.shape
    assert np.array_equal(done.pixels[~hole], pixels[~hole])
    assert done.notes == [
        f"filled a 24 px square crop around the holes of 40x24, resized to 16x16 for the "
        f"{path.stem} model"
    ]
    # a hole wider than the image is high: refused with the reason
    wide = np.zeros((24, 40), bool)
    wide[5:10, 2:38] = True
    with pytest.raises(InpaintError, match="no square crop around them fits"):
        inpaintkit.inpaint(pixels, wide, "context_encoder", model=str(path))


def test_resume_is_bit_exact(tmp_path: Path) -> None:
    recipe = get_recipe("context_encoder")
    model = {**TINY, "image_size": 16, "mask_kind": "box"}
    data = TensorDataset(_images(8, 16))

    def run(out: Path, steps: int, resume: Path | None = None) -> Path:
        sets = {
            "loop": {**FAST, "steps": steps, "sample_every": 0, "ckpt_every": 1, "keep_last": 0},
            "recipe": {"batch_size": 4, "model": model},
        }
        loop, cfg = resolve(recipe.config_cls, sets=sets)
        res = Trainer(recipe, data, loop=loop, cfg=cfg, out_dir=out, resume=resume).run()
        assert res.checkpoint is not None
        return res.checkpoint

    whole = run(tmp_path / "a", 2)
    run(tmp_path / "b", 1)
    rest = run(tmp_path / "b", 2, resume=tmp_path / "b")
    for name in ("models.safetensors", "optim.safetensors"):
        a, b = load_file(str(whole / name)), load_file(str(rest / name))
        assert a.keys() == b.keys() and len(a) > 0
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_fit_to_model_keeps_every_hole_pixel() -> None:
    x = _images(1, 32)
    m = torch.zeros(1, 1, 32, 32)
    m[0, 0, 5, 9] = 1  # one pixel: falls in model pixel (2, 4) at 16 px
    small_x, small_m = ce_method.fit_to_model(x, m, 16)
    assert small_m.shape == (1, 1, 16, 16) and int(small_m.sum()) == 1 and small_m[0, 0, 2, 4] == 1
    other, _ = ce_method.fit_to_model(torch.where(m.bool(), 5.0, x), m, 16)
    assert torch.equal(other, small_x)  # hole content does not leak into known pixels
    assert small_x[0, :, 2, 4].abs().sum() == 0
    # upscaling (a 12 px input to 16): every input hole pixel covers at least one model pixel
    m12 = torch.zeros(1, 1, 12, 12)
    m12[0, 0, 6, 6] = 1
    _, up = ce_method.fit_to_model(_images(1, 12), m12, 16)
    assert 1 <= int(up.sum()) <= 4 and up[0, 0, 8, 8] == 1


def test_no_model_installed_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INPAINTKIT_WEIGHTS", str(tmp_path))
    monkeypatch.setattr(weights, "bundled_dir", lambda: tmp_path / "none")  # hide bundled
    x, m = _images(1, 16), _centre_hole(1, 16)
    with pytest.raises(InpaintError, match="context_encoder needs a trained model"):
        ce_method.context_encoder(x, m)
    with pytest.raises(InpaintError, match="does not exist"):
        ce_method.context_encoder(x, m, model=str(tmp_path / "nope.safetensors"))


@pytest.mark.parametrize("kind", ["center", "medium", "thick"])
def test_bundled_model_fills_a_real_photo(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A smoke test of the shipped weights: they load, keep known pixels and fill the coffee
    photo's hole of their mask kind better than its flat mean colour (centre: 0.73 of its error
    when written; Telea 0.48: the CPU-trained models are weak, docs/deepfill.md)."""
    import cv2
    from skimage import data

    from inpaintkit.masks import make_mask

    if not (weights.bundled_dir() / f"context_encoder_natural128_{kind}.safetensors").is_file():
        pytest.skip(f"no bundled context_encoder natural128_{kind} model")
    monkeypatch.setenv("INPAINTKIT_WEIGHTS", str(tmp_path))  # only the bundled models
    pixels = cv2.resize(data.coffee()[:400, :400], (128, 128), interpolation=cv2.INTER_AREA)
    hole = make_mask(kind, (128, 128), seed=1)
    res = inpaintkit.inpaint(pixels, hole, "context_encoder", model=f"natural128_{kind}")
    assert np.array_equal(res.pixels[~hole], pixels[~hole])
    assert res.extras["model_mask_kind"] == kind and not res.notes  # 128 px: no resize
    err = np.abs(res.pixels[hole].astype(float) - pixels[hole]).mean()
    mean_fill = np.abs(pixels[~hole].mean(axis=0) - pixels[hole].astype(float)).mean()
    assert err < 0.85 * mean_fill, (err, mean_fill)
