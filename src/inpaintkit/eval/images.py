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


def is_dataset_spec(data: str | Path) -> bool:
    """:func:`inpaintkit.data.sources.is_dataset_spec` (imported when called)."""
    from inpaintkit.data.sources import is_dataset_spec as is_spec

    return is_spec(data)


def load_spec_images(
    spec: str, *, size: int, limit: int | None, split: str
) -> list[tuple[str, np.ndarray]]:
    """The first ``limit`` items of a dataset spec, prepared as for training (same crop)."""
    from inpaintkit.data.sources import open_dataset

    ds = open_dataset(spec, size=size, split=split, seed=0)
    n = len(ds) if limit is None else min(limit, len(ds))
    out = []
    for i in range(n):
        x = ds[i]  # (3, S, S) float32 in [-1, 1]
        px = np.rint((x.permute(1, 2, 0).numpy() + 1) * 127.5).clip(0, 255).astype(np.uint8)
        out.append((f"{split}/{i:06d}", px))
    return out


def load_eval_images(
    folder: str | Path,
    *,
    size: int,
    limit: int | None = None,
    crop: str = "center",
    split: str = "val",
) -> list[tuple[str, np.ndarray]]:
    """[(name, (size, size, 3) uint8)] for the first ``limit`` images of ``folder``.

    ``folder`` may also be a dataset spec with a scheme (``celeba:/data/celeba/val``,
    ``housenumbers``): then its ``split`` is read with the dataset's own evaluation transform
    (the same crop as training; ``crop`` is ignored).
    """
    from inpaintkit.io import list_images, read_image

    if is_dataset_spec(folder):
        return load_spec_images(str(folder), size=size, limit=limit, split=split)
    root = Path(folder)
    if not root.is_dir():
        raise InpaintError(f"--data {str(root)!r} is not a folder")
    out = []
    for p in list_images(root, limit=limit):
        out.append((str(p.relative_to(root)), prepare(read_image(p).pixels, size, crop)))
    return out
