"""Contextual attention (nn/contextual_attention.py): a naive loop reference, golden cases,
per-sample masks, banded == one pass, gradcheck, invalid patches, colour wheel."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from inpaintkit.nn.contextual_attention import (
    ContextualAttention,
    _prepare,
    _rows_per_band,
    attention_weights,
    contextual_attention,
    flow_to_color,
    propagate_scores,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------- naive reference (loops)


def _patch(t: np.ndarray, y: int, x: int, k: int) -> np.ndarray:
    """The k x k window of t (C, h, w) centred at (y, x), zeros outside."""
    p, out = k // 2, np.zeros((t.shape[0], k, k))
    for i, j in itertools.product(range(k), range(k)):
        yy, xx = y + i - p, x + j - p
        if 0 <= yy < t.shape[1] and 0 <= xx < t.shape[2]:
            out[:, i, j] = t[:, yy, xx]
    return out


def _fuse_loop(S: np.ndarray, k: int) -> np.ndarray:
    """The paper's formula, one pass left-right then one top-down: S (h, w, hb, wb)."""
    q, (h, w, hb, wb) = k // 2, S.shape
    lr, td = np.zeros_like(S), np.zeros_like(S)
    for y, x, u, v in itertools.product(range(h), range(w), range(hb), range(wb)):
        for d in range(-q, q + 1):
            if 0 <= x + d < w and 0 <= v + d < wb:
                lr[y, x, u, v] += S[y, x + d, u, v + d]
    for y, x, u, v in itertools.product(range(h), range(w), range(hb), range(wb)):
        for d in range(-q, q + 1):
            if 0 <= y + d < h and 0 <= u + d < hb:
                td[y, x, u, v] += lr[y + d, x, u + d, v]
    return td


def naive_attention(fg, bg, mask, *, ksize=3, stride=1, rate=2, fuse_k=3, scale=10.0, fuse=True):
    """Contextual attention written pair by pair and pixel by pixel (float64, tiny inputs)."""
    fg, bg = fg.double().numpy(), bg.double().numpy()
    B, _, H, W = fg.shape
    h, w = H // rate, W // rate
    f, b = fg[..., ::rate, ::rate], bg[..., ::rate, ::rate]
    hole = (F.interpolate(mask.double(), size=(h, w), mode="nearest") != 0).numpy()
    us, vs = range(0, h, stride), range(0, w, stride)
    out, offsets = np.zeros_like(bg), np.zeros((B, 2, h, w), np.int64)
    for n in range(B):
        S = np.zeros((h, w, len(us), len(vs)))
        valid = np.zeros((len(us), len(vs)), bool)
        for (a, u), (c, v) in itertools.product(enumerate(us), enumerate(vs)):
            bp = _patch(b[n], u, v, ksize)
            valid[a, c] = not _patch(hole[n], u, v, ksize).any()
            for y, x in itertools.product(range(h), range(w)):
                fp = _patch(f[n], y, x, ksize)
                S[y, x, a, c] = (fp * bp).sum() / max(np.sqrt((bp**2).sum()), 1e-4)
        if fuse:
            S = _fuse_loop(S, fuse_k)
        for y, x in itertools.product(range(h), range(w)):
            A = np.zeros_like(valid, dtype=float)
            if valid.any():
                z = np.where(valid, S[y, x] * scale, -np.inf)
                A = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
                a, c = np.unravel_index(np.argmax(z), z.shape)
                offsets[n, :, y, x] = (us[a] - y, vs[c] - x)
            for (a, u), (c, v) in itertools.product(enumerate(us), enumerate(vs)):
                for i, j in itertools.product(range(2 * rate), range(2 * rate)):
                    sy, sx = u * rate + i - rate // 2, v * rate + j - rate // 2  # raw patch
                    dy, dx = y * rate + i - rate // 2, x * rate + j - rate // 2  # pasted at
                    if 0 <= sy < H and 0 <= sx < W and 0 <= dy < H and 0 <= dx < W:
                        out[n, :, dy, dx] += A[a, c] * bg[n, :, sy, sx] / 4
    return torch.from_numpy(out), torch.from_numpy(offsets)


