"""Block-shaped masks: centre square, Yeh's pattern, random pixels, halves, three squares, and
DeepFill's training box."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from inpaintkit.errors import InpaintError
from inpaintkit.masks.checks import Size, _check_int, _check_number, _check_pair, _rng

_HALF_SIDES = ("left", "right", "top", "bottom")


def center_mask(
    size: Size,
    *,
    rng: np.random.Generator | None = None,
    fraction: float = 0.5,
    box: tuple[int, int] | None = None,
) -> np.ndarray:
    """Central rectangular hole (deterministic: ``rng`` is unused).

    Args:
        fraction: hole side as a fraction of each image side (0.5: 32x32 of 64x64 as in
            Yeh 2017, 128x128 of 256x256 as in DeepFill and Song 2018).
        box: explicit ``(w, h)`` of the hole in pixels; overrides ``fraction``.

    Returns:
        ``(H, W)`` bool, True = hole. Coverage is exactly 0.25 at the defaults on even sides.
    """
    w, h = _check_pair("size", size)
    if box is None:
        f = _check_number("fraction", fraction, 0.0, 1.0, lo_open=True)
        bw, bh = max(1, round(f * w)), max(1, round(f * h))
    else:
        bw, bh = _check_pair("option box", box, (w, h))
    mask = np.zeros((h, w), bool)
    top, left = (h - bh) // 2, (w - bw) // 2
    mask[top : top + bh, left : left + bw] = True
    return mask


def pattern_mask(
    size: Size, *, rng: np.random.Generator | None = None, coverage: float = 0.25
) -> np.ndarray:
    """Yeh 2017's random pattern: blob-like regions covering ``coverage`` of the image.

    White noise is smoothed by a Gaussian of random width (sigma uniform in
    [1/32, 1/10] of the shorter side, i.e. 2-6.4 px at 64x64), and the ``round(coverage*H*W)``
    highest pixels become the hole, so the coverage is exact (to one pixel).

    Args:
        coverage: fraction of pixels missing, in (0, 1).

    Returns:
        ``(H, W)`` bool, True = hole.
    """
    w, h = _check_pair("size", size)
    c = _check_number("coverage", coverage, 0.0, 1.0)
    gen = _rng(rng)
    sigma = gen.uniform(1 / 32, 1 / 10) * min(w, h)
    field = ndimage.gaussian_filter(gen.standard_normal((h, w)), sigma, mode="reflect")
    k = round(c * w * h)
    order = np.argsort(field, axis=None, kind="stable")
    mask = np.zeros(h * w, bool)
    if k > 0:
        mask[order[-k:]] = True
    return mask.reshape(h, w)


def random_pixels_mask(
    size: Size, *, rng: np.random.Generator | None = None, p: float = 0.8
) -> np.ndarray:
    """Every pixel missing independently with probability ``p`` (Yeh 2017: 80 %).

    Args:
        p: probability that a pixel is a hole, in [0, 1].

    Returns:
        ``(H, W)`` bool, True = hole; expected coverage ``p``.
    """
    w, h = _check_pair("size", size)
    prob = _check_number("p", p, 0.0, 1.0)
    return _rng(rng).random((h, w)) < prob


def half_mask(
    size: Size, *, rng: np.random.Generator | None = None, side: str | None = None
) -> np.ndarray:
    """Half of the image missing (Yeh 2017: horizontal or vertical at random).

    Args:
        side: ``left``, ``right``, ``top`` or ``bottom``; None picks one uniformly.

    Returns:
        ``(H, W)`` bool, True = hole; the hole is ``W // 2`` columns or ``H // 2`` rows
        (coverage exactly 0.5 on even sides).
    """
    w, h = _check_pair("size", size)
    if side is None:
        side = _HALF_SIDES[int(_rng(rng).integers(len(_HALF_SIDES)))]
    if side not in _HALF_SIDES:
        raise InpaintError(f"mask option side={side!r} must be one of {', '.join(_HALF_SIDES)}")
    mask = np.zeros((h, w), bool)
    half = {"left": np.s_[:, : w // 2], "right": np.s_[:, w - w // 2 :]}
    half.update(top=np.s_[: h // 2], bottom=np.s_[h - h // 2 :])
    mask[half[side]] = True
    return mask


def three_squares_mask(
    size: Size,
    *,
    rng: np.random.Generator | None = None,
    count: int = 3,
    min_side: float = 0.25,
    max_side: float = 1 / 3,
) -> np.ndarray:
    """Vitoria 2019's "three squares": rectangles at random positions, may overlap.

    Each rectangle's width (height) is a uniform integer in
    ``[round(min_side*W), round(max_side*W)]`` (same with H): 16-21 px at 64x64.

    Args:
        count: number of rectangles.
        min_side: smallest side as a fraction of the image side.
        max_side: largest side as a fraction of the image side.

    Returns:
        ``(H, W)`` bool, True = hole. Coverage lies in [min_side^2, count*max_side^2]
        (0.0625-0.333 at the defaults, about 0.25 on average at 64x64).
    """
    w, h = _check_pair("size", size)
    n = _check_int("count", count, 1, 1000)
    lo = _check_number("min_side", min_side, 0.0, 1.0, lo_open=True)
    hi = _check_number("max_side", max_side, lo, 1.0)
    gen = _rng(rng)
    mask = np.zeros((h, w), bool)
    for _ in range(n):
        bw = int(gen.integers(max(1, round(lo * w)), max(1, round(hi * w)) + 1))
        bh = int(gen.integers(max(1, round(lo * h)), max(1, round(hi * h)) + 1))
        x = int(gen.integers(0, w - bw + 1))
        y = int(gen.integers(0, h - bh + 1))
        mask[y : y + bh, x : x + bw] = True
    return mask


def box_mask(
    size: Size,
    *,
    rng: np.random.Generator | None = None,
    box: tuple[int, int] | None = None,
    max_delta: int | None = None,
) -> np.ndarray:
    """DeepFill v1's training hole: one box placed uniformly, shrunk at random.

    DeepFill trains at 256x256 with a 128x128 box and ``max_delta`` 32: the box's top-left
    corner is uniform over all positions that keep it inside the image, then each axis is
    shrunk by a random ``d`` in ``0..max_delta//2`` on both of its sides (the same ``d`` at
    top and bottom, another at left and right), as the reference code does.

    Args:
        box: ``(w, h)`` of the box before shrinking; None = half of each image side.
        max_delta: largest total shrink per axis in pixels; None = 32 at 256 px scaled to the
            image, i.e. ``round(W / 8)`` horizontally and ``round(H / 8)`` vertically.

    Returns:
        ``(H, W)`` bool, True = hole. Coverage at the defaults: 0.14-0.25 (at 64x64: a box of
        24..32 x 24..32 px).
    """
    w, h = _check_pair("size", size)
    bw, bh = (
        (max(1, w // 2), max(1, h // 2)) if box is None else _check_pair("option box", box, (w, h))
    )
    if max_delta is None:
        dw, dh = round(w / 8), round(h / 8)
    else:
        dw = dh = _check_int("max_delta", max_delta, 0)
    gen = _rng(rng)
    top = int(gen.integers(0, h - bh + 1))
    left = int(gen.integers(0, w - bw + 1))
    sh = int(gen.integers(0, min(dh // 2, (bh - 1) // 2) + 1))
    sw = int(gen.integers(0, min(dw // 2, (bw - 1) // 2) + 1))
    mask = np.zeros((h, w), bool)
    mask[top + sh : top + bh - sh, left + sw : left + bw - sw] = True
    return mask
