"""Checks that several methods share (a helper module: it registers no method)."""

from __future__ import annotations

from torch import Tensor

from inpaintkit.errors import InpaintError

__all__ = ["check_known_pixels"]


def check_known_pixels(mask: Tensor, method: str) -> None:
    """Raise InpaintError when an image of the batch has no known pixel to fill from.

    Args:
        mask: (B, 1, H, W) float, 1 = hole.
        method: name used in the message.
    """
    full = (mask.detach() >= 0.5).flatten(1).all(dim=1)  # (B,)
    if bool(full.any()):
        b = int(full.nonzero()[0])
        raise InpaintError(
            f"{method}: the mask of image {b} covers the whole image; there are no known "
            "pixels to inpaint from: leave part of the image unmasked"
        )
