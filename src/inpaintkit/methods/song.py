"""``song2018``: Song et al. ECCV 2018, G1 -> VGG -> patch-swap -> G2 -> blend.

Per image, the holes are bounded by a square ``context`` (2) times their larger extent, at least
the smallest scale (or the image's larger side); the square is cropped around the holes, shifted
to stay inside the image, and reflect-padded (hole mask padded the same way) where it must
extend past the border. Then, on that square::

    s0 = scales[0]: resize to s0 x s0 (known pixels only: hole content never leaks)
        G1 -> composite c                                         (extras["g1"])
    for each scale s (ascending):
        s > s0: c = known pixels at s, upsampled previous result in the hole
        repeat 1 + refine_iters times:
            c = known at s, G2(patch_swap(VGG relu3_1 (c), hole)) in the hole
        stage_s = c                                               (extras["stage_<s>"])
    resize the last G2 output to the square and Poisson-blend it into the image's hole

``scales=()`` (the default) chooses them per image: G1's training size, then every larger size
a G2 of the model was trained at, up to 1.25 times the square's side and 512 (a model with G2
at 128, 256 and 512 runs the paper's three scales on the 448 px square of a 224 px hole; the
bundled ``natural128``, with one G2 at 128, runs at 128 alone: the 128 G2 run at 256 measured
worse, docs/song.md). Explicit ``scales`` may go past the trained sizes. Each scale uses the
G2 trained at that size, else the nearest one: G2 is fully convolutional, so one G2 serves every
scale (a side that is not a multiple of a network's training size is reflect-padded to one and
cropped back).

Model files and the VGG: :mod:`inpaintkit.weights.song`.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from inpaintkit.composite import fill_hole as compose
from inpaintkit.errors import InpaintError
from inpaintkit.methods.checks import check_patch
from inpaintkit.methods.progress import Callback, Progress
from inpaintkit.models.song import FeatureToImage
from inpaintkit.nn.patch_swap import patch_swap
from inpaintkit.nn.vgg import VGG16Features
from inpaintkit.registry import MethodResult, register_method
from inpaintkit.weights import list_installed
from inpaintkit.weights.song import (
    SongModel,
    cached_song_vgg,
    load_song_model,
    relu3_1,
    resolve_song_model,
)


# --- geometry -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Square:
    """A square window in image coordinates; parts outside the image are padding."""

    top: int
    left: int
    side: int


def _place(lo: int, hi: int, side: int, size: int) -> int:
    """First coordinate of a ``side`` window over [lo, hi) centred, kept inside [0, size)."""
    start = (lo + hi - side) // 2
    if side <= size:
        return min(max(start, 0), size - side)
    return -((side - size) // 2)  # larger than the image: the image centred in it


def bounding_square(hole: torch.Tensor, *, context: float, min_side: int) -> Square:
    """The square around every hole pixel of ``hole`` (H, W) bool (at least one).

    Its side is ``ceil(context * max(hole height, hole width))``, at least
    ``min(min_side, max(H, W))``.
    """
    H, W = hole.shape
    ys, xs = hole.nonzero(as_tuple=True)
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    side = max(math.ceil(context * max(y1 - y0, x1 - x0)), min(min_side, max(H, W)))
    return Square(_place(y0, y1, side, H), _place(x0, x1, side, W), side)


def reflect_pad(x: torch.Tensor, pads: tuple[int, int, int, int]) -> torch.Tensor:
    """Pad (B, C, H, W) by (left, right, top, bottom), reflecting as often as needed (as
    ``numpy.pad(mode="reflect")``: steps of at most the input's side - 1 keep every edge on
    a mirror line)."""
    h, w = x.shape[-2:]
    left = list(pads)
    while any(left):
        step = [min(left[0], w - 1), min(left[1], w - 1), min(left[2], h - 1), min(left[3], h - 1)]
        if not any(step):  # a 1-pixel side cannot reflect
            return F.pad(x, tuple(left), mode="replicate")
        x = F.pad(x, tuple(step), mode="reflect")
        left = [a - b for a, b in zip(left, step, strict=True)]
    return x


def _inside(sq: Square, x: torch.Tensor) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1): the part of ``sq`` inside the image ``x`` (B, C, H, W)."""
    H, W = x.shape[-2:]
    return max(sq.top, 0), min(sq.top + sq.side, H), max(sq.left, 0), min(sq.left + sq.side, W)


