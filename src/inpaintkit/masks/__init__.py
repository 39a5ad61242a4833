"""Seeded hole-mask generators used by the papers' evaluations and by training.

Every generator ``fn(size, *, rng=None, **options)`` takes ``size = (W, H)`` (width first,
like PIL and OpenCV) and returns a numpy ``(H, W)`` bool array, True = hole. Randomness comes
only from the numpy ``Generator`` ``rng`` (None = ``default_rng(0)``), so
``make_mask(kind, size, seed=s, **options)`` is the same mask for the same arguments on every
machine. Options are keyword-only with the papers' defaults; bad values raise InpaintError.

Kinds (``MASK_KINDS``), with the paper each one reproduces:

* ``center``: central block, half of each side (Yeh 2017, Vitoria 2019, DeepFill, Song).
* ``pattern``: Yeh's random pattern, 25 % missing in blob-like regions.
* ``random80``: every pixel missing independently with p = 0.8 (Yeh 2017).
* ``half``: left, right, top or bottom half missing (Yeh 2017).
* ``three_squares``: three random rectangles, 1/4..1/3 of the side each (Vitoria 2019).
* ``box``: DeepFill v1 training box (half the side) with random shrink ``max_delta``.
* ``thin``, ``medium``, ``thick``: LaMa's free-form stroke masks (Suvorov et al. 2022).
* ``objects``: object silhouettes with a painted margin, 2-33 % of the image (ours: what a
  person paints over an object; :mod:`inpaintkit.object_masks`).

Modules: ``shapes`` (block masks), ``strokes`` (free-form), ``kinds`` (``MASK_KINDS``,
``make_mask``), ``checks`` (validation); every name is importable from ``inpaintkit.masks``.
A new kind: a generator ``fn(size, *, rng=None, **options)`` in a module here, added to
``MASK_KINDS`` in ``kinds.py``.
"""

from inpaintkit.masks.checks import Size
from inpaintkit.masks.kinds import MASK_KINDS, make_mask, mask_coverage, mask_options
from inpaintkit.masks.shapes import (
    box_mask,
    center_mask,
    half_mask,
    pattern_mask,
    random_pixels_mask,
    three_squares_mask,
)
from inpaintkit.masks.strokes import medium_mask, strokes_mask, thick_mask, thin_mask

__all__ = [
    "MASK_KINDS",
    "Size",
    "box_mask",
    "center_mask",
    "half_mask",
    "make_mask",
    "mask_coverage",
    "mask_options",
    "medium_mask",
    "pattern_mask",
    "random_pixels_mask",
    "strokes_mask",
    "thick_mask",
    "thin_mask",
    "three_squares_mask",
]
