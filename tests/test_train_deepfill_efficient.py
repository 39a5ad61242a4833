"""The ``deepfill`` recipe's efficient options: presets, EMA, perceptual/style losses,
SN-PatchGAN critic, feature matching, object holes, init_from, the CPU-minute budget."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.utils.data import TensorDataset

import inpaintkit.nn.vgg as vgg_module
from inpaintkit.errors import InpaintError
from inpaintkit.nn.vgg import VGG16Features
from inpaintkit.train.config import resolve
from inpaintkit.train.deepfill import DeepFillTrainConfig, sample_masks
from inpaintkit.train.loop import Trainer
from inpaintkit.train.recipes import get_recipe

pytestmark = pytest.mark.usefixtures("one_thread")

FAST = {"workers": 0, "progress": False, "tensorboard": False, "n_samples": 8, "sample_every": 0}
S = 32
TINY = {"batch_size": 2, "image_size": S, "model": {"cnum": 4, "critic_cnum": 4}}


@pytest.fixture
def random_vgg(monkeypatch: pytest.MonkeyPatch) -> None:
    """A randomly initialised VGG16 (no pretrained file needed): the losses' plumbing only."""

    def fake_load(*, upto: str = "relu5_3", normalize: str = "imagenet") -> VGG16Features:
        torch.manual_seed(0)
        return VGG16Features(upto=upto, normalize=normalize).eval().requires_grad_(False)

    monkeypatch.setattr(vgg_module, "load_vgg16", fake_load)


def _trainer(out: Path, *, loop: dict, recipe: dict | None = None, resume=None) -> Trainer:
    r = get_recipe("deepfill")
    sets = {"loop": {**FAST, **loop}, "recipe": {**TINY, **(recipe or {})}}
    loop_cfg, cfg = resolve(r.config_cls, sets=sets, loop_defaults=r.loop_defaults)
    g = torch.Generator().manual_seed(0)
    colours = torch.rand(8, 3, 1, 1, generator=g) * 2 - 1
    data = TensorDataset(colours.expand(8, 3, S, S).clone())
    return Trainer(r, data, loop=loop_cfg, cfg=cfg, out_dir=out, resume=resume)


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "log.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_paper_preset_is_the_dataclass_defaults_and_efficient_fills_only_unset_keys() -> None:
    cls = DeepFillTrainConfig
    _, paper = resolve(cls, sets={"recipe": {"preset": "paper"}})
    assert paper == DeepFillTrainConfig(preset="paper")
    _, eff = resolve(cls, sets={"recipe": {"preset": "efficient", "style_weight": 0.0}})
    for key, value in cls.PRESETS["efficient"].items():
        if key != "style_weight":
            assert getattr(eff, key) == value, key
    assert eff.style_weight == 0.0  # the user's own key wins over the preset
    assert eff.critic == "sn-patchgan" and eff.ema_decay > 0 and eff.objects > 0
    with pytest.raises(InpaintError, match="preset"):
        resolve(cls, sets={"recipe": {"preset": "turbo"}})


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"critic": "lsgan"}, "critic"),
        ({"fm_weight": 1.0}, "fm_weight needs"),
        ({"ema_decay": 1.0}, "ema_decay"),
        ({"objects": -0.1}, "objects"),
        ({"perceptual_weight": -1.0}, "perceptual_weight"),
    ],
)
def test_bad_efficient_options_raise(kw: dict, match: str) -> None:
    with pytest.raises(InpaintError, match=match):
        DeepFillTrainConfig(**kw).validate()