def crop_square(x: torch.Tensor, sq: Square) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, side, side): the square, reflect-padded outside the image."""
    y0, y1, x0, x1 = _inside(sq, x)
    pads = (x0 - sq.left, sq.left + sq.side - x1, y0 - sq.top, sq.top + sq.side - y1)
    return reflect_pad(x[..., y0:y1, x0:x1], pads)


def paste_square(dst: torch.Tensor, src: torch.Tensor, sq: Square) -> torch.Tensor:
    """A copy of ``dst`` (B, C, H, W) with the in-image part of ``src`` (B, C, side, side)."""
    y0, y1, x0, x1 = _inside(sq, dst)
    out = dst.clone()
    out[..., y0:y1, x0:x1] = src[..., y0 - sq.top : y1 - sq.top, x0 - sq.left : x1 - sq.left]
    return out


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-1] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)


def fit(image: torch.Tensor, hole: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Resize a square image and its hole to ``size``, from the known pixels only.

    Args:
        image: (B, 3, S, S) in [-1, 1]; hole content is ignored. hole: (B, 1, S, S) in {0, 1}.

    Returns:
        (B, 3, size, size) with 0 in the hole and (B, 1, size, size) in {0, 1}: a pixel is
        hole if any input pixel it covers (area down, bilinear support up) is.
    """
    if image.shape[-1] == size:
        return image * (1 - hole), hole
    known = 1 - hole
    x = _resize(image * known, size) / _resize(known, size).clamp_min(1e-6)
    mode = "area" if size < image.shape[-1] else "bilinear"
    h = (F.interpolate(hole, size=(size, size), mode=mode) > 0).to(image.dtype)
    return (x * (1 - h)).clamp(-1, 1), h


def run_padded(net: Any, multiple: int, *inputs: torch.Tensor) -> torch.Tensor:
    """``net(*inputs)`` on inputs (B, C, H, W) reflect-padded on all sides to multiples of
    ``multiple``, cropped back to H x W (``net`` keeps the size: G1, or VGG -> swap -> G2)."""
    H, W = inputs[0].shape[-2:]
    ph, pw = -H % multiple, -W % multiple
    pads = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
    out = net(*(reflect_pad(t, pads) for t in inputs))
    return out[..., pads[2] : pads[2] + H, pads[0] : pads[0] + W]


# --- the method ---------------------------------------------------------------------------------
AUTO_LARGEST = 512  # the paper's largest scale


def auto_scales(
    first: int, side: int, trained: Iterable[int] = (), largest: int = AUTO_LARGEST
) -> tuple[int, ...]:
    """``first``, then each ``trained`` size above it up to 1.25 ``side`` and ``largest``.

    >>> auto_scales(128, 448, (128, 256, 512)), auto_scales(128, 256, (128, 256, 512))
    ((128, 256, 512), (128, 256))
    >>> auto_scales(128, 448, (128,)), auto_scales(128, 100, (128, 256))
    ((128,), (128,))
    """
    top = min(1.25 * side, largest)
    return (first, *sorted(s for s in set(trained) if first < s <= top))


def _check_scales(scales: tuple[int, ...]) -> None:
    ok = all(isinstance(s, int) and not isinstance(s, bool) for s in scales)
    if not ok or list(scales) != sorted(set(scales)) or any(s < 16 or s % 4 for s in scales):
        raise InpaintError(
            f"scales must be increasing multiples of 4 of at least 16 (e.g. 128,256,512), "
            f"got {scales}"
        )


def translate(
    g2: FeatureToImage, vgg: VGG16Features, image: torch.Tensor, hole: torch.Tensor, *,
    patch: int = 3, stride: int = 1,
) -> torch.Tensor:  # fmt: skip
    """G2(patch_swap(relu3_1(image), hole)): (B, 3, H, W), (B, 1, H, W) -> (B, 3, H, W)."""
    return g2(patch_swap(relu3_1(vgg, image), hole, patch=patch, stride=stride)[0])


