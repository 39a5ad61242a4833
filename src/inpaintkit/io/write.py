"""Writing image and mask files: atomic, in the source's format, with its metadata.

Writing keeps the source's format, EXIF, ICC profile, alpha and grey-ness (from the
:class:`~inpaintkit.io.read.LoadedImage` it was read as), and is atomic (temporary file +
``os.replace``, :mod:`inpaintkit.atomic`); nothing is overwritten unless asked.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from inpaintkit import atomic
from inpaintkit.codecs import encode_png16
from inpaintkit.errors import InpaintError
from inpaintkit.file_encoding import save_options
from inpaintkit.io.mask_files import mask_from_array
from inpaintkit.io.read import IMAGE_SUFFIXES, LoadedImage

_FORMAT_OF_SUFFIX = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
_FORMAT_OF_SUFFIX |= {".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}
_SUFFIX_OF_FORMAT = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "TIFF": ".tif", "BMP": ".bmp"}
_FORMAT_ALIASES = {"JPG": "JPEG", "MPO": "JPEG", "TIF": "TIFF", "DIB": "BMP"}
_ALPHA_FORMATS = ("PNG", "TIFF", "WEBP")  # JPEG and BMP outputs drop alpha


def write_image(
    path: str | Path,
    pixels: np.ndarray,
    *,
    like: LoadedImage | None = None,
    format: str | None = None,
    quality: int | None = None,
    overwrite: bool = False,
    alpha: np.ndarray | None = None,
) -> Path:
    """Write (H, W, 3) uint8/uint16 RGB ``pixels`` atomically; returns the path written.

    Format: ``format`` if given, else the path's suffix, else (no suffix) ``like.format`` with
    its suffix appended. With ``like``: its EXIF (Orientation 1) and ICC profile are kept where
    the format holds them (EXIF: JPEG, PNG, WebP; ICC: all but BMP, and only when the profile's
    colour space matches the channels written); a grey source is written as one channel
    (channel 0 if R == G == B everywhere, else ITU-R 601 luma, rounded); its alpha is re-attached
    unless ``alpha`` is given. 16-bit pixels stay 16-bit in PNG and TIFF and are rounded to
    8 bits (``round(v / 257)``) for JPEG, WebP and BMP. JPEG and BMP drop alpha. 16-bit colour
    TIFF is written by OpenCV, without EXIF or ICC. ``quality`` (1..100) sets JPEG/WebP
    quality; None keeps the source's (a JPEG's own tables and chroma subsampling, a WebP's
    estimated quality or losslessness; 95 without a source). XMP, the JPEG comment and the DPI
    of ``like`` are kept where the format holds them (:mod:`inpaintkit.file_encoding`).

    Raises:
        InpaintError: unsupported suffix or format, the file exists (or is ``like.path``) and
            ``overwrite`` is False, bad ``quality``, the file cannot be written.
        ValueError: ``pixels`` or ``alpha`` of the wrong shape or dtype.
    """
    _check_pixels(pixels)
    target, fmt = _resolve_target(Path(path), like.format if like else None, format)
    target = atomic.resolve_output(target)  # `sub/../in.png` is `in.png`: check that one
    _check_target(target, like.path if like else None, overwrite)
    if quality is not None and not 1 <= quality <= 100:
        raise InpaintError(f"quality must be 1..100, got {quality}")
    alpha = alpha if alpha is not None else (like.alpha if like is not None else None)
    colour = _to_grey(pixels) if like is not None and like.grey else pixels
    if alpha is not None:
        alpha = _match_alpha(alpha, pixels)
    exif = like.exif if like is not None else None
    icc = like.icc_profile if like is not None else None
    options = save_options(like.encoding if like is not None else None, fmt, quality)
    data = _encode(colour, alpha, fmt, options=options, exif=exif, icc=icc)
    _atomic_write(target, data)
    return target


def copy_source(path: str | Path, like: LoadedImage, *, overwrite: bool = False) -> Path | None:
    """Copy ``like``'s file byte for byte to ``path`` when that writes the same format (an
    unchanged image keeps every byte); None when it cannot (no source file, another format).

    Raises:
        InpaintError: as :func:`write_image` for an existing target.
    """
    if like.path is None or not Path(like.path).is_file():
        return None
    target, fmt = _resolve_target(Path(path), like.format, None)
    if fmt != _FORMAT_ALIASES.get(like.format, like.format):
        return None
    target = atomic.resolve_output(target)
    _check_target(target, like.path, overwrite)
    _atomic_write(target, Path(like.path).read_bytes())
    return target


def write_mask(path: str | Path, mask: np.ndarray, *, overwrite: bool = False) -> Path:
    """Write an (H, W) mask (True = hole) as 8-bit grey, 255 = hole, 0 = known.

    The format follows the suffix (PNG when there is none). Any array ``read_mask`` accepts is
    accepted. Returns the path written.

    Raises:
        InpaintError: unsupported suffix, the file exists and ``overwrite`` is False.
    """
    hole = mask_from_array(np.asarray(mask))
    target, fmt = _resolve_target(Path(path), "PNG", None)
    target = atomic.resolve_output(target)
    _check_target(target, None, overwrite)
    grey = np.where(hole, 255, 0).astype(np.uint8)
    _atomic_write(target, _encode(grey, None, fmt, options={"quality": 100}, exif=None, icc=None))
    return target


def _check_pixels(pixels: np.ndarray) -> None:
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"expected (H, W, 3) uint8/uint16 pixels, got {pixels.shape} {pixels.dtype}"
        )


def _resolve_target(path: Path, like_format: str | None, format: str | None) -> tuple[Path, str]:
    """(path to write, PIL format name); a missing suffix is appended."""
    suffix = path.suffix.lower()
    if format is not None:
        fmt = _FORMAT_ALIASES.get(format.upper(), format.upper())
        if fmt not in _SUFFIX_OF_FORMAT:
            raise InpaintError(
                f"cannot write format {format!r}; use one of PNG, JPEG, WEBP, TIFF, BMP"
            )
    elif suffix in _FORMAT_OF_SUFFIX:
        fmt = _FORMAT_OF_SUFFIX[suffix]
    elif not suffix and like_format is not None:
        fmt = _FORMAT_ALIASES.get(like_format, like_format)
        fmt = fmt if fmt in _SUFFIX_OF_FORMAT else "PNG"
    else:
        known = " ".join(IMAGE_SUFFIXES)
        raise InpaintError(f"cannot write '{path.name}': unsupported suffix; use one of {known}")
    return (path if suffix else path.with_suffix(_SUFFIX_OF_FORMAT[fmt])), fmt


def _check_target(path: Path, source: Path | None, overwrite: bool) -> None:
    if path.is_dir():
        raise InpaintError(f"'{path}' is a directory; give a file path to write")
    if overwrite:
        return
    if source is not None and path.exists() and path.resolve() == Path(source).resolve():
        raise InpaintError(
            f"refusing to write over the input '{path}'; pass --overwrite to allow it"
        )
    if path.exists():
        raise InpaintError(f"'{path}' already exists; pass --overwrite to replace it")


def _to_grey(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (H, W): channel 0 if R == G == B everywhere, else rounded ITU-R 601 luma."""
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    if np.array_equal(r, g) and np.array_equal(g, b):
        return r.copy()
    luma = 0.299 * r.astype(np.float64) + 0.587 * g + 0.114 * b
    return np.clip(np.rint(luma), 0, np.iinfo(pixels.dtype).max).astype(pixels.dtype)


