"""Mask kinds by name (``MASK_KINDS``) and :func:`make_mask`, the seeded entry point."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from inpaintkit.errors import InpaintError
from inpaintkit.masks.checks import Size
from inpaintkit.masks.shapes import (
    box_mask,
    center_mask,
    half_mask,
    pattern_mask,
    random_pixels_mask,
    three_squares_mask,
)
from inpaintkit.masks.strokes import medium_mask, thick_mask, thin_mask
from inpaintkit.object_masks import object_mask

MASK_KINDS: dict[str, Callable[..., np.ndarray]] = {
    "center": center_mask,
    "pattern": pattern_mask,
    "random80": random_pixels_mask,
    "half": half_mask,
    "three_squares": three_squares_mask,
    "box": box_mask,
    "thin": thin_mask,
    "medium": medium_mask,
    "thick": thick_mask,
    "objects": object_mask,
}


def mask_options(kind: str) -> dict[str, Any]:
    """The keyword options of mask ``kind`` with their defaults (``rng`` excluded)."""
    fn = _get_kind(kind)
    params = inspect.signature(fn).parameters.values()
    return {
        p.name: p.default
        for p in params
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "rng"
    }


def _get_kind(kind: str) -> Callable[..., np.ndarray]:
    try:
        return MASK_KINDS[kind]
    except (KeyError, TypeError):
        known = ", ".join(MASK_KINDS)
        raise InpaintError(f"unknown mask kind {kind!r}; known kinds: {known}") from None


def make_mask(kind: str, size: Size, *, seed: int = 0, **options: Any) -> np.ndarray:
    """A seeded mask of ``kind`` for an image of ``size = (W, H)``.

    Args:
        kind: a key of ``MASK_KINDS``.
        seed: seed of the numpy Generator the mask is drawn from.
        **options: the kind's keyword options (see ``mask_options(kind)``).

    Returns:
        ``(H, W)`` bool, True = hole; the same arguments always give the same mask.

    Raises:
        InpaintError: unknown kind, unknown option or invalid option value or size.

    >>> make_mask("center", (4, 4)).astype(int).tolist()
    [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    """
    fn = _get_kind(kind)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InpaintError(f"mask seed must be a non-negative integer, got {seed!r}")
    allowed = mask_options(kind)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        valid = ", ".join(allowed) or "none"
        raise InpaintError(
            f"unknown option(s) {', '.join(unknown)} for mask kind {kind!r}; valid: {valid}"
        )
    return fn(size, rng=np.random.default_rng(seed), **options)


def mask_coverage(mask: np.ndarray) -> float:
    """Fraction of hole pixels (nonzero entries) in ``mask``, in [0, 1].

    >>> mask_coverage(np.array([[True, False], [False, False]]))
    0.25
    """
    arr = np.asarray(mask)
    if arr.size == 0:
        raise InpaintError("mask is empty (no pixels); give an (H, W) mask")
    return float(np.count_nonzero(arr) / arr.size)
