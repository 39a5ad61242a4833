"""``deepfill``: DeepFill v1 (Yu et al. 2018), the feed-forward default for photos of any size.

The generator (:mod:`inpaintkit.models.deepfill`) is run on windows around the holes
(:mod:`inpaintkit.methods.windows`): each window is scaled so its holes are no larger than the
model's training holes, padded to a multiple of 8 (reflected), filled, cropped back and scaled
back; the caller pastes the known pixels. Windows of the same geometry across a batch are run
together. ``extras["attention"]`` is the paper's colour-coded attention map (hue = direction,
saturation = distance of the background patch each hole pixel copies from; white outside holes).

    inpaintkit run photo.jpg --mask mask.png -m deepfill --save-attention
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from inpaintkit.errors import InpaintError
from inpaintkit.methods.progress import Callback, Progress
from inpaintkit.methods.windows import DEPTH_RATIO, MULTIPLE, Window, plan_windows
from inpaintkit.nn.contextual_attention import flow_to_color
from inpaintkit.registry import MethodResult, register_method
from inpaintkit.weights import list_installed, load_network, resolve_model

PRECISIONS = ("fp32", "bf16")


def _resize(x: torch.Tensor, size: tuple[int, int], *, smooth: bool) -> torch.Tensor:
    """(B, C, h, w) -> (B, C, *size): antialiased bicubic for images, nearest for labels."""
    if tuple(x.shape[-2:]) == size:
        return x
    if not smooth:
        return F.interpolate(x, size=size, mode="nearest")
    return F.interpolate(x, size=size, mode="bicubic", antialias=True, align_corners=False)


def _shrink_mask(m: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, 1, h, w) hole -> (B, 1, *size): a cell is hole if any pixel it covers is."""
    if tuple(m.shape[-2:]) == size:
        return m
    return (F.interpolate(m, size=size, mode="area") > 0).to(m.dtype)


def _pad8(x: torch.Tensor, m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad bottom/right to multiples of 8: image reflected (replicated if too small), mask 0."""
    h, w = x.shape[-2:]
    ph, pw = -h % MULTIPLE, -w % MULTIPLE
    if ph == 0 and pw == 0:
        return x, m
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), F.pad(m, (0, pw, 0, ph))


def _net_input(
    x: torch.Tensor, m: torch.Tensor, size: tuple[int, int], precision: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(b, 3, h, w), (b, 1, h, w) -> both resized to ``size`` and padded to multiples of 8."""
    xn, mn = _pad8(_resize(x, size, smooth=True), _shrink_mask(m, size))
    if precision == "bf16":
        xn, mn = (t.contiguous(memory_format=torch.channels_last) for t in (xn, mn))
    return xn, mn


def _autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if precision not in PRECISIONS:
        raise InpaintError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    bf16 = precision == "bf16"
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16)


