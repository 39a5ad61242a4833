"""The public Python API: ``inpaint(image, mask, method=...)``.

This is the one place where edge data (files, numpy arrays, PIL images) becomes the library's
tensors and back, so every caller (CLI, eval harness, web app) gets the same guarantees:
validated input, one error type, and known pixels that are bit-exact copies of the input.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inpaintkit import io, limits
from inpaintkit.blend import paste_back
from inpaintkit.convert import from_tensor, mask_to_tensor, to_tensor
from inpaintkit.errors import InpaintError
from inpaintkit.image_input import ImageLike, check_header, load_image
from inpaintkit.image_input import check_not_same_file as _check_not_same_file
from inpaintkit.options import check_options
from inpaintkit.registry import MethodInfo, MethodResult, get_method
from inpaintkit.samples import check_samples_option, paste_samples, sample_paths

MaskLike = str | Path | bytes | np.ndarray
__all__ = ["ImageLike", "Inpainted", "check_header", "check_options", "check_size", "inpaint",
           "inpaint_batch", "load_image", "run_method"]  # fmt: skip


@dataclass
class Inpainted:
    """The result of :func:`inpaint`.

    Attributes:
        pixels: (H, W, 3) filled image, same dtype as the input (uint8 or uint16). Pixels
            outside the hole are bit-exact copies of the input.
        mask: (H, W) bool, the hole actually filled (after resizing/dilation), True = hole.
        source: the input as read (format, alpha, EXIF, ICC are kept for writing back).
        method: the registered method name.
        seconds: wall time of the method itself (not reading or writing).
        notes: remarks for the user (resizing, empty mask, ...).
        extras: method by-products (attention maps, search losses, ...).
        model: the short name of the model file that ran (``natural128``), or None for a
            method that uses none (or an empty mask, where nothing ran).
        samples: every fill asked for with ``samples=K`` (the latent searches): K (H, W, 3)
            arrays, the method's best first, ``samples[0] is pixels``; ``[pixels]`` otherwise.
            :meth:`sample` gives one as an :class:`Inpainted`, :meth:`save_samples` writes all.
    """

    pixels: np.ndarray
    mask: np.ndarray
    source: io.LoadedImage
    method: str
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    samples: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.samples:
            self.samples = [self.pixels]

    def sample(self, i: int) -> Inpainted:
        """The ``i``-th fill (0 = the best, the same as ``self``) as a result of its own."""
        loss = self.extras.get("sample_losses")  # (1, K) from inpaint, (K,) from inpaint_batch
        extras = dict(self.extras)
        if isinstance(loss, torch.Tensor) and loss.numel() == len(self.samples):
            extras["loss"] = loss.reshape(-1)[i : i + 1]
        pixels = self.samples[i]
        return Inpainted(
            pixels, self.mask, self.source, self.method, self.seconds, list(self.notes), extras,
            self.model, [pixels],
        )  # fmt: skip

    def save_samples(
        self, path: str | Path, *, overwrite: bool = False, **kwargs: Any
    ) -> list[Path]:
        """Write every fill as ``<stem>_1<suffix>`` .. ``<stem>_K<suffix>`` beside ``path``, as
        :meth:`save` would (a result of one fill writes ``<stem>_1``). Returns the paths."""
        return [
            self.sample(i).save(p, overwrite=overwrite, **kwargs)
            for i, p in enumerate(sample_paths(path, len(self.samples)))
        ]

    def save(self, path: str | Path, *, overwrite: bool = False, **kwargs: Any) -> Path:
        """Write the result in the input's format (alpha, EXIF, ICC, XMP, quality kept),
        atomically. Nothing filled (an empty mask) and the same format: the input file is
        copied byte for byte. ``kwargs``: :func:`io.write_image`'s ``format``, ``quality``."""
        unchanged = not self.mask.any() and kwargs.get("quality") is None
        if unchanged and kwargs.get("format") is None:
            copied = io.copy_source(path, self.source, overwrite=overwrite)
            if copied is not None:
                return copied
        return io.write_image(path, self.pixels, like=self.source, overwrite=overwrite, **kwargs)


def check_size(info: MethodInfo, width: int, height: int) -> None:
    """Raise InpaintError when the image is larger than the method can handle."""
    if info.max_pixels is not None and width * height > info.max_pixels:
        mp = width * height / 1e6
        raise InpaintError(
            f"the image is {width}x{height} ({mp:.1f} MP) but {info.name} handles at most "
            f"{info.max_pixels / 1e6:.2f} MP: downscale it, or use telea, ns or patchmatch"
        )


