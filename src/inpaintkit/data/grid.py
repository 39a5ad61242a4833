"""Picture grids of images, and of what a model would be trained on (``inpaintkit data show``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inpaintkit.errors import InpaintError


def grid_pixels(
    images: torch.Tensor, *, nrow: int = 8, padding: int = 2, pad_value: float = -1.0
) -> np.ndarray:
    """Tile images into one picture.

    Args:
        images: (N, 3, H, W) float in [-1, 1] (values outside are clipped).
        nrow: images per row.
        padding: pixels between images and around the border.
        pad_value: colour of the padding in [-1, 1] (default black).

    Returns:
        (rows * (H + p) + p, nrow' * (W + p) + p, 3) uint8 RGB, with ``nrow' = min(nrow, N)``.

    >>> grid_pixels(torch.ones(3, 3, 4, 4), nrow=2, padding=1).shape
    (11, 11, 3)
    """
    if images.dim() != 4 or images.shape[1] != 3 or images.shape[0] == 0:
        raise ValueError(f"expected (N, 3, H, W) images with N > 0, got {tuple(images.shape)}")
    if nrow < 1 or padding < 0:
        raise ValueError(f"nrow must be >= 1 and padding >= 0, got {nrow}, {padding}")
    n, _, h, w = images.shape
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    x = images.detach().to("cpu", torch.float64).clamp(-1, 1)
    x = torch.round((x + 1) * 127.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    fill = round((max(-1.0, min(1.0, pad_value)) + 1) * 127.5)
    out = np.full(
        (rows * (h + padding) + padding, cols * (w + padding) + padding, 3), fill, np.uint8
    )
    for i in range(n):
        r, c = divmod(i, cols)
        y0, x0 = padding + r * (h + padding), padding + c * (w + padding)
        out[y0 : y0 + h, x0 : x0 + w] = x[i]
    return out


def save_grid(images: torch.Tensor, path: str | Path, *, nrow: int = 8, padding: int = 2) -> Path:
    """Write ``images`` (N, 3, H, W) in [-1, 1] as one PNG grid (see :func:`grid_pixels`).

    Creates parent folders; overwrites ``path`` (it is an output the caller names).

    Returns:
        The written path.
    """
    path = Path(path).expanduser()
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
        raise InpaintError(f"grid file {str(path)!r} must end in .png, .jpg or .webp")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid_pixels(images, nrow=nrow, padding=padding)).save(path)
    return path


def show_dataset(
    spec: str,
    *,
    size: int,
    n: int = 64,
    seed: int = 0,
    out: str | Path,
    transform: str = "auto",
    split: str = "train",
) -> Path:
    """Write a grid of ``n`` items that a model would be trained on (``inpaintkit data show``).

    The items are a seeded random sample (without replacement) of the data set given by
    ``spec`` (see :func:`inpaintkit.data.sources.open_dataset`), as the loader returns them in
    epoch 0, random crops and flips included.

    Args:
        spec: the ``--data`` argument.
        size: image side (``--size``).
        n: number of images (``-n``), laid out ``ceil(sqrt(n))`` per row.
        seed: picks the items and their augmentations.
        out: the PNG to write (``-o``).
        transform: ``auto`` or an explicit transform name.
        split: ``train``, ``val`` or ``test``.

    Returns:
        The written path.
    """
    from inpaintkit.data.sources import open_dataset  # sources imports every reader

    if n < 1:
        raise InpaintError(f"-n must be at least 1, got {n}")
    ds = open_dataset(spec, size=size, transform=transform, split=split, seed=seed)
    rng = np.random.default_rng(seed)
    count = min(n, len(ds))
    picks = np.sort(rng.choice(len(ds), size=count, replace=False))
    images = torch.stack([ds[int(i)] for i in picks])
    return save_grid(images, out, nrow=math.ceil(math.sqrt(count)))
