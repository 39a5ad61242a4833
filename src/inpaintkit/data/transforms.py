"""The papers' image transforms, as small callables on numpy pixels.

Every transform takes ``(H, W, 3)`` uint8 RGB pixels and returns ``(S, S, 3)`` uint8 pixels (or
``(H, W, 3)`` for flips). Deterministic ones (``CelebaCrop``, ``CenterCrop``, ``Resize``,
``BBoxCrop``) are called as ``t(pixels, bbox=None)``; random ones (``RandomCrop``, ``RandomFlip``)
as ``t(pixels, rng)`` with a ``numpy.random.Generator``, so the caller owns the randomness (the
datasets derive it from ``(seed, stream, epoch, index)``; see ``base.py``).

A :class:`Recipe` is one deterministic ``prepare`` step (its output can be cached in RAM) followed
by random ``augment`` steps. :func:`make_recipe` builds the named recipes:

- ``celeba_crop``: the DCGAN CelebA crop, a square of side ``108/178 * W`` centred on the image
  (108 px on the 178x218 aligned images, 54 px on the 89x109 copies), resized to ``size``.
- ``random_crop``: a random ``size`` x ``size`` crop (DeepFill, Song), no resizing (or, with
  the ``short_side`` option, after resizing the short side to that many pixels).
- ``center_crop``: the centred ``size`` x ``size`` crop (evaluation twin of ``random_crop``).
  Both raise InpaintError on an image smaller than the crop, unless built with ``upscale=True``:
  then such an image is first enlarged (bicubic, aspect kept) until its short side is ``size``.
- ``resize``: the whole image resized to ``size`` x ``size`` (aspect ratio not kept).
- ``bbox``: the item's bounding box (whole image when it has none) resized to ``size`` x ``size``.

Resizing uses Pillow's antialiased bicubic filter with a sub-pixel source box, so a crop on a
half-resolution copy covers exactly the same part of the scene as on the original.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from inpaintkit.errors import InpaintError

BBox = tuple[float, float, float, float]
"""(left, top, right, bottom) in pixels, 0-based, right/bottom exclusive (a box of the image)."""

TRANSFORMS: tuple[str, ...] = ("celeba_crop", "random_crop", "center_crop", "resize", "bbox")

CELEBA_CROP_RATIO = 108 / 178
"""DCGAN's CelebA crop: 108 px of the 178 px wide aligned image (54 of 89 on the half copy)."""


def _check_pixels(pixels: np.ndarray) -> tuple[int, int]:
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype != np.uint8:
        raise ValueError(f"expected (H, W, 3) uint8 pixels, got {pixels.shape} {pixels.dtype}")
    return pixels.shape[0], pixels.shape[1]


def _too_small(h: int, w: int, need: int, what: str) -> InpaintError:
    return InpaintError(
        f"image is {w}x{h}, smaller than the {need}x{need} {what}; "
        "use a smaller --size or transform 'resize'"
    )


def upscale_to(pixels: np.ndarray, size: int) -> np.ndarray:
    """Enlarge (bicubic, aspect kept) so the short side is at least ``size``; else unchanged."""
    h, w = _check_pixels(pixels)
    if min(h, w) >= size:
        return pixels
    scale = size / min(h, w)
    new = (max(size, round(w * scale)), max(size, round(h * scale)))
    return np.asarray(Image.fromarray(pixels).resize(new, Image.Resampling.BICUBIC))


def short_side_to(pixels: np.ndarray, side: int) -> np.ndarray:
    """Resize (antialiased bicubic, aspect kept) so the short side is exactly ``side``."""
    h, w = _check_pixels(pixels)
    if min(h, w) == side:
        return pixels
    scale = side / min(h, w)
    new = (max(side, round(w * scale)), max(side, round(h * scale)))
    return np.asarray(Image.fromarray(pixels).resize(new, Image.Resampling.BICUBIC))


