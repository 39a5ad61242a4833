"""Image headers read without decoding the pixels: size, PNG chunk layout, bomb detection.

Everything here looks at a file's first bytes only, so a 254-byte PNG that claims to be
20000x8000 is measured (and refused by :mod:`inpaintkit.limits`) before anything is decoded.

PNG: the IHDR chunk is found by walking the chunk list (Pillow accepts chunks before IHDR;
reading bit depth at a fixed offset would then read garbage), and :func:`png_ihdr_first`
rewrites such a file with IHDR first, the order libpng (and so OpenCV) requires.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image

from inpaintkit.errors import ImageTooLargeError, InpaintError
from inpaintkit.quiet import decoder_output_captured

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_CHUNKS_BEFORE_IHDR = 64  # a real file has IHDR first; a few misplaced chunks are tolerated


@dataclass(frozen=True)
class PngHeader:
    """The fields of a PNG IHDR chunk that decide how it is decoded.

    Attributes:
        width, height: size in pixels.
        bit_depth: 1, 2, 4, 8 or 16 bits per sample.
        colour_type: 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA.
        offset: byte offset of the IHDR chunk (its length field); 8 in a well-formed file.
    """

    width: int
    height: int
    bit_depth: int
    colour_type: int
    offset: int

    @property
    def grey(self) -> bool:
        """One colour channel (grey or grey + alpha)."""
        return self.colour_type in (0, 4)

    @property
    def colour16(self) -> bool:
        """16-bit with more than one channel (Pillow would cut it to 8 bits)."""
        return self.bit_depth == 16 and self.colour_type in (2, 4, 6)


def _chunks(data: bytes):
    """Yield (offset, type, payload) of each complete PNG chunk after the signature."""
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            return
        yield pos, kind, data[pos + 8 : pos + 8 + length]
        pos = end


def png_header(data: bytes) -> PngHeader | None:
    """The IHDR of PNG bytes wherever it sits among the first chunks; None if not a PNG or
    it has no readable IHDR."""
    if not data.startswith(PNG_SIGNATURE):
        return None
    for i, (pos, kind, payload) in enumerate(_chunks(data)):
        if kind == b"IHDR" and len(payload) >= 13:
            w, h, depth, ctype = struct.unpack(">IIBB", payload[:10])
            return PngHeader(w, h, depth, ctype, pos)
        if kind == b"IDAT" or i >= _MAX_CHUNKS_BEFORE_IHDR:
            return None
    return None


def png_ihdr_first(data: bytes) -> bytes:
    """PNG bytes with the IHDR chunk moved right after the signature (unchanged if it is)."""
    head = png_header(data)
    if head is None or head.offset == len(PNG_SIGNATURE):
        return data
    (length,) = struct.unpack(">I", data[head.offset : head.offset + 4])
    end = head.offset + 12 + length
    ihdr = data[head.offset : end]
    return PNG_SIGNATURE + ihdr + data[len(PNG_SIGNATURE) : head.offset] + data[end:]


def png_problem(data: bytes) -> str | None:
    """What makes PNG bytes unsafe to hand to libpng/OpenCV, or None when the chunk structure
    is sound: a chunk whose declared length runs past the end of the file (OpenCV would
    allocate it: gigabytes for a flipped length byte), a CRC that does not match (libpng would
    print ``libpng error: IDAT: CRC error``), or no IEND chunk.
    """
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        name = kind.decode("latin-1", "replace")
        if length > len(data) - pos - 12:
            return f"its {name!r} chunk runs past the end of the file (truncated or corrupt)"
        payload = data[pos + 8 : pos + 8 + length]
        (stored,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(kind + payload) & 0xFFFFFFFF != stored:
            return f"its {name} chunk is corrupt (CRC)"
        if kind == b"IEND":
            return None
        pos += 12 + length
    return "it is truncated (no IEND chunk)"


def image_size(source: str | Path | bytes, name: str | None = None) -> tuple[int, int] | None:
    """(W, H) from the header of an image file or its bytes, without decoding the pixels.

    Returns None when Pillow cannot tell (not an image, a damaged header): the decoder then
    gives the real message. For PNG the IHDR chunk is read directly.

    Raises:
        ImageTooLargeError: the header declares more pixels than Pillow's decompression-bomb
            limit (``2 * PIL.Image.MAX_IMAGE_PIXELS``); Pillow refuses to open such a file.
    """
    label = name or (str(source) if isinstance(source, str | Path) else "<bytes>")
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            head = png_header(bytes(source[:4096]))
            if head is not None:
                return head.width, head.height
            stream = BytesIO(source)
        else:
            stream = open(source, "rb")  # noqa: SIM115 - closed below
        with stream, decoder_output_captured(label, report=False), Image.open(stream) as im:
            return int(im.size[0]), int(im.size[1])
    except Image.DecompressionBombError as e:
        raise ImageTooLargeError(f"'{label}' is too large to open: {e}") from None
    except InpaintError:
        raise
    except Exception:  # unreadable: the decoder gives the real message
        return None
