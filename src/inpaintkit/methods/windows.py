"""Where a feed-forward network should look: windows around holes and the scale to run them at.

A network trained on S x S crops with holes up to S/2 (DeepFill: 256 and 128) does best when it
sees holes of about that size with about as much context around them. :func:`plan_windows`
turns one (H, W) hole mask into windows (crops of the image) and a scale for each:

- ``full``: one window, the whole image, at scale 1 (what the reference code does).
- ``crop``: one window per group of nearby holes, a square of side ``context`` x the group's
  extent (at least the training size), at scale 1.
- ``downscale``: the whole image, scaled so its holes are no deeper than the training holes.
- ``auto``: windows as ``crop``, each scaled as ``downscale`` (a window that would cover most
  of the image becomes the whole image).

The depth of a hole is the largest distance from a hole pixel to the nearest known pixel: what
the network must invent without any nearby context. Training boxes of side S/2 are S/4 deep;
a window is scaled by ``min(1, depth_ratio * (S / 4) / depth)``: holes up to ``depth_ratio``
times as deep as the training boxes (1 by default) are filled at full resolution, deeper ones
are scaled down to that depth. A long thin stroke is shallow and keeps full resolution, however
long it is. (``depth_ratio=2`` is measured in docs/deepfill.md: better on ImageNet strokes and
LPIPS, worse on DTD.)

Every strategy also caps the pixels the network sees at ``max_pixels`` (memory and time).

Example:
    >>> hole = np.zeros((512, 512), bool)
    >>> hole[100:164, 300:364] = True
    >>> [(w.y0, w.y1, w.x0, w.x1, w.scale) for w in plan_windows(hole, train_size=256)]
    [(4, 260, 204, 460, 1.0)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from inpaintkit.errors import InpaintError

STRATEGIES = ("auto", "full", "crop", "downscale")
MULTIPLE = 8  # DeepFill needs sides that are multiples of 8
_WHOLE_IMAGE = 0.6  # a window covering more of the image than this becomes the image
DEPTH_RATIO = 1.0  # holes deeper than the training boxes are scaled down (see plan_windows)


@dataclass(frozen=True)
class Window:
    """A crop ``[y0:y1, x0:x1]`` of the image, run through the network at ``scale``."""

    y0: int
    y1: int
    x0: int
    x1: int
    scale: float

    @property
    def size(self) -> tuple[int, int]:
        """(h, w) of the crop at the image's resolution."""
        return self.y1 - self.y0, self.x1 - self.x0

    @property
    def net_size(self) -> tuple[int, int]:
        """(h, w) the network sees: the scaled crop, at least one multiple of 8 per side."""
        h, w = self.size
        return max(MULTIPLE, round(h * self.scale)), max(MULTIPLE, round(w * self.scale))