def resize_box(pixels: np.ndarray, box: BBox, size: int) -> np.ndarray:
    """Resample the region ``box`` of ``pixels`` to ``size`` x ``size``.

    Args:
        pixels: (H, W, 3) uint8 RGB.
        box: (left, top, right, bottom), may be fractional; must lie inside the image.
        size: output side in pixels.

    Returns:
        (size, size, 3) uint8. An integer box of exactly ``size`` px is copied bit-exactly.
    """
    left, top, right, bottom = box
    exact = right - left == size and bottom - top == size
    if exact and float(left).is_integer() and float(top).is_integer():
        y, x = int(top), int(left)
        return np.ascontiguousarray(pixels[y : y + size, x : x + size])
    img = Image.fromarray(pixels).resize(
        (size, size), Image.Resampling.BICUBIC, box=(left, top, right, bottom)
    )
    return np.asarray(img)


@dataclass(frozen=True)
class CelebaCrop:
    """Centred square of side ``ratio * W`` (DCGAN's 108 of 178 px), resized to ``size``.

    >>> CelebaCrop(64)(np.zeros((218, 178, 3), np.uint8)).shape
    (64, 64, 3)
    """

    size: int
    ratio: float = CELEBA_CROP_RATIO

    def box(self, h: int, w: int) -> BBox:
        """The crop box on an image of ``h`` x ``w`` (35, 55, 143, 163 on 178x218)."""
        side = self.ratio * w
        if side > h:
            raise _too_small(h, w, round(side), "CelebA centre crop (image is wider than tall)")
        return ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)

    def __call__(self, pixels: np.ndarray, bbox: BBox | None = None) -> np.ndarray:
        h, w = _check_pixels(pixels)
        return resize_box(pixels, self.box(h, w), self.size)


@dataclass(frozen=True)
class CenterCrop:
    """The centred ``size`` x ``size`` crop (offsets rounded down); see :func:`upscale_to`."""

    size: int
    upscale: bool = False

    def __call__(self, pixels: np.ndarray, bbox: BBox | None = None) -> np.ndarray:
        if self.upscale:
            pixels = upscale_to(pixels, self.size)
        h, w = _check_pixels(pixels)
        if h < self.size or w < self.size:
            raise _too_small(h, w, self.size, "centre crop")
        y, x = (h - self.size) // 2, (w - self.size) // 2
        return np.ascontiguousarray(pixels[y : y + self.size, x : x + self.size])


@dataclass(frozen=True)
class Resize:
    """The whole image resized to ``size`` x ``size`` (aspect ratio not kept)."""

    size: int

    def __call__(self, pixels: np.ndarray, bbox: BBox | None = None) -> np.ndarray:
        h, w = _check_pixels(pixels)
        return resize_box(pixels, (0, 0, w, h), self.size)


@dataclass(frozen=True)
class BBoxCrop:
    """The box ``bbox`` (clipped to the image; whole image if None) resized to ``size``."""

    size: int

    def __call__(self, pixels: np.ndarray, bbox: BBox | None = None) -> np.ndarray:
        h, w = _check_pixels(pixels)
        if bbox is None:
            return resize_box(pixels, (0, 0, w, h), self.size)
        left, top = max(0.0, float(bbox[0])), max(0.0, float(bbox[1]))
        right, bottom = min(float(w), float(bbox[2])), min(float(h), float(bbox[3]))
        if right - left < 1 or bottom - top < 1:
            raise InpaintError(f"bounding box {tuple(bbox)} is empty on a {w}x{h} image")
        return resize_box(pixels, (left, top, right, bottom), self.size)


@dataclass(frozen=True)
class Identity:
    """The ``prepare`` step of random-crop recipes: checks (or upscales to) ``min_size``."""

    min_size: int = 0
    upscale: bool = False
    short_side: int | None = None

    def __call__(self, pixels: np.ndarray, bbox: BBox | None = None) -> np.ndarray:
        if self.short_side is not None:
            pixels = short_side_to(pixels, self.short_side)
        if self.upscale:
            pixels = upscale_to(pixels, self.min_size)
        h, w = _check_pixels(pixels)
        if h < self.min_size or w < self.min_size:
            raise _too_small(h, w, self.min_size, "random crop")
        return pixels


