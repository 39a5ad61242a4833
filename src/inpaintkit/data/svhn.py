"""SVHN's cropped-digit format (``train_32x32.mat``, ``test_32x32.mat``, ``extra_32x32.mat``).

Each file holds ``X``: (32, 32, 3, N) uint8 RGB and ``y``: (N, 1) labels 1-10, 10 meaning the
digit 0. :class:`ArrayImages` serves any in-memory (N, H, W, 3) uint8 array through a recipe.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from inpaintkit.data.base import SeededDataset
from inpaintkit.data.transforms import Recipe
from inpaintkit.errors import InpaintError

_SVHN_FILES = {"train": "train_32x32.mat", "val": "test_32x32.mat", "test": "test_32x32.mat"}


def svhn_file(root: str | Path, split: str = "train") -> Path:
    """The ``.mat`` file of ``split`` under ``root`` (``root`` may also be the file itself).

    ``train`` -> ``train_32x32.mat``; ``val`` and ``test`` -> ``test_32x32.mat`` (SVHN has no
    validation split; the papers evaluate on test); ``extra`` -> ``extra_32x32.mat``.
    """
    root = Path(root).expanduser()
    if root.is_file():
        return root
    name = _SVHN_FILES.get(split, f"{split}_32x32.mat")
    path = root / name
    if not path.is_file():
        raise InpaintError(f"SVHN file {name!r} not found in {str(root)!r}; expected {path}")
    return path


def load_svhn(root: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Read SVHN's cropped digits.

    Args:
        root: folder with ``*_32x32.mat`` (or one such file).
        split: ``train``, ``val``/``test`` (both the official test set) or ``extra``.

    Returns:
        images (N, 32, 32, 3) uint8 RGB and labels (N,) int64 in 0-9 (SVHN's 10 -> 0).
    """
    path = svhn_file(root, split)
    try:
        mat = scipy.io.loadmat(path)
        X, y = mat["X"], mat["y"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InpaintError(f"cannot read SVHN file {str(path)!r}: {err}") from None
    if X.ndim != 4 or X.shape[2] != 3 or X.dtype != np.uint8:
        raise InpaintError(f"{str(path)!r}: X is {X.shape} {X.dtype}, not (32, 32, 3, N) uint8")
    images = np.ascontiguousarray(np.transpose(X, (3, 0, 1, 2)))
    labels = np.asarray(y).reshape(-1).astype(np.int64) % 10
    if len(labels) != len(images):
        raise InpaintError(f"{str(path)!r}: {len(images)} images but {len(labels)} labels")
    return images, labels


class ArrayImages(SeededDataset):
    """In-memory (N, H, W, 3) uint8 images through a :class:`Recipe` -> (3, S, S) in [-1, 1].

    Args:
        images: (N, H, W, 3) uint8 RGB.
        recipe: crop/resize recipe.
        labels: optional (N,) labels (kept for callers; items are images only).
        seed, stream, cache: see :class:`~inpaintkit.data.base.SeededDataset`.
        name: label used in messages.
    """

    def __init__(
        self,
        images: np.ndarray,
        *,
        recipe: Recipe,
        labels: np.ndarray | None = None,
        seed: int = 0,
        stream: int = 0,
        cache: bool = False,
        name: str = "arrays",
    ) -> None:
        super().__init__(seed=seed, stream=stream, cache=cache)
        if images.ndim != 4 or images.shape[3] != 3 or images.dtype != np.uint8:
            raise ValueError(f"expected (N, H, W, 3) uint8, got {images.shape} {images.dtype}")
        if len(images) == 0:
            raise InpaintError(f"{name}: no images")
        self.images = images
        self.labels = labels
        self.recipe = recipe
        self.name = name

    def __len__(self) -> int:
        return len(self.images)

    def prepared(self, index: int) -> np.ndarray:
        assert self.recipe is not None
        return self.recipe.prepare(self.images[index])
