"""Masked reconstruction losses: one normalised masked reduction that every loss uses.

``masked_mean(err, w) = sum(err * w) / (C * sum(w))``: the mean of a per-pixel error over the
pixels a weight map selects, counted once per channel, 0 when the weights are all 0. The
losses differ only in the error and the weights: Song's and the Context Encoder's image losses
(:func:`masked_l1`, :func:`masked_l2` over the hole and an :func:`overlap_weights` band),
DeepFill's discounted hole l1 and known-region ae loss (:mod:`inpaintkit.losses.deepfill`, whose
weights count in the numerator only). Pure functions; they never call ``backward()``.

Example:
    >>> pred, target = torch.ones(1, 1, 1, 4), torch.zeros(1, 1, 1, 4)
    >>> float(masked_l1(pred, target, torch.tensor([[[[1.0, 1.0, 0.0, 0.0]]]])))
    1.0
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["masked_l1", "masked_l2", "masked_mean", "overlap_weights"]


def masked_mean(
    err: torch.Tensor, weights: torch.Tensor, *, normaliser: torch.Tensor | None = None,
    eps: float = 1e-12,
) -> torch.Tensor:  # fmt: skip
    """``sum(err * weights) / (C * sum(normaliser))`` over the batch (normaliser: ``weights``).

    Args:
        err: (B, C, H, W) per-pixel error (e.g. ``|pred - target|``).
        weights: (B, 1, H, W) >= 0, broadcast over channels.
        normaliser: (B, 1, H, W) whose sum divides instead of the weights' (DeepFill's
            discounted l1 weighs hole pixels by ``gamma ** l`` but divides by the hole's area).
        eps: the smallest denominator (no division by zero when nothing is selected).

    Returns:
        Scalar.
    """
    total = weights if normaliser is None else normaliser
    return (err * weights).sum() / (err.shape[1] * total.sum()).clamp_min(eps)


def masked_l1(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``sum(w |pred - target|) / (C sum(w))`` in float32: pred, target (B, C, H, W), w
    (B, 1, H, W); 0 when all weights are 0."""
    return masked_mean((pred.float() - target.float()).abs(), weights.float())


def masked_l2(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted mean squared error ``sum(w (pred - target)^2) / (C sum(w))``.

    Args:
        pred, target: (B, C, H, W).
        weights: (B, 1, H, W) >= 0 (see :func:`overlap_weights`).

    Returns:
        Scalar, in float32 under autocast; 0 when all weights are 0.
    """
    return masked_mean((pred.float() - target.float()) ** 2, weights.float())


def overlap_weights(
    mask: torch.Tensor, *, overlap: int = 7, overlap_weight: float = 10.0
) -> torch.Tensor:
    """Per-pixel weights of the reconstruction loss: the hole and a band of known pixels.

    Args:
        mask: (B, 1, H, W), 1 = hole (binary).
        overlap: band width: known pixels within ``overlap`` px of a hole pixel (Chebyshev
            distance, i.e. a (2 overlap + 1)^2 square dilation) are in the band.
        overlap_weight: weight of a band pixel.

    Returns:
        (B, 1, H, W): 1 in the hole, ``overlap_weight`` in the band, 0 elsewhere.

    >>> m = torch.zeros(1, 1, 1, 5); m[..., 2] = 1
    >>> overlap_weights(m, overlap=1, overlap_weight=10).flatten().tolist()
    [0.0, 10.0, 1.0, 10.0, 0.0]
    """
    hole = (mask >= 0.5).to(mask.dtype)
    grown = F.max_pool2d(hole, 2 * overlap + 1, stride=1, padding=overlap) if overlap else hole
    return hole + overlap_weight * (grown - hole)
