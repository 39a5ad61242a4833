"""The search settings of the latent-search methods: the papers' (``paper``) and a faster
preset (``fast``: fewer steps in bf16 from the best of 32 initial latents, stopping early)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inpaintkit.errors import InpaintError

__all__ = ["PRESETS", "preset_steps", "resolve_preset"]

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "yeh2017": {
        "paper": {"iterations": 1500, "precision": "fp32", "init_candidates": 1,
                  "early_stop_tol": 0.0},
        "fast": {"iterations": 250, "precision": "bf16", "init_candidates": 32,
                 "early_stop_tol": 1e-4},
    },
    "vitoria2019": {
        "paper": {"iterations": 1000, "precision": "fp32", "init_candidates": 1,
                  "early_stop_tol": 0.0},
        "fast": {"iterations": 200, "precision": "bf16", "init_candidates": 32,
                 "early_stop_tol": 1e-4},
    },
}  # fmt: skip


def preset_steps(method: str) -> Callable[[dict[str, Any]], int | None]:
    """The ``total_steps`` hook of ``method``: ``iterations`` if given, else its preset's.

    >>> preset_steps("yeh2017")({"preset": "fast"})
    250
    """

    def total_steps(options: dict[str, Any]) -> int | None:
        given = options.get("iterations")
        if isinstance(given, int) and not isinstance(given, bool):
            return given
        try:
            return int(PRESETS[method][options.get("preset") or "paper"]["iterations"])
        except (KeyError, TypeError, ValueError):
            return None

    return total_steps


def resolve_preset(method: str, preset: str, **given: Any) -> dict[str, Any]:
    """The search settings of ``preset`` for ``method``, with every non-None ``given`` value kept.

    >>> resolve_preset("yeh2017", "fast", iterations=None, precision="fp32")["precision"]
    'fp32'
    """
    table = PRESETS[method]
    if preset not in table:
        raise InpaintError(f"preset must be one of {', '.join(table)}, got {preset!r}")
    out = dict(table[preset])
    out.update({k: v for k, v in given.items() if v is not None})
    out["early_stop_tol"] = out["early_stop_tol"] or None  # 0 = run every iteration
    return out
