"""Speed and memory benchmarks (never asserted in tests), run by ``inpaintkit bench NAME``.

Each benchmark is a function returning a list of result rows (dicts); the CLI
(:mod:`inpaintkit.cli.bench`) prints them as a Markdown table and can save JSON. Benchmarks
register themselves in :data:`BENCHMARKS`; :func:`load_benchmarks` imports the modules that
define more of them.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from inpaintkit.eval.memory import PeakMemory

BENCHMARKS: dict[str, Callable[..., list[dict]]] = {}


def benchmark(name: str) -> Callable[[Callable[..., list[dict]]], Callable[..., list[dict]]]:
    """Decorator: register a benchmark function under ``name``."""

    def deco(fn: Callable[..., list[dict]]) -> Callable[..., list[dict]]:
        BENCHMARKS[name] = fn
        return fn

    return deco


def timed(fn: Callable[[], object], *, repeat: int = 3, warmup: int = 1) -> tuple[float, float]:
    """Median wall seconds of ``fn()`` over ``repeat`` runs, and the peak RSS growth in MiB."""
    for _ in range(warmup):
        fn()
    times, peak = [], 0.0
    for _ in range(repeat):
        with PeakMemory() as pm:
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        peak = max(peak, pm.peak_mib)
    return statistics.median(times), peak


def _test_image(size: int) -> np.ndarray:
    """A real photo (scikit-image's astronaut) resized to ``size``, (size, size, 3) uint8."""
    import cv2
    from skimage import data

    return cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)


@benchmark("blend")
def bench_blend(*, sizes: tuple[int, ...] = (256, 512, 1024), repeat: int = 3) -> list[dict]:
    """Poisson blending of an RGB image with a centred square hole of 25% of the area."""
    from inpaintkit.blend import poisson_blend

    rows = []
    for s in sizes:
        rng = np.random.default_rng(0)
        target = _test_image(s).astype(np.float64) / 255.0
        source = np.clip(target + rng.normal(0, 0.05, target.shape), 0, 1)
        hole = np.zeros((s, s), bool)
        hole[s // 4 : 3 * s // 4, s // 4 : 3 * s // 4] = True
        sec, mib = timed(lambda t=target, so=source, h=hole: poisson_blend(t, so, h), repeat=repeat)
        rows.append(
            {
                "what": "poisson_blend",
                "size": f"{s}x{s}",
                "hole": "25%",
                "seconds": sec,
                "peak_mib": mib,
            }
        )
    return rows


@benchmark("methods")
def bench_methods(
    *,
    methods: tuple[str, ...] = ("telea", "ns", "patchmatch", "biharmonic", "tv", "lowrank"),
    sizes: tuple[int, ...] = (256, 512),
    repeat: int = 1,
) -> list[dict]:
    """Each classical method on the astronaut with a centred square hole of 1/4 of the area."""
    from inpaintkit.api import inpaint
    from inpaintkit.registry import get_method

    rows = []
    for s in sizes:
        img = _test_image(s)
        hole = np.zeros((s, s), bool)
        hole[s // 4 : 3 * s // 4, s // 4 : 3 * s // 4] = True
        for m in methods:
            info = get_method(m)
            if info.max_pixels is not None and s * s > info.max_pixels:
                rows.append(
                    {
                        "what": m,
                        "size": f"{s}x{s}",
                        "seconds": float("nan"),
                        "peak_mib": float("nan"),
                        "note": "over max_pixels",
                    }
                )
                continue
            sec, mib = timed(
                lambda m=m, img=img, hole=hole: inpaint(img, hole, m), repeat=repeat, warmup=0
            )
            rows.append({"what": m, "size": f"{s}x{s}", "seconds": sec, "peak_mib": mib})
    return rows


def rows_to_markdown(rows: list[dict]) -> str:
    """A Markdown table of benchmark rows (union of keys, floats to 4 significant digits)."""
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        cells = [
            f"{v:.4g}" if isinstance(v, float) else str(v) for v in (r.get(k, "") for k in keys)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: modules that register further benchmarks (model-specific ones live with the model).
BENCHMARK_MODULES = (
    "inpaintkit.eval.bench_models",
    "inpaintkit.eval.bench_deepfill",
    "inpaintkit.eval.bench_song",
    "inpaintkit.eval.bench_cli",
)


def load_benchmarks() -> dict[str, Callable[..., list[dict]]]:
    """Import :data:`BENCHMARK_MODULES` (those whose dependencies are present); the registry."""
    import importlib

    for mod in BENCHMARK_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
    return BENCHMARKS


_load_benchmarks = load_benchmarks  # its name before the CLI moved to cli/bench.py
