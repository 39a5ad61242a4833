"""Recipes song-i2f and song-f2i (train/song.py): the paper's defaults, the loss weights on
hand-computed cases, tiny runs through the loop (finite logs, G-only exports), exact resume,
the G1 mixture and combine_song_models. The VGG is the seeded random stand-in."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch.utils.data import TensorDataset

import inpaintkit.train.song as ts
from inpaintkit.errors import InpaintError
from inpaintkit.masks import make_mask
from inpaintkit.models.song import FeatureToImage, ImageToFeature, SongConfig, g1_input
from inpaintkit.nn.patch_swap import patch_swap
from inpaintkit.train import Trainer, get_recipe, train
from inpaintkit.train.config import resolve
from inpaintkit.train.context_encoder import overlap_weights
from inpaintkit.train.recipes import Ctx, random_hflip
from inpaintkit.weights.song import build_song_vgg, load_song_model, relu3_1

TINY = {"ngf": 4, "ndf": 4}
FAST = {"workers": 0, "progress": False, "tensorboard": False, "n_samples": 6, "device": "cpu"}
S = 64  # patch-swap needs fully known 3x3 patches around a centre hole: 16x16 relu3_1 maps


pytestmark = pytest.mark.usefixtures("one_thread")


def _images(n: int, size: int = S, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


def _ctx(recipe, cfg, seed: int = 7) -> tuple[Ctx, dict]:
    models = recipe.build(cfg, torch.device("cpu"))
    for net in models.nets.values():
        net.eval()  # no dropout, running BN statistics: the same numbers by hand
    ctx = Ctx(nets=models.nets, cfg=cfg, device=torch.device("cpu"),
              generator=torch.Generator().manual_seed(seed), batch_size=2)  # fmt: skip
    return ctx, models.optimizers


# --- configs ----------------------------------------------------------------------------------
def test_defaults_are_the_papers() -> None:
    i2f, f2i = ts.SongI2FTrainConfig(), ts.SongF2ITrainConfig()
    assert (i2f.lr_g, i2f.lr, i2f.beta1, i2f.beta2) == (2e-3, 2e-4, 0.5, 0.999)
    assert (i2f.img_weight, i2f.feat_weight, i2f.adv_weight) == (1000.0, 0.001, 1.0)
    assert i2f.mask_kinds == ("center",) and i2f.model.image_size == 256 and i2f.vgg == "imagenet"
    assert (f2i.lr, f2i.beta1, f2i.l1_weight, f2i.adv_weight) == (2e-4, 0.5, 100.0, 1.0)
    assert (f2i.patch, f2i.stride, f2i.mix_g1) == (3, 1, None)
    assert make_mask("center", (256, 256)).sum() == 128 * 128  # the paper's hole
    for name in ("song-i2f", "song-f2i"):
        recipe = get_recipe(name)
        cfg = recipe.config_cls(model=SongConfig(**TINY, image_size=32), vgg="random")
        assert [(p.name, p.optimizer) for p in recipe.phases(cfg)] == [("D", "D"), ("G", "G")]
        cfg.adv_weight = 0.0
        assert [p.name for p in recipe.phases(cfg)] == ["G"]
        _, opts = _ctx(recipe, cfg)
        lr_g = 2e-3 if name == "song-i2f" else 2e-4
        assert opts["G"].param_groups[0]["lr"] == lr_g and opts["D"].param_groups[0]["lr"] == 2e-4
        assert opts["G"].param_groups[0]["betas"] == (0.5, 0.999)


@pytest.mark.parametrize(
    ("cls", "kw", "match"),
    [
        (ts.SongI2FTrainConfig, {"mask_kinds": ("nope",)}, "mask_kinds"),
        (ts.SongI2FTrainConfig, {"mask_kinds": ()}, "mask_kinds"),
        (ts.SongI2FTrainConfig, {"vgg": "vgg19"}, "recipe.vgg"),
        (ts.SongI2FTrainConfig, {"model": SongConfig(image_size=16)}, ">= 24 for D1"),
        (ts.SongF2ITrainConfig, {"mix_fraction": 1.5}, "mix_fraction"),
        (ts.SongF2ITrainConfig, {"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_config(cls: type, kw: dict, match: str) -> None:
    with pytest.raises(InpaintError, match=match):
        cls(**kw).validate()


def test_draw_masks_one_per_image_seeded() -> None:
    g = torch.Generator().manual_seed(3)
    m = ts.draw_masks(("center", "box"), 6, 32, g)
    assert m.shape == (6, 1, 32, 32) and set(m.unique().tolist()) == {0.0, 1.0}
    again = ts.draw_masks(("center", "box"), 6, 32, torch.Generator().manual_seed(3))
    assert torch.equal(m, again)
    # by hand: the kinds first, then one seed per image
    g = torch.Generator().manual_seed(3)
    which = torch.randint(0, 2, (6,), generator=g).tolist()
    seeds = torch.randint(0, 2**31 - 1, (6,), generator=g).tolist()
    for i, (k, s) in enumerate(zip(which, seeds, strict=True)):
        want = make_mask(("center", "box")[k], (32, 32), seed=s)
        assert np.array_equal(m[i, 0].numpy().astype(bool), want)
    assert 0 < sum(which) < 6  # both kinds drawn


# --- losses by hand ---------------------------------------------------------------------------
def test_weighted_l1_golden() -> None:
    pred, target = torch.zeros(1, 2, 1, 3), torch.tensor([[[[1.0, 2.0, 3.0]], [[0.0, 0.0, 1.0]]]])
    w = torch.tensor([[[[1.0, 0.0, 2.0]]]])
    # (1 * (1 + 0) + 2 * (3 + 1)) / (2 channels * 3 weight) = 9 / 6
    assert ts.weighted_l1(pred, target, w).item() == pytest.approx(1.5)


class _StubD:
    """A PatchGAN stand-in: constant logits (B, 1, 2, 2); records what it was shown."""

    def __init__(self, logit: float) -> None:
        self.logit, self.seen = logit, []

    def __call__(self, cond: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.seen.append((cond, target))
        return torch.full((cond.shape[0], 1, 2, 2), self.logit)


def test_i2f_losses_golden() -> None:
    real = torch.full((1, 3, 16, 16), 0.5)
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 2:10, 2:10] = 1  # 8 x 8 hole, not aligned to the 4 px feature cells
    delta = torch.where(mask.bool(), 1.0, 0.2).expand(1, 3, 16, 16)
    D = _StubD(0.5)
    cfg = ts.SongI2FTrainConfig(overlap=1, overlap_weight=10.0)
    out = ts.i2f_losses(
        lambda x, m: real + delta, D, lambda x: F.avg_pool2d(x, 4), real, mask, cfg
    )  # G predicts real + 1 in the hole, + 0.2 outside; "features" = 4x4 means
    # L_img: 64 hole px (error 1, weight 1) and the 1 px ring of 36 px (error 0.2, weight 10)
    img = (64 * 1.0 + 36 * 10 * 0.2) / (64 + 360)
    # L_feat: the hole covers cells 0..2 on each axis with fractions 1/2, 1, 1/2 of their
    # pixels; the composite is off by 1 in the hole only, so a cell is off by its fraction
    feat = (0.5 + 1 + 0.5) ** 2 / 9
    adv = math.log1p(math.exp(-0.5))  # -log sigmoid(0.5)
    assert out["img"].item() == pytest.approx(img, rel=1e-6)
    assert out["feat"].item() == pytest.approx(feat, rel=1e-6)
    assert out["adv"].item() == pytest.approx(adv, rel=1e-6)
    assert out["loss"].item() == pytest.approx(1000 * img + 0.001 * feat + adv, rel=1e-6)
    cond, shown = D.seen[0]  # D1 judges (G1's input, composite)
    assert torch.equal(cond, g1_input(real, mask)) and cond.shape[1] == 4
    assert torch.equal(shown, torch.where(mask.bool(), real + 1, real))


def test_f2i_losses_golden() -> None:
    swapped, real = torch.ones(2, 8, 4, 4), torch.full((2, 3, 16, 16), 0.5)
    D = _StubD(-1.0)
    out = ts.f2i_losses(lambda f: torch.zeros(2, 3, 16, 16), D, swapped, real,
                        ts.SongF2ITrainConfig())  # fmt: skip
    adv = math.log1p(math.exp(1.0))
    assert out["l1"].item() == pytest.approx(0.5) and out["adv"].item() == pytest.approx(adv)
    assert out["loss"].item() == pytest.approx(100 * 0.5 + adv)
    assert D.seen[0][0] is swapped
    no_adv = ts.f2i_losses(lambda f: torch.zeros(2, 3, 16, 16), D, swapped, real,
                           ts.SongF2ITrainConfig(adv_weight=0.0))  # fmt: skip
    assert no_adv["loss"].item() == pytest.approx(50.0) and len(D.seen) == 1  # D not called


def test_i2f_g_step_is_the_papers_mix_on_real_networks() -> None:
    recipe = get_recipe("song-i2f")
    cfg = ts.SongI2FTrainConfig(model=SongConfig(**TINY, image_size=32), vgg="random",
                                mask_kinds=("box",))  # fmt: skip
    ctx, _ = _ctx(recipe, cfg)
    real = _images(2, 32)
    out = recipe.g_step(ctx, real)
    G, D = ctx.nets["G"], ctx.nets["D"]
    g = torch.Generator().manual_seed(7)  # the same draws: flips, then kinds and seeds
    x = random_hflip(real, g)
    mask = ts.draw_masks(("box",), 2, 32, g)
    with torch.no_grad():
        pred = G(x, mask)
        comp = pred * mask + x * (1 - mask)
        w = overlap_weights(mask, overlap=7, overlap_weight=10.0)
        img = ((pred - x).abs() * w).sum() / (3 * w.sum())
        vgg = build_song_vgg("random")
        cells = F.adaptive_max_pool2d(mask, 8)  # feature cells touching the hole
        diff = (relu3_1(vgg, comp) - relu3_1(vgg, x)).abs() * cells
        feat = diff.sum() / (256 * cells.sum())
        adv = F.softplus(-D(g1_input(x, mask), comp)).mean()
    assert out["img"].item() == pytest.approx(img.item(), rel=1e-5)
    assert out["feat"].item() == pytest.approx(feat.item(), rel=1e-4)
    assert out["adv"].item() == pytest.approx(adv.item(), rel=1e-5)
    total = 1000 * img + 0.001 * feat + adv
    assert out["loss"].item() == pytest.approx(total.item(), rel=1e-5)


# --- training through the loop ----------------------------------------------------------------
def _run(name: str, out: Path, steps: int = 3, **recipe_kw) -> object:
    recipe = get_recipe(name)
    sets = {
        "loop": {**FAST, "steps": steps, "sample_every": 0, "ckpt_every": 100},
        "recipe": {"batch_size": 2, "vgg": "random", "model": {**TINY, "image_size": S},
                   **recipe_kw},
    }  # fmt: skip
    loop, cfg = resolve(recipe.config_cls, sets=sets, loop_defaults=recipe.loop_defaults)
    return train(recipe, TensorDataset(_images(6)), loop=loop, cfg=cfg, out_dir=out)


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both recipes, 3 steps each at 64 px; their run folders."""
    root = tmp_path_factory.mktemp("song_runs")
    runs = {}
    for name in ("song-i2f", "song-f2i"):
        res = _run(name, root / name)
        assert res.step == 3 and not res.stopped and res.export is not None
        runs[name] = root / name
    return runs


