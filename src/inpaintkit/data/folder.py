"""A dataset of image files: any folder (recursive), or a list of files with optional boxes.

Decoding goes through one private function, :func:`inpaintkit.io.read_rgb8`, a thin 8-bit wrapper of
:func:`inpaintkit.io.read_image` (EXIF-upright RGB, any format and bit depth it reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from inpaintkit.data.base import SeededDataset
from inpaintkit.data.transforms import BBox, Recipe
from inpaintkit.errors import InpaintError
from inpaintkit.io import list_images as _list_images
from inpaintkit.io import read_rgb8


def check_folder(root: str | Path) -> Path:
    """``root`` as a Path if it is an existing folder, else InpaintError."""
    root = Path(root).expanduser()
    if not root.exists():
        raise InpaintError(f"data folder {str(root)!r} does not exist; check the --data path")
    if not root.is_dir():
        raise InpaintError(f"{str(root)!r} is not a folder; --data takes a folder of images")
    return root


def list_images(root: str | Path, *, recursive: bool = True) -> list[Path]:
    """Image files under ``root`` (see :func:`inpaintkit.io.list_images`), with --data errors."""
    return _list_images(check_folder(root), recursive=recursive)


class ImageFolder(SeededDataset):
    """Image files as (3, S, S) float32 items in [-1, 1], through a :class:`Recipe`.

    Args:
        files: the image files, in item order.
        recipe: crop/resize recipe (``transforms.make_recipe``).
        bboxes: one box (or None) per file for the ``bbox`` recipe; None for no boxes.
        seed: run seed (random crops and flips).
        stream: distinguishes concatenated datasets (see ``base.py``).
        cache: keep each decoded, prepared (cropped/resized) uint8 image in RAM.
        name: label used in messages and progress bars.

    Example::

        ds = ImageFolder.from_folder("photos/", recipe=make_recipe("center_crop", size=64))
        ds[0].shape  # torch.Size([3, 64, 64])
    """

    def __init__(
        self,
        files: Sequence[str | Path],
        *,
        recipe: Recipe,
        bboxes: Sequence[BBox | None] | None = None,
        seed: int = 0,
        stream: int = 0,
        cache: bool = False,
        name: str = "folder",
    ) -> None:
        super().__init__(seed=seed, stream=stream, cache=cache)
        self.files = [Path(f) for f in files]
        if not self.files:
            raise InpaintError(f"{name}: no images to load")
        if bboxes is not None and len(bboxes) != len(self.files):
            raise ValueError(f"{len(bboxes)} boxes for {len(self.files)} files")
        self.bboxes = list(bboxes) if bboxes is not None else None
        self.recipe = recipe
        self.name = name

    @classmethod
    def from_folder(
        cls,
        root: str | Path,
        *,
        recipe: Recipe,
        seed: int = 0,
        cache: bool = False,
        recursive: bool = True,
    ) -> ImageFolder:
        """Every image file under ``root`` (see :func:`list_images`)."""
        files = list_images(root, recursive=recursive)
        return cls(files, recipe=recipe, seed=seed, cache=cache, name=str(root))

    def __len__(self) -> int:
        return len(self.files)

    def prepared(self, index: int) -> np.ndarray:
        """Decoded file ``index`` after the recipe's deterministic step: (H, W, 3) uint8."""
        path = self.files[index]
        bbox = self.bboxes[index] if self.bboxes is not None else None
        pixels = read_rgb8(path)
        assert self.recipe is not None
        try:
            return self.recipe.prepare(pixels, bbox=bbox)
        except InpaintError as err:
            raise InpaintError(f"{path}: {err}") from None

    def pixels(self, index: int) -> np.ndarray:
        try:
            return super().pixels(index)
        except InpaintError as err:
            path = str(self.files[self._check_index(index)])
            if path in str(err):
                raise
            raise InpaintError(f"{path}: {err}") from None