def _boxes(hole: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (y0, y1, x0, x1) of the 8-connected hole components."""
    labels, _ = ndimage.label(hole, structure=np.ones((3, 3)))
    return [(s[0].start, s[0].stop, s[1].start, s[1].stop) for s in ndimage.find_objects(labels)]


def _around(box: tuple[int, int, int, int], side_min: int, context: float, H: int, W: int):
    """The square window of side max(context x extent, side_min) centred on box, in the image."""
    y0, y1, x0, x1 = box
    side = max(round(context * max(y1 - y0, x1 - x0)), side_min)
    h, w = min(side, H), min(side, W)
    cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
    top = int(np.clip(cy - h // 2, 0, H - h))
    left = int(np.clip(cx - w // 2, 0, W - w))
    # the window must contain the whole box (a very elongated hole)
    top, left = min(top, y0), min(left, x0)
    bottom, right = max(top + h, y1), max(left + w, x1)
    return top, bottom, left, right


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def _union(a: tuple[int, int, int, int], b: tuple[int, int, int, int]):
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])


def _groups(hole: np.ndarray, side_min: int, context: float) -> list[tuple]:
    """[(hole box, window box)]: components merged until their windows are disjoint."""
    H, W = hole.shape
    groups = [(b, _around(b, side_min, context, H, W)) for b in _boxes(hole)]
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if _overlap(groups[i][1], groups[j][1]):
                    box = _union(groups[i][0], groups[j][0])
                    groups[i] = (box, _around(box, side_min, context, H, W))
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return groups


def _scale(depth: float, size: tuple[int, int], train_depth: float, max_pixels: int) -> float:
    """Largest scale <= 1 that makes ``depth`` <= train_depth and the window <= max_pixels."""
    s = min(1.0, train_depth / max(depth, 1.0))
    return min(s, (max_pixels / (size[0] * size[1])) ** 0.5)


def plan_windows(
    hole: np.ndarray,
    *,
    train_size: int,
    strategy: str = "auto",
    context: float = 2.0,
    max_pixels: int = 1024 * 1024,
    depth_ratio: float = DEPTH_RATIO,
) -> list[Window]:
    """The windows and scales to run a network trained on ``train_size`` crops on.

    Args:
        hole: (H, W) bool, True = hole (at least one hole pixel).
        train_size: side of the network's training crops; its holes were up to half of it.
        strategy: ``auto``, ``full``, ``crop`` or ``downscale`` (module docstring).
        context: window side / hole extent for ``crop`` and ``auto`` (2: as in training).
        max_pixels: most pixels a window may have at the network's scale.
        depth_ratio: how many times deeper than a training box (S/4) a hole may be before
            its window is scaled down (``auto`` and ``downscale``).

    Returns:
        Non-overlapping windows covering every hole pixel.

    Raises:
        InpaintError: unknown strategy or bad numbers.
    """
    if strategy not in STRATEGIES:
        raise InpaintError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if context < 1 or max_pixels < MULTIPLE**2 or train_size < MULTIPLE:
        raise InpaintError("context must be >= 1, max_pixels >= 64 and train_size >= 8")
    if not depth_ratio > 0:
        raise InpaintError(f"depth_ratio must be > 0, got {depth_ratio}")
    H, W = hole.shape
    train_depth = depth_ratio * train_size / 4  # a training box of side S/2 is S/4 deep
    whole = (0, H, 0, W)
    dist = ndimage.distance_transform_edt(hole)  # hole pixel -> distance to the nearest known

    def depth(y0: int, y1: int, x0: int, x1: int) -> float:
        """The deepest hole pixel of the window (what must be invented)."""
        return float(dist[y0:y1, x0:x1].max())

    def cap(size: tuple[int, int]) -> float:
        return min(1.0, (max_pixels / (size[0] * size[1])) ** 0.5)

    if strategy == "full":
        return [Window(*whole, scale=cap((H, W)))]
    if strategy == "downscale":
        return [Window(*whole, scale=_scale(depth(*whole), (H, W), train_depth, max_pixels))]
    out = []
    for _, (y0, y1, x0, x1) in _groups(hole, train_size, context):
        if strategy == "auto" and (y1 - y0) * (x1 - x0) > _WHOLE_IMAGE * H * W:
            return [Window(*whole, scale=_scale(depth(*whole), (H, W), train_depth, max_pixels))]
        size = (y1 - y0, x1 - x0)
        if strategy == "crop":
            s = cap(size)
        else:
            s = _scale(depth(y0, y1, x0, x1), size, train_depth, max_pixels)
        out.append(Window(y0, y1, x0, x1, scale=s))
    return out


def square_window(
    hole: np.ndarray, size: int, *, context: float = 2.0
) -> tuple[int, int, int, int]:
    """The square crop ``(y0, y1, x0, x1)`` a model of ``size`` x ``size`` should fill.

    For models trained on whole S x S images with a hole of about S/2 (the latent-search GANs,
    the context encoder): a square around every hole, ``context`` times their extent and at
    least ``size`` (so a small hole in a big photo is filled at the model's own scale, and the
    crop keeps the aspect ratio), centred on the holes and moved inside the image; when that is
    larger than the image's shorter side, the largest square that fits.

    Args:
        hole: (H, W) bool, True = hole, not empty.
        size: the model's side S.
        context: crop side / the holes' extent (2: holes of half the crop, as in training).

    Raises:
        InpaintError: the holes span more than the image's shorter side, so no square crop
            inside the image holds them.

    >>> hole = np.zeros((400, 600), bool); hole[100:120, 300:340] = True
    >>> square_window(hole, 64)
    (70, 150, 280, 360)
    """
    ys, xs = np.nonzero(hole)
    if ys.size == 0:
        raise ValueError("square_window needs a mask with a hole")
    H, W = hole.shape
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    extent = max(y1 - y0, x1 - x0)
    if extent > min(H, W):
        raise InpaintError(
            f"the holes span {x1 - x0}x{y1 - y0} px, more than the image's shorter side "
            f"({min(H, W)} px): no square crop around them fits in the {W}x{H} image, and "
            "squashing the image would distort it; paint a smaller hole, or use deepfill, "
            "patchmatch or telea"
        )
    side = min(max(size, int(np.ceil(context * extent))), H, W)
    top = min(max(0, (y0 + y1 - side) // 2), H - side)
    left = min(max(0, (x0 + x1 - side) // 2), W - side)
    return top, top + side, left, left + side


Fit = Callable[[torch.Tensor, torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]]


def square_crops(
    image: torch.Tensor, mask: torch.Tensor, size: int, *, fit: Fit
) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, int, int, int]]]:
    """Each image's :func:`square_window`, cut out and fitted to ``size`` x ``size``.

    Args:
        image: (B, C, H, W); mask: (B, 1, H, W), 1 = hole, a hole in every image.
        size: the model's side S.
        fit: resizes a (1, C, s, s) crop and its mask to S x S (only called when s != S).

    Returns:
        (B, C, S, S) crops, their (B, 1, S, S) masks, and the boxes ``(y0, y1, x0, x1)``.

    Raises:
        InpaintError: as :func:`square_window`.
    """
    boxes = [
        square_window(mask[b, 0].detach().cpu().numpy() >= 0.5, size) for b in range(len(mask))
    ]
    xs, ms = [], []
    for b, (y0, y1, x0, x1) in enumerate(boxes):
        x, m = image[b : b + 1, :, y0:y1, x0:x1], mask[b : b + 1, :, y0:y1, x0:x1]
        if y1 - y0 != size:
            x, m = fit(x, m, size)
        xs.append(x)
        ms.append(m)
    return torch.cat(xs), torch.cat(ms), boxes


def paste_squares(
    image: torch.Tensor, small: torch.Tensor, boxes: list[tuple[int, int, int, int]]
) -> torch.Tensor:
    """``image`` (B, C, H, W) with each (C, S, S) fill of ``small`` resized into its box."""
    out = image.clone()
    for b, (y0, y1, x0, x1) in enumerate(boxes):
        patch = small[b : b + 1].to(out.dtype)
        if patch.shape[-2:] != (y1 - y0, x1 - x0):
            patch = F.interpolate(
                patch, size=(y1 - y0, x1 - x0), mode="bilinear", antialias=True, align_corners=False
            ).clamp(-1, 1)
        out[b : b + 1, :, y0:y1, x0:x1] = patch
    return out


def crop_note(
    boxes: list[tuple[int, int, int, int]], size: int, hw: tuple[int, int], name: str
) -> list[str]:
    """The note telling the user what :func:`square_crops` did (none when nothing changed)."""
    H, W = hw
    sides = sorted({y1 - y0 for y0, y1, _, _ in boxes})
    if sides == [size] and (size, size) == (H, W):
        return []
    what = "the image" if all(b == (0, H, 0, W) for b in boxes) else (
        f"a {'/'.join(map(str, sides))} px square crop around the holes")  # fmt: skip
    scaled = "" if sides == [size] else f", resized to {size}x{size}"
    return [f"filled {what} of {W}x{H}{scaled} for the {name} model"]