def _log(run: Path) -> list[dict[str, str]]:
    with (run / "log.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_i2f_run_logs_and_exports_g1_only(exports: dict[str, Path]) -> None:
    run = exports["song-i2f"]
    rows = _log(run)
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    for r in rows:
        assert all(math.isfinite(float(v)) for v in r.values())
        mix = 1000 * float(r["G_img"]) + 0.001 * float(r["G_feat"]) + float(r["G_adv"])
        assert float(r["G_loss"]) == pytest.approx(mix, rel=1e-5)
        assert 0 < float(r["D_real"]) < 1 and 0 < float(r["D_fake"]) < 1
    path = run / "export/song-i2f.safetensors"
    keys = set(load_file(str(path)))
    g1 = ImageToFeature(SongConfig(**TINY, image_size=S))
    assert keys == {f"G.{k}" for k in g1.state_dict()}  # G1 only: no D1, no VGG
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["model"] == "song-i2f" and card["steps"] == 3
    assert card["architecture"]["vgg"] == "random" and card["architecture"]["image_size"] == S
    assert (run / "samples/step_000003.png").is_file()


def test_f2i_run_logs_and_exports_g2_only(exports: dict[str, Path]) -> None:
    run = exports["song-f2i"]
    rows = _log(run)
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    for r in rows:
        assert all(math.isfinite(float(v)) for v in r.values())
        mix = 100 * float(r["G_l1"]) + float(r["G_adv"])
        assert float(r["G_loss"]) == pytest.approx(mix, rel=1e-5)
    path = run / "export/song-f2i.safetensors"
    g2 = FeatureToImage(SongConfig(**TINY, image_size=S))
    assert set(load_file(str(path))) == {f"G.{k}" for k in g2.state_dict()}
    assert json.loads(path.with_suffix(".json").read_text())["model"] == "song-f2i"
    assert (run / "samples/step_000003.png").is_file()


def test_f2i_resume_is_bit_exact(tmp_path: Path) -> None:
    recipe = get_recipe("song-f2i")
    data = TensorDataset(_images(4))

    def run(out: Path, steps: int, resume: Path | None = None) -> Path:
        sets = {
            "loop": {**FAST, "steps": steps, "sample_every": 0, "ckpt_every": 1, "keep_last": 0},
            "recipe": {"batch_size": 2, "vgg": "random", "model": {**TINY, "image_size": S}},
        }
        loop, cfg = resolve(recipe.config_cls, sets=sets)
        fresh = get_recipe("song-f2i")  # a new process would have a new recipe (and VGG)
        res = Trainer(fresh, data, loop=loop, cfg=cfg, out_dir=out, resume=resume).run()
        assert res.checkpoint is not None
        return res.checkpoint

    whole = run(tmp_path / "a", 2)
    run(tmp_path / "b", 1)
    rest = run(tmp_path / "b", 2, resume=tmp_path / "b")
    for name in ("models.safetensors", "optim.safetensors"):
        a, b = load_file(str(whole / name)), load_file(str(rest / name))
        assert a.keys() == b.keys() and len(a) > 0
        assert all(torch.equal(a[k], b[k]) for k in a), name


# --- the G1 mixture and combining -------------------------------------------------------------
def test_mix_g1_swaps_features_of_g1s_composite(exports: dict[str, Path]) -> None:
    i2f = exports["song-i2f"] / "export/song-i2f.safetensors"
    recipe = get_recipe("song-f2i")
    cfg = ts.SongF2ITrainConfig(model=SongConfig(**TINY, image_size=S), vgg="random",
                                mix_g1=str(i2f), mix_fraction=1.0)  # fmt: skip
    recipe.build(cfg, torch.device("cpu"))
    real, mask = _images(2), torch.from_numpy(make_mask("center", (S, S)))[None, None].float()
    mask = mask.expand(2, 1, S, S)
    got = recipe.swapped(real, mask, cfg, torch.Generator().manual_seed(0))
    G1 = load_song_model(i2f).g1
    vgg = build_song_vgg("random")
    with torch.no_grad():
        comp = G1(real, mask) * mask + real * (1 - mask)
        want = patch_swap(relu3_1(vgg, comp), mask)[0]
        plain = patch_swap(relu3_1(vgg, real), mask)[0]
    assert torch.allclose(got, want, atol=1e-6) and not torch.allclose(got, plain, atol=1e-3)
    cfg.mix_fraction = 0.0
    assert torch.equal(recipe.swapped(real, mask, cfg, torch.Generator()), plain)
    bad = ts.SongF2ITrainConfig(
        model=SongConfig(**TINY, image_size=S),
        mix_g1=str(exports["song-f2i"] / "export/song-f2i.safetensors"),
    )
    with pytest.raises(InpaintError, match="must be a song-i2f export"):
        get_recipe("song-f2i").build(bad, torch.device("cpu"))


def test_combine_song_models(exports: dict[str, Path], tmp_path: Path) -> None:
    i2f = exports["song-i2f"] / "export/song-i2f.safetensors"
    f2i = exports["song-f2i"] / "export/song-f2i.safetensors"
    out = ts.combine_song_models(i2f, f2i, tmp_path / "song2018_tiny.safetensors")
    tensors, g1, g2 = load_file(str(out)), load_file(str(i2f)), load_file(str(f2i))
    assert set(tensors) == {f"G1.{k[2:]}" for k in g1} | {f"G2.{k[2:]}" for k in g2}
    assert all(torch.equal(tensors[f"G1.{k[2:]}"], v) for k, v in g1.items())
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["model"] == "song" and set(card["parts"]) == {"G1", "G2"}
    assert card["architecture"]["G2"]["vgg"] == "random"
    with pytest.raises(InpaintError, match="already exists"):
        ts.combine_song_models(i2f, f2i, out)
    with pytest.raises(InpaintError, match="is not a song-i2f export"):
        ts.combine_song_models(f2i, f2i, tmp_path / "x.safetensors")
    with pytest.raises(InpaintError, match="one per size"):
        ts.combine_song_models(i2f, [f2i, f2i], tmp_path / "y.safetensors")


# --- growing to twice the size (recipe.init_from) ---------------------------------------------
def _scrambled(net: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """``net`` with random weights, biases and BN statistics (eval mode): nothing is at 0 or 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in net.parameters():
            t.copy_(torch.randn(t.shape, generator=g) * 0.3)
        for name, buf in net.named_buffers():
            if name.endswith("running_mean"):
                buf.copy_(torch.randn(buf.shape, generator=g) * 0.1)
            elif name.endswith("running_var"):
                buf.copy_(torch.rand(buf.shape, generator=g) + 0.5)
    return net.eval()


@pytest.mark.parametrize("cls", [ImageToFeature, FeatureToImage])
def test_grown_unet_computes_what_the_old_one_did(cls: type) -> None:
    from inpaintkit.train.grow import grow_unet_state

    old_cfg = SongConfig(ngf=4, ndf=4, image_size=16, feature_channels=8)
    old = _scrambled(cls(old_cfg))
    new = cls(SongConfig(ngf=4, ndf=4, image_size=32, feature_channels=8))
    fresh = {k: v.clone() for k, v in new.state_dict().items()}
    new.load_state_dict(grow_unet_state(old.state_dict(), new))
    new.eval()
    g = torch.Generator().manual_seed(1)
    if cls is ImageToFeature:
        x, mask = _images(2, 32), torch.zeros(2, 1, 32, 32)
        mask[..., 8:24, 8:24] = 1
        args = (x, mask)
    else:
        args = (torch.randn(2, 8, 8, 8, generator=g),)
    with torch.no_grad():
        want, got = old(*args), new(*args)
    assert got.shape == want.shape == (2, 3, 32, 32)
    assert torch.allclose(got, want, atol=1e-4), (got - want).abs().max()
    # the new innermost blocks keep their fresh weights and are not yet seen by the output
    inner_down = max(int(k.split(".")[2]) for k in fresh if k.startswith("net.downs."))
    key = f"net.downs.{inner_down}.0.weight"
    assert torch.equal(new.state_dict()[key], fresh[key])
    # in training the path opens: the zeroed half of the first old decoder block gets gradients
    new.train()
    new(*args).square().mean().backward()
    w = new.net.ups[1][1 if cls is FeatureToImage else 0].weight
    half = w.shape[1 if cls is FeatureToImage else 0] // 2
    zeroed = w.grad.narrow(1 if cls is FeatureToImage else 0, 0, half)
    assert zeroed.abs().sum() > 0


def test_grow_unet_state_needs_exactly_one_level() -> None:
    from inpaintkit.train.grow import grow_unet_state

    old = FeatureToImage(SongConfig(ngf=4, ndf=4, image_size=16, feature_channels=8))
    four = FeatureToImage(SongConfig(ngf=4, ndf=4, image_size=64, feature_channels=8))
    with pytest.raises(InpaintError, match="exactly one level deeper"):
        grow_unet_state(old.state_dict(), four)
    wider = FeatureToImage(SongConfig(ngf=8, ndf=4, image_size=32, feature_channels=8))
    with pytest.raises(InpaintError, match="shape"):
        grow_unet_state(old.state_dict(), wider)


def test_init_from_an_export_same_size_or_grown(exports: dict[str, Path]) -> None:
    from inpaintkit.train.export import load_export
    from inpaintkit.train.grow import grow_unet_state

    f2i = exports["song-f2i"] / "export/song-f2i.safetensors"
    saved = load_export(f2i)[0]["G"]
    for size in (S, 2 * S):
        cfg = ts.SongF2ITrainConfig(model=SongConfig(**TINY, image_size=size), vgg="random",
                                    init_from=str(f2i))  # fmt: skip
        G = get_recipe("song-f2i").build(cfg, torch.device("cpu")).nets["G"]
        want = saved if size == S else grow_unet_state(saved, FeatureToImage(cfg.model))
        got = G.state_dict()
        assert got.keys() == want.keys()
        inner = f"net.downs.{max(int(k.split('.')[2]) for k in got if '.downs.' in k)}."
        new_blocks = (inner, "net.ups.0.") if size > S else ()  # fresh in each network
        kept = [k for k in got if not k.startswith(new_blocks)]
        assert len(kept) > len(got) / 2 and all(torch.equal(got[k], want[k]) for k in kept)
    # D starts fresh, so its fields may differ from the export's
    other_d = SongConfig(ngf=4, ndf=8, image_size=S, d2_layers=2, d2_cond_scale=0.5)
    cfg = ts.SongF2ITrainConfig(model=other_d, vgg="random", init_from=str(f2i))
    models = get_recipe("song-f2i").build(cfg, torch.device("cpu"))
    assert all(torch.equal(v, saved[k]) for k, v in models.nets["G"].state_dict().items())
    assert models.nets["D"].cond_scale == 0.5
    for model, path, match in [
        (SongConfig(**TINY, image_size=4 * S), f2i, "or half of it"),
        (SongConfig(ngf=8, ndf=4, image_size=S), f2i, "architecture"),
        (SongConfig(**TINY, image_size=S), exports["song-i2f"] / "export/song-i2f.safetensors",
         "not a song-f2i export"),
    ]:  # fmt: skip
        bad = ts.SongF2ITrainConfig(model=model, vgg="random", init_from=str(path))
        with pytest.raises(InpaintError, match=match):
            get_recipe("song-f2i").build(bad, torch.device("cpu"))


def test_init_from_continues_g1_too(exports: dict[str, Path]) -> None:
    from inpaintkit.train.export import load_export

    i2f = exports["song-i2f"] / "export/song-i2f.safetensors"
    cfg = ts.SongI2FTrainConfig(model=SongConfig(**TINY, image_size=S), vgg="random",
                                init_from=str(i2f))  # fmt: skip
    got = get_recipe("song-i2f").build(cfg, torch.device("cpu")).nets["G"].state_dict()
    want = load_export(i2f)[0]["G"]
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in got)