def test_object_and_thin_holes_are_mixed_in_and_zero_fractions_change_nothing() -> None:
    base = DeepFillTrainConfig(image_size=64, free_form=0.5)
    same = sample_masks(base, 20, torch.Generator().manual_seed(1)).mask
    zero = DeepFillTrainConfig(image_size=64, free_form=0.5, objects=0.0, thin=0.0)
    assert torch.equal(same, sample_masks(zero, 20, torch.Generator().manual_seed(1)).mask)
    objects = DeepFillTrainConfig(image_size=64, objects=1.0)
    holes = sample_masks(objects, 20, torch.Generator().manual_seed(1)).mask[:, 0].bool().numpy()
    for hole in holes:
        ys, xs = np.nonzero(hole)
        assert hole.any() and hole.sum() < (np.ptp(ys) + 1) * (np.ptp(xs) + 1)  # not boxes
    assert 0.01 < holes.mean() < 0.45


def test_efficient_training_logs_every_term_and_exports_the_average(
    tmp_path: Path, random_vgg: None
) -> None:
    out = tmp_path / "run"
    t = _trainer(out, loop={"steps": 3}, recipe={"preset": "efficient", "objects": 0.5})
    assert set(t.nets) == {"G", "D", "G_ema"}
    t.run()
    row = _rows(out)[-1]
    for key in ("D_loss", "G_adv", "G_fm", "G_perceptual", "G_style", "G_l1", "cpu_seconds"):
        assert np.isfinite(float(row[key])), key
    assert float(row["G_perceptual"]) > 0 and float(row["G_style"]) > 0
    exported = load_file(str(out / "export/deepfill.safetensors"))
    ema = {k: v for k, v in t.nets["G_ema"].state_dict().items()}
    live = t.nets["G"].state_dict()
    key = next(k for k in ema if k.endswith("weight"))
    assert torch.equal(exported[f"G.{key}"], ema[key].half())  # the average is what ships
    assert not torch.equal(ema[key], live[key])  # and it is not the live generator


def test_ema_run_resumes_bit_exactly(tmp_path: Path) -> None:
    recipe = {"ema_decay": 0.9, "critic": "sn-patchgan", "critic_steps": 1, "fm_weight": 1.0}
    loop = {"ckpt_every": 2, "keep_last": 0}
    whole = _trainer(tmp_path / "a", loop={**loop, "steps": 4}, recipe=recipe).run()
    _trainer(tmp_path / "b", loop={**loop, "steps": 2}, recipe=recipe).run()
    rest = _trainer(tmp_path / "b", loop={**loop, "steps": 4}, recipe=recipe, resume=tmp_path / "b")
    rest.run()
    a = load_file(str(whole.checkpoint / "models.safetensors"))
    b = load_file(str(tmp_path / "b/checkpoints/step_000004/models.safetensors"))
    assert a.keys() == b.keys() and any(k.startswith("G_ema.") for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_init_from_starts_the_generator_from_an_export(tmp_path: Path) -> None:
    first = _trainer(tmp_path / "a", loop={"steps": 1}).run()
    assert first.export is not None
    t = _trainer(tmp_path / "b", loop={"steps": 1}, recipe={"init_from": str(first.export)})
    shipped = load_file(str(first.export))
    for k, v in t.nets["G"].state_dict().items():
        assert torch.equal(v, shipped[f"G.{k}"].float()), k
    with pytest.raises(InpaintError, match="architecture"):
        _trainer(
            tmp_path / "c", loop={"steps": 1},
            recipe={"init_from": str(first.export), "model": {"cnum": 8, "critic_cnum": 4}},
        )  # fmt: skip


def test_cpu_minute_budget_stops_with_a_checkpoint_and_an_export(tmp_path: Path) -> None:
    res = _trainer(tmp_path / "r", loop={"steps": 50, "max_cpu_minutes": 1e-6}).run()
    assert res.stopped and res.step == 1 and res.export is not None
    state = json.loads((res.checkpoint / "state.json").read_text())
    assert state["cpu_seconds"] > 0
    more = _trainer(
        tmp_path / "r", loop={"steps": 50, "max_cpu_minutes": 1e-6}, resume=tmp_path / "r"
    ).run()
    assert more.step == 2
    rows = _rows(tmp_path / "r")
    assert float(rows[-1]["cpu_seconds"]) > state["cpu_seconds"]  # carried over the resume
