"""Adversarial losses (losses/adversarial.py): golden values by hand, stability, gradcheck."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from inpaintkit.losses.adversarial import (
    gan_d_loss,
    gan_g_loss,
    gradient_penalty,
    interpolate,
    wgan_d_loss,
    wgan_g_loss,
)


class TestGAN:
    def test_golden_values(self) -> None:
        assert gan_d_loss(torch.zeros(3), torch.zeros(5)).item() == pytest.approx(2 * math.log(2))
        # -log sigmoid(2) - log(1 - sigmoid(-1)) = log(1 + e^-2) + log(1 + e^-1)
        got = gan_d_loss(torch.tensor([2.0]), torch.tensor([-1.0])).item()
        assert got == pytest.approx(math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-1)))
        assert gan_g_loss(torch.tensor([0.0])).item() == pytest.approx(math.log(2))
        assert gan_g_loss(torch.tensor([0.0]), saturating=True).item() == pytest.approx(
            -math.log(2)
        )
        # non-saturating: -log sigmoid(1); minimax: log(1 - sigmoid(1)) = -log(1 + e)
        assert gan_g_loss(torch.tensor([1.0])).item() == pytest.approx(math.log(1 + math.exp(-1)))
        sat = gan_g_loss(torch.tensor([1.0]), saturating=True).item()
        assert sat == pytest.approx(-math.log(1 + math.e))

    def test_equals_bce_with_logits(self) -> None:
        g = torch.Generator().manual_seed(0)
        real, fake = torch.randn(7, generator=g) * 3, torch.randn(7, generator=g) * 3
        want = F.binary_cross_entropy_with_logits(real, torch.ones(7))
        want = want + F.binary_cross_entropy_with_logits(fake, torch.zeros(7))
        torch.testing.assert_close(gan_d_loss(real, fake), want)
        want_g = F.binary_cross_entropy_with_logits(fake, torch.ones(7))
        torch.testing.assert_close(gan_g_loss(fake), want_g)

    def test_extreme_logits_are_finite(self) -> None:
        assert gan_d_loss(torch.tensor([1000.0]), torch.tensor([-1000.0])).item() == 0.0
        assert gan_d_loss(torch.tensor([-1000.0]), torch.tensor([1000.0])).item() == 2000.0
        assert gan_g_loss(torch.tensor([-1000.0])).item() == 1000.0

    def test_bf16_input_computed_in_float32(self) -> None:
        x = torch.tensor([0.1, 0.2], dtype=torch.bfloat16)
        assert gan_d_loss(x, x).dtype == torch.float32

    def test_gradcheck(self) -> None:
        real = torch.randn(4, dtype=torch.float64, requires_grad=True)
        fake = torch.randn(3, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(gan_d_loss, (real, fake))
        assert torch.autograd.gradcheck(lambda f: gan_g_loss(f), (fake,))

    def test_bad_shape_raises(self) -> None:
        with pytest.raises(ValueError, match=r"\(B,\)"):
            gan_d_loss(torch.zeros(2, 1), torch.zeros(2))


class TestWGAN:
    def test_golden_values(self) -> None:
        real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.0, 5.0])
        assert wgan_d_loss(real, fake).item() == pytest.approx(1.0 - 2.0)
        assert wgan_g_loss(fake).item() == pytest.approx(-1.0)


def _linear_critic(w: torch.Tensor):
    """f(x) = <w, x> per image: its input gradient is w everywhere."""
    return lambda x: (x * w).flatten(1).sum(1)


class TestGradientPenalty:
    def test_linear_critic_golden(self) -> None:
        w = torch.full((1, 3, 4, 4), 0.25)  # |w| = 0.25 * sqrt(48) = sqrt(3)
        g = torch.Generator().manual_seed(0)
        real, fake = torch.randn(2, 3, 4, 4, generator=g), torch.randn(2, 3, 4, 4, generator=g)
        gp = gradient_penalty(_linear_critic(w), real, fake, generator=g)
        assert gp.item() == pytest.approx((math.sqrt(3) - 1) ** 2, rel=1e-5)

    def test_hole_mask_counts_only_hole_gradients(self) -> None:
        w = torch.full((1, 3, 4, 4), 0.25)
        mask = torch.zeros(2, 1, 4, 4)
        mask[:, :, 1:3, 1:3] = 1  # 4 hole pixels x 3 channels: |w * m| = 0.25 * sqrt(12)
        real, fake = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
        gp = gradient_penalty(_linear_critic(w), real, fake, mask=mask)
        assert gp.item() == pytest.approx((math.sqrt(3) / 2 - 1) ** 2, rel=1e-5)
        # gradients outside the hole do not matter at all
        w2 = w.clone()
        w2[..., 0, 0] = 100.0
        gp2 = gradient_penalty(_linear_critic(w2), real, fake, mask=mask)
        assert gp2.item() == pytest.approx(gp.item(), rel=1e-6)

    def test_per_sample_masks(self) -> None:
        w = torch.full((1, 1, 2, 2), 1.0)
        mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]], [[[1.0, 1.0], [1.0, 1.0]]]])
        gp = gradient_penalty(
            _linear_critic(w), torch.zeros(2, 1, 2, 2), torch.ones(2, 1, 2, 2), mask=mask
        )
        # norms 1 and 2 -> ((1-1)^2 + (2-1)^2) / 2
        assert gp.item() == pytest.approx(0.5)

    def test_trains_the_critic(self) -> None:
        w = torch.full((1, 3, 4, 4), 0.25, requires_grad=True)
        gp = gradient_penalty(_linear_critic(w), torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4))
        gp.backward()
        norm = math.sqrt(3)  # d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
        torch.testing.assert_close(w.grad, 2 * (norm - 1) * w.detach() / norm)

    def test_gradcheck_nonlinear_critic(self) -> None:
        g = torch.Generator().manual_seed(1)
        real = torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64)
        fake = torch.randn(2, 1, 3, 3, generator=g, dtype=torch.float64)
        alpha = torch.tensor([0.3, 0.8], dtype=torch.float64)

        def f(w: torch.Tensor) -> torch.Tensor:
            critic = lambda x: torch.tanh(x * w).flatten(1).sum(1)  # noqa: E731
            return gradient_penalty(critic, real, fake, alpha=alpha)

        w = torch.randn(1, 1, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(f, (w,))

    def test_bad_mask_raises(self) -> None:
        critic = _linear_critic(torch.ones(1, 3, 4, 4))
        x = torch.zeros(2, 3, 4, 4)
        with pytest.raises(ValueError, match="mask"):
            gradient_penalty(critic, x, x, mask=torch.ones(2, 1, 3, 3))


class TestInterpolate:
    def test_endpoints_and_seed(self) -> None:
        real, fake = torch.zeros(2, 1, 2, 2), torch.ones(2, 1, 2, 2)
        out = interpolate(real, fake, alpha=torch.tensor([0.0, 1.0]))
        assert torch.equal(out[0], real[0]) and torch.equal(out[1], fake[1])
        a = interpolate(real, fake, generator=torch.Generator().manual_seed(5))
        b = interpolate(real, fake, generator=torch.Generator().manual_seed(5))
        assert torch.equal(a, b)
        assert (a[:, 0, 0, 0][:, None, None] == a[:, 0]).all()  # one alpha per image

    def test_shape_mismatch_raises(self) -> None:
        with pytest.raises(ValueError, match="shape"):
            interpolate(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 5))
