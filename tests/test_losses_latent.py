"""Tests of the latent-search losses: golden values built by hand, invariants, gradcheck."""

from __future__ import annotations

import math

import pytest
import torch

from inpaintkit.losses.latent import (
    context_loss,
    gradient_loss,
    image_gradients,
    importance_weights,
    prior_loss_gan,
    prior_loss_wgan,
)


def _mask5() -> torch.Tensor:
    """5x5 mask with holes at (0, 0), (0, 1) and (3, 3)."""
    m = torch.zeros(1, 1, 5, 5)
    m[0, 0, 0, 0] = m[0, 0, 0, 1] = m[0, 0, 3, 3] = 1
    return m


class TestImportanceWeights:
    def test_golden_zero_padding(self) -> None:
        # Hole pixels counted by hand in each 3x3 window; outside the image counts as known.
        counts = [
            [0, 0, 1, 0, 0],
            [2, 2, 1, 0, 0],
            [0, 0, 1, 1, 1],
            [0, 0, 1, 0, 1],
            [0, 0, 1, 1, 1],
        ]
        w = importance_weights(_mask5(), window=3)
        assert torch.allclose(w[0, 0], torch.tensor(counts, dtype=torch.float32) / 9, atol=1e-7)

    def test_golden_symmetric_padding(self) -> None:
        # Row -1 mirrors row 0 and column -1 mirrors column 0 (edge repeated): (1, 0) sees
        # (0, 0) twice and (0, 1) once; (0, 2) sees (0, 1) twice.
        counts = [
            [0, 0, 2, 0, 0],
            [3, 2, 1, 0, 0],
            [0, 0, 1, 1, 1],
            [0, 0, 1, 0, 1],
            [0, 0, 1, 1, 1],
        ]
        w = importance_weights(_mask5(), window=3, padding="symmetric")
        assert torch.allclose(w[0, 0], torch.tensor(counts, dtype=torch.float32) / 9, atol=1e-7)

    def test_zero_in_hole_and_far_from_it(self) -> None:
        m = torch.zeros(2, 1, 16, 16)
        m[:, :, 7:9, 7:9] = 1
        w = importance_weights(m, window=7)
        assert w.shape == (2, 1, 16, 16)
        assert (w[m > 0] == 0).all()
        rows, cols = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")
        dist = torch.maximum((rows - 7.5).abs(), (cols - 7.5).abs()) - 0.5  # Chebyshev to hole
        near = (dist <= 3) & (m[0, 0] == 0)
        assert (w[0, 0][dist > 3] == 0).all()
        assert (w[0, 0][near] > 0).all()
        assert w.max().item() == pytest.approx(4 / 49)  # all 4 hole pixels in one 7x7 window

    def test_no_hole_gives_zero(self) -> None:
        assert (importance_weights(torch.zeros(1, 1, 8, 8)) == 0).all()

    @pytest.mark.parametrize("bad", [{"window": 4}, {"window": 0}, {"padding": "reflect"}])
    def test_bad_options(self, bad: dict) -> None:
        with pytest.raises(ValueError):
            importance_weights(_mask5(), **bad)

    def test_bad_mask_shape(self) -> None:
        with pytest.raises(ValueError):
            importance_weights(torch.zeros(1, 3, 5, 5))


