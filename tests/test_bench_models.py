"""The model benchmarks (``inpaintkit bench latent``): rows and bookkeeping, never timings."""

from __future__ import annotations

import math

import pytest
import torch

from inpaintkit.eval.bench import BENCHMARKS, _load_benchmarks
from inpaintkit.eval.bench_models import LATENT_SETTINGS, _centre_batch, bench_latent
from inpaintkit.models.dcgan import DCGANConfig

TINY = DCGANConfig(z_dim=8, image_size=32, ngf=4, ndf=4)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_latent_is_registered() -> None:
    _load_benchmarks()
    assert BENCHMARKS["latent"] is bench_latent


def test_centre_batch() -> None:
    images, mask = _centre_batch(2, 32, seed=0)
    assert images.shape == (2, 3, 32, 32) and mask.shape == (2, 1, 32, 32)
    assert mask.sum().item() == 2 * 16 * 16 and mask[0, 0, 8:24, 8:24].min() == 1
    assert (images * mask).abs().max() == 0 and images.abs().max() <= 1


def test_latent_rows() -> None:
    rows = bench_latent(n=2, iterations=2, warmup=1, total=1500, config=TINY)
    assert [r["setting"] for r in rows] == list(LATENT_SETTINGS)
    keys = {"what", "setting", "batch", "timed_steps", "s_per_step", "s_1500_steps_extrapolated"}
    for r in rows:
        assert keys | {"speedup_vs_fp32", "threads"} == set(r)
        assert r["batch"] == "2 x 32x32" and r["timed_steps"] == 2 and r["threads"] == 1
        assert r["s_per_step"] > 0 and math.isfinite(r["s_per_step"])
        assert r["s_1500_steps_extrapolated"] == pytest.approx(1500 * r["s_per_step"])
        assert r["speedup_vs_fp32"] == pytest.approx(rows[0]["s_per_step"] / r["s_per_step"])
    assert rows[0]["speedup_vs_fp32"] == 1.0
    one = bench_latent(n=2, iterations=2, warmup=0, total=10, config=TINY, settings=("bf16",))
    assert len(one) == 1 and math.isnan(one[0]["speedup_vs_fp32"])  # no fp32 row to compare
    assert one[0]["s_10_steps_extrapolated"] == pytest.approx(10 * one[0]["s_per_step"])


@pytest.mark.parametrize(("warmup", "iterations"), [(0, 3), (2, 3)])
def test_time_per_step_bookkeeping(monkeypatch: pytest.MonkeyPatch, warmup: int, iterations: int):
    # A clock that advances 1 s per reading (one reading per search step): exactly 1 s a step.
    import itertools

    from inpaintkit.eval import bench_models
    from inpaintkit.models.dcgan import build_dcgan

    clock = itertools.count(100.0)
    monkeypatch.setattr(bench_models.time, "perf_counter", lambda: next(clock))
    G, D = build_dcgan(TINY)
    images, mask = _centre_batch(1, 32, seed=0)
    sec = bench_models.time_latent_search(
        G, D, images, mask, z_dim=8, precision="fp32", iterations=iterations, warmup=warmup
    )
    assert sec == 1.0 and next(clock) == 100.0 + warmup + iterations  # one reading per step


def test_bench_options_parse_against_the_signature() -> None:
    from inpaintkit.cli.bench import bench_options
    from inpaintkit.errors import InpaintError
    from inpaintkit.eval.bench_models import bench_latent_quality

    opts = bench_options(bench_latent_quality, ["n=3", "presets=fast,paper", "data=a:/b"])
    assert opts == {"n": 3, "presets": ("fast", "paper"), "data": "a:/b"}
    with pytest.raises(InpaintError, match="KEY one of method, model, data"):
        bench_options(bench_latent_quality, ["iters=3"])
    with pytest.raises(InpaintError, match="bad --opt 'n'"):
        bench_options(bench_latent_quality, ["n"])


def test_latent_quality_rows(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny DCGAN "model" installed for yeh2017 and six tiny held-out images: the rows compare
    # the presets on the same images; fast's PSNR is measured, not copied.
    import json

    import numpy as np
    from PIL import Image
    from safetensors.torch import save_file

    from inpaintkit import weights
    from inpaintkit.eval.bench_models import bench_latent_quality
    from inpaintkit.methods import latent_search as ls
    from inpaintkit.models.dcgan import build_dcgan

    monkeypatch.setenv("INPAINTKIT_WEIGHTS", str(tmp_path / "w"))
    monkeypatch.setattr(weights, "bundled_dir", lambda: tmp_path / "none")
    (tmp_path / "w").mkdir()
    torch.manual_seed(0)
    G, D = build_dcgan(TINY)
    tensors = {f"G.{k}": v for k, v in G.state_dict().items()}
    tensors |= {f"D.{k}": v for k, v in D.state_dict().items()}
    save_file(tensors, str(tmp_path / "w" / "yeh2017_tiny32.safetensors"))
    card = {"model": "dcgan", "architecture": TINY.__dict__, "data": "none (test)"}
    (tmp_path / "w" / "yeh2017_tiny32.json").write_text(json.dumps(card))
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    fast = {"iterations": 3, "precision": "bf16", "init_candidates": 2, "early_stop_tol": 0.0}
    paper = {**fast, "iterations": 6, "precision": "fp32", "init_candidates": 1}
    monkeypatch.setitem(ls.PRESETS, "yeh2017", {"paper": paper, "fast": fast})
    rows = bench_latent_quality(model="tiny32", data=str(folder), split="train", n=2)
    assert [r["preset"] for r in rows] == ["paper", "fast"]
    assert rows[0]["speedup"] == 1.0 and rows[0]["d_psnr"] == 0.0
    assert rows[1]["d_psnr"] == pytest.approx(rows[1]["psnr"] - rows[0]["psnr"])
    assert rows[1]["speedup"] == pytest.approx(rows[0]["seconds"] / rows[1]["seconds"])
    for r in rows:
        assert 0 < r["psnr"] < 60 and r["psnr_hole"] < r["psnr"]  # the hole is where errors are
        assert r["what"] == "yeh2017 tiny32, 2 x 32x32, mask center"
