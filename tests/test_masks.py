"""Seeded mask generators: exact layouts, coverage ranges, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from inpaintkit.errors import InpaintError
from inpaintkit.masks import (
    MASK_KINDS,
    box_mask,
    center_mask,
    half_mask,
    make_mask,
    mask_coverage,
    mask_options,
)

SEEDS = range(20)
RANDOM_KINDS = [k for k in MASK_KINDS if k != "center"]

# Documented coverage range of each kind at 64x64 over seeds (inclusive).
COVERAGE_64 = {
    "center": (0.25, 0.25),
    "pattern": (0.25, 0.25),  # exact: round(0.25 * 4096) pixels
    "random80": (0.75, 0.85),  # per mask; the mean over seeds is checked more tightly
    "half": (0.5, 0.5),
    "three_squares": (16 * 16 / 4096, 3 * 21 * 21 / 4096),  # sides 16..21 px, may overlap
    "box": (24 * 24 / 4096, 0.25),  # 32x32 box, each axis shrunk by 0..4 px on both sides
    "thin": (0.05, 0.15),
    "medium": (0.15, 0.30),
    "thick": (0.25, 0.50),
    "objects": (0.005, 0.45),  # area log-uniform in 2-33 %, plus the margin, cut by the frame
}


def test_kinds_are_the_documented_ones():
    assert set(MASK_KINDS) == set(COVERAGE_64)


@pytest.mark.parametrize("kind", list(MASK_KINDS))
def test_coverage_in_documented_range(kind):
    lo, hi = COVERAGE_64[kind]
    for seed in SEEDS:
        mask = make_mask(kind, (64, 64), seed=seed)
        assert mask.dtype == np.bool_ and mask.shape == (64, 64)
        assert lo - 1e-12 <= mask_coverage(mask) <= hi + 1e-12, (kind, seed)


def test_random80_mean_coverage():
    mean = np.mean([mask_coverage(make_mask("random80", (64, 64), seed=s)) for s in SEEDS])
    assert 0.78 <= mean <= 0.82


@pytest.mark.parametrize("kind", list(MASK_KINDS))
def test_same_seed_same_mask(kind):
    a = make_mask(kind, (48, 40), seed=7)
    b = make_mask(kind, (48, 40), seed=7)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_different_seeds_differ(kind):
    masks = [make_mask(kind, (64, 64), seed=s) for s in range(6)]
    distinct = {m.tobytes() for m in masks}
    assert len(distinct) >= 3  # half has only four layouts


@pytest.mark.parametrize("kind", list(MASK_KINDS))
def test_non_square_size_is_width_height(kind):
    mask = make_mask(kind, (64, 32), seed=3)
    assert mask.shape == (32, 64)
    assert 0.0 < mask_coverage(mask) < 1.0


def test_center_exact_layout():
    expected = np.zeros((4, 6), bool)
    expected[1:3, 1:4] = True  # 3x2 hole: half of 6 wide, half of 4 high; left = (6-3)//2
    assert np.array_equal(center_mask((6, 4)), expected)
    box = make_mask("center", (10, 8), box=(4, 2))
    assert np.argwhere(box).min(0).tolist() == [3, 3]
    assert np.argwhere(box).max(0).tolist() == [4, 6]
    assert mask_coverage(make_mask("center", (20, 20), fraction=0.1)) == 4 / 400


def test_half_sides_exact_and_all_reached_by_seed():
    left = half_mask((6, 4), side="left")
    assert left[:, :3].all() and not left[:, 3:].any()
    bottom = half_mask((6, 4), side="bottom")
    assert bottom[2:].all() and not bottom[:2].any()
    seen = set()
    for seed in SEEDS:
        m = make_mask("half", (8, 8), seed=seed)
        seen.add((bool(m[0, 0]), bool(m[7, 7]), bool(m[0, 7])))
    assert len(seen) == 4


def test_box_is_one_solid_rectangle_within_delta():
    for seed in SEEDS:
        m = make_mask("box", (64, 48), seed=seed)
        ys, xs = np.nonzero(m)
        hh, ww = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        assert m.sum() == hh * ww  # solid
        assert 32 - 2 * (8 // 2) <= ww <= 32 and 24 - 2 * (6 // 2) <= hh <= 24
    fixed = box_mask((16, 16), rng=np.random.default_rng(0), box=(8, 6), max_delta=0)
    assert fixed.sum() == 48


def test_pattern_is_blobs_not_salt():
    for seed in range(5):
        m = make_mask("pattern", (64, 64), seed=seed)
        _, count = ndimage.label(m)
        assert count <= 60  # vs ~hundreds of components for independent pixels
    assert mask_coverage(make_mask("pattern", (40, 30), coverage=0.1)) == 120 / 1200


def test_three_squares_has_at_most_count_rectangles():
    for seed in SEEDS:
        _, count = ndimage.label(make_mask("three_squares", (64, 64), seed=seed))
        assert 1 <= count <= 3
    one = make_mask("three_squares", (64, 64), seed=1, count=1, min_side=0.5, max_side=0.5)
    assert one.sum() == 32 * 32


def test_strokes_band_option_and_impossible_band():
    for seed in range(5):
        m = make_mask("thick", (32, 32), seed=seed, min_coverage=0.3, max_coverage=0.35)
        assert 0.3 <= mask_coverage(m) <= 0.35
    with pytest.raises(InpaintError, match="coverage"):
        make_mask("thin", (8, 8), seed=0, min_coverage=0.99)


def test_random80_option_p():
    assert not make_mask("random80", (16, 16), p=0.0).any()
    assert make_mask("random80", (16, 16), p=1.0).all()


def test_mask_coverage_golden():
    assert mask_coverage(np.array([[True, False], [False, False]])) == 0.25
    assert mask_coverage(np.zeros((3, 5), bool)) == 0.0
    with pytest.raises(InpaintError):
        mask_coverage(np.zeros((0, 4), bool))


def test_mask_options_lists_keyword_defaults():
    assert mask_options("center") == {"fraction": 0.5, "box": None}
    assert mask_options("random80") == {"p": 0.8}


def test_unknown_kind_lists_known():
    with pytest.raises(InpaintError, match="known kinds: center, pattern"):
        make_mask("circle", (16, 16))


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("center", {"radius": 3}),
        ("center", {"fraction": 2.0}),
        ("center", {"box": (40, 4)}),
        ("random80", {"p": -0.1}),
        ("random80", {"p": "lots"}),
        ("half", {"side": "diagonal"}),
        ("three_squares", {"count": 2.5}),
        ("box", {"max_delta": -1}),
        ("thin", {"max_len": 10}),
        ("medium", {"min_coverage": 0.5, "max_coverage": 0.2}),
    ],
)
def test_bad_option_raises(kind, options):
    with pytest.raises(InpaintError, match="option"):
        make_mask(kind, (16, 16), **options)


@pytest.mark.parametrize("size", [(0, 16), (16,), (16.5, 16), "16x16"])
def test_bad_size_raises(size):
    with pytest.raises(InpaintError, match="size"):
        make_mask("center", size)


def test_bad_seed_raises():
    with pytest.raises(InpaintError, match="seed"):
        make_mask("pattern", (16, 16), seed=-1)
