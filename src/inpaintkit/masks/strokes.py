"""Free-form stroke masks: LaMa's thin, medium and thick brush strokes (Suvorov et al. 2022)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from inpaintkit.errors import InpaintError
from inpaintkit.masks.checks import Size, _check_int, _check_number, _check_pair, _rng

_MAX_DRAWS = 500  # stroke masks redrawn until their coverage is in band (>= 7 % accepted)


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