def _two_holes(H: int, W: int, dtype=torch.float64) -> torch.Tensor:
    mask = torch.zeros(2, 1, H, W, dtype=dtype)
    mask[0, :, : H // 3, : W // 3] = 1
    mask[1, :, H // 2 :, W // 3 : 2 * W // 3] = 1
    return mask


@pytest.mark.parametrize(
    "hp",
    [{}, {"fuse": False}, {"stride": 2}, {"rate": 1}, {"ksize": 5, "fuse_k": 5}, {"rate": 3}],
    ids=["default", "no-fuse", "stride2", "rate1", "k5", "rate3"],
)
@pytest.mark.parametrize("max_bytes", [None, 1])
def test_equals_naive_loops(hp: dict, max_bytes: int | None) -> None:
    r = hp.get("rate", 2)
    g = _gen(1)
    fg = torch.randn(2, 3, 6 * r, 5 * r, generator=g, dtype=torch.float64) * 0.3
    bg = torch.randn(2, 3, 6 * r, 5 * r, generator=g, dtype=torch.float64) * 0.3
    mask = _two_holes(6 * r, 5 * r)
    naive_hp = {("scale" if k == "softmax_scale" else k): v for k, v in hp.items()}
    want_out, want_off = naive_attention(fg, bg, mask, **naive_hp)
    out, off = contextual_attention(fg, bg, mask, max_bytes=max_bytes, **hp)
    torch.testing.assert_close(out, want_out, rtol=0, atol=1e-12)
    assert off.dtype == torch.int64
    assert torch.equal(off, want_off)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_propagate_scores_equals_the_papers_formula(k: int) -> None:
    s = torch.randn(2, 4, 5, 3, 6, generator=_gen(2), dtype=torch.float64)
    got = propagate_scores(s, k=k)
    for n in range(2):
        want = torch.from_numpy(_fuse_loop(s[n].numpy(), k))
        torch.testing.assert_close(got[n], want, rtol=0, atol=1e-12)
    if k == 1:
        assert torch.equal(got, s)


# ----------------------------------------------------------------------- golden cases


def _copy_scene() -> tuple[torch.Tensor, torch.Tensor]:
    """32x32 random features whose hole [16, 28)^2 holds an exact copy of [2, 14)^2.

    At the matching grid (16x16) the copy sits at an offset of (-7, -7) cells.
    """
    x = torch.randn(1, 8, 32, 32, generator=_gen(3))
    x[..., 16:28, 16:28] = x[..., 2:14, 2:14]
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 16:28, 16:28] = 1
    return x, mask


def test_hole_attends_to_its_exact_copy_and_reproduces_it() -> None:
    x, mask = _copy_scene()
    weights = attention_weights(x, x, mask)  # (1, 256, 256)
    out, offsets = contextual_attention(x, x, mask)
    for y, xx in itertools.product(range(9, 13), range(9, 13)):  # hole cells whose 3x3 is copied
        w_copy = weights[0, y * 16 + xx, (y - 7) * 16 + (xx - 7)].item()
        assert w_copy > 0.9, (y, xx, w_copy)
    assert (offsets[:, :, 9:13, 9:13] == -7).all()
    # pixels 19..24 are pasted only from those cells: out = the copy's raw pixels, 14 px away
    torch.testing.assert_close(out[..., 19:25, 19:25], x[..., 5:11, 5:11], rtol=0, atol=1e-5)


def test_known_region_returns_itself_and_borders_are_divided_by_four() -> None:
    # The layer returns values for every location; the network composes. A known cell whose
    # own patch is valid attends to itself (its score is its own norm, the maximum), so the
    # paper's layer gives back x inside, x / 2 on the map's edge rows/columns (two pasted
    # patches of four) and x / 4 in its corners (one of four).
    x, mask = _copy_scene()
    out, offsets = contextual_attention(x, x, mask)
    assert (offsets[:, :, :5, :5] == 0).all() and (offsets[:, :, :5, -3:] == 0).all()
    torch.testing.assert_close(out[..., 1:9, 1:9], x[..., 1:9, 1:9], rtol=0, atol=1e-5)
    torch.testing.assert_close(out[..., 0, 1:9], x[..., 0, 1:9] / 2, rtol=0, atol=1e-5)
    torch.testing.assert_close(out[..., 1:9, 0], x[..., 1:9, 0] / 2, rtol=0, atol=1e-5)
    torch.testing.assert_close(out[..., 0, 0], x[..., 0, 0] / 4, rtol=0, atol=1e-5)
    torch.testing.assert_close(out[..., 0, 31], x[..., 0, 31] / 4, rtol=0, atol=1e-5)


def test_per_sample_masks_equal_each_sample_alone() -> None:
    g = _gen(4)
    fg, bg = torch.randn(2, 4, 16, 24, generator=g), torch.randn(2, 4, 16, 24, generator=g)
    mask = _two_holes(16, 24, torch.float32)
    out, off = contextual_attention(fg, bg, mask)
    for n in range(2):
        alone, alone_off = contextual_attention(fg[n : n + 1], bg[n : n + 1], mask[n : n + 1])
        torch.testing.assert_close(out[n : n + 1], alone, rtol=1e-5, atol=1e-6)
        assert torch.equal(off[n : n + 1], alone_off)
    # and the masks matter: sample 1 under sample 0's mask is different
    wrong, _ = contextual_attention(fg[1:], bg[1:], mask[:1])
    assert (wrong - out[1:]).abs().max() > 1e-2


def test_mask_at_image_resolution_is_resized_by_nearest() -> None:
    g = _gen(5)
    x = torch.randn(2, 4, 12, 16, generator=g)
    mask = _two_holes(12, 16, torch.float32)
    at_image = F.interpolate(mask, scale_factor=4, mode="nearest")  # (2, 1, 48, 64)
    a, a_off = contextual_attention(x, x, mask)
    b, b_off = contextual_attention(x, x, at_image)
    assert torch.equal(a, b) and torch.equal(a_off, b_off)


def test_invalid_patches_never_get_weight() -> None:
    x, mask = _copy_scene()
    weights = attention_weights(x, x, mask)[0]  # (256 fg, 256 bg)
    hole = torch.zeros(16, 16, dtype=torch.bool)
    hole[8:14, 8:14] = True
    invalid = F.max_pool2d(hole[None, None].float(), 3, 1, 1)[0, 0].flatten() > 0  # [7, 15)^2
    assert int(invalid.sum()) == 64
    assert torch.equal(weights[:, invalid], torch.zeros(256, 64))  # exactly 0, even self-matches
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(256))
    _, offsets = contextual_attention(x, x, mask)
    assert (offsets[0, :, 8:14, 8:14].abs().sum(dim=0) > 0).all()  # no hole cell copies itself


