"""Seeded hole-mask generators used by the papers' evaluations and by training.

Every generator ``fn(size, *, rng=None, **options)`` takes ``size = (W, H)`` (width first,
like PIL and OpenCV) and returns a numpy ``(H, W)`` bool array, True = hole. Randomness comes
only from the numpy ``Generator`` ``rng`` (None = ``default_rng(0)``), so
``make_mask(kind, size, seed=s, **options)`` is the same mask for the same arguments on every
machine. Options are keyword-only with the papers' defaults; bad values raise InpaintError.

Kinds (``MASK_KINDS``), with the paper each one reproduces:

* ``center``: central block, half of each side (Yeh 2017, Vitoria 2019, DeepFill, Song).
* ``pattern``: Yeh's random pattern, 25 % missing in blob-like regions.
* ``random80``: every pixel missing independently with p = 0.8 (Yeh 2017).
* ``half``: left, right, top or bottom half missing (Yeh 2017).
* ``three_squares``: three random rectangles, 1/4..1/3 of the side each (Vitoria 2019).
* ``box``: DeepFill v1 training box (half the side) with random shrink ``max_delta``.
* ``thin``, ``medium``, ``thick``: LaMa's free-form stroke masks (Suvorov et al. 2022).
* ``objects``: object silhouettes with a painted margin, 2-33 % of the image (ours: what a
  person paints over an object; :mod:`inpaintkit.object_masks`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from scipy import ndimage

from inpaintkit.errors import InpaintError
from inpaintkit.object_masks import object_mask

Size = tuple[int, int]

_HALF_SIDES = ("left", "right", "top", "bottom")
_MAX_DRAWS = 500  # stroke masks redrawn until their coverage is in band (>= 7 % accepted)


# ----------------------------------------------------------------------------- validation
def _check_pair(what: str, value: Any, limit: Size | None = None) -> Size:
    """``value`` as positive ints ``(w, h)`` (at most ``limit``), or InpaintError."""
    try:
        w, h = (int(v) for v in value)
        ok = (w, h) == tuple(value) and w > 0 and h > 0
        ok = ok and (limit is None or (w <= limit[0] and h <= limit[1]))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        within = "" if limit is None else f" within {limit[0]}x{limit[1]}"
        raise InpaintError(f"mask {what}={value!r} must be (width, height) positive ints{within}")
    return w, h


def _check_number(name: str, value: Any, lo: float, hi: float, *, lo_open: bool = False) -> float:
    """``value`` as a float in [lo, hi] (or (lo, hi] with ``lo_open``), or InpaintError."""
    try:
        v = math.nan if isinstance(value, bool) else float(value)  # str from the CLI is fine
    except (TypeError, ValueError):
        v = math.nan
    ok = (lo < v if lo_open else lo <= v) and v <= hi
    if not ok:
        bracket = "(" if lo_open else "["
        raise InpaintError(f"mask option {name}={value!r} must be a number in {bracket}{lo}, {hi}]")
    return v


def _check_int(name: str, value: Any, lo: int, hi: int = 10**9) -> int:
    """``value`` as an int in [lo, hi], or InpaintError."""
    try:
        v = int(value)  # an int, or a str such as "3" from the command line
        ok = not isinstance(value, bool) and str(v) == str(value).strip() and lo <= v <= hi
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InpaintError(f"mask option {name}={value!r} must be an integer in [{lo}, {hi}]")
    return v


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    return np.random.default_rng(0) if rng is None else rng


# ----------------------------------------------------------------------------- generators
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


def strokes_mask(
    size: Size,
    *,
    rng: np.random.Generator | None = None,
    min_times: int = 4,
    max_times: int = 5,
    max_len: int = 100,
    max_width: int = 50,
    max_vertices: int = 5,
    min_coverage: float = 0.0,
    max_coverage: float = 0.5,
) -> np.ndarray:
    """Free-form strokes as in LaMa's random irregular masks (its medium settings by default).

    ``times`` strokes (uniform in ``min_times..max_times``); each starts at a uniform pixel
    and has 1..``max_vertices`` segments, each of uniform random direction, length
    ``10 + U{0..max_len-1}`` and brush width ``5 + U{0..max_width-1}`` px, drawn with
    ``cv2.line`` plus a disc at every vertex so joints are round. Lengths and widths are given
    at 256x256 and scaled by ``sqrt(W*H)/256`` (widths at least 1 px). A mask whose coverage
    is outside ``[min_coverage, max_coverage]`` is redrawn (LaMa redraws above its
    ``max_tamper_area`` 0.5, the default here).

    Args:
        min_times: fewest strokes.
        max_times: most strokes.
        max_len: segment length range at 256 px.
        max_width: brush width range at 256 px.
        max_vertices: most segments per stroke.
        min_coverage: smallest accepted hole fraction.
        max_coverage: largest accepted hole fraction.

    Returns:
        ``(H, W)`` bool, True = hole, with coverage in ``[min_coverage, max_coverage]``.

    Raises:
        InpaintError: bad option, or no draw in ``_MAX_DRAWS`` fell in the coverage band.
    """
    w, h = _check_pair("size", size)
    t_lo = _check_int("min_times", min_times, 0)
    t_hi = _check_int("max_times", max_times, t_lo)
    length = _check_int("max_len", max_len, 1)
    width = _check_int("max_width", max_width, 1)
    verts = _check_int("max_vertices", max_vertices, 1)
    c_lo = _check_number("min_coverage", min_coverage, 0.0, 1.0)
    c_hi = _check_number("max_coverage", max_coverage, c_lo, 1.0)
    gen = _rng(rng)
    scale = math.sqrt(w * h) / 256.0
    for _ in range(_MAX_DRAWS):
        mask = np.zeros((h, w), np.uint8)
        for _ in range(int(gen.integers(t_lo, t_hi + 1))):
            _draw_stroke(mask, gen, scale, length, width, verts)
        if c_lo * w * h <= np.count_nonzero(mask) <= c_hi * w * h:
            return mask.astype(bool)
    raise InpaintError(
        f"no stroke mask of {w}x{h} with coverage in [{c_lo}, {c_hi}] after {_MAX_DRAWS} draws;"
        " widen min_coverage..max_coverage or use a larger image"
    )


def _draw_stroke(
    mask: np.ndarray,
    gen: np.random.Generator,
    scale: float,
    max_len: int,
    max_width: int,
    max_vertices: int,
) -> None:
    """Draw one random polyline into ``mask`` (uint8, in place)."""
    h, w = mask.shape
    x, y = float(gen.integers(w)), float(gen.integers(h))
    for _ in range(int(gen.integers(1, max_vertices + 1))):
        angle = gen.uniform(0.0, 2.0 * math.pi)
        seg = (10 + int(gen.integers(max_len))) * scale
        brush = max(1, round((5 + int(gen.integers(max_width))) * scale))
        nx = float(np.clip(x + seg * math.cos(angle), 0, w - 1))
        ny = float(np.clip(y + seg * math.sin(angle), 0, h - 1))
        p0, p1 = (round(x), round(y)), (round(nx), round(ny))
        cv2.line(mask, p0, p1, 1, brush)
        for p in (p0, p1):
            cv2.circle(mask, p, brush // 2, 1, -1)
        x, y = nx, ny


def thin_mask(
    size: Size,
    *,
    rng: np.random.Generator | None = None,
    min_coverage: float = 0.05,
    max_coverage: float = 0.15,
) -> np.ndarray:
    """LaMa "thin" strokes: 4-50 strokes, max_len 40, max_width 10 (at 256 px).

    Kept only when the coverage is in ``[min_coverage, max_coverage]`` (LaMa's own draws
    spread over 3-50 %, mean 30 %; pass ``min_coverage=0, max_coverage=0.5`` for them).
    """
    return strokes_mask(
        size, rng=rng, min_times=4, max_times=50, max_len=40, max_width=10,
        min_coverage=min_coverage, max_coverage=max_coverage,
    )  # fmt: skip


def medium_mask(
    size: Size,
    *,
    rng: np.random.Generator | None = None,
    min_coverage: float = 0.15,
    max_coverage: float = 0.30,
) -> np.ndarray:
    """LaMa "medium" strokes: 4-5 strokes, max_len 100, max_width 50 (at 256 px).

    Kept only when the coverage is in ``[min_coverage, max_coverage]`` (LaMa's own draws:
    10-50 %, mean 29 %).
    """
    return strokes_mask(
        size, rng=rng, min_times=4, max_times=5, max_len=100, max_width=50,
        min_coverage=min_coverage, max_coverage=max_coverage,
    )  # fmt: skip


def thick_mask(
    size: Size,
    *,
    rng: np.random.Generator | None = None,
    min_coverage: float = 0.25,
    max_coverage: float = 0.50,
) -> np.ndarray:
    """LaMa "thick" strokes: 1-5 strokes, max_len 200, max_width 100 (at 256 px).

    Kept only when the coverage is in ``[min_coverage, max_coverage]`` (LaMa's own draws:
    1-50 %, mean 29 %).
    """
    return strokes_mask(
        size, rng=rng, min_times=1, max_times=5, max_len=200, max_width=100,
        min_coverage=min_coverage, max_coverage=max_coverage,
    )  # fmt: skip


MASK_KINDS: dict[str, Callable[..., np.ndarray]] = {
    "center": center_mask,
    "pattern": pattern_mask,
    "random80": random_pixels_mask,
    "half": half_mask,
    "three_squares": three_squares_mask,
    "box": box_mask,
    "thin": thin_mask,
    "medium": medium_mask,
    "thick": thick_mask,
    "objects": object_mask,
}


def mask_options(kind: str) -> dict[str, Any]:
    """The keyword options of mask ``kind`` with their defaults (``rng`` excluded)."""
    fn = _get_kind(kind)
    params = inspect.signature(fn).parameters.values()
    return {
        p.name: p.default
        for p in params
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "rng"
    }


def _get_kind(kind: str) -> Callable[..., np.ndarray]:
    try:
        return MASK_KINDS[kind]
    except (KeyError, TypeError):
        known = ", ".join(MASK_KINDS)
        raise InpaintError(f"unknown mask kind {kind!r}; known kinds: {known}") from None


def make_mask(kind: str, size: Size, *, seed: int = 0, **options: Any) -> np.ndarray:
    """A seeded mask of ``kind`` for an image of ``size = (W, H)``.

    Args:
        kind: a key of ``MASK_KINDS``.
        seed: seed of the numpy Generator the mask is drawn from.
        **options: the kind's keyword options (see ``mask_options(kind)``).

    Returns:
        ``(H, W)`` bool, True = hole; the same arguments always give the same mask.

    Raises:
        InpaintError: unknown kind, unknown option or invalid option value or size.

    >>> make_mask("center", (4, 4)).astype(int).tolist()
    [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    """
    fn = _get_kind(kind)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InpaintError(f"mask seed must be a non-negative integer, got {seed!r}")
    allowed = mask_options(kind)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        valid = ", ".join(allowed) or "none"
        raise InpaintError(
            f"unknown option(s) {', '.join(unknown)} for mask kind {kind!r}; valid: {valid}"
        )
    return fn(size, rng=np.random.default_rng(seed), **options)


def mask_coverage(mask: np.ndarray) -> float:
    """Fraction of hole pixels (nonzero entries) in ``mask``, in [0, 1].

    >>> mask_coverage(np.array([[True, False], [False, False]]))
    0.25
    """
    arr = np.asarray(mask)
    if arr.size == 0:
        raise InpaintError("mask is empty (no pixels); give an (H, W) mask")
    return float(np.count_nonzero(arr) / arr.size)
