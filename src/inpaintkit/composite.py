"""Putting a fill into the hole of an image, in tensors: a plain mix or Poisson blending.

(:mod:`inpaintkit.blend` holds the Poisson solver and the bit-exact paste-back of the edges.)
"""

from __future__ import annotations

import torch

__all__ = ["fill_hole", "paste"]


def fill_hole(
    y: torch.Tensor, mask: torch.Tensor, fill: torch.Tensor, *, blend: bool
) -> torch.Tensor:
    """Put ``fill`` into the hole of ``y``: Poisson blending (Yeh Eq. 6) or a plain paste.

    Args:
        y: (B, 3, H, W) in [-1, 1]. mask: (B, 1, H, W), 1 = hole. fill: (B, 3, H, W).
        blend: Poisson-blend the fill's gradients into the hole
            (:func:`inpaintkit.blend.poisson_blend`).

    Returns:
        (B, 3, H, W) clipped to [-1, 1]; known pixels equal ``y``'s.
    """
    if blend:
        from inpaintkit.blend import poisson_blend  # imported lazily: scipy's sparse solver

        out = poisson_blend(y, fill, mask)
    else:
        out = y * (1 - mask) + fill * mask
    out = out.clamp(-1, 1)
    return torch.where(mask > 0.5, out, y)


def paste(fill: torch.Tensor, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``fill`` in the hole, ``image`` elsewhere (a differentiable mix, no clamp): (B, C, H, W).

    >>> paste(torch.ones(1, 1, 1, 2), torch.zeros(1, 1, 1, 2), torch.tensor([[[[1.0, 0.0]]]]))
    tensor([[[[1., 0.]]]])
    """
    return fill * mask + image * (1 - mask)
