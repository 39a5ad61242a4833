"""Tests for inpaintkit.metrics: golden values by hand, masks, SSIM against scikit-image."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from inpaintkit.errors import InpaintError
from inpaintkit.metrics import HIGHER_IS_BETTER, METRICS, l1, l2, mse, psnr, ssim, tv


def _rand(shape: tuple[int, ...], seed: int, lo: float = -1.0, hi: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=torch.float64) * (hi - lo) + lo


def _full(value: float, n: int = 2) -> torch.Tensor:
    return torch.full((n,), value, dtype=torch.float64)


def _box_mask(b: int, h: int, w: int, top: int, left: int, size: int) -> torch.Tensor:
    m = torch.zeros(b, 1, h, w, dtype=torch.float64)
    m[..., top : top + size, left : left + size] = 1.0
    return m


class TestGoldenOffset:
    """pred = target + 0.1 on [-1, 1]: 12.75 grey levels, 0.05 on [0, 1]."""

    target = _rand((2, 3, 16, 16), seed=0, lo=-0.8, hi=0.8)
    pred = target + 0.1

    def test_mse(self) -> None:
        torch.testing.assert_close(mse(self.pred, self.target), _full(162.5625))

    def test_psnr(self) -> None:
        expected = 10 * math.log10(400.0)  # 255^2 / 12.75^2 = 400
        torch.testing.assert_close(psnr(self.pred, self.target), _full(expected))

    def test_l1_l2_percent(self) -> None:
        torch.testing.assert_close(l1(self.pred, self.target), _full(5.0))
        torch.testing.assert_close(l2(self.pred, self.target), _full(0.25))

    def test_dtype_and_shape(self) -> None:
        for name, fn in METRICS.items():
            out = fn(self.pred.float(), self.target.float())
            assert out.shape == (2,), name
            assert out.dtype == torch.float64, name


class TestIdentical:
    x = _rand((2, 3, 16, 16), seed=1)

    def test_psnr_inf(self) -> None:
        assert torch.isinf(psnr(self.x, self.x)).all()
        assert (psnr(self.x, self.x) > 0).all()

    def test_ssim_one_mse_zero(self) -> None:
        torch.testing.assert_close(ssim(self.x, self.x), _full(1.0), rtol=0, atol=1e-12)
        assert (mse(self.x, self.x) == 0).all()
        assert (l1(self.x, self.x) == 0).all()


class TestMasked:
    target = _rand((2, 3, 24, 24), seed=2, lo=-0.8, hi=0.8)
    mask = _box_mask(2, 24, 24, top=6, left=8, size=10)
    pred = target + 0.1 * mask  # wrong by 0.1 exactly in the hole

    def test_hole_only_golden(self) -> None:
        torch.testing.assert_close(mse(self.pred, self.target, self.mask), _full(162.5625))
        torch.testing.assert_close(l1(self.pred, self.target, self.mask), _full(5.0))
        torch.testing.assert_close(l2(self.pred, self.target, self.mask), _full(0.25))
        # Whole image: only 100 of 576 pixels are off.
        torch.testing.assert_close(l1(self.pred, self.target), _full(5.0 * 100 / 576))

    def test_changes_outside_hole_ignored(self) -> None:
        noise = _rand(self.pred.shape, seed=3, lo=-0.5, hi=0.5)
        changed = (self.pred + noise * (1 - self.mask)).clamp(-1, 1)
        for name, fn in METRICS.items():
            if name == "tv":  # TV of pred counts differences touching the hole, incl. its ring
                continue
            before = fn(self.pred, self.target, self.mask)
            after = fn(changed, self.target, self.mask)
            torch.testing.assert_close(after, before, rtol=0, atol=1e-12, msg=name)
            assert not torch.allclose(fn(changed, self.target), fn(self.pred, self.target)), name

    def test_changes_inside_hole_count(self) -> None:
        worse = self.pred + 0.1 * self.mask
        assert (psnr(worse, self.target, self.mask) < psnr(self.pred, self.target, self.mask)).all()
        assert (ssim(worse, self.target, self.mask) < 1).all()

    def test_empty_mask_gives_nan_for_that_image(self) -> None:
        mask = self.mask.clone()
        mask[1] = 0
        for name, fn in METRICS.items():
            out = fn(self.pred, self.target, mask)
            assert torch.isfinite(out[0]), name
            assert torch.isnan(out[1]), name

    def test_batch_one_mask_broadcasts(self) -> None:
        torch.testing.assert_close(
            mse(self.pred, self.target, self.mask[:1]), mse(self.pred, self.target, self.mask)
        )


class TestSSIMAgainstSkimage:
    @staticmethod
    def _skimage(a: torch.Tensor, b: torch.Tensor, full: bool = False):
        return structural_similarity(
            a.permute(1, 2, 0).numpy(),
            b.permute(1, 2, 0).numpy(),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=2,
            channel_axis=-1,
            full=full,
        )

    def test_whole_image_random(self) -> None:
        target = _rand((2, 3, 23, 31), seed=4)
        pred = (target + _rand(target.shape, seed=5, lo=-0.6, hi=0.6)).clamp(-1, 1)
        ours = ssim(pred, target)
        ref = torch.tensor([self._skimage(pred[i], target[i]) for i in range(2)])
        torch.testing.assert_close(ours, ref, rtol=0, atol=1e-6)
        assert ours.min() > 0.0 and ours.max() < 0.9  # really different images

    def test_masked_is_mean_of_full_map_over_hole(self) -> None:
        target = _rand((1, 3, 20, 20), seed=6)
        pred = _rand((1, 3, 20, 20), seed=7)
        mask = _box_mask(1, 20, 20, top=0, left=3, size=9)  # touches the border
        composite = mask * pred + (1 - mask) * target
        _, smap = self._skimage(composite[0], target[0], full=True)  # (H, W, 3)
        hole = mask[0, 0].numpy().astype(bool)
        expected = smap[hole].mean()
        assert ssim(pred, target, mask).item() == pytest.approx(expected, abs=1e-6)

    def test_too_small_raises(self) -> None:
        x = torch.zeros(1, 3, 10, 32)
        with pytest.raises(InpaintError, match="11x11"):
            ssim(x, x)


class TestTV:
    def test_constant_is_zero(self) -> None:
        assert tv(torch.full((2, 3, 8, 8), 0.3)).tolist() == [0.0, 0.0]

    def test_checkerboard(self) -> None:
        ij = torch.arange(8)
        board = ((ij[:, None] + ij[None, :]) % 2).to(torch.float64)  # 0/1
        full = (board * 2 - 1).expand(1, 3, 8, 8)  # -1/1: every difference is 1 on [0, 1]
        assert tv(full).item() == pytest.approx(200.0, abs=1e-12)
        half = (board - 0.5).expand(1, 3, 8, 8)  # 0.25/0.75 on [0, 1]
        assert tv(half).item() == pytest.approx(100.0, abs=1e-12)

    def test_hand_computed_and_masked(self) -> None:
        # On [0, 1]: rows [0, .5, .5], [.25, .25, 1]; same in each channel.
        x01 = torch.tensor([[0.0, 0.5, 0.5], [0.25, 0.25, 1.0]], dtype=torch.float64)
        img = (x01 * 2 - 1).expand(1, 3, 2, 3)
        # dx: .5, 0, 0, .75 -> mean .3125; dy: .25, .25, .5 -> mean 1/3.
        assert tv(img).item() == pytest.approx(100 * (0.3125 + 1 / 3), abs=1e-12)
        mask = torch.zeros(1, 1, 2, 3)
        mask[0, 0, 0, 0] = 1  # differences touching pixel (0, 0): dx .5, dy .25
        assert tv(img, mask).item() == pytest.approx(75.0, abs=1e-12)

    def test_metric_wrapper_is_tv_of_pred(self) -> None:
        pred, target = _rand((2, 3, 8, 8), seed=8), _rand((2, 3, 8, 8), seed=9)
        torch.testing.assert_close(METRICS["tv"](pred, target), tv(pred))


class TestBadInput:
    def test_shape_mismatch(self) -> None:
        a, b = torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 15)
        for fn in METRICS.values():
            with pytest.raises(InpaintError, match="differ in shape"):
                fn(a, b)

    def test_not_rgb_batch(self) -> None:
        with pytest.raises(InpaintError, match=r"\(B, 3, H, W\)"):
            psnr(torch.zeros(3, 16, 16), torch.zeros(3, 16, 16))

    def test_bad_mask(self) -> None:
        x = torch.zeros(2, 3, 16, 16)
        with pytest.raises(InpaintError, match="mask shape"):
            mse(x, x, torch.zeros(2, 1, 16, 8))
        with pytest.raises(InpaintError, match="mask shape"):
            mse(x, x, torch.zeros(3, 1, 16, 16))

    def test_tv_too_small(self) -> None:
        with pytest.raises(InpaintError, match="2x2"):
            tv(torch.zeros(1, 3, 1, 8))


def test_registry_tables_agree() -> None:
    assert set(METRICS) == set(HIGHER_IS_BETTER) == {"psnr", "ssim", "mse", "l1", "l2", "tv"}
    assert [k for k, v in HIGHER_IS_BETTER.items() if v] == ["psnr", "ssim"]


def test_psnr_matches_numpy_on_uint8_scale() -> None:
    rng = np.random.default_rng(10)
    a8 = rng.integers(0, 256, (12, 12, 3)).astype(np.float64)
    b8 = rng.integers(0, 256, (12, 12, 3)).astype(np.float64)
    expected = 10 * np.log10(255.0**2 / np.mean((a8 - b8) ** 2))

    def to_t(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(x / 127.5 - 1).permute(2, 0, 1)[None]

    assert psnr(to_t(a8), to_t(b8)).item() == pytest.approx(expected, abs=1e-9)
