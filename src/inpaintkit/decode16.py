"""16-bit colour PNG and TIFF files, which Pillow cannot hold, decoded with OpenCV.

Bit depth and colour type come from the parsed header (:func:`inpaintkit.headers.png_header`
walks the chunk list), never from a fixed byte offset. Before OpenCV sees a PNG, its chunk
structure is checked (:func:`inpaintkit.headers.png_problem`: lengths within the file, CRCs,
IEND; reported in one line of ours instead of libpng's, and never a multi-gigabyte
allocation for a flipped length byte) and the IHDR chunk is moved first, the order libpng
requires.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from inpaintkit.errors import InpaintError
from inpaintkit.headers import png_header, png_ihdr_first, png_problem

_GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N")


def is_16bit_colour(im: Image.Image, data: bytes) -> bool:
    """True for 16-bit PNG/TIFF files with more than one channel (PIL would cut them to 8)."""
    if im.format == "PNG":
        head = png_header(data)
        return head is not None and head.colour16
    if im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return max(bits) > 8 and int(im.tag_v2.get(277, 1)) > 1
    return False


def source_is_grey(im: Image.Image, data: bytes) -> bool:
    """True when the source has one colour channel (with or without alpha)."""
    head = png_header(data) if im.format == "PNG" else None
    if head is not None and head.bit_depth == 16:
        return head.grey
    if im.format == "TIFF" and is_16bit_colour(im, data):
        return int(im.tag_v2.get(262, 2)) in (0, 1)  # PhotometricInterpretation: min-is-black
    return im.mode in _GREY_MODES


def decode_cv2(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Decode a 16-bit colour PNG/TIFF -> (H, W) or (H, W, 3) colour and optional alpha.

    Raises:
        InpaintError: a chunk with a bad CRC, or data OpenCV cannot decode.
    """
    if png_header(data) is not None:
        problem = png_problem(data)
        if problem is not None:
            raise InpaintError(f"cannot read '{name}' as an image: {problem}")
        data = png_ihdr_first(data)
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)  # no auto-rotation
    if arr is None:
        raise InpaintError(f"cannot read '{name}' as an image: OpenCV cannot decode it")
    if arr.ndim == 2:
        return arr, None
    if arr.shape[2] == 2:  # grey + alpha
        return arr[:, :, 0].copy(), arr[:, :, 1].copy()
    colour = np.ascontiguousarray(arr[:, :, 2::-1])  # BGR -> RGB
    return colour, (arr[:, :, 3].copy() if arr.shape[2] == 4 else None)
