"""Image and mask files at the library's edge: read, write, convert.

Edge arrays: pixels (H, W, 3) uint8 or uint16 RGB; alpha (H, W) of the same dtype; masks
(H, W) bool, True = hole. Tensors (``to_tensor`` and friends, re-exported from
:mod:`inpaintkit.convert`): image (B, 3, H, W) float32 in [-1, 1], mask (B, 1, H, W), 1 = hole.

Reading applies the EXIF orientation first (``PIL.ImageOps.exif_transpose`` semantics), so
pixels are upright and the kept EXIF says Orientation = 1. 16-bit colour PNG/TIFF files, which
PIL cannot hold, are decoded with OpenCV. Writing keeps the source's format, EXIF, ICC profile,
alpha and grey-ness, and is atomic (temporary file + ``os.replace``); nothing is overwritten
unless asked.

Mask rule (files and arrays): a pixel is a hole where its value is >= 128 in 8-bit, >= 32768 in
16-bit, nonzero in 1-bit, >= 0.5 in float. Colour masks use the max over R, G, B. A mask with an
alpha channel has its hole where it is opaque AND bright (alpha and colour both at least half):
a transparent pixel is never a hole, whatever its colour. If the colour is the same everywhere
but the alpha varies (e.g. black strokes on a transparent layer), the alpha alone decides.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from inpaintkit import atomic, quiet
from inpaintkit.codecs import encode_png16, orient_array, reset_exif_orientation
from inpaintkit.convert import from_tensor, mask_to_tensor, tensor_to_mask, to_tensor
from inpaintkit.decode16 import decode_cv2, is_16bit_colour, source_is_grey
from inpaintkit.errors import ImageTooLargeError, InpaintError
from inpaintkit.file_encoding import SourceEncoding, read_encoding, save_options

__all__ = [
    "IMAGE_SUFFIXES",
    "LoadedImage",
    "dilate_mask",
    "from_tensor",
    "is_image_file",
    "list_images",
    "mask_to_tensor",
    "read_image",
    "read_mask",
    "read_rgb8",
    "tensor_to_mask",
    "to_tensor",
    "write_image",
    "write_mask",
]

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
_FORMAT_OF_SUFFIX = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
_FORMAT_OF_SUFFIX |= {".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}
_SUFFIX_OF_FORMAT = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "TIFF": ".tif", "BMP": ".bmp"}
_FORMAT_ALIASES = {"JPG": "JPEG", "MPO": "JPEG", "TIF": "TIFF", "DIB": "BMP"}
_READ_FORMATS = ["PNG", "JPEG", "WEBP", "TIFF", "BMP", "DIB"]  # JPEG also opens MPO
_ALPHA_FORMATS = ("PNG", "TIFF", "WEBP")  # JPEG and BMP outputs drop alpha
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


# ----------------------------------------------------------------------------- reading


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


# ----------------------------------------------------------------------------- masks


def read_mask(
    source: str | Path | bytes | np.ndarray,
    *,
    size: tuple[int, int] | None = None,
    resize: bool = False,
    dilate: int = 0,
) -> np.ndarray:
    """Read a mask file or array -> (H, W) bool, True = hole (rule in the module docstring).

    Args:
        source: a file (any format ``read_image`` reads; EXIF orientation applied), its bytes,
            or an array: (H, W) bool, uint8 (hole >= 128), uint16 (>= 32768), float in [0, 1]
            (>= 0.5), or (H, W, 3|4) uint8/uint16 read like a colour file.
        size: (W, H) of the image the mask belongs to; None skips the check.
        resize: resize a mask of another size to ``size`` (nearest neighbour) instead of failing.
        dilate: grow holes by this many pixels (disk), 0 for none.

    Raises:
        InpaintError: unreadable source, bad array values, size mismatch without ``resize``.
    """
    if isinstance(source, np.ndarray):
        hole = _mask_from_array(source)
    else:
        img = read_image(source)
        hole = _hole(img.pixels.max(axis=2), img.alpha)
    if size is not None and (hole.shape[1], hole.shape[0]) != tuple(size):
        if not resize:
            raise InpaintError(
                f"mask is {hole.shape[1]}x{hole.shape[0]} but the image is {size[0]}x{size[1]}; "
                "pass --resize-mask to resize it"
            )
        hole = _resize_nearest(hole, size)
    return dilate_mask(hole, dilate) if dilate else hole


def _hole(colour: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """(H, W) uint8/uint16 values (+ alpha) -> (H, W) bool: opaque and bright (module docstring).

    A flat colour carries nothing, so then the alpha alone decides.
    """

    def half(a: np.ndarray) -> np.ndarray:
        return a >= (32768 if a.dtype == np.uint16 else 128)

    if alpha is None:
        return half(colour)
    if colour.min() == colour.max() and alpha.min() != alpha.max():
        return half(alpha)
    return half(colour) & half(alpha)


def _mask_from_array(arr: np.ndarray) -> np.ndarray:
    """An (H, W[, C]) mask array -> (H, W) bool, True = hole."""
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    integer = arr.dtype in (np.uint8, np.uint16)
    if arr.ndim == 3 and arr.shape[2] in (3, 4) and integer:
        return _hole(arr[:, :, :3].max(axis=2), arr[:, :, 3] if arr.shape[2] == 4 else None)
    if arr.ndim != 2:
        raise InpaintError(f"a mask array must be (H, W), got shape {arr.shape}")
    if arr.size == 0:
        raise InpaintError(f"the mask has no pixels (shape {arr.shape}); give a non-empty mask")
    if arr.dtype == bool:
        return arr.copy()
    if integer:
        return _hole(arr, None)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
            raise InpaintError("float mask values must lie in [0, 1]; hole where >= 0.5")
        return arr >= 0.5
    raise InpaintError(f"a mask array must be bool, uint8, uint16 or float, got {arr.dtype}")


def _resize_nearest(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) bool -> (H, W) bool, nearest neighbour on pixel centres (PIL's NEAREST)."""
    w, h = int(size[0]), int(size[1])
    rows = np.minimum(((np.arange(h) + 0.5) * mask.shape[0] / h).astype(np.intp), mask.shape[0] - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * mask.shape[1] / w).astype(np.intp), mask.shape[1] - 1)
    return mask[rows[:, None], cols[None, :]]


def dilate_mask(mask: np.ndarray, radius: int) -> np.ndarray:
    """Grow the holes of an (H, W) bool mask by a disk of ``radius`` pixels.

    A pixel becomes a hole when a hole lies within Euclidean distance ``radius`` of it, so one
    hole pixel grows into 1, 5, 13, 29, 49 pixels for radius 0..4 (away from the border).

    Raises:
        InpaintError: negative radius.
    """
    if radius < 0:
        raise InpaintError(f"dilate radius must be >= 0, got {radius}")
    if radius == 0:
        return mask.astype(bool, copy=True)
    # O(pixels) for any radius: exact Euclidean distance to the nearest hole (0 = hole).
    dist = cv2.distanceTransform(
        (~mask.astype(bool)).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE
    )
    return np.rint(dist.astype(np.float64) ** 2) <= radius * radius


# ----------------------------------------------------------------------------- writing


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
    hole = _mask_from_array(np.asarray(mask))
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
