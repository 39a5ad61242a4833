"""Byte-level helpers for inpaintkit.io: EXIF orientation and a 16-bit PNG encoder.

PIL cannot write 16-bit colour PNGs, and rewriting EXIF through PIL would change bytes we want
to keep, so these two small codecs are written by hand.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

ORIENTATION_TAG = 0x0112


def orient_array(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply EXIF ``orientation`` (1..8) to an (H, W, ...) array, like PIL's exif_transpose."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }
    op = ops.get(orientation)
    return arr if op is None else np.ascontiguousarray(op(arr))


def reset_exif_orientation(raw: bytes) -> bytes:
    """A copy of the EXIF block ``raw`` with IFD0's Orientation set to 1; other bytes kept."""
    head = 6 if raw.startswith(b"Exif\x00\x00") else 0
    order = {b"II": "<", b"MM": ">"}.get(raw[head : head + 2])
    if order is None or len(raw) < head + 8:
        return raw
    out = bytearray(raw)
    ifd = head + struct.unpack_from(order + "I", raw, head + 4)[0]
    if ifd + 2 > len(raw):
        return raw
    (count,) = struct.unpack_from(order + "H", raw, ifd)
    for entry in range(ifd + 2, min(ifd + 2 + 12 * count, len(raw) - 11), 12):
        tag, kind = struct.unpack_from(order + "HH", raw, entry)
        if tag == ORIENTATION_TAG and kind == 3:  # SHORT, value stored inline
            struct.pack_into(order + "H", out, entry + 8, 1)
    return bytes(out)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png16(arr: np.ndarray, *, icc: bytes | None, exif: bytes | None) -> bytes:
    """(H, W) or (H, W, 2|3|4) uint16 -> 16-bit PNG bytes (grey, grey+alpha, RGB, RGBA)."""
    h, w = arr.shape[:2]
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = arr.astype(">u2").reshape(h, w * channels).view(np.uint8)  # (H, 2 W C) big-endian
    step = 2 * channels
    filtered = rows.copy()
    filtered[:, step:] -= rows[:, :-step]  # PNG filter 1 ("Sub"), modulo 256
    raw = np.hstack([np.ones((h, 1), np.uint8), filtered]).tobytes()
    chunks = [_png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0))]
    if icc:
        chunks.append(_png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(icc)))
    if exif:
        chunks.append(_png_chunk(b"eXIf", exif.removeprefix(b"Exif\x00\x00")))
    chunks += [_png_chunk(b"IDAT", zlib.compress(raw, 6)), _png_chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)
