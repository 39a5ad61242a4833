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

The code lives in three modules, all re-exported here (``from inpaintkit.io import read_image``):
:mod:`~inpaintkit.io.read` (decoding, :class:`LoadedImage`, folders of images),
:mod:`~inpaintkit.io.mask_files` (the mask rule, dilation) and :mod:`~inpaintkit.io.write`
(encoding, atomic writes).
"""

from __future__ import annotations

from inpaintkit.convert import from_tensor, mask_to_tensor, tensor_to_mask, to_tensor
from inpaintkit.io.mask_files import dilate_mask, read_mask
from inpaintkit.io.read import (
    IMAGE_SUFFIXES,
    LoadedImage,
    is_image_file,
    list_images,
    read_image,
    read_rgb8,
)
from inpaintkit.io.write import copy_source, write_image, write_mask

__all__ = [
    "IMAGE_SUFFIXES",
    "LoadedImage",
    "copy_source",
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
