"""Mask files and arrays -> (H, W) bool, True = hole; dilation of holes.

Mask rule (files and arrays): a pixel is a hole where its value is >= 128 in 8-bit, >= 32768 in
16-bit, nonzero in 1-bit, >= 0.5 in float. Colour masks use the max over R, G, B. A mask with an
alpha channel has its hole where it is opaque AND bright (alpha and colour both at least half):
a transparent pixel is never a hole, whatever its colour. If the colour is the same everywhere
but the alpha varies (e.g. black strokes on a transparent layer), the alpha alone decides.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from inpaintkit.errors import InpaintError
from inpaintkit.io.read import read_image


def read_mask(
    source: str | Path | bytes | np.ndarray,
    *,
    size: tuple[int, int] | None = None,
    resize: bool = False,
    dilate: int = 0,
) -> np.ndarray:
    """Read a mask file or array -> (H, W) bool, True = hole (rule in the module docstring).

    Args:
        source: a file (any format ``read_image`` reads; EXIF orientation applied), its bytes,
            or an array: (H, W) bool, uint8 (hole >= 128), uint16 (>= 32768), float in [0, 1]
            (>= 0.5), or (H, W, 3|4) uint8/uint16 read like a colour file.
        size: (W, H) of the image the mask belongs to; None skips the check.
        resize: resize a mask of another size to ``size`` (nearest neighbour) instead of failing.
        dilate: grow holes by this many pixels (disk), 0 for none.

    Raises:
        InpaintError: unreadable source, bad array values, size mismatch without ``resize``.
    """
    if isinstance(source, np.ndarray):
        hole = mask_from_array(source)
    else:
        img = read_image(source)
        hole = _hole(img.pixels.max(axis=2), img.alpha)
    if size is not None and (hole.shape[1], hole.shape[0]) != tuple(size):
        if not resize:
            raise InpaintError(
                f"mask is {hole.shape[1]}x{hole.shape[0]} but the image is {size[0]}x{size[1]}; "
                "pass --resize-mask to resize it"
            )
        hole = _resize_nearest(hole, size)
    return dilate_mask(hole, dilate) if dilate else hole


def _hole(colour: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """(H, W) uint8/uint16 values (+ alpha) -> (H, W) bool: opaque and bright (module docstring).

    A flat colour carries nothing, so then the alpha alone decides.
    """

    def half(a: np.ndarray) -> np.ndarray:
        return a >= (32768 if a.dtype == np.uint16 else 128)

    if alpha is None:
        return half(colour)
    if colour.min() == colour.max() and alpha.min() != alpha.max():
        return half(alpha)
    return half(colour) & half(alpha)


def mask_from_array(arr: np.ndarray) -> np.ndarray:
    """An (H, W[, C]) mask array -> (H, W) bool, True = hole."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    integer = arr.dtype in (np.uint8, np.uint16)
    if arr.ndim == 3 and arr.shape[2] in (3, 4) and integer:
        return _hole(arr[:, :, :3].max(axis=2), arr[:, :, 3] if arr.shape[2] == 4 else None)
    if arr.ndim != 2:
        raise InpaintError(f"a mask array must be (H, W), got shape {arr.shape}")
    if arr.size == 0:
        raise InpaintError(f"the mask has no pixels (shape {arr.shape}); give a non-empty mask")
    if arr.dtype == bool:
        return arr.copy()
    if integer:
        return _hole(arr, None)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise InpaintError("float mask values must lie in [0, 1]; hole where >= 0.5")
        return arr >= 0.5
    raise InpaintError(f"a mask array must be bool, uint8, uint16 or float, got {arr.dtype}")


def _resize_nearest(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) bool -> (H, W) bool, nearest neighbour on pixel centres (PIL's NEAREST)."""
    w, h = int(size[0]), int(size[1])
    rows = np.minimum(((np.arange(h) + 0.5) * mask.shape[0] / h).astype(np.intp), mask.shape[0] - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * mask.shape[1] / w).astype(np.intp), mask.shape[1] - 1)
    return mask[rows[:, None], cols[None, :]]


def dilate_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Grow the holes of an (H, W) bool mask by a disk of ``radius`` pixels.

    A pixel becomes a hole when a hole lies within Euclidean distance ``radius`` of it, so one
    hole pixel grows into 1, 5, 13, 29, 49 pixels for radius 0..4 (away from the border).

    Raises:
        InpaintError: negative radius.
    """
    if radius < 0:
        raise InpaintError(f"dilate radius must be >= 0, got {radius}")
    if radius == 0:
        return mask.astype(bool, copy=True)
    # O(pixels) for any radius: exact Euclidean distance to the nearest hole (0 = hole).
    dist = cv2.distanceTransform(
        (~mask.astype(bool)).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE
    )
    return np.rint(dist.astype(np.float64) ** 2) <= radius * radius