def run_windows(
    G: torch.nn.Module,
    x: torch.Tensor,
    m: torch.Tensor,
    win: Window,
    *,
    precision: str = "fp32",
    refine: bool = False,
    max_pixels: int = 1024 * 1024,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Fill one window geometry for a batch of images.

    Args:
        G: a :class:`~inpaintkit.models.deepfill.DeepFillGenerator` in eval mode.
        x: (B, 3, H, W) in [-1, 1]; m: (B, 1, H, W) 1 = hole (full images).
        win: the crop and scale to use.
        precision: ``fp32`` or ``bf16`` (autocast + channels-last).
        refine: when the window ran below full scale, upsample its fill and run the refinement
            network once more at the window's resolution (capped at ``max_pixels``), so the
            attention copies full-resolution patches (downscale-then-refine).
        max_pixels: most pixels of the refinement pass.

    Returns:
        ``fill`` (B, 3, h, w) for the window at the image's resolution, and ``attention``
        (B, 3, h, w) uint8 colour-coded offsets (None without an attention branch).
    """
    xs, ms = x[..., win.y0 : win.y1, win.x0 : win.x1], m[..., win.y0 : win.y1, win.x0 : win.x1]
    xs = xs * (ms <= 0.5)  # the hole's content must not leak in through the resize
    size, net = win.size, win.net_size
    xn, mn = _net_input(xs, ms, net, precision)
    with torch.no_grad(), _autocast(precision, x.device):
        out = G(xn, mn)
    fine = out.fine.float()[..., : net[0], : net[1]]
    fill, offsets = _resize(fine, size, smooth=True).clamp(-1, 1), out.offsets
    if refine and net != size:
        fill, offsets, net = _refine_pass(G, xs, ms, fill, max_pixels, precision)
    attention = None
    if offsets is not None:
        colours = flow_to_color(offsets)  # (B, 3, H8 / 8, W8 / 8) uint8
        colours = F.interpolate(colours.float(), scale_factor=MULTIPLE, mode="nearest")
        attention = _resize(colours[..., : net[0], : net[1]], size, smooth=False).to(torch.uint8)
    return fill, attention


def _refine_pass(
    G: torch.nn.Module,
    xs: torch.Tensor,
    ms: torch.Tensor,
    fill: torch.Tensor,
    max_pixels: int,
    precision: str,
) -> tuple[torch.Tensor, torch.Tensor | None, tuple[int, int]]:
    """Refine an upsampled fill at the window's resolution (at most ``max_pixels``).

    xs (b, 3, h, w) hole zeroed, ms (b, 1, h, w), fill (b, 3, h, w) -> the refined fill
    (b, 3, h, w), the refinement's attention offsets (b, 2, h'/8, w'/8) or None, and (h', w')
    the size it ran at.
    """
    h, w = xs.shape[-2:]
    s = min(1.0, (max_pixels / (h * w)) ** 0.5)
    size = (max(MULTIPLE, round(h * s)), max(MULTIPLE, round(w * s)))
    xn, mn = _net_input(torch.where(ms > 0.5, fill, xs), ms, size, precision)
    with torch.no_grad(), _autocast(precision, xs.device):
        fine, offsets = G.refine(xn, mn.to(xn.dtype))
    fine = fine.float()[..., : size[0], : size[1]]
    return _resize(fine, (h, w), smooth=True).clamp(-1, 1), offsets, size


def deepfill_fill(
    G: torch.nn.Module,
    image: torch.Tensor,
    mask: torch.Tensor,
    *,
    train_size: int,
    strategy: Literal["auto", "full", "crop", "downscale"] = "auto",
    context: float = 2.0,
    max_pixels: int = 1024 * 1024,
    precision: Literal["fp32", "bf16"] = "fp32",
    refine: bool = False,
    depth_ratio: float = DEPTH_RATIO,
    report: Callable[[int, int], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Fill every hole of a batch: plan windows per image, run equal geometries together.

    Args:
        G: the generator (eval mode, on ``image``'s device).
        image: (B, 3, H, W) in [-1, 1]; mask: (B, 1, H, W) 1 = hole.
        train_size, strategy, context, max_pixels, depth_ratio: see :func:`plan_windows`.
        precision: ``fp32`` or ``bf16``.
        refine: downscale-then-refine (see :func:`run_windows`).
        report: ``report(done, total)`` after each group of windows of one geometry (progress).

    Returns:
        ``out`` (B, 3, H, W) with the fills in the holes (the input elsewhere), ``attention``
        (B, 3, H, W) in [-1, 1] (white outside the holes), and notes on scaling.
    """
    B = image.shape[0]
    hole = (mask[:, 0] > 0.5).cpu().numpy()
    by_geometry: dict[Window, list[int]] = defaultdict(list)
    for i in range(B):
        if hole[i].any():
            for w in plan_windows(
                hole[i], train_size=train_size, strategy=strategy, context=context,
                max_pixels=max_pixels, depth_ratio=depth_ratio,
            ):  # fmt: skip
                by_geometry[w].append(i)
    out = image.clone()
    attention = torch.full_like(image, 255.0)
    scales = set()
    if report is not None:
        report(0, len(by_geometry))
    for done, (win, idx) in enumerate(by_geometry.items(), start=1):
        sel = torch.tensor(idx, device=image.device)
        fill, att = run_windows(
            G, image[sel], mask[sel], win, precision=precision, refine=refine,
            max_pixels=max_pixels,
        )  # fmt: skip
        region = (slice(None), slice(None), slice(win.y0, win.y1), slice(win.x0, win.x1))
        hole_w = mask[sel][region] > 0.5  # (b, 1, h, w)
        out[sel] = _put(out[sel], region, torch.where(hole_w, fill, out[sel][region]))
        if att is not None:
            prev = attention[sel][region]
            attention[sel] = _put(attention[sel], region, torch.where(hole_w, att.float(), prev))
        scales.add(round(win.scale, 3))
        if report is not None:
            report(done, len(by_geometry))
    notes = []
    if any(s < 1 for s in scales):
        shown = ", ".join(f"{s:g}" for s in sorted(scales))
        notes.append(f"deepfill ran at scale {shown} so the holes fit the model's training size")
    return out, attention / 127.5 - 1, notes


def _put(t: torch.Tensor, region: tuple, value: torch.Tensor) -> torch.Tensor:
    t = t.clone()
    t[region] = value
    return t


@register_method(
    "deepfill",
    kind="feed-forward",
    summary="DeepFill v1: coarse-to-fine network with contextual attention; photos of any size, "
    "several holes, one forward pass",
    needs="a trained DeepFill model (bundled: natural128, the default; natural256, sharper; "
    "celeba128 for faces)",
    paper="Yu, Lin, Yang, Shen, Lu, Huang: Generative Image Inpainting with Contextual "
    "Attention, CVPR 2018",
    models=lambda: tuple(list_installed("deepfill")),
    family="deepfill",
    attention_picture=lambda extras: attention_picture(extras),
)
def deepfill(
    image: torch.Tensor,
    mask: torch.Tensor,
    *,
    model: str | None = None,
    strategy: Literal["auto", "full", "crop", "downscale"] = "auto",
    context: float = 2.0,
    max_pixels: int = 1024 * 1024,
    precision: Literal["fp32", "bf16"] = "fp32",
    refine: bool = False,
    depth_ratio: float = DEPTH_RATIO,
    device: str = "cpu",
    progress: bool = True,
    callback: Callback | None = None,
) -> MethodResult:
    """DeepFill v1. image (B, 3, H, W) in [-1, 1]; mask (B, 1, H, W), 1 = hole.

    ``strategy``: ``auto`` (windows around the holes, scaled so the holes fit the training
    size), ``full`` (the whole image at full size), ``crop`` (windows, never scaled) or
    ``downscale`` (the whole image, scaled). ``context``: window side / hole extent.
    ``max_pixels``: most pixels the network sees per window. ``precision``: fp32 or bf16.
    ``depth_ratio``: holes up to this many times deeper than the training boxes are filled at
    full scale (``auto``, ``downscale``); deeper ones are scaled down.
    ``refine``: after a window ran below full scale, run the refinement network once more on
    the upsampled fill at full resolution (sharper, lower LPIPS, slightly lower PSNR).

    Args:
        model: an installed domain (``natural128``), a full name or a ``.safetensors`` path;
            None: the default model (natural128).
        strategy: ``auto`` windows scaled to the training holes, ``full`` image, ``crop``
            windows never scaled, ``downscale`` the whole image.
        context: side of each window around a hole / the hole's extent.
        max_pixels: most pixels the network sees per window (memory and time).
        precision: ``fp32`` or ``bf16`` (faster on recent CPUs, slightly different).
        refine: run the refinement network again at full resolution after a scaled window.
        depth_ratio: holes up to this many times deeper than the training boxes stay full scale.
        device: torch device to run on.
        progress: show a progress bar on stderr (one step per window geometry).
        callback: ``callback(step, None, total=windows)`` after each (web progress).
    """
    path = resolve_model("deepfill", model)
    G, cfg = load_network("deepfill", path, device)
    dev = torch.device(device)
    if precision == "bf16":
        G = G.to(memory_format=torch.channels_last)
    bar: Progress | None = None

    def report(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = Progress(total, desc="deepfill", enabled=progress, callback=callback)
        bar.update(done)

    try:
        out, attention, notes = deepfill_fill(
            G, image.to(dev), mask.to(dev), train_size=cfg.global_size, strategy=strategy,
            context=context, max_pixels=max_pixels, precision=precision, refine=refine,
            depth_ratio=depth_ratio, report=report,
        )  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    extras: dict[str, Any] = {"model": str(path)}
    if cfg.attention:
        extras["attention"] = attention.to(image.device)
    return MethodResult(image=out.to(image.device), extras=extras, notes=notes)


def attention_picture(extras: dict[str, Any]) -> np.ndarray | None:
    """The first image's attention map as (H, W, 3) uint8, or None when there is none."""
    att = extras.get("attention")
    if not isinstance(att, torch.Tensor):
        return None
    return ((att[0].float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
