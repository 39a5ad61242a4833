"""Classical per-image inpainting baselines: Telea, Navier-Stokes, biharmonic, PatchMatch.

Each wraps a library that works on one numpy image at a time (OpenCV, scikit-image,
pypatchmatch), so the batch is filled image by image on the CPU and the result is moved back to
the input's device. Known pixels of the returned fill are the input's own values.

OpenCV's Telea is not exact on flat colour: its normalised gradient term turns float rounding
into noise of a few 8-bit levels (measured: a flat 200 came back as 199..203 in a 12x20 hole,
up to 6 levels off in larger ones; powers of two such as 128 come back exact). Navier-Stokes,
biharmonic and PatchMatch reproduce a flat colour.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import cv2
import numpy as np
import torch
from torch import Tensor

from inpaintkit.convert import from_tensor, tensor_to_mask, to_tensor
from inpaintkit.errors import InpaintError
from inpaintkit.methods.checks import check_known_pixels
from inpaintkit.registry import MethodResult, register_method

# Measured on 2 busy CPU cores with a centre hole of a quarter of the image: 256x256 0.2 s,
# 512x512 1.1 s, 1024x1024 8.6 s, 1536x1536 28 s and 3.7 GB (sparse LU; time and memory grow
# faster than the hole's area, and a half-image hole costs about twice a quarter's).
_BIHARMONIC_MAX_PIXELS = 1024 * 1024


def _keep_known(image: Tensor, mask: Tensor, fill: Tensor) -> Tensor:
    """Input pixels where known, ``fill`` in the hole, float32; (B, C, H, W) / (B, 1, H, W)."""
    return torch.where(mask >= 0.5, fill.float(), image.float())


def _fill_each_uint8(
    image: Tensor, mask: Tensor, fill_one: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> Tensor:
    """Fill every image of the batch with ``fill_one(pixels, hole)`` on 8-bit numpy arrays.

    Args:
        image: (B, 3, H, W) float in [-1, 1].
        mask: (B, 1, H, W) float, 1 = hole.
        fill_one: takes (H, W, 3) uint8 RGB and an (H, W) bool hole, returns (H, W, 3) uint8.

    Returns:
        (B, 3, H, W) float32 in [-1, 1] on ``image``'s device.
    """
    out = []
    for b in range(image.shape[0]):
        hole = tensor_to_mask(mask[b])
        if not hole.any():
            out.append(image[b : b + 1].detach().cpu().float())
            continue
        out.append(to_tensor(fill_one(from_tensor(image[b]), hole)))
    fill = torch.cat(out).to(image.device)
    return _keep_known(image.detach(), mask, fill)


def _check_int(method: str, name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise InpaintError(f"{method}: {name} must be an integer >= {low}, got {value!r}")


def is_8bit(image: Tensor, hole: np.ndarray) -> bool:
    """True when the known pixels of ``image`` (3, H, W) lie exactly on the 8-bit grid (an
    8-bit source); False for finer values (a 16-bit source), which must not be quantised."""
    known = torch.from_numpy(~hole)
    x = image.detach().cpu().float()
    return bool(torch.equal(to_tensor(from_tensor(x))[0][:, known], x[:, known]))


def _cv2_inpaint(image: Tensor, mask: Tensor, radius: int, flag: int) -> Tensor:
    """OpenCV inpainting per image: 8-bit RGB for an 8-bit source; for finer (16-bit) values
    channel by channel in 16 bits (OpenCV fills 16-bit images one channel at a time)."""
    check_known_pixels(mask, "telea" if flag == cv2.INPAINT_TELEA else "ns")
    out = []
    for b in range(image.shape[0]):
        hole = tensor_to_mask(mask[b])
        x = image[b].detach().cpu().float()
        if not hole.any():
            out.append(x[None])
            continue
        hole8 = hole.astype(np.uint8) * 255
        dtype = np.uint8 if is_8bit(x, hole) else np.uint16
        pixels = from_tensor(x, dtype=dtype)
        if dtype == np.uint8:
            filled = cv2.inpaint(pixels, hole8, float(radius), flag).reshape(pixels.shape)
        else:
            channels = [cv2.inpaint(pixels[..., c].copy(), hole8, float(radius), flag)
                        for c in range(3)]  # fmt: skip
            filled = np.stack(channels, axis=2)
        out.append(to_tensor(np.asarray(filled, dtype=dtype)))
    fill = torch.cat(out).to(image.device)
    return _keep_known(image.detach(), mask, fill)


@register_method(
    "telea",
    kind="classical",
    summary="Fast marching (Telea 2004): instant fill of thin scratches and small holes; "
    "smears big holes",
    needs="nothing (OpenCV)",
    paper="A. Telea, An Image Inpainting Technique Based on the Fast Marching Method, "
    "J. Graphics Tools 9(1), 2004",
)
def telea(image: Tensor, mask: Tensor, *, radius: int = 3) -> Tensor:
    """OpenCV's fast-marching inpainting (``cv2.INPAINT_TELEA``), image by image.

    Args:
        image: (B, 3, H, W) float in [-1, 1], RGB.
        mask: (B, 1, H, W) float, 1 = hole.
        radius: radius in pixels of the known neighbourhood each filled pixel averages.

    Returns:
        (B, 3, H, W) float32 in [-1, 1]; the hole filled in 8 bits for an 8-bit source, in 16
        bits (channel by channel) for finer values; known pixels kept.
    """
    _check_int("telea", "radius", radius, 1)
    return _cv2_inpaint(image, mask, radius, cv2.INPAINT_TELEA)


@register_method(
    "ns",
    kind="classical",
    summary="Navier-Stokes transport (Bertalmio 2001): fast, continues edges into thin holes; "
    "blurs big holes",
    needs="nothing (OpenCV)",
    paper="M. Bertalmio, A. L. Bertozzi, G. Sapiro, Navier-Stokes, Fluid Dynamics, and Image "
    "and Video Inpainting, CVPR 2001",
)
def ns(image: Tensor, mask: Tensor, *, radius: int = 3) -> Tensor:
    """OpenCV's Navier-Stokes inpainting (``cv2.INPAINT_NS``), image by image.

    Args:
        image: (B, 3, H, W) float in [-1, 1], RGB.
        mask: (B, 1, H, W) float, 1 = hole.
        radius: radius in pixels of the neighbourhood considered around each filled pixel.

    Returns:
        (B, 3, H, W) float32 in [-1, 1]; the hole filled in 8 bits for an 8-bit source, in 16
        bits (channel by channel) for finer values; known pixels kept.
    """
    _check_int("ns", "radius", radius, 1)
    return _cv2_inpaint(image, mask, radius, cv2.INPAINT_NS)


@register_method(
    "biharmonic",
    kind="classical",
    summary="Biharmonic interpolation (scikit-image): smooth, gradient-continuous fill of "
    "small holes in smooth images; no texture, slow on big holes",
    needs="nothing (scikit-image)",
    paper="S. B. Damelin, N. S. Hoang, On Surface Completion and Image Inpainting by "
    "Biharmonic Functions: Numerical Aspects, Int. J. Math. Math. Sci., 2018",
)
def biharmonic(
    image: Tensor, mask: Tensor, *, split_into_regions: bool = True
) -> Tensor | MethodResult:
    """``skimage.restoration.inpaint_biharmonic`` in float64, image by image.

    Args:
        image: (B, 3, H, W) float in [-1, 1], RGB.
        mask: (B, 1, H, W) float, 1 = hole.
        split_into_regions: solve each connected hole on its own (faster, same result).

    Returns:
        (B, 3, H, W) float32 in [-1, 1] (overshoot clipped), known pixels kept; for a photo of
        more than 1024x1024 pixels a :class:`MethodResult` whose notes name the windows solved
        (windows around the holes, :mod:`inpaintkit.methods.big_images`).
    """
    check_known_pixels(mask, "biharmonic")
    if image.shape[-2] * image.shape[-1] > _BIHARMONIC_MAX_PIXELS:
        from inpaintkit.methods.big_images import fill_in_windows

        def solve(x: Tensor, m: Tensor) -> Tensor:
            return _biharmonic(x, m, split_into_regions)

        out, notes = fill_in_windows(
            image, mask, solve, max_pixels=_BIHARMONIC_MAX_PIXELS, method="biharmonic"
        )
        return MethodResult(image=out, notes=notes)
    return _biharmonic(image, mask, split_into_regions)


def _biharmonic(image: Tensor, mask: Tensor, split_into_regions: bool) -> Tensor:
    """skimage's biharmonic fill of (B, 3, H, W) in [-1, 1], image by image (see biharmonic)."""
    from skimage.restoration import inpaint_biharmonic

    out = []
    for b in range(image.shape[0]):
        pixels = ((image[b].detach().to("cpu", torch.float64).permute(1, 2, 0) + 1.0) / 2.0).numpy()
        hole = tensor_to_mask(mask[b])
        if hole.any():
            pixels = inpaint_biharmonic(
                pixels, hole, split_into_regions=bool(split_into_regions), channel_axis=-1
            )
        filled = torch.from_numpy(np.clip(pixels, 0.0, 1.0) * 2.0 - 1.0).permute(2, 0, 1)
        out.append(filled.float())
    fill = torch.stack(out).to(image.device)
    return _keep_known(image.detach(), mask, fill)