def fill_square(
    model: SongModel, vgg: VGG16Features, canvas: torch.Tensor, hole: torch.Tensor, *,
    scales: tuple[int, ...], refine_iters: int = 0, patch: int = 3, stride: int = 1,
    report: Callable[[], None] | None = None,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:  # fmt: skip
    """Song et al.'s multi-scale fill of one square (see the module docstring).

    Args:
        canvas: (1, 3, S, S) in [-1, 1] (hole content ignored). hole: (1, 1, S, S) in {0, 1}.
        scales: increasing working sides; G1 runs at the first.
        report: called after each network pass (progress): 1 + len(scales) x (1 + refine_iters).

    Returns:
        ``{"g1": ..., "stage_<s>": ...}`` (1, 3, s, s) composites in [-1, 1], in order, and
        the last G2 output (1, 3, s, s) over the whole square (the source of the blend).
    """
    assert model.g1 is not None
    g1 = model.g1
    x, h = fit(canvas, hole, scales[0])
    out = run_padded(g1, g1.cfg.image_size, x, h).clamp(-1, 1)
    comp = x + out * h
    stages = {"g1": comp}
    if report is not None:
        report()
    for s in scales:
        x, h = fit(canvas, hole, s)
        if comp.shape[-1] != s:
            comp = x + F.interpolate(comp, size=(s, s), mode="bilinear") * h
        g2 = model.g2_for(s)
        run = functools.partial(translate, g2, vgg, patch=patch, stride=stride)
        for _ in range(1 + refine_iters):
            out = run_padded(run, g2.cfg.image_size, comp, h).clamp(-1, 1)
            comp = x + out * h
            if report is not None:
                report()
        stages[f"stage_{s}"] = comp
    return stages, out


@register_method(
    "song2018",
    kind="feed-forward",
    summary="Song et al.: G1 infers the hole, patch-swap of VGG features copies the known "
    "textures in, G2 translates them back to an image; multi-scale up to 512 px",
    needs="a trained Song model: G1 (song-i2f) + G2 (song-f2i) joined into one file "
    "(bundled: natural128, the default; natural256, with a G2 at 256 too, sharper)",
    paper="Song, Yang, Lin, Liu, Huang, Li, Kuo: Contextual-based Image Inpainting: Infer, "
    "Match, and Translate, ECCV 2018 (arXiv 1711.08590)",
    models=lambda: tuple(list_installed("song2018")),
    family="song2018",
)
def song2018(
    image: torch.Tensor,
    mask: torch.Tensor,
    *,
    model: str | None = None,
    scales: tuple[int, ...] = (),
    refine_iters: int = 0,
    context: float = 2.0,
    blend: bool = True,
    patch: int = 3,
    stride: int = 1,
    device: str = "cpu",
    progress: bool = True,
    callback: Callback | None = None,
) -> MethodResult:
    """Fill the holes with Song et al.'s Image2Feature, patch-swap and Feature2Image.

    Args:
        image: (B, 3, H, W) in [-1, 1], any size; hole content is ignored.
        mask: (B, 1, H, W), 1 = hole; several holes of any shape (bounded by one square).
        model: an installed domain, a full name, a ``.safetensors`` path, or None for the
            default model (natural128).
        scales: increasing working sides, e.g. ``(128, 256, 512)`` (the paper's multi-scale
            inference); ``()``: per image, G1's size and the larger sizes the model has a
            G2 for that suit the square around its holes (:func:`auto_scales`).
        refine_iters: extra VGG + patch-swap + G2 passes on each scale's own output.
        context: side of the square around the holes / their larger extent (>= 1).
        blend: Poisson-blend the fill into the image (the paper's blending); False pastes it.
        patch, stride: patch-swap's patch size and source stride (3, 1 in the paper).
        device: torch device.
        progress: show a progress bar on stderr (one step per network pass).
        callback: ``callback(step, None, total=passes)`` after each pass (web progress).

    Returns:
        ``MethodResult``: (B, 3, H, W) in [-1, 1], known pixels equal to ``image``'s; extras
        ``model`` (the file), ``g1`` and ``stage_<s>`` (B, 3, H, W): the image with G1's and
        each scale's fill pasted into the hole (not blended).

    Raises:
        InpaintError: no model, bad options, or a hole too large for patch-swap.
    """
    path = resolve_song_model(model)
    net = load_song_model(path, device)
    if net.g1 is None or not net.g2:
        raise InpaintError(f"{path} lacks G1 or G2: song2018 needs both (combine_song_models)")
    scales, first = tuple(scales), net.g1.cfg.image_size
    _check_scales(scales)
    if refine_iters < 0 or context < 1:
        raise InpaintError("song2018 needs refine_iters >= 0 and context >= 1")
    check_patch("song2018", patch, stride, side=(scales or (first,))[0] // 4)
    vgg = cached_song_vgg(net.vgg, str(device))
    dev = torch.device(device)
    x, m = image.to(dev, torch.float32), (mask.to(dev) >= 0.5).float()
    fills: dict[str, torch.Tensor] = {}
    ran: dict[tuple[int, ...], set[int]] = {}  # scales -> the square sides they ran on
    plans = {}  # image -> (square, scales)
    for i in range(x.shape[0]):
        if bool(m[i].any()):
            sq = bounding_square(m[i, 0] > 0, context=context, min_side=(scales or (first,))[0])
            plans[i] = (sq, scales or auto_scales(first, sq.side, net.g2))
    total = sum(1 + len(used) * (1 + refine_iters) for _, used in plans.values())
    bar = Progress(total, desc="song2018", enabled=progress, callback=callback)

    def step() -> None:
        bar.update(bar.step + 1)

    with torch.no_grad(), contextlib.closing(bar):
        for i, (sq, used) in plans.items():
            canvas = crop_square(x[i : i + 1] * (1 - m[i : i + 1]), sq)
            stages, raw = fill_square(
                net, vgg, canvas, crop_square(m[i : i + 1], sq), scales=used,
                refine_iters=refine_iters, patch=patch, stride=stride, report=step,
            )  # fmt: skip
            ran.setdefault(used, set()).add(sq.side)
            for name, st in {**stages, "raw": raw}.items():
                if name not in fills:
                    fills[name] = x.clone()
                fills[name][i] = paste_square(x[i : i + 1], _resize(st, sq.side), sq)[0]
    out = compose(x, m, fills.pop("raw", x), blend=blend)
    extras: dict[str, Any] = {"model": str(path)}
    extras.update({k: compose(x, m, v, blend=False).to(image.device) for k, v in fills.items()})
    notes = []
    for used, sides in ran.items():
        if sides - {used[-1]}:
            run, shown = (", ".join(str(s) for s in sorted(v)) for v in (used, sides))
            notes.append(f"song2018 ran at {run} px on the square(s) of {shown} px around the hole")
    return MethodResult(image=out.to(image.device, image.dtype), extras=extras, notes=notes)
