"""Nearest-neighbour retrieval inpainting (the NN baseline of Yeh et al. 2017).

Every image of a training folder (recursive; png, jpg, jpeg, webp, bmp, tif, tiff) is centre-
cropped to the input's aspect ratio and resized to its size with area interpolation. The one
closest to the input on the KNOWN pixels (mean squared or absolute difference over known
pixels and channels, in [0, 1] units) gives its pixels to the hole.

The resized library is cached in memory per (folder contents, size), least recently used of
``_CACHE_ENTRIES``, so an evaluation over many images of one size reads the folder once; the
cache key holds every file's path, size and modification time, so an edited folder is re-read.
The cache costs N x H x W x 3 bytes per entry (1,000 images at 256x256: ~200 MB).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import torch
from PIL import Image
from torch import Tensor

from inpaintkit import io
from inpaintkit.errors import InpaintError
from inpaintkit.methods.checks import check_known_pixels
from inpaintkit.registry import MethodResult, register_method

METRICS = ("l2", "l1")
_CACHE_ENTRIES = 4
_CHUNK_ELEMENTS = 2**24  # library values turned into float at once (64 MB of float32)

FileKey = tuple[tuple[str, int, int], ...]  # (path, size in bytes, mtime in ns) per file


def list_images(folder: str | Path, *, limit: int | None = None) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted), at most ``limit``; see io.list_images."""
    try:
        return io.list_images(folder, limit=limit)
    except InpaintError as e:
        raise InpaintError(f"nearest: {e}; set its option data to a folder of images") from None


def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as (H, W, 3) uint8 RGB (see :func:`inpaintkit.io.read_rgb8`)."""
    return io.read_rgb8(path)


def fit_to_size(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Centre-crop (H0, W0, 3) pixels to the aspect ratio width/height, then resize (area).

    >>> fit_to_size(np.zeros((10, 40, 3), np.uint8), 4, 4).shape
    (4, 4, 3)
    """
    h0, w0 = pixels.shape[:2]
    if w0 * height > h0 * width:  # too wide: crop columns
        w1, h1 = max(1, round(h0 * width / height)), h0
    else:  # too tall: crop rows
        w1, h1 = w0, max(1, round(w0 * height / width))
    top, left = (h0 - h1) // 2, (w0 - w1) // 2
    crop = np.ascontiguousarray(pixels[top : top + h1, left : left + w1])
    return cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA).reshape(height, width, 3)


def _file_key(files: list[Path]) -> FileKey:
    key = []
    for p in files:
        st = p.stat()
        key.append((str(p.resolve()), st.st_size, st.st_mtime_ns))
    return tuple(key)


@functools.lru_cache(maxsize=_CACHE_ENTRIES)
def _load_library(key: FileKey, height: int, width: int) -> tuple[tuple[str, ...], Tensor]:
    """Read and fit every file of ``key``: (paths, (N, H * W * 3) uint8, HWC order)."""
    paths, rows = [], []
    for path, _, _ in key:
        try:
            pixels = read_rgb(path)
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            warnings.warn(f"nearest: skipping unreadable image {path}: {e}", stacklevel=2)
            continue
        paths.append(path)
        rows.append(torch.from_numpy(fit_to_size(pixels, height, width)).flatten())
    if not rows:
        raise InpaintError("nearest: none of the images in the data folder could be read")
    return tuple(paths), torch.stack(rows)


def _is_spec(data: str | Path) -> bool:
    from inpaintkit.data.sources import is_dataset_spec

    return is_dataset_spec(data)


@functools.lru_cache(maxsize=_CACHE_ENTRIES)
def _load_spec_library(
    spec: str, height: int, width: int, limit: int | None
) -> tuple[tuple[str, ...], Tensor]:
    """A dataset spec's training split prepared as for training (its crop, e.g. CelebA's 108 px
    face crop; flips as the loader draws them with seed 0): (names, (N, H * W * 3) uint8)."""
    from inpaintkit.data.sources import open_dataset

    if height != width:
        raise InpaintError(f"nearest: a dataset spec needs square images, got {width}x{height}")
    ds = open_dataset(spec, size=height, split="train", seed=0)
    n = len(ds) if limit is None else min(limit, len(ds))
    rows = []
    for i in range(n):
        x = ds[i]  # (3, S, S) float32 in [-1, 1]
        px = torch.round((x.permute(1, 2, 0) + 1) * 127.5).clamp(0, 255).to(torch.uint8)
        rows.append(px.flatten())
    return tuple(f"{spec}#{i}" for i in range(n)), torch.stack(rows)