class TestImageGradients:
    def test_central_inside_one_sided_at_border(self) -> None:
        x = torch.tensor([0.0, 1, 4, 9, 16]).view(1, 1, 1, 5)
        gx, gy = image_gradients(x)
        assert gx.flatten().tolist() == [1.0, 2.0, 4.0, 6.0, 7.0]
        assert (gy == 0).all()  # one row: no vertical neighbour at all

    def test_one_sided_at_hole_boundary(self) -> None:
        x = torch.tensor([0.0, 1, 99, 9, 16]).view(1, 1, 1, 5)  # 99: garbage in the hole
        known = torch.tensor([1.0, 1, 0, 1, 1]).view(1, 1, 1, 5)
        gx, _ = image_gradients(x, known)
        # 0: forward; 1: backward (right is a hole); 2: hole -> 0; 3: forward; 4: backward.
        assert gx.flatten().tolist() == [1.0, 1.0, 0.0, 7.0, 7.0]

    def test_no_known_neighbour_gives_zero(self) -> None:
        x = torch.tensor([5.0, 1, 7, 9, 12]).view(1, 1, 1, 5)
        known = torch.tensor([0.0, 1, 0, 1, 1]).view(1, 1, 1, 5)
        # pixel 1 is known but both neighbours are holes -> 0; pixel 3 forward, 4 backward.
        assert image_gradients(x, known)[0].flatten().tolist() == [0.0, 0.0, 0.0, 3.0, 3.0]

    def test_vertical_is_horizontal_transposed(self) -> None:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(2, 3, 6, 7, generator=g)
        known = (torch.rand(2, 1, 6, 7, generator=g) > 0.3).float()
        gx, gy = image_gradients(x, known)
        gx_t, gy_t = image_gradients(x.transpose(2, 3), known.transpose(2, 3))
        assert torch.equal(gy, gx_t.transpose(2, 3)) and torch.equal(gx, gy_t.transpose(2, 3))

    def test_linear_ramp_is_exact_everywhere(self) -> None:
        rows, cols = torch.meshgrid(torch.arange(8.0), torch.arange(9.0), indexing="ij")
        ramp = (0.25 * cols - 0.5 * rows + 0.125).expand(1, 3, 8, 9)
        known = torch.ones(1, 1, 8, 9)
        known[..., 2:5, 3:7] = 0  # a hole: neighbours of it use one-sided differences
        gx, gy = image_gradients(ramp * known, known)  # hole zeroed: never read
        k = known.expand_as(gx) > 0
        assert (gx[k] == 0.25).all() and (gy[k] == -0.5).all()
        assert (gx[~k] == 0).all() and (gy[~k] == 0).all()
        gx, gy = image_gradients(ramp)
        assert (gx == 0.25).all() and (gy == -0.5).all()

    def test_gradcheck(self) -> None:
        x = torch.randn(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
        known = torch.ones(1, 1, 4, 5, dtype=torch.float64)
        known[..., 1:3, 2] = 0
        assert torch.autograd.gradcheck(lambda t: image_gradients(t, known), (x,))


class TestContextLoss:
    def test_golden(self) -> None:
        m = _mask5()
        w = importance_weights(m, window=3)
        y = torch.zeros(2, 3, 5, 5)
        gen = torch.full((2, 3, 5, 5), -0.5)
        gen[:, :, 0, 0] = 7.0  # hole pixels never count
        expected = 3 * 0.5 * 14 / 9  # 3 channels x |diff| x (sum of the counts above) / 9
        assert torch.allclose(context_loss(gen, y, w), torch.full((2,), expected))
        assert torch.allclose(
            context_loss(gen, y, w, norm="l2"), torch.full((2,), 3 * 0.25 * 18 / 81)
        )  # sum of counts^2 = 18

    def test_zero_when_equal_on_known(self) -> None:
        m = _mask5()
        y = torch.rand(1, 3, 5, 5)
        gen = y + 3 * m  # differs only in the hole
        assert context_loss(gen, y, importance_weights(m, window=3)).item() == 0.0

    def test_bad_input(self) -> None:
        w = importance_weights(_mask5())
        with pytest.raises(ValueError):
            context_loss(torch.zeros(1, 3, 5, 5), torch.zeros(1, 3, 5, 4), w)
        with pytest.raises(ValueError):
            context_loss(torch.zeros(1, 3, 5, 5), torch.zeros(1, 3, 5, 5), w, norm="l3")

    def test_gradcheck(self) -> None:
        m = _mask5().double()
        w = importance_weights(m, window=3)
        gen = torch.randn(1, 3, 5, 5, dtype=torch.float64, requires_grad=True)
        y = torch.randn(1, 3, 5, 5, dtype=torch.float64)
        assert torch.autograd.gradcheck(lambda g: context_loss(g, y, w), (gen,))


class TestGradientLoss:
    def test_golden_one_row(self) -> None:
        # Width 5, hole at 2, window 3: W = 1/9 at pixels 1 and 3, 0 elsewhere.
        # G's central gx = [1, 2, 4, 6, 7]; y's known-aware gx = [1, 1, 0, 7, 7].
        # Loss = 3 channels x (1/9 x |2 - 1| + 1/9 x |6 - 7|) = 2/3.
        gen = torch.tensor([0.0, 1, 4, 9, 16]).view(1, 1, 1, 5).expand(1, 3, 1, 5)
        mask = torch.tensor([0.0, 0, 1, 0, 0]).view(1, 1, 1, 5)
        y = gen * (1 - mask)
        w = importance_weights(mask, window=3)
        assert gradient_loss(gen, y, mask, w).item() == pytest.approx(2 / 3, abs=1e-6)

    def test_zero_when_generator_matches_a_ramp(self) -> None:
        rows, cols = torch.meshgrid(torch.arange(12.0), torch.arange(12.0), indexing="ij")
        gen = (0.125 * cols + 0.25 * rows).expand(2, 3, 12, 12)
        mask = torch.zeros(2, 1, 12, 12)
        mask[:, :, 4:8, 3:9] = 1
        y = gen * (1 - mask) - 5 * mask  # garbage in the hole must not matter
        w = importance_weights(mask)
        assert torch.equal(gradient_loss(gen, y, mask, w), torch.zeros(2))
        bent = gen + mask * 0.5  # a step at the hole boundary costs something
        assert (gradient_loss(bent, y, mask, w) > 0).all()

    def test_gradcheck(self) -> None:
        mask = torch.zeros(1, 1, 6, 6, dtype=torch.float64)
        mask[..., 2:4, 2:4] = 1
        w = importance_weights(mask, window=3)
        y = torch.randn(1, 3, 6, 6, dtype=torch.float64)
        gen = torch.randn(1, 3, 6, 6, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(lambda g: gradient_loss(g, y, mask, w), (gen,))


class TestPriorLosses:
    def test_gan_golden(self) -> None:
        logits = torch.tensor([0.0, math.log(3.0)])  # D = 0.5 and 0.75
        lam = 0.003
        assert torch.allclose(
            prior_loss_gan(logits), torch.tensor([lam * math.log(0.5), lam * math.log(0.25)])
        )
        assert torch.allclose(
            prior_loss_gan(logits, mode="nonsaturating"),
            torch.tensor([-lam * math.log(0.5), -lam * math.log(0.75)]),
        )

    def test_gan_stable_for_extreme_logits(self) -> None:
        logits = torch.tensor([-1000.0, 1000.0], requires_grad=True)
        paper = prior_loss_gan(logits, lam=1.0)
        assert paper.tolist() == [0.0, -1000.0]  # log(1 - D): 0 when fake, -logit when real
        ns = prior_loss_gan(logits, lam=1.0, mode="nonsaturating")
        assert ns.tolist() == [1000.0, 0.0]
        (paper.sum() + ns.sum()).backward()
        assert torch.isfinite(logits.grad).all()
        assert logits.grad.tolist() == [
            -1.0,
            -1.0,
        ]  # d/dl [log(1-s(l)) - log s(l)] = -1 at the tails

    def test_wgan_golden(self) -> None:
        assert prior_loss_wgan(torch.tensor([2.0, -4.0])).tolist() == [-1.0, 2.0]
        assert prior_loss_wgan(torch.tensor([2.0]), eta=1.5).tolist() == [-3.0]

    def test_bad_mode(self) -> None:
        with pytest.raises(ValueError):
            prior_loss_gan(torch.zeros(1), mode="saturating")
