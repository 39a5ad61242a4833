"""Resolve a ``--data`` argument into a dataset of (3, S, S) float32 images in [-1, 1].

Spec grammar (several specs joined with ``+`` or ``,`` are concatenated in order):

- ``/path/to/folder``: layout auto-detected (:func:`~inpaintkit.data.layouts.detect_layout`):
  CelebA, SVHN, Stanford Cars, Places365, DTD or Paris StreetView by their marker files, else a
  generic image folder (recursive; ``train/``, ``val/``, ``test/`` subfolders pick the split).
- ``celeba:/path``, ``svhn:/path`` (folder or ``.mat`` file), ``cars:/path``,
  ``places365:/path``, ``dtd:/path``, ``paris:/path``, ``folder:/path``: that layout's reader.
- ``housenumbers``: synthetic SVHN-like digits; ``housenumbers:/photos`` draws walls from photos.

``transform="auto"`` picks the papers' recipe for the layout (see :data:`AUTO_TRANSFORMS`) and
enlarges photos smaller than a random/centre crop (bicubic, short side to ``size``); an explicit
``random_crop``/``center_crop`` raises InpaintError on them instead (unless ``upscale=True``).
Random horizontal flips are added for the train split, except for digits.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from inpaintkit.data.base import SeededConcat, SeededDataset, check_seed
from inpaintkit.data.folder import ImageFolder, check_folder
from inpaintkit.data.house_numbers import HouseNumbers
from inpaintkit.data.layouts import READERS, check_split, detect_layout
from inpaintkit.data.svhn import ArrayImages, load_svhn
from inpaintkit.data.transforms import TRANSFORMS, make_recipe
from inpaintkit.errors import InpaintError

SCHEMES: tuple[str, ...] = (*READERS, "svhn", "housenumbers")

AUTO_TRANSFORMS: dict[str, tuple[str, str]] = {
    # layout: (train recipe, evaluation recipe)
    "celeba": ("celeba_crop", "celeba_crop"),  # DCGAN's 108 px centre crop, resized
    "cars": ("bbox", "bbox"),  # Yeh et al.: bounding-box crop resized to a square
    "svhn": ("resize", "resize"),  # 32x32 crops resized (Yeh: to 64x64)
    "folder": ("random_crop", "center_crop"),  # natural photos: DeepFill, Song
    "places365": ("random_crop", "center_crop"),
    "dtd": ("random_crop", "center_crop"),
    "paris": ("random_crop", "center_crop"),
}
_DIGITS = ("svhn", "housenumbers")  # never flipped
_OPTIONS = {"length", "fonts", "fold", "check", "cache", "upscale", "short_side"}


def split_spec(spec: str) -> list[str]:
    """The parts of a ``--data`` spec (split on ``+`` and ``,`` unless it is an existing path)."""
    spec = spec.strip()
    if not spec:
        raise InpaintError("--data is empty; give a folder, e.g. --data celeba:/data/celeba")
    if Path(spec).expanduser().exists():
        return [spec]
    parts = [p.strip() for p in re.split(r"[+,]", spec)]
    if not all(parts):
        raise InpaintError(f"--data {spec!r} has an empty part between '+' or ','")
    return parts


def parse_part(part: str) -> tuple[str, str | None]:
    """``(scheme, path)`` of one spec part; scheme ``auto`` for a plain path."""
    if part.lower() == "housenumbers":
        return "housenumbers", None
    m = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]+):(.*)", part)
    if m is None or Path(part).expanduser().exists():
        return "auto", part
    scheme, path = m[1].lower(), m[2].strip()
    if scheme not in SCHEMES:
        raise InpaintError(f"unknown data source {m[1]!r}; known: {', '.join(SCHEMES)}")
    if not path and scheme != "housenumbers":
        raise InpaintError(f"data source {scheme!r} needs a path, e.g. {scheme}:/data/{scheme}")
    return scheme, path or None


def _resolve_auto(path: str) -> str:
    p = Path(path).expanduser()
    if p.is_file() and p.suffix.lower() == ".mat":
        return "svhn"
    if p.is_file():
        raise InpaintError(f"--data {path!r} is a file; give the folder that holds the images")
    return detect_layout(check_folder(p))


def _recipe_name(layout: str, transform: str, split: str) -> str:
    if transform != "auto":
        if transform not in TRANSFORMS:
            known = ", ".join(("auto", *TRANSFORMS))
            raise InpaintError(f"unknown transform {transform!r}; known transforms: {known}")
        return transform
    train, evaluation = AUTO_TRANSFORMS[layout]
    return train if split == "train" else evaluation


def _open_part(
    part: str, *, size: int, transform: str, split: str, seed: int, stream: int, opts: dict
) -> SeededDataset:
    scheme, path = parse_part(part)
    if scheme == "auto":
        scheme = _resolve_auto(path or "")
    cache = bool(opts.get("cache", False))
    if scheme == "housenumbers":
        if transform not in ("auto", "resize"):
            raise InpaintError("house numbers are drawn at --size; use transform 'auto'")
        return HouseNumbers(
            size=size, split=split, length=opts.get("length"), seed=seed, photos=path,
            fonts=opts.get("fonts"), stream=stream, cache=cache,
        )  # fmt: skip
    flip = split == "train" and scheme not in _DIGITS
    upscale = bool(opts.get("upscale", transform == "auto"))
    name = _recipe_name(scheme, transform, split)
    short = opts.get("short_side")
    if short is not None and name != "random_crop":
        short = None  # evaluation twins (center_crop) and other layouts ignore it
    recipe = make_recipe(
        name, size=size, flip=flip, upscale=upscale,
        short_side=None if short is None else int(short),
    )  # fmt: skip
    if scheme == "svhn":
        images, labels = load_svhn(path or "", split)
        return ArrayImages(
            images, recipe=recipe, labels=labels, seed=seed, stream=stream, cache=cache,
            name=part,
        )  # fmt: skip
    extra = {"fold": int(opts["fold"])} if scheme == "dtd" and "fold" in opts else {}
    listing = READERS[scheme](path or "", split, **extra)
    return ImageFolder(
        listing.files, recipe=recipe, bboxes=listing.bboxes, seed=seed, stream=stream,
        cache=cache, name=part,
    )  # fmt: skip


def open_dataset(
    spec: str,
    *,
    size: int,
    transform: str = "auto",
    split: str = "train",
    seed: int = 0,
    **kw: Any,
) -> SeededDataset:
    """Open the dataset(s) named by a ``--data`` spec (see the module docstring).

    Args:
        spec: folder path, ``scheme:/path``, ``housenumbers``, or several joined with ``+``/``,``.
        size: side S of the square items.
        transform: ``auto`` or one of ``celeba_crop``, ``random_crop``, ``center_crop``,
            ``resize``, ``bbox``.
        split: ``train``, ``val`` or ``test`` (official splits where the layout has them).
        seed: seeds random crops and flips (per item and epoch) and the house numbers.
        **kw: ``cache`` (bool, keep prepared uint8 images in RAM), ``check`` (bool, default
            True: load item 0 of each part now so bad data fails early), ``length`` and
            ``fonts`` (house numbers), ``fold`` (DTD, 1-10), ``upscale`` (bool: enlarge
            images smaller than a ``random_crop``/``center_crop`` instead of raising; default
            True for ``transform="auto"``, False for an explicit transform), ``short_side``
            (int: random crops are taken after resizing the short side to this; e.g. 160
            for 128 crops that show most of a scene).

    Returns:
        A :class:`~inpaintkit.data.base.SeededDataset` whose items are (3, S, S) float32 in
        [-1, 1]; call ``set_epoch`` each epoch (see ``inpaintkit.data.base``).

    Raises:
        InpaintError: unknown scheme, option or transform; missing or empty folder; no readable
            image; images smaller than the crop.
    """
    unknown = sorted(set(kw) - _OPTIONS)
    if unknown:
        raise InpaintError(f"unknown data option(s) {unknown}; known: {sorted(_OPTIONS)}")
    if not isinstance(size, int) or size < 1:
        raise InpaintError(f"--size must be a positive number of pixels, got {size!r}")
    seed, split = check_seed(seed), check_split(split)
    parts = [
        _open_part(p, size=size, transform=transform, split=split, seed=seed, stream=k, opts=kw)
        for k, p in enumerate(split_spec(spec))
    ]
    if kw.get("check", True):
        for p in parts:
            p.pixels(0)
    return parts[0] if len(parts) == 1 else SeededConcat(parts)


def is_dataset_spec(data: str | Path) -> bool:
    """True for a ``--data`` spec with a scheme (``celeba:/x``, ``housenumbers``), not a folder."""
    text = str(data)
    return not Path(text).is_dir() and text.split(":", 1)[0].split("+")[0] in SCHEMES
