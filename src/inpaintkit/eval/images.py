"""Evaluation images: a folder, cropped and resized the same way for every method."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from inpaintkit.errors import InpaintError

CROPS = ("center", "celeba", "resize")


def crop_square(pixels: np.ndarray, crop: str) -> np.ndarray:
    """Crop (H, W, 3) pixels to a square before resizing.

    ``center``: the largest centred square. ``celeba``: the common DCGAN CelebA crop, a square of
    side 108/178 of the width centred on the aligned face (108 px on 178x218, 54 on 89x109).
    ``resize``: no crop (the aspect ratio is not kept).
    """
    h, w = pixels.shape[:2]
    if crop == "resize":
        return pixels
    if crop == "center":
        s = min(h, w)
    elif crop == "celeba":
        s = min(round(108 / 178 * w), h, w)
    else:
        raise InpaintError(f"unknown crop {crop!r}; known: {', '.join(CROPS)}")
    top, left = (h - s) // 2, (w - s) // 2
    return pixels[top : top + s, left : left + s]


def prepare(pixels: np.ndarray, size: int, crop: str = "center") -> np.ndarray:
    """(H, W, 3) uint8/uint16 -> (size, size, 3) uint8: crop, then area resize (cubic upscale)."""
    if pixels.dtype == np.uint16:
        pixels = np.rint(pixels / 257.0).astype(np.uint8)
    sq = crop_square(pixels, crop)
    if sq.shape[:2] == (size, size):
        return np.ascontiguousarray(sq)
    interp = cv2.INTER_AREA if min(sq.shape[:2]) >= size else cv2.INTER_CUBIC
    return cv2.resize(sq, (size, size), interpolation=interp)


def load_eval_images(
    folder: str | Path, *, size: int, limit: int | None = None, crop: str = "center"
) -> list[tuple[str, np.ndarray]]:
    """[(relative name, (size, size, 3) uint8)] for the first ``limit`` images of ``folder``."""
    from inpaintkit.io import list_images, read_image

    root = Path(folder)
    if not root.is_dir():
        raise InpaintError(f"--data {str(root)!r} is not a folder")
    out = []
    for p in list_images(root, limit=limit):
        out.append((str(p.relative_to(root)), prepare(read_image(p).pixels, size, crop)))
    return out