def test_no_valid_patch_gives_zeros_not_nan() -> None:
    x = torch.randn(2, 4, 8, 8, generator=_gen(6))
    mask = torch.zeros(2, 1, 8, 8)
    mask[1] = 1  # sample 1: all hole
    out, off = contextual_attention(x, x, mask)
    assert torch.isfinite(out).all()
    assert torch.equal(out[1], torch.zeros(4, 8, 8)) and torch.equal(off[1], torch.zeros(2, 4, 4))
    assert out[0].abs().sum() > 0
    assert torch.equal(attention_weights(x, x, mask)[1], torch.zeros(16, 16))


# ------------------------------------------------------------------ memory bands, grads


def test_bands_equal_one_pass() -> None:
    g = _gen(7)
    fg, bg = torch.randn(2, 6, 24, 40, generator=g), torch.randn(2, 6, 24, 40, generator=g)
    mask = _two_holes(24, 40, torch.float32)
    m = _prepare(
        fg, bg, mask, dict(ksize=3, stride=1, rate=2, fuse_k=3), softmax_scale=10.0, fuse=True
    )
    assert _rows_per_band(m, fg, None) == 12
    assert _rows_per_band(m, fg, 1) == 1  # one row per band, two halo rows each
    per_row = 2 * 20 * 4 * (2 * 12 * 20 + 6 * (9 + 2 * 16))
    assert _rows_per_band(m, fg, 7 * per_row) == 5  # 7 rows minus the 2 halo rows
    want, want_off = contextual_attention(fg, bg, mask, max_bytes=None)
    for budget in (1, 3 * per_row, 7 * per_row):
        out, off = contextual_attention(fg, bg, mask, max_bytes=budget)
        torch.testing.assert_close(out, want, rtol=1e-5, atol=1e-6)
        assert torch.equal(off, want_off)


