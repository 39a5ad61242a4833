"""Patch-swap and style swap (nn/patch_swap.py): exact copies, bit-exact known region,
per-sample masks, chunking, a python-loop reference, the literal conv / argmax / transposed
conv formulation, style swap identities, mask resizing, gradients, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.ndimage import binary_dilation

from inpaintkit.errors import InpaintError
from inpaintkit.nn.patch_swap import bench_patch_swap, hole_at, patch_swap, style_swap

pytestmark = pytest.mark.usefixtures("one_thread")


def _ints(*shape: int, seed: int = 0) -> torch.Tensor:
    """Integer-valued float32 features: sums and means of a few of them are exact."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-20, 21, shape, generator=g).float()


def _mask(B: int, H: int, W: int, boxes: list[tuple[int, int, int, int]]) -> torch.Tensor:
    """(B, 1, H, W) mask with box b = (y0, y1, x0, x1) as sample b's hole."""
    m = torch.zeros(B, 1, H, W)
    for b, (y0, y1, x0, x1) in enumerate(boxes):
        m[b, :, y0:y1, x0:x1] = 1
    return m


def _dilate(hole: np.ndarray, k: int) -> np.ndarray:
    """Dilation of a (H, W) bool hole by a k x k square (cells within Chebyshev k // 2)."""
    return binary_dilation(hole, structure=np.ones((k, k), bool)) if k > 1 else hole


def _naive(f: np.ndarray, hole: np.ndarray, p: int = 3, stride: int = 1):
    """Patch-swap by python loops in float64 (the module docstring's definition)."""
    H, W = f.shape[1:]
    r = p // 2
    fp = np.pad(f, ((0, 0), (r, r), (r, r)))

    def win(y: int, x: int) -> np.ndarray:  # window centred at (y, x), zero-padded
        return fp[:, y : y + p, x : x + p]

    touch = _dilate(hole, p)
    sources = [
        (y, x) for y in range(r, H - r, stride) for x in range(r, W - r, stride) if not touch[y, x]
    ]
    acc, cnt = np.zeros_like(fp), np.zeros(fp.shape[1:])
    offsets = np.zeros((2, H, W), np.int64)
    for y, x in zip(*np.nonzero(touch), strict=True):
        q = win(y, x)
        scores = [(q * win(*s)).sum() / max(np.linalg.norm(win(*s)), 1e-4) for s in sources]
        sy, sx = sources[int(np.argmax(scores))]  # first maximum, as torch.argmax
        acc[:, y : y + p, x : x + p] += win(sy, sx)
        cnt[y : y + p, x : x + p] += 1
        offsets[:, y, x] = (sy - y, sx - x)
    swapped = acc[:, r : r + H, r : r + W] / np.maximum(cnt[r : r + H, r : r + W], 1)
    return np.where(touch[None], swapped, f), offsets