def _patch_match_module() -> ModuleType:
    """The ``patchmatch.patch_match`` module, or an InpaintError saying how to get it."""
    try:
        from patchmatch import patch_match
    except ImportError:
        raise InpaintError(
            "patchmatch needs the optional package pypatchmatch: pip install pypatchmatch"
        ) from None
    if not patch_match.patchmatch_available:
        raise InpaintError(
            "pypatchmatch is installed but its native library failed to load: "
            "reinstall it with pip install --force-reinstall pypatchmatch"
        )
    return patch_match


@register_method(
    "patchmatch",
    kind="classical",
    summary="PatchMatch (Barnes 2009): copies texture from the rest of the image; good on "
    "repetitive backgrounds, cannot invent objects or faces",
    needs="pypatchmatch (pip install pypatchmatch)",
    paper="C. Barnes, E. Shechtman, A. Finkelstein, D. B. Goldman, PatchMatch: A Randomized "
    "Correspondence Algorithm for Structural Image Editing, SIGGRAPH 2009",
)
def patchmatch(image: Tensor, mask: Tensor, *, patch_size: int = 3, seed: int = 0) -> Tensor:
    """Multi-scale PatchMatch inpainting (pypatchmatch), image by image.

    Args:
        image: (B, 3, H, W) float in [-1, 1], RGB.
        mask: (B, 1, H, W) float, 1 = hole.
        patch_size: patch radius; patches span (2 * patch_size + 1)^2 pixels. 3 is the fair
            fast setting; 15 follows larger structures but is much slower.
        seed: seed of the randomised search; the same seed gives the same fill.

    Returns:
        (B, 3, H, W) float32 in [-1, 1]; the hole filled from 8-bit values, known pixels kept.
    """
    _check_int("patchmatch", "patch_size", patch_size, 1)
    _check_int("patchmatch", "seed", seed, 0)
    check_known_pixels(mask, "patchmatch")
    pm = _patch_match_module()

    def fill_one(pixels: np.ndarray, hole: np.ndarray) -> np.ndarray:
        pm.set_random_seed(int(seed))
        return pm.inpaint(pixels, hole.astype(np.uint8) * 255, patch_size=int(patch_size))

    return _fill_each_uint8(image, mask, fill_one)
