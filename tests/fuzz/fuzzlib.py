"""Seed files of every supported format and depth, and seeded mutations of them.

Everything is made here, in memory, from numpy arrays: no file is downloaded or stored. A case
is ``(seed name, mutation name, case number)``: :func:`make_case` rebuilds its bytes exactly
from those, so any failure can be replayed alone.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from inpaintkit.codecs import encode_png16

W, H = 32, 24
SUFFIX = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "TIFF": ".tif", "BMP": ".bmp"}


def _rgb(seed: int = 0) -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W]
    noise = np.random.default_rng(seed).integers(0, 40, (H, W, 3))
    base = np.stack([x * 7, y * 9, (x + y) * 4], axis=2)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _pil(arr: np.ndarray, fmt: str, mode: str | None = None, **kw) -> bytes:
    im = Image.fromarray(arr)
    if mode:
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    return struct.pack(">I", len(payload)) + kind + payload + crc


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    return exif.tobytes()


def make_seeds() -> dict[str, tuple[str, bytes]]:
    """~20 small files: name -> (PIL format, bytes); every format, depth and channel layout."""
    rgb = _rgb()
    rgba = np.dstack([rgb, np.linspace(0, 255, W * H).reshape(H, W).astype(np.uint8)])
    grey = rgb[:, :, 1].copy()
    rgb16 = rgb.astype(np.uint16) * 257 + 3
    rgba16 = rgba.astype(np.uint16) * 257
    png16 = encode_png16(rgb16, icc=None, exif=None)
    tif16 = cv2.imencode(".tiff", np.ascontiguousarray(rgb16[:, :, ::-1]))[1].tobytes()
    seeds = {
        "png_rgb8": ("PNG", _pil(rgb, "PNG")),
        "png_rgba8": ("PNG", _pil(rgba, "PNG")),
        "png_grey8": ("PNG", _pil(grey, "PNG")),
        "png_grey_alpha": ("PNG", _pil(rgba, "PNG", "LA")),
        "png_palette": ("PNG", _pil(rgb, "PNG", "P")),
        "png_1bit": ("PNG", _pil(grey, "PNG", "1")),
        "png_rgb16": ("PNG", png16),
        "png_rgba16": ("PNG", encode_png16(rgba16, icc=None, exif=None)),
        "png_grey16": ("PNG", encode_png16(rgb16[:, :, 0], icc=None, exif=None)),
        "png_chunk_before_ihdr": ("PNG", png16[:8] + _chunk(b"tEXt", b"k\x00v") + png16[8:]),
        "png_exif_icc": ("PNG", _pil(rgb, "PNG", exif=_exif_rotated())),
        "jpeg_rgb": ("JPEG", _pil(rgb, "JPEG", quality=90)),
        "jpeg_grey": ("JPEG", _pil(grey, "JPEG")),
        "jpeg_exif_rotated": ("JPEG", _pil(rgb, "JPEG", exif=_exif_rotated())),
        "jpeg_progressive": ("JPEG", _pil(rgb, "JPEG", progressive=True)),
        "webp_lossy": ("WEBP", _pil(rgb, "WEBP", quality=80)),
        "webp_lossless_rgba": ("WEBP", _pil(rgba, "WEBP", lossless=True)),
        "tiff_rgb": ("TIFF", _pil(rgb, "TIFF")),
        "tiff_lzw_rgba": ("TIFF", _pil(rgba, "TIFF", compression="tiff_lzw")),
        "tiff_rgb16": ("TIFF", tif16),
        "bmp_rgb": ("BMP", _pil(rgb, "BMP")),
        "bmp_palette": ("BMP", _pil(rgb, "BMP", "P")),
    }
    return seeds


# ----------------------------------------------------------------------------- mutations


def flip_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        i = int(rng.integers(0, len(out)))
        out[i] ^= 1 << int(rng.integers(0, 8))
    return bytes(out)


def truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[: int(rng.integers(0, len(data)))]


def corrupt_header(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    end = min(len(out), 64)
    for _ in range(int(rng.integers(1, 5))):
        i = int(rng.integers(0, end))
        out[i] = int(rng.integers(0, 256))
    return bytes(out)


def _set_png_size(data: bytes, w: int, h: int) -> bytes:
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IHDR":
            payload = struct.pack(">II", w, h) + data[pos + 16 : pos + 8 + length]
            return data[:pos] + _chunk(b"IHDR", payload) + data[pos + 12 + length :]
        pos += 12 + length
    return data


def huge_size(data: bytes, rng: np.random.Generator) -> bytes:
    """Declare a huge size in the format's own header (PNG IHDR with a valid CRC, JPEG SOF,
    BMP header, TIFF ImageWidth/ImageLength, WebP VP8X/VP8L/VP8 canvas)."""
    sizes = [3_000, 9_000, 20_000, 65_535, 100_000, 2**31 - 1]  # over our limit, over Pillow's
    w, h = (int(v) for v in rng.choice(sizes, size=2))
    out = bytearray(data)
    if data.startswith(b"\x89PNG"):
        return _set_png_size(data, w, h)
    sof = next((data.find(m) for m in (b"\xff\xc0", b"\xff\xc2") if data.find(m) > 0), -1)
    if data.startswith(b"\xff\xd8") and sof > 0:
        out[sof + 5 : sof + 9] = struct.pack(">HH", min(h, 65_535), min(w, 65_535))
        return bytes(out)
    if data.startswith(b"BM") and len(out) >= 26:
        out[18:26] = struct.pack("<ii", min(w, 2**31 - 1), min(h, 2**31 - 1))
        return bytes(out)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _set_tiff_size(out, w, h)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _set_webp_size(out, w, h)
    return bytes(out)


def _set_tiff_size(out: bytearray, w: int, h: int) -> bytes:
    """ImageWidth (256) and ImageLength (257) of the first IFD as LONGs of w and h."""
    e = "<" if out[:2] == b"II" else ">"
    (ifd,) = struct.unpack(e + "I", out[4:8])
    if ifd + 2 > len(out):
        return bytes(out)
    (count,) = struct.unpack(e + "H", out[ifd : ifd + 2])
    for k in range(count):
        at = ifd + 2 + 12 * k
        if at + 12 > len(out):
            break
        (tag,) = struct.unpack(e + "H", out[at : at + 2])
        if tag in (256, 257):
            value = w if tag == 256 else h
            out[at + 2 : at + 12] = struct.pack(e + "HII", 4, 1, value)
    return bytes(out)


def _set_webp_size(out: bytearray, w: int, h: int) -> bytes:
    """The canvas size of a VP8X, VP8L or VP8 (lossy) WebP, as large as each field holds."""
    kind = bytes(out[12:16])
    if kind == b"VP8X" and len(out) >= 30:
        out[24:27] = min(w - 1, 2**24 - 1).to_bytes(3, "little")
        out[27:30] = min(h - 1, 2**24 - 1).to_bytes(3, "little")
    elif kind == b"VP8L" and len(out) >= 25:
        bits = min(w - 1, 16383) | (min(h - 1, 16383) << 14)
        old = int.from_bytes(out[21:25], "little")
        out[21:25] = ((old & ~((1 << 28) - 1)) | bits).to_bytes(4, "little")
    elif kind == b"VP8 " and len(out) >= 30:
        out[26:28] = struct.pack("<H", min(w, 16383))
        out[28:30] = struct.pack("<H", min(h, 16383))
    return bytes(out)


def splice(data: bytes, rng: np.random.Generator) -> bytes:
    """Insert random bytes, or repeat a slice of the file, at a random place."""
    i = int(rng.integers(0, len(data) + 1))
    if rng.random() < 0.5:
        extra = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    else:
        j = int(rng.integers(0, len(data)))
        extra = data[j : j + int(rng.integers(1, 256))]
    return data[:i] + extra + data[i:]


MUTATIONS: dict[str, Callable[[bytes, np.random.Generator], bytes]] = {
    "flip": flip_bytes,
    "truncate": truncate,
    "header": corrupt_header,
    "huge": huge_size,
    "splice": splice,
}


def make_case(seeds: dict[str, tuple[str, bytes]], n: int) -> tuple[str, str, str, bytes]:
    """Case ``n``: (seed name, format, mutation name, mutated bytes); a pure function of n."""
    names = sorted(seeds)
    seed = names[n % len(names)]
    mutation = sorted(MUTATIONS)[(n // len(names)) % len(MUTATIONS)]
    fmt, data = seeds[seed]
    rng = np.random.default_rng(n)
    return seed, fmt, mutation, MUTATIONS[mutation](data, rng)
