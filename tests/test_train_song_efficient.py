"""The Song recipes' efficient options (train/song_config.py, train/song.py): presets, the
perceptual and style terms of G1's and G2's objectives computed by hand, the exported weight
average, and splitting a combined song2018 file back into exports. The VGGs are the seeded
random stand-ins; networks are tiny."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch.utils.data import TensorDataset

import inpaintkit.train.song as ts
from inpaintkit.cli import main
from inpaintkit.errors import InpaintError
from inpaintkit.losses.perceptual import DEFAULT_LAYERS, perceptual_distance, style_distance
from inpaintkit.models.song import SongConfig
from inpaintkit.train import Trainer, get_recipe, train
from inpaintkit.train.config import resolve
from inpaintkit.train.recipes import Ctx
from inpaintkit.weights.song import build_song_vgg, relu3_1
from inpaintkit.weights.write import combine_song_models, split_song_model

TINY = {"ngf": 4, "ndf": 4}
FAST = {"workers": 0, "progress": False, "tensorboard": False, "n_samples": 6, "device": "cpu"}
S = 64

pytestmark = pytest.mark.usefixtures("one_thread")


def _images(n: int, size: int = S, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


# --- presets ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [ts.SongI2FTrainConfig, ts.SongF2ITrainConfig])
def test_paper_preset_is_the_defaults_and_efficient_fills_only_unset_keys(cls: type) -> None:
    _, paper = resolve(cls, sets={"recipe": {"preset": "paper"}})
    assert paper == cls(preset="paper") and paper == cls()
    assert (paper.ema_decay, paper.perceptual_weight, paper.style_weight) == (0.0, 0.0, 0.0)
    _, eff = resolve(cls, sets={"recipe": {"preset": "efficient", "style_weight": 0.0}})
    want = cls.PRESETS["efficient"]
    assert eff.ema_decay == want["ema_decay"] > 0
    assert eff.perceptual_weight == want["perceptual_weight"] > 0
    assert eff.style_weight == 0.0 and want["style_weight"] > 0  # the user's own key wins
    assert eff.l1_weight if cls is ts.SongF2ITrainConfig else eff.img_weight  # the rest: paper's
    with pytest.raises(InpaintError, match="preset"):
        resolve(cls, sets={"recipe": {"preset": "turbo"}})


@pytest.mark.parametrize(
    ("kw", "match"),
    [({"ema_decay": 1.0}, "ema_decay"), ({"ema_decay": -0.1}, "ema_decay"),
     ({"perceptual_weight": -1.0}, "perceptual_weight"), ({"style_weight": -1.0}, "style_weight")],
)  # fmt: skip
def test_bad_efficient_options_raise(kw: dict, match: str) -> None:
    with pytest.raises(InpaintError, match=match):
        ts.SongF2ITrainConfig(**kw).validate()


# --- the perceptual and style terms, by hand ----------------------------------------------------
def _by_hand(vgg: torch.nn.Module, outs: list[torch.Tensor], real: torch.Tensor) -> tuple:
    with torch.no_grad():
        r = vgg(real, layers=DEFAULT_LAYERS)
        fs = [vgg(o, layers=DEFAULT_LAYERS) for o in outs]
    perc = sum(float(perceptual_distance(f, r)) for f in fs)
    style = sum(float(style_distance(f, r)) for f in fs)
    return perc, style


def test_f2i_losses_add_perceptual_and_style_of_the_whole_output() -> None:
    swapped, real = torch.ones(2, 8, 4, 4), _images(2, 16)
    out = torch.linspace(-1, 1, 2 * 3 * 16 * 16).reshape(2, 3, 16, 16)
    vgg = build_song_vgg("random", upto=DEFAULT_LAYERS[-1])
    base_cfg = ts.SongF2ITrainConfig(adv_weight=0.0)
    base = ts.f2i_losses(lambda f: out, None, swapped, real, base_cfg, vgg)
    assert set(base) == {"loss", "l1", "adv"}  # weights 0: no VGG terms
    cfg = ts.SongF2ITrainConfig(adv_weight=0.0, perceptual_weight=2.0, style_weight=50.0)
    assert set(ts.f2i_losses(lambda f: out, None, swapped, real, cfg)) == {"loss", "l1", "adv"}
    got = ts.f2i_losses(lambda f: out, None, swapped, real, cfg, vgg)
    perc, style = _by_hand(vgg, [out], real)  # the output alone: G2 makes the whole image
    assert got["perceptual"].item() == pytest.approx(perc, rel=1e-5) and perc > 0
    assert got["style"].item() == pytest.approx(style, rel=1e-5) and style > 0
    want = base["loss"].item() + 2.0 * perc + 50.0 * style
    assert got["loss"].item() == pytest.approx(want, rel=1e-5)


def test_i2f_losses_add_perceptual_and_style_of_output_and_composite() -> None:
    real = _images(2, 32)
    pred = torch.linspace(-1, 1, 2 * 3 * 32 * 32).reshape(2, 3, 32, 32)
    mask = torch.zeros(2, 1, 32, 32)
    mask[..., 8:24, 8:24] = 1
    feats = build_song_vgg("random")
    vgg = build_song_vgg("random", upto=DEFAULT_LAYERS[-1])
    kw = {"adv_weight": 0.0}
    base = ts.i2f_losses(lambda x, m: pred, None, lambda x: relu3_1(feats, x), real, mask,
                         ts.SongI2FTrainConfig(**kw), vgg)  # fmt: skip
    cfg = ts.SongI2FTrainConfig(**kw, perceptual_weight=3.0, style_weight=7.0)
    got = ts.i2f_losses(lambda x, m: pred, None, lambda x: relu3_1(feats, x), real, mask,
                        cfg, vgg)  # fmt: skip
    comp = pred * mask + real * (1 - mask)
    perc, style = _by_hand(vgg, [pred, comp], real)
    assert got["perceptual"].item() == pytest.approx(perc, rel=1e-5)
    assert got["style"].item() == pytest.approx(style, rel=1e-5)
    assert got["img"].item() == pytest.approx(base["img"].item())  # the paper's terms unchanged
    want = base["loss"].item() + 3.0 * perc + 7.0 * style
    assert got["loss"].item() == pytest.approx(want, rel=1e-5)


def test_g_step_builds_the_loss_vgg_only_when_a_weight_is_set() -> None:
    for kw, has in (({}, False), ({"perceptual_weight": 1.0}, True)):
        recipe = get_recipe("song-f2i")
        cfg = ts.SongF2ITrainConfig(model=SongConfig(**TINY, image_size=S), vgg="random", **kw)
        models = recipe.build(cfg, torch.device("cpu"))
        ctx = Ctx(nets=models.nets, cfg=cfg, device=torch.device("cpu"),
                  generator=torch.Generator().manual_seed(0), batch_size=2)  # fmt: skip
        out = recipe.g_step(ctx, _images(2))
        assert ("perceptual" in out) == has and (recipe._loss_vgg is not None) == has
        assert torch.isfinite(out["loss"]) and out["loss"].requires_grad


# --- the weight average --------------------------------------------------------------------------
def _sets(steps: int, **recipe_kw: object) -> dict:
    return {
        "loop": {**FAST, "steps": steps, "sample_every": 0, "ckpt_every": 1, "keep_last": 0},
        "recipe": {"batch_size": 2, "vgg": "random", "model": {**TINY, "image_size": S},
                   **recipe_kw},
    }  # fmt: skip


@pytest.mark.parametrize("name", ["song-f2i", "song-i2f"])
def test_efficient_run_logs_the_terms_and_exports_the_average(name: str, tmp_path: Path) -> None:
    recipe = get_recipe(name)
    loop, cfg = resolve(recipe.config_cls, sets=_sets(3, preset="efficient", ema_decay=0.5),
                        loop_defaults=recipe.loop_defaults)  # fmt: skip
    t = Trainer(recipe, TensorDataset(_images(6)), loop=loop, cfg=cfg, out_dir=tmp_path)
    res = t.run()
    assert set(t.nets) == {"G", "D", "G_ema"} and res.export is not None
    header = (tmp_path / "log.csv").read_text().splitlines()[0].split(",")
    assert {"G_perceptual", "G_style"} <= set(header)
    exported = load_file(str(res.export))
    ema, live = t.nets["G_ema"].state_dict(), t.nets["G"].state_dict()
    key = next(k for k in ema if k.endswith("weight") and ema[k].is_floating_point())
    assert torch.equal(exported[f"G.{key}"], ema[key].half())  # the average is what ships
    assert not torch.equal(ema[key], live[key])  # and it is not the live generator


def test_ema_run_resumes_bit_exactly(tmp_path: Path) -> None:
    data = TensorDataset(_images(4))

    def run(out: Path, steps: int, resume: Path | None = None) -> Path:
        loop, cfg = resolve(ts.SongF2ITrainConfig, sets=_sets(steps, preset="efficient"))
        res = Trainer(get_recipe("song-f2i"), data, loop=loop, cfg=cfg, out_dir=out,
                      resume=resume).run()  # fmt: skip
        assert res.checkpoint is not None
        return res.checkpoint

    whole = run(tmp_path / "a", 2)
    run(tmp_path / "b", 1)
    rest = run(tmp_path / "b", 2, resume=tmp_path / "b")
    a, b = load_file(str(whole / "models.safetensors")), load_file(str(rest / "models.safetensors"))
    assert any(k.startswith("G_ema.") for k in a) and a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


# --- split-song: the inverse of combine-song ----------------------------------------------------
def test_split_song_model_gives_back_the_exports(tmp_path: Path) -> None:
    runs = {}
    for name in ("song-i2f", "song-f2i"):
        recipe = get_recipe(name)
        loop, cfg = resolve(recipe.config_cls, sets=_sets(1))
        res = train(recipe, TensorDataset(_images(2)), loop=loop, cfg=cfg, out_dir=tmp_path / name)
        runs[name] = res.export
    combined = combine_song_models(runs["song-i2f"], runs["song-f2i"], tmp_path / "c.safetensors")
    parts = split_song_model(combined, tmp_path / "parts")
    assert set(parts) == {"G1", "G2"}
    for part, name in (("G1", "song-i2f"), ("G2", "song-f2i")):
        a, b = load_file(str(parts[part])), load_file(str(runs[name]))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        card = json.loads(parts[part].with_suffix(".json").read_text())
        assert card == json.loads(runs[name].with_suffix(".json").read_text())
    # a part continues training: init_from accepts it
    cfg = ts.SongF2ITrainConfig(model=SongConfig(**TINY, image_size=S), vgg="random",
                                init_from=str(parts["G2"]))  # fmt: skip
    G = get_recipe("song-f2i").build(cfg, torch.device("cpu")).nets["G"]
    assert torch.equal(G.state_dict()[next(iter(G.state_dict()))].half(),
                       load_file(str(parts["G2"]))[f"G.{next(iter(G.state_dict()))}"])  # fmt: skip
    with pytest.raises(InpaintError, match="already exists"):
        split_song_model(combined, tmp_path / "parts")
    with pytest.raises(InpaintError, match="not a combined song2018"):
        split_song_model(runs["song-f2i"], tmp_path / "other")
    # the CLI: `inpaintkit weights split-song FILE --out DIR [--force]`
    assert main(["weights", "split-song", str(combined), "--out", str(tmp_path / "parts"),
                 "--force"]) == 0  # fmt: skip
    assert load_file(str(parts["G2"])).keys() == load_file(str(runs["song-f2i"])).keys()