def library_distances(library: Tensor, query: Tensor, known: Tensor, *, metric: str) -> Tensor:
    """Mean distance on known values between every library row and every query.

    Args:
        library: (N, D) uint8 images flattened (values 0..255).
        query: (B, D) float in [0, 1], flattened the same way.
        known: (B, D) float, 1 where the query value is known.
        metric: ``l2`` (mean squared difference) or ``l1`` (mean absolute difference).

    Returns:
        (N, B) float32 distances in [0, 1] units; 0 for a query without known values.
    """
    n, d = library.shape
    count = known.sum(dim=1).clamp_min(1.0)  # (B,)
    chunk = max(1, _CHUNK_ELEMENTS // (d * (1 if metric == "l2" else query.shape[0])))
    out = []
    for i in range(0, n, chunk):
        lib = library[i : i + chunk].to(query.device, torch.float32) / 255.0  # (n, D)
        if metric == "l2":  # sum_k m (l - q)^2 = (l^2) m - 2 l (m q) + sum m q^2
            dist = (lib * lib) @ known.T - 2.0 * lib @ (known * query).T
            dist = (dist + (known * query * query).sum(dim=1)).clamp_min(0.0)
        else:
            dist = ((lib[:, None] - query[None]).abs() * known[None]).sum(dim=2)
        out.append(dist / count)
    return torch.cat(out) if out else query.new_zeros((0, query.shape[0]))


def _check_options(data: str | Path | None, limit: int | None, metric: str) -> None:
    if data is None or str(data) == "":
        raise InpaintError("nearest needs a folder of training images: set its option data")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InpaintError(f"nearest: limit must be an integer >= 1 or None, got {limit!r}")
    if metric not in METRICS:
        raise InpaintError(f"nearest: unknown metric {metric!r}; use one of {', '.join(METRICS)}")


@register_method(
    "nearest",
    kind="retrieval",
    summary="Nearest neighbour (Yeh 2017 baseline): pastes the training image that best "
    "matches the known pixels; sharp but seams unless the library is close",
    needs="a folder of training images of the same domain (option data)",
    paper="baseline of R. A. Yeh et al., Semantic Image Inpainting with Deep Generative "
    "Models, CVPR 2017",
)
def nearest(
    image: Tensor,
    mask: Tensor,
    *,
    data: str | None = None,
    limit: int | None = None,
    metric: Literal["l2", "l1"] = "l2",
) -> MethodResult:
    """Fill each hole with the pixels of the training image closest on the known pixels.

    Args:
        image: (B, 3, H, W) float in [-1, 1], RGB.
        mask: (B, 1, H, W) float, 1 = hole.
        data: folder of training images (searched recursively), or a dataset spec
            (``celeba:DIR``, ``cars:DIR``, ``housenumbers``) whose train split is read with
            the dataset's own crop, the same as training and ``inpaintkit eval`` use.
        limit: use only the first ``limit`` images (sorted by path); None for all.
        metric: ``l2`` (mean squared difference) or ``l1`` on the known pixels.

    Returns:
        MethodResult with ``image`` (B, 3, H, W) float32 in [-1, 1] (known pixels kept),
        ``extras["match"]`` the matched file per image and ``extras["distance"]`` (B,) the
        distance on known pixels in [0, 1] units.
    """
    _check_options(data, limit, metric)
    check_known_pixels(mask, "nearest")
    B, _, H, W = image.shape
    if _is_spec(data):
        paths, library = _load_spec_library(str(data), H, W, limit)
    else:
        paths, library = _load_library(_file_key(list_images(data, limit=limit)), H, W)
    image = image.detach()
    hole = mask.detach() >= 0.5  # (B, 1, H, W)
    query = ((image.float() + 1.0) / 2.0).permute(0, 2, 3, 1).reshape(B, -1)  # HWC order
    known = (~hole).expand(B, 3, H, W).permute(0, 2, 3, 1).reshape(B, -1).float()
    dist = library_distances(library, query, known, metric=metric)  # (N, B)
    best_dist, best = dist.min(dim=0)
    fill = library[best.cpu()].reshape(B, H, W, 3).permute(0, 3, 1, 2)
    fill = (fill.double() / 255.0 * 2.0 - 1.0).to(image.device, torch.float32)  # as to_tensor
    match = [paths[i] for i in best.tolist()]
    notes = [
        f"nearest: image {b} <- {match[b]} ({metric} {best_dist[b].item():.4g})" for b in range(B)
    ]
    return MethodResult(
        image=torch.where(hole, fill, image.float()),
        extras={"match": match, "distance": best_dist.cpu()},
        notes=notes,
    )