def _call(
    info: MethodInfo, x: torch.Tensor, m: torch.Tensor, device: str, options: dict[str, Any]
) -> MethodResult:
    """Run the method on x (B, 3, H, W) in [-1, 1] and m (B, 1, H, W); check its output."""
    params = inspect.signature(info.fn).parameters
    if "device" in params:
        options = {**options, "device": device}
    elif device != "cpu":
        raise InpaintError(f"method {info.name!r} runs on the CPU only, not on {device!r}")
    dev = torch.device("cpu") if "device" not in params else torch.device(device)
    x, m = x.to(dev), m.to(dev)
    x = x * (1 - m)  # never let a method see the hole's original content
    grad_free = info.kind in ("classical", "retrieval")
    with torch.no_grad() if grad_free else contextlib.nullcontext():
        out = info.fn(x, m, **options)
    result = out if isinstance(out, MethodResult) else MethodResult(image=out)
    if result.image.shape != x.shape:
        raise RuntimeError(
            f"{info.name} returned {tuple(result.image.shape)}, expected {tuple(x.shape)}"
        )
    if not torch.isfinite(result.image).all():
        raise RuntimeError(f"{info.name} returned non-finite values")
    result.image = result.image.cpu()
    return result


def run_method(
    info: MethodInfo,
    pixels: np.ndarray,
    mask: np.ndarray,
    *,
    device: str = "cpu",
    **options: Any,
) -> tuple[np.ndarray, MethodResult]:
    """Run one method on edge arrays and return its raw fill (H, W, 3) in ``pixels``' dtype.

    The fill is not yet pasted back; see :func:`inpaint`.
    """
    result = _call(info, to_tensor(pixels), mask_to_tensor(mask), device, options)
    return from_tensor(result.image, dtype=pixels.dtype), result


def inpaint(
    image: ImageLike,
    mask: MaskLike,
    method: str = "telea",
    *,
    device: str = "cpu",
    resize_mask: bool = False,
    dilate: int = 0,
    feather: int = 0,
    max_image_pixels: int | None = None,
    **options: Any,
) -> Inpainted:
    """Fill the holes of ``image`` marked by ``mask`` with ``method``.

    Args:
        image: a path, encoded bytes, an (H, W[, 3|4]) uint8/uint16 array, a PIL image or a
            :class:`io.LoadedImage`. EXIF orientation is applied, alpha is split off and kept.
        mask: a path, bytes, or an (H, W) array: bool (True = hole), uint8 (hole where >= 128)
            or float in [0, 1] (hole where >= 0.5).
        method: a registered method name (``inpaintkit.list_methods()``).
        device: torch device for methods that take one (``cpu``, ``cuda``).
        resize_mask: resize a mask of another size to the image (nearest) instead of failing.
        dilate: grow the hole by this many pixels first.
        feather: soft edge of this many pixels inside the hole; known pixels stay untouched.
        max_image_pixels: refuse larger images (read from the file's header before decoding);
            None: ``$INPAINTKIT_MAX_PIXELS`` or 100 MP (see :mod:`inpaintkit.limits`). (Not
            ``max_pixels``: that name is deepfill's own option.)
        **options: the method's own keyword options (``inpaintkit methods`` lists them).

    Returns:
        An :class:`Inpainted` whose ``pixels`` equal the input outside the hole, bit for bit.

    Raises:
        InpaintError: unreadable input, size mismatch, full mask, unknown method or option,
            image too large for the method or the limits (ImageTooLargeError), model missing,
            memory exhausted.

    >>> import numpy as np
    >>> img = np.full((16, 16, 3), 200, np.uint8); hole = np.zeros((16, 16), bool)
    >>> hole[6:10, 6:10] = True
    >>> out = inpaint(img, hole, "telea")
    >>> bool((out.pixels == 200).all())
    True
    """
    info = get_method(method)
    options = dict(options)
    check_samples_option(info, options)
    options = check_options(info, options)
    _check_not_same_file(image, mask)
    src = load_image(image, max_image_pixels=max_image_pixels, kind=info.kind)
    w, h = src.size
    limits.check_image_size(w, h, max_pixels=max_image_pixels, kind=info.kind)
    if isinstance(mask, str | Path | bytes):
        check_header(mask, max_image_pixels=max_image_pixels, what="the mask")
    with limits.memory_guard("reading the mask"):
        hole = io.read_mask(mask, size=(w, h), resize=resize_mask, dilate=dilate)
    if not hole.any():
        return Inpainted(
            pixels=src.pixels.copy(),
            mask=hole,
            source=src,
            method=method,
            notes=["the mask is empty: nothing to inpaint, the image is copied through"],
        )
    if hole.all():
        raise InpaintError(
            "the mask covers the whole image: there are no known pixels to inpaint from"
        )
    check_size(info, w, h)
    start = time.perf_counter()
    with limits.memory_guard(f"inpainting with {info.name}"):
        fill, result = run_method(info, src.pixels, hole, device=device, **options)
        seconds = time.perf_counter() - start
        pixels = paste_back(src.pixels, fill, hole, feather=feather)
        samples = paste_samples(
            result.extras.pop("samples", None), 0, pixels, src.pixels, hole, feather
        )
    return Inpainted(
        pixels=pixels,
        mask=hole,
        source=src,
        method=method,
        seconds=seconds,
        notes=list(result.notes),
        extras=dict(result.extras),
        model=_model_name(info.name, result.extras),
        samples=samples,
    )


