"""Paste-back and Poisson blending: golden values built by hand, exactness, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaintkit.blend import paste_back, poisson_blend, poisson_blend_tensor
from inpaintkit.errors import InpaintError


def _ramp(h: int, w: int) -> np.ndarray:
    """(H, W, 3) float64, channel c = a_c * x + b_c * y + c_c."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    coeffs = [(0.3, -1.2, 5.0), (-2.0, 0.5, -1.0), (0.01, 0.07, 0.0)]
    return np.stack([a * x + b * y + c for a, b, c in coeffs], axis=-1)


def _holes(h: int, w: int) -> np.ndarray:
    """Several holes: interior, on the left border, in the bottom-right corner, one pixel."""
    m = np.zeros((h, w), bool)
    m[3:6, 4:9] = True
    m[7:10, 0:2] = True
    m[h - 3 :, w - 4 :] = True
    m[1, w - 2] = True  # a lone pixel
    return m


# ----------------------------------------------------------------------------- Poisson: golden
def test_constant_stays_constant():
    m = _holes(12, 16)
    target = np.broadcast_to(np.array([0.25, -0.5, 3.0]), (12, 16, 3)).copy()
    target[m] = 0.0
    source = np.full((12, 16, 3), 7.0)
    out = poisson_blend(target, source, m)
    assert np.abs(out[m] - np.array([0.25, -0.5, 3.0])).max() < 1e-10


def test_linear_ramp_reproduced_in_holes_touching_border():
    m = _holes(12, 16)
    source = _ramp(12, 16)
    target = source.copy()
    target[m] = 0.0
    out = poisson_blend(target, source, m)
    assert np.abs(out - source).max() < 1e-8


def test_source_offset_gives_target_exactly():
    rng = np.random.default_rng(0)
    m = _holes(12, 16)
    target = rng.normal(size=(12, 16, 3))
    out = poisson_blend(target, target + 3.7, m)
    assert np.abs(out - target).max() < 1e-8


def test_known_pixels_bit_exact_and_no_clipping():
    rng = np.random.default_rng(1)
    m = _holes(12, 16)
    target = rng.normal(size=(12, 16, 3)).astype(np.float32)
    source = rng.normal(size=(12, 16, 3)).astype(np.float32) * 50
    out = poisson_blend(target, source, m)
    assert out.dtype == np.float32 and out.shape == target.shape
    assert np.array_equal(out[~m], target[~m])
    assert np.abs(out[m]).max() > 1.5  # the source's strong gradients are kept, not clipped


def test_one_pixel_hole_closed_form():
    rng = np.random.default_rng(2)
    t, s = rng.normal(size=(5, 6, 2)), rng.normal(size=(5, 6, 2))
    for y, x in [(2, 3), (0, 0), (4, 2)]:  # interior, corner (2 neighbours), border (3)
        m = np.zeros((5, 6), bool)
        m[y, x] = True
        nb = [(y + dy, x + dx) for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1))]
        nb = [(a, b) for a, b in nb if 0 <= a < 5 and 0 <= b < 6]
        expected = np.mean([t[q] for q in nb], 0) + s[y, x] - np.mean([s[q] for q in nb], 0)
        assert np.allclose(poisson_blend(t, s, m)[y, x], expected, atol=1e-12, rtol=0)


def test_two_pixel_gap_is_linear_interpolation():
    target = np.array([[0.0, 9.0, 9.0, 3.0]])  # (H=1, W=4), the 9s are in the hole
    m = np.array([[False, True, True, False]])
    out = poisson_blend(target, np.zeros((1, 4)), m)
    assert np.allclose(out, [[0.0, 1.0, 2.0, 3.0]], atol=1e-12, rtol=0)


def test_nan_in_target_hole_is_ignored():
    m = _holes(12, 16)
    source = _ramp(12, 16)
    target = source.copy()
    target[m] = np.nan
    assert np.abs(poisson_blend(target, source, m) - source).max() < 1e-8


def test_no_hole_returns_target_unchanged():
    target = np.random.default_rng(3).normal(size=(6, 7, 3))
    out = poisson_blend(target, target * 2, np.zeros((6, 7), bool))
    assert np.array_equal(out, target) and out is not target


# ----------------------------------------------------------------------------- Poisson: torch
def test_tensor_path_matches_numpy_per_sample_masks():
    rng = np.random.default_rng(4)
    t, s = rng.normal(size=(2, 3, 10, 12)), rng.normal(size=(2, 3, 10, 12))
    masks = np.zeros((2, 1, 10, 12), bool)
    masks[0, 0, 2:5, 3:8] = True
    masks[1, 0, 6:, :4] = True
    out = poisson_blend(
        torch.from_numpy(t).float(), torch.from_numpy(s).float(), torch.from_numpy(masks).float()
    )
    assert out.dtype == torch.float32 and out.shape == (2, 3, 10, 12)
    for i in range(2):
        ref = poisson_blend(t[i].transpose(1, 2, 0), s[i].transpose(1, 2, 0), masks[i, 0])
        assert np.abs(out[i].numpy().transpose(1, 2, 0) - ref).max() < 1e-5
        known = ~masks[i, 0]
        assert torch.equal(out[i][:, known], torch.from_numpy(t[i]).float()[:, known])


def test_tensor_single_mask_broadcasts_over_batch():
    t = torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., 2:6, 2:6] = 1.0
    out = poisson_blend_tensor(t, t + 1.0, mask)
    assert torch.allclose(out, t, atol=1e-5)


