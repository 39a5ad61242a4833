"""Issue 22 #9: biharmonic, tv and lowrank take big photos on windows around the holes (scaled
down when a window is still too large) instead of refusing, and tv/lowrank report progress."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import inpaintkit
from inpaintkit.methods.big_images import fill_in_windows, shrink_known
from inpaintkit.registry import get_method


def ramp(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack(
        [x * 200 // w + 20, y * 200 // h + 20, (x + y) * 100 // (h + w) + 60], 2
    ).astype(np.uint8)


@pytest.mark.parametrize(
    ("method", "size"),
    [("biharmonic", (1030, 1024)), ("tv", (1540, 1536)), ("lowrank", (520, 512))],
)
def test_big_photo_with_a_small_hole_is_filled_on_a_window(method, size):
    h, w = size
    assert get_method(method).max_pixels is None, "no refusal by size any more"
    pixels = ramp(h, w)
    hole = np.zeros((h, w), bool)
    hole[h // 2 : h // 2 + 12, w // 3 : w // 3 + 16] = True
    res = inpaintkit.inpaint(
        pixels, hole, method, **({"progress": False} if method != "biharmonic" else {})
    )
    assert np.array_equal(res.pixels[~hole], pixels[~hole])
    err = np.abs(res.pixels[hole].astype(int) - pixels[hole].astype(int)).mean()
    assert err < 12, f"{method} fill far from the smooth ramp it continues: {err}"
    assert any("window(s) around the holes" in n for n in res.notes), res.notes


def test_a_window_over_budget_is_solved_smaller_and_upsampled(monkeypatch):
    import inpaintkit.methods.lowrank as lr

    monkeypatch.setattr(lr, "_MAX_PIXELS", 48 * 48)
    pixels = ramp(100, 100)
    hole = np.zeros((100, 100), bool)
    hole[30:70, 30:70] = True
    res = inpaintkit.inpaint(pixels, hole, "lowrank", progress=False)
    assert any("at scale" in n for n in res.notes), res.notes
    assert np.array_equal(res.pixels[~hole], pixels[~hole])
    assert np.abs(res.pixels[hole].astype(int) - pixels[hole].astype(int)).mean() < 20


def test_fill_in_windows_covers_every_hole_and_keeps_known_pixels():
    image = torch.rand(2, 3, 60, 80) * 2 - 1
    mask = torch.zeros(2, 1, 60, 80)
    mask[0, :, 5:9, 5:9] = 1
    mask[0, :, 40:50, 60:75] = 1
    mask[1, :, 20:30, 20:60] = 1
    calls = []

    def fill(x, m):
        calls.append(tuple(x.shape))
        return torch.full_like(x, 0.5)

    out, notes = fill_in_windows(image, mask, fill, max_pixels=20 * 20, method="t", min_side=16)
    assert torch.equal(out[mask.expand_as(out) < 0.5], image[mask.expand_as(image) < 0.5])
    assert torch.allclose(out[mask.expand_as(out) > 0.5], torch.tensor(0.5))
    assert len(calls) == 3 and all(h * w <= 20 * 20 for _, _, h, w in calls)
    assert "3 window(s)" in notes[0] and "at scale" in notes[0]
    small, small_hole = shrink_known(
        image[:1, :, 30:60, 50:80], mask[:1, :, 30:60, 50:80], (15, 15)
    )
    assert small.shape == (1, 3, 15, 15) and float(small_hole.sum()) > 0


@pytest.mark.parametrize(("method", "total"), [("tv", 40), ("lowrank", 2 * 7)])
def test_tv_and_lowrank_report_progress(method, total):
    pixels = ramp(32, 40)
    hole = np.zeros((32, 40), bool)
    hole[10:20, 12:24] = True
    seen = []

    def callback(step, value=None, total=None):
        seen.append((step, total))

    opts = (
        {"iterations": 40, "tol": 0.0}
        if method == "tv"
        else {"iterations": 7, "outer": 2, "tol": 0.0}
    )
    inpaintkit.inpaint(pixels, hole, method, progress=False, callback=callback, **opts)
    assert seen and seen[-1] == (total, total)
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
