"""DeepFill v1 losses (losses/deepfill.py): golden values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from inpaintkit.losses.deepfill import (
    ae_loss,
    discounted_l1,
    generator_loss,
    spatial_discount,
)


def _mask(rows: list[list[int]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)[None, None]


class TestSpatialDiscount:
    def test_distance_to_nearest_known_pixel(self) -> None:
        m = torch.zeros(1, 1, 5, 5)
        m[..., 1:4, 1:4] = 1  # 3x3 hole: its ring is 1 px from known pixels, its centre 2
        w = spatial_discount(m, gamma=0.5)
        want = torch.ones(5, 5)
        want[1:4, 1:4] = 0.5
        want[2, 2] = 0.25
        assert torch.equal(w[0, 0], want)

    def test_distance_is_euclidean(self) -> None:
        m = _mask([[0, 1, 1], [1, 1, 1], [1, 1, 1]])  # only the top-left pixel is known
        w = spatial_discount(m, gamma=0.9, mode="distance")[0, 0].double()
        l = torch.tensor(
            [[0, 1, 2], [1, math.sqrt(2), math.sqrt(5)], [2, math.sqrt(5), math.sqrt(8)]],
            dtype=torch.float64,
        )
        torch.testing.assert_close(w, 0.9**l, rtol=1e-6, atol=0)

    def test_paper_default_gamma(self) -> None:
        m = _mask([[0, 1, 1, 1, 0]])
        w = spatial_discount(m)[0, 0, 0].tolist()
        assert w == pytest.approx([1.0, 0.99, 0.99**2, 0.99, 1.0])

    def test_bbox_mode_is_the_authors_formula(self) -> None:
        m = torch.zeros(1, 1, 5, 6)
        m[..., 1:4, 1:5] = 1  # bbox 3 x 4 at (1, 1)
        w = spatial_discount(m, gamma=0.5, mode="bbox")[0, 0]
        # l = min(min(i, 3 - i), min(j, 4 - j)): i -> 0, 1, 1; j -> 0, 1, 2, 1
        want = torch.ones(5, 6)
        want[2:4, 2:5] = 0.5
        assert torch.equal(w, want)
        # the paper's distance differs on the box's top and left edges (1 px from known)
        d = spatial_discount(m, gamma=0.5, mode="distance")[0, 0]
        assert d[1, 2].item() == 0.5 and w[1, 2].item() == 1.0

    def test_bbox_spans_all_holes_of_a_sample(self) -> None:
        m = _mask([[1, 0, 0, 1]])  # two 1-px holes: bbox 1 x 4
        w = spatial_discount(m, gamma=0.5, mode="bbox")[0, 0, 0].tolist()
        assert w == [1.0, 1.0, 1.0, 1.0]  # h = 1: min(i, h - i) = 0 on its only row
        m2 = torch.zeros(1, 1, 4, 4)
        m2[..., 0, 0] = m2[..., 3, 3] = 1  # bbox = the whole 4 x 4 image
        w2 = spatial_discount(m2, gamma=0.5, mode="bbox")[0, 0]
        assert w2[2, 2].item() == 0.25 and w2[1, 1].item() == 0.5 and w2[3, 3].item() == 0.5

    def test_per_sample(self) -> None:
        m = torch.zeros(2, 1, 1, 5)
        m[0, ..., 1:4] = 1
        m[1, ..., 0:2] = 1
        w = spatial_discount(m, gamma=0.5)
        assert w[0].flatten().tolist() == [1.0, 0.5, 0.25, 0.5, 1.0]
        assert w[1].flatten().tolist() == [0.25, 0.5, 1.0, 1.0, 1.0]
        assert w.dtype == torch.float32 and not w.requires_grad

    def test_no_hole_gives_ones(self) -> None:
        for mode in ("distance", "bbox"):
            assert torch.equal(
                spatial_discount(torch.zeros(1, 1, 3, 3), mode=mode), torch.ones(1, 1, 3, 3)
            )

    def test_bad_input_raises(self) -> None:
        with pytest.raises(ValueError, match="at least one known pixel"):
            spatial_discount(torch.ones(1, 1, 3, 3))
        with pytest.raises(ValueError, match="mode"):
            spatial_discount(torch.zeros(1, 1, 3, 3), mode="box")
        with pytest.raises(ValueError, match="gamma"):
            spatial_discount(torch.zeros(1, 1, 3, 3), gamma=1.5)
        with pytest.raises(ValueError, match="mask must be"):
            spatial_discount(torch.zeros(1, 3, 3))


def _row(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).view(1, 1, 1, -1)


class TestReconstruction:
    # one row of 4 pixels, 2 channels; |pred - target| = [1, 2, 3, 4] and [4, 3, 2, 1]
    pred = torch.zeros(1, 2, 1, 4)
    target = torch.tensor([[1.0, 2, 3, 4], [4, 3, 2, 1]]).view(1, 2, 1, 4)
    mask = _row(0, 1, 1, 0)

    def test_discounted_l1_golden(self) -> None:
        weight = _row(1, 0.5, 0.25, 1)
        # hole pixels 1, 2: (2 * .5 + 3 * .25) + (3 * .5 + 2 * .25) = 3.75 over C * area = 4
        got = discounted_l1(self.pred, self.target, self.mask, weight)
        assert got.item() == pytest.approx(0.9375)
        assert discounted_l1(self.pred, self.target, self.mask, torch.ones_like(weight)).item() == (
            pytest.approx((2 + 3 + 3 + 2) / 4)
        )

    def test_ae_loss_golden(self) -> None:
        # known pixels 0, 3: (1 + 4) + (4 + 1) = 10 over C * area = 4
        assert ae_loss(self.pred, self.target, self.mask).item() == pytest.approx(2.5)

    def test_ae_loss_normalises_over_the_batch(self) -> None:
        pred = torch.zeros(2, 1, 1, 4)
        target = torch.ones(2, 1, 1, 4) * torch.tensor([1.0, 3.0]).view(2, 1, 1, 1)
        mask = torch.cat([_row(0, 0, 0, 1), _row(0, 1, 1, 1)])  # 3 and 1 known pixels
        # (3 * 1 + 1 * 3) / 4 known pixels = 1.5 (a per-sample mean would give 2)
        assert ae_loss(pred, target, mask).item() == pytest.approx(1.5)

    def test_empty_regions_give_zero(self) -> None:
        z = torch.zeros(1, 1, 2, 2)
        assert discounted_l1(z, z + 1, z, z + 1).item() == 0.0
        assert ae_loss(z, z + 1, torch.ones(1, 1, 2, 2)).item() == 0.0

    def test_gradcheck(self) -> None:
        g = torch.Generator().manual_seed(0)
        pred = torch.randn(2, 3, 4, 4, generator=g, dtype=torch.float64, requires_grad=True)
        target = torch.randn(2, 3, 4, 4, generator=g, dtype=torch.float64)
        mask = torch.zeros(2, 1, 4, 4, dtype=torch.float64)
        mask[..., 1:3, 1:4] = 1
        weight = spatial_discount(mask, gamma=0.9)
        assert torch.autograd.gradcheck(lambda p: discounted_l1(p, target, mask, weight), (pred,))
        assert torch.autograd.gradcheck(lambda p: ae_loss(p, target, mask), (pred,))

    def test_bad_shapes_raise(self) -> None:
        with pytest.raises(ValueError, match="differ"):
            ae_loss(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 5), torch.zeros(1, 1, 4, 4))
        with pytest.raises(ValueError, match="does not fit"):
            ae_loss(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.zeros(1, 1, 4, 5))


def test_generator_loss_golden() -> None:
    target = torch.zeros(1, 1, 1, 4)
    coarse, fine = torch.ones(1, 1, 1, 4), torch.full((1, 1, 1, 4), 0.5)
    mask, discount = _row(0, 1, 1, 0), _row(1, 0.5, 0.5, 1)
    out = generator_loss(
        coarse,
        fine,
        target,
        mask,
        discount=discount,
        fake_local_scores=torch.tensor([2.0]),
        fake_global_scores=torch.tensor([4.0]),
    )
    # l1: coarse (.5 + .5) / 2 = .5, fine (.25 + .25) / 2 = .25 -> 1.2 * .5 + .25 = .85
    # ae: coarse 1, fine .5 -> 1.2 * 1 + .5 = 1.7; adversarial: -2 - 4 = -6
    assert out.l1.item() == pytest.approx(0.85)
    assert out.ae.item() == pytest.approx(1.7)
    assert out.adversarial.item() == pytest.approx(-6.0)
    assert out.total.item() == pytest.approx(0.001 * -6 + 1.2 * 0.85 + 1.2 * 1.7)  # 3.054
    plain = generator_loss(
        coarse,
        fine,
        target,
        mask,
        discount=discount,
        fake_local_scores=torch.tensor([2.0]),
        fake_global_scores=torch.tensor([4.0]),
        adv_weight=1.0,
        l1_weight=1.0,
        ae_weight=0.0,
        coarse_weight=0.0,
    )
    assert plain.total.item() == pytest.approx(-6 + 0.25)


def test_generator_loss_trains_both_stages() -> None:
    coarse = torch.zeros(1, 3, 4, 4, requires_grad=True)
    fine = torch.zeros(1, 3, 4, 4, requires_grad=True)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., 1:3, 1:3] = 1
    scores = torch.zeros(1, requires_grad=True)
    out = generator_loss(
        coarse,
        fine,
        torch.ones(1, 3, 4, 4),
        mask,
        discount=spatial_discount(mask),
        fake_local_scores=scores,
        fake_global_scores=scores,
    )
    out.total.backward()
    assert coarse.grad.abs().sum() > 0 and fine.grad.abs().sum() > 0
    assert scores.grad.item() == pytest.approx(-0.002)  # d/ds of 0.001 * (-s - s)
    # coarse gradients are 1.2 x the fine ones everywhere (same errors, weight 1.2)
    torch.testing.assert_close(coarse.grad, 1.2 * fine.grad)
