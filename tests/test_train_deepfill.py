"""The ``deepfill`` recipe through the one training loop, tiny and CPU; training masks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from inpaintkit.errors import InpaintError
from inpaintkit.train.config import resolve
from inpaintkit.train.deepfill import DeepFillTrainConfig, crop_local, sample_masks
from inpaintkit.train.loop import Trainer
from inpaintkit.train.recipes import get_recipe, list_recipes

pytestmark = pytest.mark.usefixtures("one_thread")


FAST = {"workers": 0, "progress": False, "tensorboard": False, "n_samples": 8}
S = 32
TINY = {"batch_size": 2, "image_size": S, "model": {"cnum": 4, "critic_cnum": 4}}


def _trainer(out: Path, *, loop: dict, recipe: dict | None = None) -> Trainer:
    r = get_recipe("deepfill")
    sets = {"loop": {**FAST, **loop}, "recipe": {**TINY, **(recipe or {})}}
    loop_cfg, cfg = resolve(r.config_cls, sets=sets, loop_defaults=r.loop_defaults)
    g = torch.Generator().manual_seed(0)
    colours = torch.rand(8, 3, 1, 1, generator=g) * 2 - 1  # flat images: learnable fills
    data = TensorDataset(colours.expand(8, 3, S, S).clone())
    return Trainer(r, data, loop=loop_cfg, cfg=cfg, out_dir=out)


def test_defaults_are_the_papers() -> None:
    cfg = DeepFillTrainConfig()
    assert "deepfill" in list_recipes()
    assert (cfg.image_size, cfg.batch_size, cfg.lr, cfg.beta1, cfg.beta2) == (
        256, 16, 1e-4, 0.5, 0.9,
    )  # fmt: skip
    assert (cfg.critic_steps, cfg.gp_weight, cfg.gamma, cfg.discount) == (5, 10.0, 0.99, "distance")
    assert (cfg.adv_weight, cfg.l1_weight, cfg.ae_weight, cfg.free_form) == (0.001, 1.2, 1.2, 0)
    assert cfg.critic_sizes() == {"local_size": 128, "global_size": 256}
    assert cfg.model.cnum == 32 and cfg.model.attention


def test_box_masks_and_their_local_squares() -> None:
    cfg = DeepFillTrainConfig(image_size=64)
    m = sample_masks(cfg, 50, torch.Generator().manual_seed(3))
    assert m.mask.shape == (50, 1, 64, 64)
    for hole, (y, x) in zip(m.mask[:, 0].bool().numpy(), m.boxes, strict=True):
        ys, xs = np.nonzero(hole)
        h, w = np.ptp(ys) + 1, np.ptp(xs) + 1
        assert 24 <= h <= 32 and 24 <= w <= 32  # 32 box shrunk by up to max_delta 8 in total
        assert hole.sum() == h * w  # one rectangle
        assert y <= ys.min() and ys.max() < y + 32 and x <= xs.min() and xs.max() < x + 32
        assert 0 <= y <= 32 and 0 <= x <= 32
    again = sample_masks(cfg, 50, torch.Generator().manual_seed(3))
    assert torch.equal(m.mask, again.mask)  # reproducible from the step's generator


def test_free_form_masks_are_mixed_in() -> None:
    cfg = DeepFillTrainConfig(image_size=64, free_form=1.0)
    m = sample_masks(cfg, 10, torch.Generator().manual_seed(0))
    for hole in m.mask[:, 0].bool().numpy():
        ys, xs = np.nonzero(hole)
        assert hole.sum() < (np.ptp(ys) + 1) * (np.ptp(xs) + 1)  # strokes are not rectangles


def test_crop_local_takes_each_images_square() -> None:
    x = torch.arange(2 * 8 * 8, dtype=torch.float32).view(2, 1, 8, 8)
    out = crop_local(x, np.array([[0, 4], [3, 1]]), 4)
    assert torch.equal(out[0], x[0, :, 0:4, 4:8]) and torch.equal(out[1], x[1, :, 3:7, 1:5])


def test_training_runs_and_exports_the_generator(tmp_path: Path) -> None:
    out = tmp_path / "run"
    t = _trainer(out, loop={"steps": 3, "sample_every": 3}, recipe={"critic_steps": 2})
    t.run()
    with (out / "log.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    for key in ("D_loss", "D_gp", "G_l1", "G_ae", "G_adv", "G_loss"):
        assert np.isfinite(float(rows[-1][key])), key
    assert int(rows[-1]["images_seen"]) == 3 * 3 * 2  # 2 critic batches + 1 generator batch
    card = json.loads((out / "export/deepfill.json").read_text())
    assert card["model"] == "deepfill"
    assert card["architecture"]["cnum"] == 4 and card["architecture"]["global_size"] == S
    from safetensors.torch import load_file

    keys = load_file(str(out / "export/deepfill.safetensors"))
    assert keys and all(k.startswith("G.") for k in keys)  # critics are not exported
    assert (out / "samples/step_000003.png").is_file()


def test_reconstruction_only_training_lowers_the_l1(tmp_path: Path) -> None:
    t = _trainer(
        tmp_path / "r", loop={"steps": 60, "sample_every": 0},
        recipe={"adv_weight": 0.0, "lr": 1e-3, "batch_size": 4},
    )  # fmt: skip
    t.run()
    with (tmp_path / "r/log.csv").open(newline="") as f:
        l1 = [float(r["G_l1"]) for r in csv.DictReader(f)]
    assert "D_loss" not in (tmp_path / "r/log.csv").read_text().splitlines()[0]  # no critic
    assert np.mean(l1[-10:]) < 0.8 * np.mean(l1[:10])  # 0.92 -> 0.62 when written


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"image_size": 48}, "multiple of 32"),
        ({"free_form": 1.5}, "free_form"),
        ({"discount": "edge"}, "discount"),
        ({"gamma": 0.0}, "gamma"),
    ],
)
def test_bad_config_raises(kw: dict, match: str) -> None:
    with pytest.raises(InpaintError, match=match):
        DeepFillTrainConfig(**kw).validate()


def test_spread_head_scores_an_upsampled_feature_map_the_same() -> None:
    from inpaintkit.train.grow import spread_head

    torch.manual_seed(0)
    w = torch.randn(1, 5 * 3 * 3)
    h = torch.randn(2, 5, 3, 3)
    up = h.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)  # (2, 5, 6, 6)
    torch.testing.assert_close(up.flatten(1) @ spread_head(w, 5).T, h.flatten(1) @ w.T)
    with pytest.raises(InpaintError, match="critic head"):
        spread_head(torch.randn(1, 7), 5)


def test_a_grown_checkpoint_resumes_at_twice_the_crop_size(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from inpaintkit.train.grow import grow_deepfill_checkpoint

    small = tmp_path / "small"
    _trainer(small, loop={"steps": 2, "sample_every": 0}).run()
    src = small / "checkpoints/step_000002"
    big = tmp_path / "big"
    grown = grow_deepfill_checkpoint(src, big / "checkpoints/step_000002")
    assert {k: v[1] // v[0] for k, v in grown.items()} == {
        "global.head.weight": 4, "local.head.weight": 4,
    }  # fmt: skip
    a = load_file(str(src / "models.safetensors"))
    b = load_file(str(big / "checkpoints/step_000002/models.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a if k.startswith("G."))  # generator unchanged
    with pytest.raises(InpaintError, match="exists"):
        grow_deepfill_checkpoint(src, big / "checkpoints/step_000002")
    # resume at 64 px: the grown critics fit, training goes on from step 2
    r = get_recipe("deepfill")
    sets = {"loop": {**FAST, "steps": 3, "sample_every": 0}, "recipe": {**TINY, "image_size": 64}}
    loop_cfg, cfg = resolve(r.config_cls, sets=sets, loop_defaults=r.loop_defaults)
    data = TensorDataset(torch.rand(4, 3, 64, 64) * 2 - 1)
    Trainer(r, data, loop=loop_cfg, cfg=cfg, out_dir=big, resume=big).run()
    with (big / "log.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [3] and np.isfinite(float(rows[0]["G_loss"]))
    # without growing, the 32 px checkpoint does not fit the 64 px critics
    with pytest.raises(InpaintError, match="does not fit"):
        Trainer(r, data, loop=loop_cfg, cfg=cfg, out_dir=tmp_path / "c", resume=src)
