"""Adversarial losses as pure functions: they return a scalar and never call ``backward()``.

- GAN (Goodfellow et al.) on logits, written with ``softplus`` so extreme logits stay finite:
  ``-log sigmoid(x) = softplus(-x)``, ``-log(1 - sigmoid(x)) = softplus(x)``.
- WGAN (Arjovsky et al.) on critic scores.
- The gradient penalty of WGAN-GP (Gulrajani et al.), optionally restricted to the hole as in
  DeepFill v1 (Yu et al. 2018: the critic's input gradients are multiplied by the hole mask).

All reductions are means over the batch; half-precision inputs (autocast) are computed in
float32.

Example:
    >>> real, fake = torch.tensor([0.0]), torch.tensor([0.0])
    >>> round(gan_d_loss(real, fake).item(), 4)  # 2 log 2
    1.3863
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Critic = Callable[[torch.Tensor], torch.Tensor]


def _check_scores(*scores: torch.Tensor) -> None:
    for s in scores:
        if s.dim() != 1:
            raise ValueError(f"expected per-image scores of shape (B,), got {tuple(s.shape)}")


def _up(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 if it is a half type (autocast), else unchanged (float64 stays)."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def gan_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Discriminator BCE: ``mean(-log D(x)) + mean(-log(1 - D(G(z))))``.

    Args:
        real_logits: (B,) logits of real images.
        fake_logits: (B',) logits of generated images.

    Returns:
        Scalar loss (0 when D is perfectly sure and right; 2 log 2 at logits 0).
    """
    _check_scores(real_logits, fake_logits)
    return F.softplus(-_up(real_logits)).mean() + F.softplus(_up(fake_logits)).mean()


def gan_g_loss(fake_logits: torch.Tensor, *, saturating: bool = False) -> torch.Tensor:
    """Generator GAN loss.

    Args:
        fake_logits: (B,) logits of generated images.
        saturating: False (default): the non-saturating ``mean(-log D(G(z)))`` that DCGAN and
            Yeh et al. train with; True: the minimax ``mean(log(1 - D(G(z))))``.

    Returns:
        Scalar loss.
    """
    _check_scores(fake_logits)
    x = _up(fake_logits)
    return -F.softplus(x).mean() if saturating else F.softplus(-x).mean()


def wgan_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Critic WGAN loss ``mean(D(G(z))) - mean(D(x))`` (scores: (B,), unbounded)."""
    _check_scores(real_scores, fake_scores)
    return _up(fake_scores).mean() - _up(real_scores).mean()


def wgan_g_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator WGAN loss ``-mean(D(G(z)))`` (scores: (B,))."""
    _check_scores(fake_scores)
    return -_up(fake_scores).mean()


def interpolate(
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
    alpha: torch.Tensor | None = None,
) -> torch.Tensor:
    """Points on straight lines between real and fake images, ``real + alpha (fake - real)``.

    Args:
        real, fake: (B, C, H, W).
        generator: draws ``alpha ~ U[0, 1]`` per image when ``alpha`` is None.
        alpha: (B,) fixed mixing weights instead.

    Returns:
        (B, C, H, W).
    """
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} differ in shape")
    if alpha is None:
        alpha = torch.rand(real.shape[0], generator=generator, device=real.device)
    alpha = alpha.to(real.dtype).view(-1, *([1] * (real.dim() - 1)))
    return real + alpha * (fake - real)


def gradient_penalty(
    critic: Critic,
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    alpha: torch.Tensor | None = None,
    target: float = 1.0,
) -> torch.Tensor:
    """WGAN-GP penalty ``mean((||grad_x D(x_hat)||_2 - target)^2)`` on interpolates x_hat.

    The gradient is taken with ``create_graph=True`` (so the penalty trains the critic) but
    nothing is backpropagated here. Multiply the result by the weight (10 in the papers).

    Args:
        critic: the network, (B, C, H, W) -> (B,) or (B, 1) scores.
        real, fake: (B, C, H, W) images; ``fake`` is detached from the generator.
        mask: (B, 1, H, W) or (B, C, H, W), 1 = hole: only gradients at hole pixels count
            (DeepFill v1's local penalty). None: the whole image (Gulrajani et al.).
        generator: draws the per-image interpolation weights.
        alpha: (B,) fixed interpolation weights instead (tests).
        target: the gradient norm aimed at (1 for a 1-Lipschitz critic).

    Returns:
        Scalar penalty.
    """
    x_hat = interpolate(real.detach(), fake.detach(), generator=generator, alpha=alpha)
    x_hat.requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(_up(scores).sum(), x_hat, create_graph=True)
    if mask is not None:
        if mask.dim() != 4 or mask.shape[0] != grad.shape[0] or mask.shape[-2:] != grad.shape[-2:]:
            raise ValueError(f"mask {tuple(mask.shape)} does not fit images {tuple(grad.shape)}")
        grad = grad * mask.to(grad.dtype)
    norm = _up(grad).flatten(1).norm(2, dim=1)  # (B,)
    return ((norm - target) ** 2).mean()


def hinge_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Critic hinge loss ``mean(relu(1 - D(x))) + mean(relu(1 + D(G(z))))`` (SN-PatchGAN).

    Args:
        real_scores, fake_scores: scores of any shape (per image, or per patch of a PatchGAN:
            (B, C, h, w)); every element counts as one judgement.

    Returns:
        Scalar loss (0 once every real score >= 1 and every fake score <= -1).
    """
    return F.relu(1 - _up(real_scores)).mean() + F.relu(1 + _up(fake_scores)).mean()


def hinge_g_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator hinge loss ``-mean(D(G(z)))`` over every element of ``fake_scores``."""
    return -_up(fake_scores).mean()


def feature_matching_loss(
    fake_features: list[torch.Tensor], real_features: list[torch.Tensor]
) -> torch.Tensor:
    """Mean over layers of the l1 distance between a critic's features of fakes and reals.

    The real features are detached (they only give the target). Salimans et al. 2016;
    pix2pixHD's multi-layer form.

    Args:
        fake_features: per layer (B, C_l, h_l, w_l), from the critic on the generated images.
        real_features: the same layers on the real images.

    Returns:
        Scalar.
    """
    if len(fake_features) != len(real_features) or not fake_features:
        raise ValueError(
            f"feature lists differ or are empty: {len(fake_features)} vs {len(real_features)}"
        )
    terms = [
        (_up(f) - _up(r).detach()).abs().mean()
        for f, r in zip(fake_features, real_features, strict=True)
    ]
    return torch.stack(terms).mean()
