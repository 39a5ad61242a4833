"""Reading what a caller gives as an image: a path, bytes, a numpy array, a PIL image or an
already loaded :class:`~inpaintkit.io.LoadedImage`, with the pixel and memory limits checked
from the file's header before anything is decoded (:mod:`inpaintkit.limits`).

:func:`inpaintkit.api.load_image` is this module's :func:`load_image`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from inpaintkit import headers, io, limits
from inpaintkit.errors import InpaintError

__all__ = ["ImageLike", "check_header", "check_not_same_file", "load_image"]

ImageLike = str | Path | bytes | np.ndarray | io.LoadedImage


def load_image(
    image: ImageLike, *, max_image_pixels: int | None = None, kind: str | None = None
) -> io.LoadedImage:
    """Read ``image`` (path, bytes, array or LoadedImage) into a :class:`io.LoadedImage`.

    Arrays may be (H, W) grey or (H, W, 3) RGB or (H, W, 4) RGBA, uint8 or uint16. A file's
    size is read from its header and checked against the pixel limit and the memory estimate
    of a method of ``kind`` BEFORE it is decoded (:mod:`inpaintkit.limits`).

    Raises:
        InpaintError: unreadable input; ImageTooLargeError (a subclass) over the limits.
    """
    if isinstance(image, io.LoadedImage):
        return image
    if isinstance(image, str | Path | bytes):
        check_header(image, max_image_pixels=max_image_pixels, kind=kind, what="the image")
        with limits.memory_guard("decoding the image"):
            return io.read_image(image)
    if isinstance(image, np.ndarray):
        return _from_array(image)
    try:  # PIL images without importing PIL at module import
        from PIL import Image

        if isinstance(image, Image.Image):
            return _from_array(np.asarray(image.convert("RGBA" if "A" in image.mode else "RGB")))
    except ImportError:  # pragma: no cover
        pass
    raise InpaintError(f"cannot use an object of type {type(image).__name__} as an image")


def _from_array(a: np.ndarray) -> io.LoadedImage:
    if a.dtype not in (np.uint8, np.uint16):
        raise InpaintError(f"image arrays must be uint8 or uint16, got {a.dtype}")
    grey = a.ndim == 2
    if grey:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise InpaintError(f"image arrays must be (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    alpha = a[:, :, 3].copy() if a.shape[2] == 4 else None
    return io.LoadedImage(
        pixels=np.ascontiguousarray(a[:, :, :3]),
        alpha=alpha,
        format="PNG",
        mode="L" if grey else ("RGBA" if alpha is not None else "RGB"),
        grey=grey,
        exif=None,
        icc_profile=None,
        path=None,
    )


def check_header(
    source: str | Path | bytes,
    *,
    max_image_pixels: int | None = None,
    kind: str | None = None,
    what: str = "the image",
) -> None:
    """Refuse a file whose header declares more pixels than the limits allow (no decoding),
    a file too large for any image within the limit, and anything but a regular file."""
    name = f"{what} '{source}'" if isinstance(source, str | Path) else what
    if isinstance(source, str | Path):
        path = Path(source).expanduser()
        if path.exists() and not path.is_file() and not path.is_dir():
            raise InpaintError(f"{name} is not a regular file; give an image file")
        if path.is_file():
            limits.check_file_bytes(path.stat().st_size, max_pixels=max_image_pixels, name=name)
    size = headers.image_size(source)
    if size is not None:
        limits.check_image_size(*size, max_pixels=max_image_pixels, kind=kind, name=name)


def check_not_same_file(image: Any, mask: Any) -> None:
    """A file is never its own mask."""
    if isinstance(image, io.LoadedImage):
        image = image.path
    if isinstance(image, str | Path) and isinstance(mask, str | Path):
        a, b = Path(image).expanduser(), Path(mask).expanduser()
        if a.exists() and b.exists() and a.resolve() == b.resolve():
            raise InpaintError(f"the mask '{mask}' is the image itself; give the mask file")
