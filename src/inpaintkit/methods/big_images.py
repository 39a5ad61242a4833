"""Big photos for the classical solvers: work on windows around the holes, as DeepFill does.

``biharmonic``, ``tv`` and ``lowrank`` cost far more than linear time in the pixels they solve
for (sparse LU, thousands of iterations, SVDs), so a big photo is never solved whole: each group
of nearby holes gets a window around it (:func:`~inpaintkit.methods.windows.plan_windows`'s
``crop`` strategy: a square of ``context`` times the holes' extent, windows merged until they
are disjoint), and a window larger than the solver's pixel budget is solved at a smaller scale,
its fill upsampled into the holes. Known pixels are never touched. The result says what was
done in its notes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from inpaintkit.convert import tensor_to_mask
from inpaintkit.methods.windows import plan_windows

Fill = Callable[[Tensor, Tensor], Tensor]  # (1, 3, h, w), (1, 1, h, w) -> (1, 3, h, w)


def _resize(t: Tensor, size: tuple[int, int]) -> Tensor:
    return F.interpolate(t, size=size, mode="bilinear", antialias=True, align_corners=False)


def shrink_known(image: Tensor, mask: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """Resize (1, 3, h, w) and its hole (1, 1, h, w) to ``size`` without hole values leaking
    into known ones (normalised convolution); a small pixel is a hole when any of its filter
    weight falls on the hole, so every hole pixel of the input is covered at the small scale."""
    known = 1.0 - mask
    weight = _resize(known, size)
    small = _resize(image * known, size) / weight.clamp_min(1e-6)
    hole = (_resize(mask, size) > 1e-3).to(mask.dtype)
    return small.clamp(-1, 1) * (1 - hole), hole


def fill_in_windows(
    image: Tensor,
    mask: Tensor,
    fill: Fill,
    *,
    max_pixels: int,
    method: str,
    context: float = 2.0,
    min_side: int = 64,
) -> tuple[Tensor, list[str]]:
    """Fill the holes of a batch window by window, each window at most ``max_pixels``.

    Args:
        image: (B, 3, H, W) in [-1, 1]; mask: (B, 1, H, W), 1 = hole.
        fill: the solver, called once per window on (1, 3, h, w) and (1, 1, h, w).
        max_pixels: the solver's budget per window; larger windows are scaled down to it.
        method: the method's name, for the notes.
        context: window side / the holes' extent.
        min_side: smallest window side (context for tiny holes).

    Returns:
        (B, 3, H, W) with the holes filled (the input elsewhere), and notes for the user.
    """
    out = image.detach().float().clone()
    count, scales = 0, set()
    for b in range(image.shape[0]):
        hole = tensor_to_mask(mask[b])
        if not hole.any():
            continue
        side = max(8, min(min_side, *hole.shape))
        windows = plan_windows(
            hole, train_size=side, strategy="crop", context=context, max_pixels=max_pixels
        )
        for w in windows:
            region = (slice(b, b + 1), slice(None), slice(w.y0, w.y1), slice(w.x0, w.x1))
            x, m = out[region], mask[region].float()
            if w.scale < 1:
                size = (max(1, round(w.size[0] * w.scale)), max(1, round(w.size[1] * w.scale)))
                small, small_hole = shrink_known(x, m, size)
                filled = _resize(fill(small, small_hole), w.size).clamp(-1, 1)
            else:
                filled = fill(x, m)
            out[region] = torch.where(m >= 0.5, filled.to(out.dtype), x)
            count += 1
            scales.add(round(w.scale, 3))
    notes = [f"{method} solved {count} window(s) around the holes instead of the whole image"]
    if any(s < 1 for s in scales):
        shown = ", ".join(f"{s:g}" for s in sorted(scales))
        notes[0] += f", at scale {shown} (the fill is upsampled into the holes)"
    return out, notes