def test_tensor_gradcheck_float64():
    g = torch.Generator().manual_seed(0)
    t = torch.randn(2, 2, 5, 6, dtype=torch.float64, generator=g, requires_grad=True)
    s = torch.randn(2, 2, 5, 6, dtype=torch.float64, generator=g, requires_grad=True)
    mask = torch.zeros(2, 1, 5, 6, dtype=torch.float64)
    mask[0, 0, 1:3, 2:4] = 1.0
    mask[1, 0, 3:, :2] = 1.0
    assert torch.autograd.gradcheck(lambda a, b: poisson_blend(a, b, mask), (t, s))


def test_tensor_offset_source_gradient_is_zero_for_known_only_loss():
    t = torch.zeros(1, 1, 4, 4, requires_grad=True)
    s = torch.zeros(1, 1, 4, 4, requires_grad=True)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., 1, 1] = 1.0
    poisson_blend(t, s, mask)[0, 0, 1, 1].backward()
    # x = mean(t over 4 neighbours) + s_p - mean(s over 4 neighbours)
    assert t.grad[0, 0, 0, 1] == 0.25 and t.grad[0, 0, 1, 1] == 0.0
    assert s.grad[0, 0, 1, 1] == 1.0 and s.grad[0, 0, 1, 2] == -0.25


# ----------------------------------------------------------------------------- Poisson: errors
def test_poisson_bad_inputs_raise():
    t = np.zeros((6, 6, 3))
    m = np.zeros((6, 6), bool)
    m[2, 2] = True
    with pytest.raises(InpaintError, match="same"):
        poisson_blend(t, np.zeros((6, 5, 3)), m)
    with pytest.raises(InpaintError, match="mask shape"):
        poisson_blend(t, t, np.zeros((6, 5), bool))
    with pytest.raises(InpaintError, match="bool"):
        poisson_blend(t, t, m.astype(np.uint8) * 255)
    with pytest.raises(InpaintError, match="float"):
        poisson_blend(t.astype(np.uint8), t.astype(np.uint8), m)
    with pytest.raises(InpaintError, match="both numpy"):
        poisson_blend(t, torch.zeros(6, 6, 3), m)
    with pytest.raises(InpaintError, match="whole image"):
        poisson_blend(t, t, np.ones((6, 6), bool))
    bad = t.copy()
    bad[0, 0, 0] = np.inf
    with pytest.raises(InpaintError, match="NaN"):
        poisson_blend(bad, t, m)
    bad[0, 0, 0] = np.nan
    with pytest.raises(InpaintError, match="NaN"):
        poisson_blend(t, bad, m)


def test_poisson_tensor_bad_mask_raises():
    t = torch.zeros(2, 3, 6, 6)
    with pytest.raises(InpaintError, match="mask"):
        poisson_blend(t, t, torch.zeros(2, 3, 6, 6))
    with pytest.raises(InpaintError, match="mask size"):
        poisson_blend(t, t, torch.zeros(2, 1, 6, 5))
    with pytest.raises(InpaintError, match="tensor"):
        poisson_blend(t, t, np.zeros((6, 6), bool))


# ----------------------------------------------------------------------------- paste_back
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_paste_back_bit_exact(dtype):
    rng = np.random.default_rng(5)
    top = np.iinfo(dtype).max
    original = rng.integers(0, top, size=(9, 11, 3), endpoint=True).astype(dtype)
    fill = rng.integers(0, top, size=(9, 11, 3), endpoint=True).astype(dtype)
    m = _holes(9, 11)
    for feather in (0, 3):
        out = paste_back(original, fill, m, feather=feather)
        assert out.dtype == dtype
        assert np.array_equal(out[~m], original[~m])
    assert np.array_equal(paste_back(original, fill, m)[m], fill[m])


def test_paste_back_feather_ramp_golden_and_monotone():
    original = np.zeros((1, 12, 3), np.uint16)
    fill = np.full((1, 12, 3), 60000, np.uint16)
    m = np.zeros((1, 12), bool)
    m[0, 2:] = True  # hole from column 2 to the right border
    out = paste_back(original, fill, m, feather=4)[0, :, 0]
    assert out.tolist() == [0, 0, 15000, 30000, 45000] + [60000] * 7
    assert np.all(np.diff(out.astype(np.int64)) >= 0)


def test_paste_back_whole_image_hole_takes_fill():
    o, f = np.zeros((3, 3, 3), np.uint8), np.full((3, 3, 3), 7, np.uint8)
    assert np.array_equal(paste_back(o, f, np.ones((3, 3), bool), feather=2), f)


def test_paste_back_bad_inputs_raise():
    o = np.zeros((4, 4, 3), np.uint8)
    m = np.zeros((4, 4), bool)
    with pytest.raises(InpaintError, match="dtype"):
        paste_back(o, o.astype(np.uint16), m)
    with pytest.raises(InpaintError, match="dtype"):
        paste_back(o.astype(np.float32), o.astype(np.float32), m)
    with pytest.raises(InpaintError, match="shape"):
        paste_back(o, np.zeros((4, 5, 3), np.uint8), m)
    with pytest.raises(InpaintError, match="mask shape"):
        paste_back(o, o, np.zeros((4, 5), bool))
    with pytest.raises(InpaintError, match="bool"):
        paste_back(o, o, m.astype(np.uint8))
    with pytest.raises(InpaintError, match="feather"):
        paste_back(o, o, m, feather=-1)
