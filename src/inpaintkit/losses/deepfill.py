"""DeepFill v1 reconstruction losses and the generator objective (Yu et al. 2018).

Pure functions: they return scalars and never call ``backward()``. The adversarial parts reuse
:mod:`inpaintkit.losses.adversarial` (``wgan_g_loss`` here; the critic side is
``wgan_d_loss`` + 10 x (``gradient_penalty(local, mask=hole)`` + ``gradient_penalty(global)``)).

- Spatially discounted l1 on the hole: each hole pixel weighs ``gamma ** l``, so pixels far from
  the known region, whose content is most ambiguous, count less. The paper: l = distance to the
  nearest known pixel, gamma = 0.99 (``mode="distance"``, default). The authors' code: gamma =
  0.9 and l = distance to the hole's bounding-box edge (``mode="bbox"``).
- ae loss: l1 on the known region, normalised by its area.
- Generator: ``0.001 (wgan_local + wgan_global) + 1.2 l1_hole + 1.2 ae`` where l1 and ae each
  weigh the coarse output 1.2 and the fine output 1 (the reference's ``l1_loss_alpha``).

Masks are (B, 1, H, W) float, 1 = hole (the library convention; the paper writes m = 1 for
known pixels).

Example:
    >>> mask = torch.zeros(1, 1, 1, 5)
    >>> mask[..., 1:4] = 1
    >>> spatial_discount(mask, gamma=0.5).flatten().tolist()
    [1.0, 0.5, 0.25, 0.5, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from inpaintkit.losses.adversarial import wgan_g_loss
from inpaintkit.losses.masked import masked_mean

MODES = ("distance", "bbox")
_EPS = 1e-8


def _check_mask(mask: torch.Tensor) -> None:
    if mask.dim() != 4 or mask.shape[1] != 1:
        raise ValueError(f"mask must be (B, 1, H, W), got {tuple(mask.shape)}")


def _distance_exponent(hole: np.ndarray) -> np.ndarray:
    """(H, W) bool hole -> Euclidean distance of each pixel to the nearest known pixel."""
    if hole.all():
        raise ValueError(
            "spatial discount needs at least one known pixel per sample; the mask covers all"
        )
    return ndimage.distance_transform_edt(hole)


def _bbox_exponent(hole: np.ndarray) -> np.ndarray:
    """(H, W) bool hole -> the reference code's min(i, h - i, j, w - j) inside the hole's bbox.

    (i, j) count from the bbox's top-left corner, (h, w) is its size, so its top and left edges
    get 0 and its bottom and right edges 1, exactly as the authors' code. 0 outside the bbox.
    """
    l = np.zeros(hole.shape)
    if not hole.any():
        return l
    rows, cols = np.flatnonzero(hole.any(axis=1)), np.flatnonzero(hole.any(axis=0))
    y0, x0 = rows[0], cols[0]
    h, w = rows[-1] - y0 + 1, cols[-1] - x0 + 1
    i, j = np.arange(h)[:, None], np.arange(w)[None, :]
    l[y0 : y0 + h, x0 : x0 + w] = np.minimum(np.minimum(i, h - i), np.minimum(j, w - j))
    return l


def spatial_discount(
    mask: torch.Tensor, *, gamma: float = 0.99, mode: str = "distance"
) -> torch.Tensor:
    """Per-pixel weights ``gamma ** l`` of the spatially discounted reconstruction loss.

    Args:
        mask: (B, 1, H, W) float, 1 = hole (values > 0.5 count as hole).
        gamma: discount per pixel of distance (paper 0.99; the authors' code 0.9 with "bbox").
        mode: "distance": l = Euclidean distance to the nearest known pixel (the paper; a hole
            pixel next to a known one has l = 1); "bbox": l = distance to the edge of the
            hole's bounding box, as the authors' code computes it (see ``_bbox_exponent``).

    Returns:
        (B, 1, H, W) weights in (0, 1] (1 on known pixels, which the losses mask out anyway),
        a constant (no gradient), on ``mask``'s device in float32 or ``mask``'s float dtype.
    """
    _check_mask(mask)
    if mode not in MODES:
        raise ValueError(f"spatial discount mode must be one of {MODES}, got {mode!r}")
    if not 0 < gamma <= 1:
        raise ValueError(f"spatial discount gamma must be in (0, 1], got {gamma}")
    exponent = _distance_exponent if mode == "distance" else _bbox_exponent
    holes = (mask.detach() > 0.5).cpu().numpy()[:, 0]  # (B, H, W)
    l = np.stack([exponent(h) for h in holes])[:, None]  # (B, 1, H, W)
    dtype = mask.dtype if mask.is_floating_point() else torch.float32
    return torch.from_numpy(gamma**l).to(device=mask.device, dtype=dtype)


def _check_pair(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> None:
    _check_mask(mask)
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    B, _, H, W = pred.shape
    if (mask.shape[0], *mask.shape[2:]) != (B, H, W):
        raise ValueError(f"mask {tuple(mask.shape)} does not fit images {tuple(pred.shape)}")


def discounted_l1(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """Weighted l1 on the hole: ``sum(|pred - target| weight mask) / (C sum(mask))``.

    The analogue of the reference's mean over the hole patch, for holes of any shape.

    Args:
        pred, target: (B, C, H, W).
        mask: (B, 1, H, W), 1 = hole.
        weight: (B, 1, H, W) weights, e.g. :func:`spatial_discount`.

    Returns:
        Scalar (0 when no sample has a hole).
    """
    _check_pair(pred, target, mask)
    return masked_mean((pred - target).abs(), weight * mask, normaliser=mask, eps=_EPS)


def ae_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """l1 on the known region normalised by its area: ``sum(|d| (1 - mask)) / (C sum(1 - mask))``.

    Over the whole batch, as the reference (which divides by the batch mean of 1 - mask).

    Args:
        pred, target: (B, C, H, W).
        mask: (B, 1, H, W), 1 = hole.

    Returns:
        Scalar (0 when nothing is known).
    """
    _check_pair(pred, target, mask)
    return masked_mean((pred - target).abs(), 1 - mask, eps=_EPS)


@dataclass
class GeneratorLoss:
    """The generator objective and its weighted parts (for logging).

    Attributes:
        total: ``adv_weight * adversarial + l1_weight * l1 + ae_weight * ae`` (scalar).
        adversarial: ``wgan_g(local) + wgan_g(global)``, unweighted.
        l1: ``coarse_weight * discounted_l1(coarse) + discounted_l1(fine)``.
        ae: ``coarse_weight * ae(coarse) + ae(fine)``.
    """

    total: torch.Tensor
    adversarial: torch.Tensor
    l1: torch.Tensor
    ae: torch.Tensor


def generator_loss(
    coarse: torch.Tensor,
    fine: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    *,
    discount: torch.Tensor,
    fake_local_scores: torch.Tensor,
    fake_global_scores: torch.Tensor,
    adv_weight: float = 0.001,
    l1_weight: float = 1.2,
    ae_weight: float = 1.2,
    coarse_weight: float = 1.2,
) -> GeneratorLoss:
    """DeepFill v1's generator loss (the reference's weights as defaults).

    Args:
        coarse, fine: (B, C, H, W) raw outputs of the two stages (not composed).
        target: (B, C, H, W) the real images.
        mask: (B, 1, H, W), 1 = hole.
        discount: (B, 1, H, W) :func:`spatial_discount` of ``mask``.
        fake_local_scores: (B,) local critic scores of the composed fine result's hole patch.
        fake_global_scores: (B,) global critic scores of the composed fine result.
        adv_weight: weight of the adversarial term (0.001).
        l1_weight: weight of the discounted hole l1 (1.2).
        ae_weight: weight of the known-region l1 (1.2).
        coarse_weight: weight of the coarse stage inside l1 and ae (1.2; fine weighs 1).

    Returns:
        :class:`GeneratorLoss`; ``total`` is the scalar to minimise.
    """
    adversarial = wgan_g_loss(fake_local_scores) + wgan_g_loss(fake_global_scores)
    l1 = coarse_weight * discounted_l1(coarse, target, mask, discount)
    l1 = l1 + discounted_l1(fine, target, mask, discount)
    ae = coarse_weight * ae_loss(coarse, target, mask) + ae_loss(fine, target, mask)
    total = adv_weight * adversarial + l1_weight * l1 + ae_weight * ae
    return GeneratorLoss(total=total, adversarial=adversarial, l1=l1, ae=ae)
