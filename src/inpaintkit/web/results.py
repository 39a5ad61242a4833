"""Encoding what the web app sends back: results in the input's format, masks, previews, extras.

Results are written by :func:`inpaintkit.io.write_image` with ``like=`` the uploaded source,
so a JPEG comes back as a JPEG with its EXIF (orientation reset) and ICC profile, a PNG with
alpha keeps its alpha, a 16-bit PNG stays 16-bit: the same file the CLI would write. The file
goes to a private temporary folder the server names itself and is read back as bytes.
"""

from __future__ import annotations

import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from inpaintkit import io
from inpaintkit.convert import from_tensor
from inpaintkit.errors import InpaintError

#: accepted ``format=`` values -> PIL format name.
FORMATS = {
    "png": "PNG",
    "jpeg": "JPEG",
    "jpg": "JPEG",
    "webp": "WEBP",
    "tiff": "TIFF",
    "tif": "TIFF",
    "bmp": "BMP",
}
MEDIA_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
}
SUFFIXES = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "TIFF": ".tif", "BMP": ".bmp"}


def check_format(requested: str) -> str:
    """A ``format=`` value (png, jpeg, jpg, webp, tiff, tif, bmp) -> PIL format name.

    Raises:
        InpaintError: an unknown format.
    """
    try:
        return FORMATS[requested.lower().lstrip(".")]
    except KeyError:
        known = ", ".join(sorted(set(FORMATS)))
        raise InpaintError(f"unknown format {requested!r}; use one of {known}") from None


def output_format(source: io.LoadedImage, requested: str | None) -> str:
    """The PIL format to send: ``requested`` (see :func:`check_format`) or the input's own."""
    if requested:
        return check_format(requested)
    fmt = {"MPO": "JPEG", "DIB": "BMP"}.get(source.format, source.format)
    return fmt if fmt in SUFFIXES else "PNG"


def encode_image(pixels: np.ndarray, source: io.LoadedImage, fmt: str) -> bytes:
    """(H, W, 3) uint8/uint16 pixels as a ``fmt`` file written like ``source`` (alpha, EXIF)."""
    with tempfile.TemporaryDirectory(prefix="inpaintkit-web-") as tmp:
        path = io.write_image(Path(tmp) / "result", pixels, like=source, format=fmt)
        return path.read_bytes()


def png_bytes(pixels: np.ndarray, alpha: np.ndarray | None = None) -> bytes:
    """(H, W, 3) or (H, W) uint8 (+ (H, W) uint8 alpha) -> PNG bytes."""
    arr = pixels if alpha is None else np.dstack([pixels, alpha])
    buf = BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, "PNG")
    return buf.getvalue()


def to_uint8(arr: np.ndarray) -> np.ndarray:
    """uint16 -> uint8 (``round(v / 257)``); uint8 unchanged."""
    return arr if arr.dtype == np.uint8 else np.rint(arr / 257.0).astype(np.uint8)


def preview_png(source: io.LoadedImage) -> bytes:
    """The upright 8-bit RGB(A) PNG a browser shows: the pixels the server works on."""
    alpha = None if source.alpha is None else to_uint8(source.alpha)
    return png_bytes(to_uint8(source.pixels), alpha)


def mask_png(hole: np.ndarray) -> bytes:
    """(H, W) bool, True = hole -> 8-bit grey PNG, 255 = hole, 0 = known."""
    return png_bytes(np.where(hole, 255, 0).astype(np.uint8))


def is_image_extra(value: Any) -> bool:
    """True for an extra :func:`extra_image` can show (checks shapes only, converts nothing)."""
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        shape = tuple(value.shape)
        return (len(shape) == 4 and shape[0] >= 1 and shape[1] == 3) or (
            len(shape) == 3 and shape[0] == 3
        )
    return (
        isinstance(value, np.ndarray)
        and value.ndim == 3
        and value.shape[2] == 3
        and value.dtype in (np.uint8, np.uint16)
    )


def extra_image(value: Any) -> np.ndarray:
    """An image extra -> (H, W, 3) uint8 (see :func:`is_image_extra`).

    Images are (B, 3, H, W) or (3, H, W) float tensors in [-1, 1] (the first of the batch is
    shown) or (H, W, 3) uint8/uint16 arrays.
    """
    if isinstance(value, torch.Tensor):
        t = value.detach()[:1] if value.dim() == 4 else value.detach()
        return from_tensor(t.float().nan_to_num(0.0).clamp(-1, 1))
    return to_uint8(value)


def image_extra_names(extras: dict[str, Any]) -> list[str]:
    """Names of the extras of a result that are images."""
    return [str(name) for name, value in extras.items() if is_image_extra(value)]


def scalar_extras(extras: dict[str, Any]) -> dict[str, list[float]]:
    """Small numeric extras (at most 16 numbers, e.g. a final search loss) as float lists."""
    out = {}
    for name, value in extras.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().to(torch.float64).numpy()
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[str(name)] = [float(value)]
        elif (
            isinstance(value, np.ndarray)
            and 0 < value.size <= 16
            and np.issubdtype(value.dtype, np.number)
        ):
            out[str(name)] = [float(v) for v in value.astype(np.float64).ravel()]
    return out