@dataclass(frozen=True)
class RandomCrop:
    """A uniformly placed ``size`` x ``size`` crop; the offsets come from ``rng``."""

    size: int

    def __call__(self, pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        h, w = _check_pixels(pixels)
        if h < self.size or w < self.size:
            raise _too_small(h, w, self.size, "random crop")
        y = int(rng.integers(0, h - self.size + 1))
        x = int(rng.integers(0, w - self.size + 1))
        return np.ascontiguousarray(pixels[y : y + self.size, x : x + self.size])


@dataclass(frozen=True)
class RandomFlip:
    """Mirror left-right with probability ``p`` (one draw from ``rng`` per call)."""

    p: float = 0.5

    def __call__(self, pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.random() < self.p:
            return np.ascontiguousarray(pixels[:, ::-1])
        return pixels


Prepare = Callable[..., np.ndarray]
Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Recipe:
    """A deterministic ``prepare`` step (cacheable) then random ``augment`` steps.

    Attributes:
        name: one of :data:`TRANSFORMS`.
        size: side of the square output.
        prepare: ``prepare(pixels, bbox=None) -> pixels``, a pure function of the image.
        augment: ``step(pixels, rng) -> pixels`` applied in order.
    """

    name: str
    size: int
    prepare: Prepare
    augment: tuple[Augment, ...] = ()

    @property
    def is_random(self) -> bool:
        """Whether the output depends on the random generator."""
        return bool(self.augment)

    def finish(self, prepared: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Apply the augment steps to the output of ``prepare``."""
        for step in self.augment:
            prepared = step(prepared, rng)
        return prepared

    def __call__(
        self, pixels: np.ndarray, rng: np.random.Generator, *, bbox: BBox | None = None
    ) -> np.ndarray:
        """(H, W, 3) uint8 -> (size, size, 3) uint8."""
        return self.finish(self.prepare(pixels, bbox=bbox), rng)


def make_recipe(
    name: str, *, size: int, flip: bool = False, upscale: bool = False,
    short_side: int | None = None,
) -> Recipe:  # fmt: skip
    """Build the named recipe (see the module docstring).

    Args:
        name: one of :data:`TRANSFORMS`.
        size: output side in pixels (> 0).
        flip: add a random horizontal flip (p = 0.5) after the crop.
        upscale: ``random_crop``/``center_crop`` enlarge images smaller than ``size`` instead
            of raising InpaintError.
        short_side: ``random_crop`` only: first resize every image so its short side is this
            many pixels (>= ``size``), so crops show a whole-scene view at a chosen scale (and
            the RAM cache holds small images). None: crop at the image's own scale.

    Returns:
        The :class:`Recipe`.

    Raises:
        InpaintError: unknown name or non-positive size.
    """
    if size < 1:
        raise InpaintError(f"image size must be a positive number of pixels, got {size}")
    flips: tuple[Augment, ...] = (RandomFlip(),) if flip else ()
    if short_side is not None and (name != "random_crop" or short_side < size):
        raise InpaintError(
            f"short_side={short_side} needs transform random_crop and short_side >= {size}"
        )
    if name == "celeba_crop":
        return Recipe(name, size, CelebaCrop(size), flips)
    if name == "random_crop":
        prepare = Identity(size, upscale, short_side)
        return Recipe(name, size, prepare, (RandomCrop(size), *flips))
    if name == "center_crop":
        return Recipe(name, size, CenterCrop(size, upscale), flips)
    if name == "resize":
        return Recipe(name, size, Resize(size), flips)
    if name == "bbox":
        return Recipe(name, size, BBoxCrop(size), flips)
    known = ", ".join((*TRANSFORMS, "auto"))
    raise InpaintError(f"unknown transform {name!r}; known transforms: {known}")
