"""Reading image files: decode PNG, JPEG, WebP, TIFF and BMP (8 or 16 bit) upright.

Reading applies the EXIF orientation first (``PIL.ImageOps.exif_transpose`` semantics), so
pixels are upright and the kept EXIF says Orientation = 1. 16-bit colour PNG/TIFF files, which
PIL cannot hold, are decoded with OpenCV (:mod:`inpaintkit.decode16`). What a writer needs to
write the image back the same way travels in :class:`LoadedImage`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

from inpaintkit import quiet
from inpaintkit.codecs import orient_array, reset_exif_orientation
from inpaintkit.decode16 import decode_cv2, is_16bit_colour, source_is_grey
from inpaintkit.errors import ImageTooLargeError, InpaintError
from inpaintkit.file_encoding import SourceEncoding, read_encoding

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
_READ_FORMATS = ["PNG", "JPEG", "WEBP", "TIFF", "BMP", "DIB"]  # JPEG also opens MPO
_GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N")
# What PIL and its decoders raise on corrupt or unsupported data (never our own bugs).
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
)
_ORIENTATION = 0x0112


@dataclass(eq=False)
class LoadedImage:
    """An image read from disk, upright, with what is needed to write it back the same way.

    Attributes:
        pixels: (H, W, 3) uint8 or uint16 RGB, EXIF orientation already applied.
        alpha: (H, W) alpha of the same dtype as ``pixels``, or None.
        format: PIL format name of the source ("PNG", "JPEG", "WEBP", "TIFF", "BMP", ...).
        mode: the source's PIL mode ("L", "LA", "RGB", "RGBA", "P", "I;16", "1", ...).
        grey: the source had one colour channel (written back as grey).
        exif: the source's EXIF block with Orientation reset to 1, or None.
        icc_profile: the source's ICC profile, or None.
        path: where it was read from, or None for bytes.
        encoding: how the source was encoded (JPEG tables and subsampling, WebP quality, XMP,
            comment, DPI; see :mod:`inpaintkit.file_encoding`), or None.

    Build one from arrays with ``LoadedImage(pixels)``: the defaults describe a plain RGB PNG.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    format: str = "PNG"
    mode: str = "RGB"
    grey: bool = False
    exif: bytes | None = None
    icc_profile: bytes | None = None
    path: Path | None = None
    encoding: SourceEncoding | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(W, H) in pixels."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])

    @property
    def bit_depth(self) -> int:
        """8 or 16: bits per channel of ``pixels``."""
        return 16 if self.pixels.dtype == np.uint16 else 8


def is_image_file(path: Path) -> bool:
    """True for an existing, non-hidden file whose suffix (any case) is in IMAGE_SUFFIXES."""
    path = Path(path)
    suffix_ok = path.suffix.lower() in IMAGE_SUFFIXES
    return suffix_ok and not path.name.startswith(".") and path.is_file()


