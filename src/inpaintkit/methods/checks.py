"""Checks that several methods share (a helper module: it registers no method)."""

from __future__ import annotations

from torch import Tensor

from inpaintkit.errors import InpaintError

__all__ = ["check_choice", "check_known_pixels", "check_patch"]


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


def check_choice(method: str, name: str, value: object, choices: tuple[object, ...]) -> None:
    """Raise InpaintError unless the option ``name`` of ``method`` is one of ``choices``."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise InpaintError(f"{method}: {name} must be one of {listed}, got {value!r}")


def check_patch(method: str, patch: int, stride: int, side: int | None = None) -> None:
    """Raise InpaintError for patch-swap options a user gave wrong: ``patch`` odd and >= 1 (and
    at most ``side``, the smallest feature map, when given), ``stride`` >= 1."""
    if patch < 1 or patch % 2 == 0 or stride < 1:
        raise InpaintError(
            f"{method}: patch must be odd and >= 1 and stride >= 1, got {patch} and {stride}"
        )
    if side is not None and patch > side:
        raise InpaintError(
            f"{method}: patch {patch} is larger than the {side}x{side} feature map of the "
            "smallest scale; use a smaller patch or larger scales"
        )
