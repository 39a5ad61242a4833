"""Validation of mask sizes and options, and the seeded random generator every mask draws from."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from inpaintkit.errors import InpaintError

Size = tuple[int, int]


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