def list_images(
    root: str | Path, *, recursive: bool = True, limit: int | None = None
) -> list[Path]:
    """Image files under ``root`` (subfolders too when ``recursive``), sorted by path.

    Hidden files and folders (name starting with '.') are skipped; ``limit`` keeps the first N.

    Raises:
        InpaintError: ``root`` is missing, not a folder, or holds no image file.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise InpaintError(f"folder {str(root)!r} does not exist")
    if not root.is_dir():
        raise InpaintError(f"{str(root)!r} is not a folder of images")
    found = root.rglob("*") if recursive else root.glob("*")
    files = sorted(
        p
        for p in found
        if p.suffix.lower() in IMAGE_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files:
        kinds = " ".join(IMAGE_SUFFIXES)
        raise InpaintError(f"no image files ({kinds}) in folder {str(root)!r}")
    return files[:limit] if limit else files


def read_rgb8(source: str | Path | bytes) -> np.ndarray:
    """An image as (H, W, 3) uint8 RGB: EXIF orientation applied, alpha dropped, 16-bit
    values rounded to 8 bits (v / 257). Unreadable files raise InpaintError."""
    pixels = read_image(source).pixels
    if pixels.dtype == np.uint16:
        pixels = np.rint(pixels / 257.0).astype(np.uint8)
    return pixels


def read_image(source: str | Path | bytes) -> LoadedImage:
    """Read a PNG, JPEG, WebP, TIFF or BMP image (8 or 16 bit), upright, alpha split off.

    Grey sources (L, LA, 1-bit, I;16, I) are replicated to 3 channels with ``grey=True``;
    palette, CMYK and other colour modes become RGB(A). Mode ``I`` (32-bit integer) must hold
    values in 0..65535 and becomes uint16.

    Raises:
        InpaintError: missing file, a directory, an empty or unreadable file, a format other
            than the five above, an image without pixels.
    """
    data, path, name = _source_bytes(source)
    try:  # decoder chatter (libpng, libtiff, Pillow warnings) -> one line of ours at most
        with quiet.decoder_output_captured(f"'{name}'"):
            im = Image.open(BytesIO(data), formats=_READ_FORMATS)
            im.load()
            orientation = _orientation(im)
            if is_16bit_colour(im, data):
                colour, alpha = decode_cv2(data, name)
            else:
                colour, alpha = _pil_to_arrays(im, name)
            grey = colour.ndim == 2 or source_is_grey(im, data)
    except Image.DecompressionBombError as e:
        raise ImageTooLargeError(f"cannot read '{name}': {e}") from None
    except Image.UnidentifiedImageError:
        raise InpaintError(
            f"cannot read '{name}' as an image: not a PNG, JPEG, WebP, TIFF or BMP file"
        ) from None
    except _DECODE_ERRORS as e:
        reason = " ".join(str(e).split())
        raise InpaintError(f"cannot read '{name}' as an image: {reason}") from None
    if colour.shape[0] == 0 or colour.shape[1] == 0:
        raise InpaintError(f"cannot read '{name}' as an image: it has no pixels")
    if colour.ndim == 2:
        colour = np.repeat(colour[:, :, None], 3, axis=2)
    colour = orient_array(colour, orientation)
    alpha = None if alpha is None else orient_array(alpha, orientation)
    raw_exif = im.info.get("exif")
    return LoadedImage(
        pixels=colour,
        alpha=alpha,
        format=im.format or "PNG",
        mode=im.mode,
        grey=grey,
        exif=reset_exif_orientation(raw_exif) if raw_exif else None,
        icc_profile=im.info.get("icc_profile") or None,
        encoding=read_encoding(im, data),
        path=path,
    )


def _source_bytes(source: str | Path | bytes) -> tuple[bytes, Path | None, str]:
    """The file's bytes, its path (None for bytes) and a name for messages."""
    if isinstance(source, bytes | bytearray | memoryview):
        data, path, name = bytes(source), None, "<bytes>"
    else:
        path = Path(source).expanduser()
        name = str(path)
        if path.is_dir():
            raise InpaintError(f"'{name}' is a directory, not an image file; give a file path")
        if not path.exists():
            raise InpaintError(f"no such file: '{name}'; check the path")
        if not path.is_file():  # a FIFO or a device would block or never end
            raise InpaintError(f"'{name}' is not a regular file; give an image file")
        try:
            data = path.read_bytes()
        except OSError as e:
            raise InpaintError(f"cannot read '{name}': {e.strerror or e}") from None
    if not data:
        raise InpaintError(f"cannot read '{name}' as an image: the file is empty")
    return data, path, name


def _pil_to_arrays(im: Image.Image, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """PIL image -> (H, W) grey or (H, W, 3) RGB array, and (H, W) alpha or None."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        arr = np.asarray(im)
        if mode == "I" and arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise InpaintError(
                f"cannot read '{name}' as an image: 32-bit values outside 0..65535; "
                "save it as 8- or 16-bit"
            )
        return arr.astype(np.uint16), None
    if mode == "F":
        raise InpaintError(
            f"cannot read '{name}' as an image: float pixels are not supported; "
            "save it as 8- or 16-bit"
        )
    transparent = "transparency" in im.info or mode in ("LA", "La", "RGBA", "RGBa", "PA")
    transparent = transparent or (
        mode == "P" and im.palette is not None and im.palette.mode == "RGBA"
    )
    if mode in _GREY_MODES:
        arr = np.asarray(im.convert("LA" if transparent else "L"))
    else:
        arr = np.asarray(im.convert("RGBA" if transparent else "RGB"))
    if not transparent:
        return arr, None
    colour = arr[:, :, 0] if arr.shape[2] == 2 else arr[:, :, :3]
    return np.ascontiguousarray(colour), arr[:, :, -1].copy()


def _orientation(im: Image.Image) -> int:
    """The EXIF Orientation tag (1..8), or 1 when absent or unreadable."""
    try:
        return int(im.getexif().get(_ORIENTATION, 1))
    except (*_DECODE_ERRORS, TypeError):  # a broken EXIF block must not hide the pixels
        return 1
