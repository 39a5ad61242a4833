"""The search settings of the latent-search methods: the papers' (``paper``), a faster preset
(``fast``: fewer steps in bf16 from the best of 32 initial latents, stopping early) and the
amortised one (``amortised``: 150 bf16 steps from a latent encoder's guess, which reach the
paper's 1500-step quality: docs/latent_search.md). ``auto``, the default, is ``amortised`` where
the search starts from an installed encoder and ``paper`` elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inpaintkit.errors import InpaintError

__all__ = ["AUTO", "PRESETS", "preset_steps", "resolve_preset"]

#: the default preset's name: ``amortised`` from an encoder's start, else ``paper``
AUTO = "auto"
#: the search settings an ``auto`` search takes when it starts from an encoder (the settings the
#: caller gave win); measured on 64 CelebA faces: 26.63 dB / LPIPS 0.072 in 150 steps against
#: the paper's random start 25.68 / 0.077 in 1500
AMORTISED = {"iterations": 150, "precision": "bf16", "init_candidates": 1, "early_stop_tol": 0.0}

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "yeh2017": {
        "paper": {"iterations": 1500, "precision": "fp32", "init_candidates": 1,
                  "early_stop_tol": 0.0},
        "fast": {"iterations": 250, "precision": "bf16", "init_candidates": 32,
                 "early_stop_tol": 1e-4},
        "amortised": AMORTISED,
    },
    "vitoria2019": {
        "paper": {"iterations": 1000, "precision": "fp32", "init_candidates": 1,
                  "early_stop_tol": 0.0},
        "fast": {"iterations": 200, "precision": "bf16", "init_candidates": 32,
                 "early_stop_tol": 1e-4},
        "amortised": AMORTISED,
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
        preset = options.get("preset") or AUTO
        if preset == AUTO:
            preset = "amortised" if _encoder_starts(method, options) else "paper"
        try:
            return int(PRESETS[method][preset]["iterations"])
        except (KeyError, TypeError, ValueError):
            return None

    return total_steps


def _encoder_starts(method: str, options: dict[str, Any]) -> bool:
    """Whether a search with ``options`` starts from an installed latent encoder."""
    if options.get("start", "auto") == "random":
        return False
    try:
        from inpaintkit.weights import resolve_model
        from inpaintkit.weights.encoders import find_encoder

        return find_encoder(resolve_model(method, options.get("model"))) is not None
    except Exception:  # no model: the method itself reports it
        return False


def resolve_preset(method: str, preset: str, **given: Any) -> dict[str, Any]:
    """The search settings of ``preset`` for ``method``, with every non-None ``given`` value kept.

    ``auto`` gives the ``paper`` settings plus, under the key ``"amortised"``, the settings to
    take instead when the search starts from an encoder (those the caller did not give).

    >>> resolve_preset("yeh2017", "fast", iterations=None, precision="fp32")["precision"]
    'fp32'
    >>> resolve_preset("yeh2017", "auto", iterations=300)["amortised"]["precision"]
    'bf16'
    """
    table = PRESETS[method]
    if preset != AUTO and preset not in table:
        choices = ", ".join([AUTO, *table])
        raise InpaintError(f"preset must be one of {choices}, got {preset!r}")
    out = dict(table["paper" if preset == AUTO else preset])
    out.update({k: v for k, v in given.items() if v is not None})
    out["early_stop_tol"] = out["early_stop_tol"] or None  # 0 = run every iteration
    if preset == AUTO:
        out["amortised"] = {k: v or None if k == "early_stop_tol" else v
                            for k, v in AMORTISED.items() if given.get(k) is None}  # fmt: skip
    return out