@pytest.mark.parametrize(("max_bytes", "scale"), [(None, 10.0), (1, 1.0)])
def test_gradcheck_float64(max_bytes: int | None, scale: float) -> None:
    g = _gen(8)
    fg = (torch.randn(2, 2, 8, 8, generator=g, dtype=torch.float64) * 0.5).requires_grad_()
    bg = (torch.randn(2, 2, 8, 8, generator=g, dtype=torch.float64) * 0.5).requires_grad_()
    mask = _two_holes(8, 8)

    def fn(f: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return contextual_attention(f, b, mask, softmax_scale=scale, max_bytes=max_bytes)[0]

    assert torch.autograd.gradcheck(fn, (fg, bg), fast_mode=True)


def test_module_equals_function() -> None:
    x = torch.randn(1, 4, 16, 16, generator=_gen(9))
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 4:10, 6:12] = 1
    layer = ContextualAttention(softmax_scale=5.0, max_bytes=1)
    assert list(layer.parameters()) == []
    a, a_off = layer(x, x, mask)
    b, b_off = contextual_attention(x, x, mask, softmax_scale=5.0)
    torch.testing.assert_close(a, b)
    assert torch.equal(a_off, b_off)


@pytest.mark.parametrize(
    ("fg_shape", "mask_shape", "hp", "match"),
    [
        ((1, 4, 8, 8), (1, 1, 8, 8), {"rate": 3}, "divisible by rate"),
        ((1, 4, 9, 8), (1, 1, 9, 8), {}, "divisible by rate"),
        ((2, 4, 8, 8), (1, 1, 8, 8), {}, "mask must be"),
        ((1, 4, 8, 8), (1, 2, 8, 8), {}, "mask must be"),
        ((1, 4, 8, 8), (1, 1, 8, 8), {"ksize": 2}, "ksize must be odd"),
        ((1, 4, 8, 8), (1, 1, 8, 8), {"fuse_k": 4}, "fuse_k must be odd"),
        ((1, 4, 8, 8), (1, 1, 8, 8), {"stride": 0}, "stride and rate"),
    ],
)
def test_bad_input_raises(fg_shape, mask_shape, hp, match) -> None:
    fg = torch.zeros(fg_shape)
    with pytest.raises(ValueError, match=match):
        contextual_attention(fg, fg, torch.zeros(mask_shape), **hp)


def test_fg_bg_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="one shape"):
        contextual_attention(
            torch.zeros(1, 4, 8, 8), torch.zeros(1, 4, 8, 16), torch.zeros(1, 1, 8, 8)
        )


# ---------------------------------------------------------------------- colour wheel


def test_flow_to_color_golden_colours() -> None:
    # (dy, dx): zero, right, down, left, up, half-length right
    dy = torch.tensor([[0, 0, 4, 0, -4, 0]])
    dx = torch.tensor([[0, 4, 0, -4, 0, 2]])
    img = flow_to_color(torch.stack([dy, dx], dim=1)[..., None, :].transpose(2, 3))
    assert img.dtype == torch.uint8 and img.shape == (1, 3, 6, 1)
    got = img[0, :, :, 0].T.tolist()
    assert got == [
        [255, 255, 255],  # zero offset: white
        [255, 0, 0],  # right: hue 0, red
        [128, 255, 0],  # down: hue 90, chartreuse (127.5 rounds to even 128)
        [0, 255, 255],  # left: hue 180, cyan
        [128, 0, 255],  # up: hue 270, violet
        [255, 128, 128],  # half the longest length: half saturated red
    ]


def test_flow_to_color_max_norm_and_per_sample_scaling() -> None:
    off = torch.zeros(2, 2, 1, 2)
    off[0, 1, 0, 0], off[1, 1, 0, 0] = 1.0, 8.0  # dx: short in sample 0, long in sample 1
    per_sample = flow_to_color(off)
    assert torch.equal(per_sample[0], per_sample[1])  # each scaled by its own longest
    fixed = flow_to_color(off, max_norm=2.0)
    assert fixed[0, :, 0, 0].tolist() == [255, 128, 128] and fixed[1, :, 0, 0].tolist() == [
        255,
        0,
        0,
    ]
    with pytest.raises(ValueError, match="offsets must be"):
        flow_to_color(torch.zeros(1, 3, 2, 2))


def test_flow_to_color_of_layer_offsets() -> None:
    x, mask = _copy_scene()
    _, offsets = contextual_attention(x, x, mask)
    img = flow_to_color(offsets)
    assert img.shape == (1, 3, 16, 16)
    assert img[0, :, 0, 0].tolist() == [255, 255, 255]  # a known cell attending to itself
    # the copied cells point up-left (dy = dx = -7): hue 225 -> (0.25, 0, 1) at full saturation
    # relative to the longest offset in the map
    assert img[0, 2, 10, 10].item() == 255 and img[0, 1, 10, 10] < img[0, 2, 10, 10]
