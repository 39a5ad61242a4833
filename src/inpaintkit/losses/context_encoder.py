"""The Context Encoder's generator objective (Pathak et al. 2016): a weighted l2 over the hole
and a band of known pixels around it, plus the adversarial term of the completed image.

    L_G = l2_weight * sum(w (pred - real)^2) / (C sum(w)) + adv_weight * (-log D(completed))

``w`` is 1 in the hole and ``overlap_weight`` (10) in a band of ``overlap`` (7) known pixels
(:func:`inpaintkit.losses.masked.overlap_weights`); the completed image is ``pred`` in the hole
and ``real`` elsewhere. Pure: never calls ``backward()``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from inpaintkit.composite import paste
from inpaintkit.losses.adversarial import gan_g_loss
from inpaintkit.losses.masked import masked_l2, overlap_weights

__all__ = ["generator_objective"]


def generator_objective(
    pred: torch.Tensor, real: torch.Tensor, mask: torch.Tensor,
    D: Callable[[torch.Tensor], torch.Tensor], *, overlap: int, overlap_weight: float,
    l2_weight: float, adv_weight: float,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """``loss`` and its parts ``l2``, ``adv`` (D is not called when ``adv_weight`` is 0).

    Args:
        pred: (B, 3, S, S) the encoder-decoder's output. real: (B, 3, S, S) in [-1, 1].
        mask: (B, 1, S, S), 1 = hole. D: completed image (B, 3, S, S) -> (B,) logits.
        overlap, overlap_weight, l2_weight, adv_weight: see the module docstring.
    """
    w = overlap_weights(mask, overlap=overlap, overlap_weight=overlap_weight)
    rec = masked_l2(pred, real, w)
    use_d = adv_weight > 0  # l2 only: no discriminator forward
    adv = gan_g_loss(D(paste(pred, real, mask))) if use_d else rec.new_zeros(())
    loss = l2_weight * rec + adv_weight * adv
    return {"loss": loss, "l2": rec.detach(), "adv": adv.detach()}