class TestPatchSwap:
    def test_hole_with_an_exact_copy_swaps_to_the_copy(self) -> None:
        x = _ints(1, 8, 20, 20)
        x[..., 2:10, 2:10] = x[..., 11:19, 11:19]  # hole [4, 8)^2 and its 2-cell ring copied
        noise = torch.randint(-2, 3, (1, 8, 4, 4), generator=torch.Generator().manual_seed(1))
        x[..., 4:8, 4:8] += noise / 8  # the hole holds a near copy (like G1's guess)
        out, offsets = patch_swap(x, _mask(1, 20, 20, [(4, 8, 4, 8)]))
        assert torch.equal(out[..., 4:8, 4:8], x[..., 13:17, 13:17])  # the exact copy
        assert not torch.equal(x[..., 4:8, 4:8], x[..., 13:17, 13:17])
        assert torch.equal(out[..., 3:9, 3:9], x[..., 12:18, 12:18])  # the ring: its copy too
        window = torch.zeros(20, 20, dtype=torch.bool)
        window[3:9, 3:9] = True  # locations whose window touches the hole
        assert (offsets[0, :, window] == 9).all() and (offsets[0, :, ~window] == 0).all()
        assert torch.equal(out[..., ~window], x[..., ~window])

    @pytest.mark.parametrize(("region", "k"), [("window", 3), ("touched", 5), ("hole", 1)])
    def test_known_region_is_bit_exact(self, region: str, k: int) -> None:
        g = torch.Generator().manual_seed(2)
        x = torch.randn(2, 4, 16, 18, generator=g)
        hole = np.zeros((2, 16, 18), bool)
        hole[0, 5:9, 6:11] = True
        hole[0, 10, 3] = True  # a second, one-cell hole
        hole[1, 0:4, 12:18] = True  # touching the border
        out, _ = patch_swap(x, torch.from_numpy(hole[:, None]).float(), region=region)
        for b in range(2):
            cover = torch.from_numpy(_dilate(hole[b], k))
            assert torch.equal(out[b][:, ~cover], x[b][:, ~cover])  # bit for bit
            h = torch.from_numpy(hole[b])
            assert (out[b][:, h] != x[b][:, h]).any(dim=0).all()  # every hole cell changed
        ref, _ = patch_swap(x, torch.from_numpy(hole[:, None]).float())  # region="window"
        in_hole = torch.from_numpy(hole)[:, None].expand_as(out)
        assert torch.equal(out[in_hole], ref[in_hole])  # the hole's values: the same in every mode

    def test_per_sample_masks_equal_each_sample_alone(self) -> None:
        x = torch.randn(3, 4, 14, 14, generator=torch.Generator().manual_seed(3))
        mask = _mask(3, 14, 14, [(2, 6, 3, 8), (8, 14, 0, 4), (0, 0, 0, 0)])  # third: no hole
        out, offsets = patch_swap(x, mask)
        for b in range(3):
            alone, off = patch_swap(x[b : b + 1], mask[b : b + 1])
            assert torch.equal(out[b : b + 1], alone) and torch.equal(offsets[b : b + 1], off)
        assert torch.equal(out[2], x[2]) and not offsets[2].any()
        assert not torch.equal(out[0], x[0]) and not torch.equal(out[1], x[1])

    @pytest.mark.parametrize("max_bytes", [1, 6000, 40_000])
    def test_chunked_equals_unchunked(self, max_bytes: int) -> None:
        x = torch.randn(2, 6, 18, 16, generator=torch.Generator().manual_seed(4))
        mask = _mask(2, 18, 16, [(3, 12, 4, 9), (10, 17, 6, 15)])
        whole, off_whole = patch_swap(x, mask, max_bytes=None)
        out, off = patch_swap(x, mask, max_bytes=max_bytes)
        assert torch.equal(out, whole) and torch.equal(off, off_whole)

    @pytest.mark.parametrize(("patch", "stride"), [(3, 1), (3, 2), (5, 1)])
    def test_matches_a_python_loop(self, patch: int, stride: int) -> None:
        f = torch.randn(1, 3, 11, 12, generator=torch.Generator().manual_seed(5))
        hole = np.zeros((11, 12), bool)
        hole[3:6, 4:8] = True
        hole[9, 0] = True
        out, offsets = patch_swap(f, torch.from_numpy(hole)[None, None], patch=patch, stride=stride)
        ref, ref_off = _naive(f[0].double().numpy(), hole, patch, stride)
        np.testing.assert_array_equal(offsets[0].numpy(), ref_off)
        np.testing.assert_allclose(out[0].double().numpy(), ref, rtol=0, atol=1e-6)

    def test_equals_literal_conv_argmax_transposed_conv(self) -> None:
        f = torch.randn(1, 4, 10, 10, generator=torch.Generator().manual_seed(6))
        hole = torch.zeros(1, 1, 10, 10, dtype=torch.bool)
        hole[..., 2:5, 3:7] = True
        touch = F.max_pool2d(hole.float(), 3, 1, 1) > 0  # windows touching the hole
        windows = F.unfold(f, 3).transpose(1, 2)[0]  # (64, C 9): centres (1..8, 1..8)
        known = ~touch[0, 0, 1:9, 1:9].flatten()
        raw = windows[known].view(-1, 4, 3, 3)  # (K, C, 3, 3) sources as filters
        normed = raw / raw.flatten(1).norm(dim=1).clamp_min(1e-4).view(-1, 1, 1, 1)
        scores = F.conv2d(f, normed, padding=1)  # (1, K, 10, 10): one convolution
        onehot = F.one_hot(scores.argmax(dim=1), raw.shape[0]).permute(0, 3, 1, 2).float()
        onehot = onehot * touch  # only the patches overlapping the hole are replaced
        pasted = F.conv_transpose2d(onehot, raw, padding=1)  # one transposed convolution
        count = F.conv_transpose2d(onehot, torch.ones(raw.shape[0], 1, 3, 3), padding=1)
        expected = torch.where(touch, pasted / count.clamp_min(1), f)
        out, _ = patch_swap(f, hole.float())
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-5)

    def test_mask_at_image_resolution(self) -> None:
        x = torch.randn(1, 4, 12, 12, generator=torch.Generator().manual_seed(7))
        cells = _mask(1, 12, 12, [(4, 7, 3, 9)])
        image_mask = torch.zeros(1, 1, 48, 48)
        image_mask[..., 16:28, 12:36] = 1  # the 4x nearest upscale of ``cells``
        image_mask[..., 27, 12] = 0  # ... with a pixel taken away (still covered: stays hole)
        partial = image_mask.clone()
        partial[..., 33, 5] = 1  # one pixel in cell (8, 1) makes the whole cell hole
        assert torch.equal(hole_at(image_mask, (12, 12)), cells.bool())
        expected = cells.bool().clone()
        expected[..., 8, 1] = True
        assert torch.equal(hole_at(partial, (12, 12)), expected)
        assert torch.equal(patch_swap(x, image_mask)[0], patch_swap(x, cells)[0])
        assert torch.equal(patch_swap(x, partial)[0], patch_swap(x, expected.float())[0])

    def test_gradcheck_float64(self) -> None:
        x = torch.randn(1, 2, 8, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
        mask = _mask(1, 8, 9, [(3, 5, 3, 6)]).double()
        x.requires_grad_(True)
        assert torch.autograd.gradcheck(lambda t: patch_swap(t, mask)[0], (x,))
        out, _ = patch_swap(x, mask)
        (g,) = torch.autograd.grad(out[0, :, 4, 4].sum(), x)  # a hole cell's value ...
        assert g[0, :, 4, 4].abs().sum() == 0 and g.abs().sum() > 0  # ... comes from elsewhere

    @pytest.mark.parametrize(
        ("shape", "mask_shape", "kw", "match"),
        [
            ((4, 8, 8), (1, 1, 8, 8), {}, "B, C, H, W"),
            ((2, 4, 8, 8), (1, 1, 8, 8), {}, "mask must be"),
            ((1, 4, 8, 8), (1, 1, 8, 8), {"patch": 2}, "odd"),
            ((1, 4, 8, 8), (1, 1, 8, 8), {"stride": 0}, "stride"),
            ((1, 4, 2, 8), (1, 1, 2, 8), {}, "smaller than one"),
            ((1, 4, 8, 8), (1, 1, 8, 8), {"region": "ring"}, "region"),
        ],
    )
    def test_bad_input_raises(self, shape, mask_shape, kw, match) -> None:
        with pytest.raises(ValueError, match=match):
            patch_swap(torch.zeros(shape), torch.ones(mask_shape), **kw)

    def test_no_known_patch_raises(self) -> None:
        x = torch.randn(2, 4, 8, 8)
        mask = _mask(2, 8, 8, [(0, 1, 0, 1), (1, 7, 1, 7)])  # sample 1: every window touches
        with pytest.raises(InpaintError, match="no fully known 3x3 patch"):
            patch_swap(x, mask)

    def test_bench_returns_seconds(self) -> None:
        t = bench_patch_swap(size=16, channels=8)
        assert isinstance(t, float) and 0 < t < 30


class TestStyleSwap:
    def test_a_map_with_itself_as_style_is_returned(self) -> None:
        x = _ints(2, 6, 9, 11, seed=9)
        assert torch.equal(style_swap(x, x), x)  # every patch matches itself; means are exact

    def test_content_cut_from_the_style_is_returned(self) -> None:
        style = _ints(1, 5, 16, 16, seed=10)
        content = style[..., 3:12, 5:15].repeat(2, 1, 1, 1)
        assert torch.equal(style_swap(content, style), content)
        assert torch.equal(style_swap(content, style, max_bytes=1), content)

    def test_output_is_built_from_style_patches(self) -> None:
        # a style whose only patches are constant per channel: every output value is one of them
        style = torch.zeros(1, 2, 8, 8)
        style[:, 0, :, :4], style[:, 1, :, 4:] = 3.0, 5.0  # windows: (3, 0), mixed, or (0, 5)
        content = torch.rand(1, 2, 6, 6, generator=torch.Generator().manual_seed(11))
        content[:, 1] = 0  # content is all channel 0: its best match is the pure (3, 0) window
        out = style_swap(content, style)
        assert torch.equal(out[:, 0], torch.full((1, 6, 6), 3.0)) and not out[:, 1].any()

    def test_bad_input_raises(self) -> None:
        with pytest.raises(ValueError, match="do not fit"):
            style_swap(torch.zeros(1, 4, 8, 8), torch.zeros(1, 3, 8, 8))
        with pytest.raises(ValueError, match="do not fit"):
            style_swap(torch.zeros(2, 4, 8, 8), torch.zeros(3, 4, 8, 8))
        with pytest.raises(ValueError, match="smaller than one"):
            style_swap(torch.zeros(1, 4, 8, 8), torch.zeros(1, 4, 2, 8))


def test_bench_patch_swap_is_registered() -> None:
    from inpaintkit.eval.bench import BENCHMARKS, _load_benchmarks

    _load_benchmarks()
    rows = BENCHMARKS["patch-swap"](sizes=(16,), channels=4, threads=1)
    assert rows[0]["size"] == "16x16x4" and rows[0]["seconds"] > 0