def _model_name(method: str, extras: dict[str, Any]) -> str | None:
    """The short name of the model file a method reports in ``extras["model"]``, or None."""
    path = extras.get("model")
    if not isinstance(path, str | Path):
        return None
    from inpaintkit.weights import model_name

    return model_name(method, path)


def inpaint_batch(
    images: list[np.ndarray],
    masks: list[np.ndarray],
    method: str,
    *,
    device: str = "cpu",
    max_image_pixels: int | None = None,
    **options: Any,
) -> list[Inpainted]:
    """:func:`inpaint` for N images of one size in ONE call of the method.

    Methods that work on a batch (latent search, feed-forward networks) then share every
    step across the images: far faster than N calls. Each result is what :func:`inpaint`
    gives for that image with the same options, except that ``seconds`` is the batch's time
    divided by N, and a per-image extra (a tensor whose first dimension is N) is sliced.

    Args:
        images: N arrays (H, W, 3) uint8 or uint16, all the same size and dtype.
        masks: N (H, W) bool masks, True = hole, none empty or full.
        method, device, **options: as for :func:`inpaint`.

    Raises:
        InpaintError: sizes differ, a mask is empty or full, or anything :func:`inpaint` raises.
    """
    info = get_method(method)
    options = dict(options)
    check_samples_option(info, options)
    options = check_options(info, options)
    if len(images) != len(masks) or not images:
        raise InpaintError(
            f"need as many masks as images (>= 1), got {len(images)} and {len(masks)}"
        )
    srcs = [load_image(a) for a in images]
    w, h = srcs[0].size
    if any(s.size != (w, h) or s.pixels.dtype != srcs[0].pixels.dtype for s in srcs):
        raise InpaintError("inpaint_batch needs images of one size and dtype; use inpaint()")
    holes = [io.read_mask(m, size=(w, h)) for m in masks]
    for i, hole in enumerate(holes):
        if not hole.any() or hole.all():
            what = "empty" if not hole.any() else "the whole image"
            raise InpaintError(f"mask {i} is {what}: inpaint_batch needs a hole with known pixels")
    check_size(info, w, h)
    limits.check_image_size(w, h, max_pixels=max_image_pixels, kind=info.kind)
    x = torch.cat([to_tensor(s.pixels) for s in srcs])  # (N, 3, H, W)
    m = torch.cat([mask_to_tensor(hole) for hole in holes])  # (N, 1, H, W)
    start = time.perf_counter()
    with limits.memory_guard(f"inpainting with {info.name}"):
        result = _call(info, x, m, device, options)
    seconds = (time.perf_counter() - start) / len(srcs)
    every = result.extras.pop("samples", None)  # (N, K, 3, H, W) or None
    out = []
    for i, (src, hole) in enumerate(zip(srcs, holes, strict=True)):
        fill = from_tensor(result.image[i : i + 1], dtype=src.pixels.dtype)
        extras = {
            k: v[i] if isinstance(v, torch.Tensor) and v.dim() and v.shape[0] == len(srcs) else v
            for k, v in result.extras.items()
        }
        pixels = paste_back(src.pixels, fill, hole)
        model = _model_name(info.name, result.extras)
        samples = paste_samples(every, i, pixels, src.pixels, hole)
        notes = list(result.notes)
        out.append(Inpainted(pixels, hole, src, method, seconds, notes, extras, model, samples))
    return out