def _match_alpha(alpha: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """(H, W) uint8/uint16 alpha -> the dtype of ``pixels`` (exact 257 scaling)."""
    if alpha.shape != pixels.shape[:2] or alpha.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"expected {pixels.shape[:2]} uint8/uint16 alpha, got {alpha.shape} {alpha.dtype}"
        )
    if alpha.dtype == pixels.dtype:
        return alpha
    return alpha.astype(np.uint16) * 257 if pixels.dtype == np.uint16 else _to_8bit(alpha)


def _to_8bit(arr: np.ndarray) -> np.ndarray:
    return arr if arr.dtype == np.uint8 else np.rint(arr / 257.0).astype(np.uint8)


def _icc_fits(icc: bytes | None, channels: int) -> bool:
    """True when the profile's colour space (header bytes 16..20) suits 1-2 or 3-4 channels."""
    if not icc or len(icc) < 20:
        return False
    return icc[16:20] == (b"GRAY" if channels <= 2 else b"RGB ")


def _encode(
    colour: np.ndarray,
    alpha: np.ndarray | None,
    fmt: str,
    *,
    options: dict[str, object],
    exif: bytes | None,
    icc: bytes | None,
) -> bytes:
    """(H, W) grey or (H, W, 3) RGB (+ (H, W) alpha) -> the bytes of a ``fmt`` file."""
    if fmt not in ("PNG", "TIFF"):
        colour, alpha = _to_8bit(colour), None if alpha is None else _to_8bit(alpha)
    arr = colour if alpha is None or fmt not in _ALPHA_FORMATS else np.dstack([colour, alpha])
    grey_alpha = arr.ndim == 3 and arr.shape[2] == 2
    if grey_alpha and (fmt == "WEBP" or (fmt == "TIFF" and arr.dtype == np.uint16)):
        arr = arr[:, :, [0, 0, 0, 1]]  # grey + alpha that this writer cannot hold -> RGBA
    elif arr.ndim == 2 and fmt == "WEBP":
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    icc = icc if _icc_fits(icc, channels) else None
    if arr.dtype == np.uint16 and fmt == "PNG":
        return encode_png16(arr, icc=icc, exif=exif)
    if arr.dtype == np.uint16 and channels > 1:  # 16-bit colour TIFF: PIL cannot hold it
        ok, buf = cv2.imencode(".tiff", np.ascontiguousarray(arr[:, :, [2, 1, 0, 3][:channels]]))
        if not ok:
            raise InpaintError("cannot encode the image as 16-bit TIFF; write PNG instead")
        return buf.tobytes()
    options = dict(options)  # Pillow save keywords (quality, tables, XMP, ...)
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] < 3):
        options.pop("subsampling", None)  # grey JPEG has no chroma
    if icc and fmt != "BMP":
        options["icc_profile"] = icc
    if exif and fmt in ("JPEG", "PNG", "WEBP"):
        options["exif"] = exif
    buf = BytesIO()
    try:
        Image.fromarray(arr).save(buf, fmt, **options)
    except (OSError, ValueError) as e:
        raise InpaintError(f"cannot encode the image as {fmt}: {e}") from None
    return buf.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` beside ``path``, fsync it, rename it onto ``path`` (see atomic.py)."""
    atomic.write_bytes(path, data)
