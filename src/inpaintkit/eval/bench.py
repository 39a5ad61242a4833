"""``inpaintkit bench NAME``: speed and memory benchmarks (never asserted in tests).

Each benchmark is a function returning a list of result rows (dicts); the CLI prints them as a
Markdown table and can save JSON. Benchmarks register themselves in :data:`BENCHMARKS`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from inpaintkit.errors import InpaintError
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


def add_bench_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``inpaintkit bench``."""
    p = sub.add_parser(
        "bench",
        help="speed and memory benchmarks",
        description="Run a benchmark and print a Markdown table (optionally save JSON).",
        epilog="examples:\n  inpaintkit bench --list\n  inpaintkit bench blend\n"
        "  inpaintkit bench methods --json runs/bench_methods.json\n"
        "  inpaintkit bench latent-quality --opt model=celeba64 "
        "--opt data=celeba:/data/celeba/align_178x218/val --opt n=64",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", nargs="?", help="benchmark name (see --list)")
    p.add_argument("--list", action="store_true", help="list benchmarks")
    p.add_argument("--json", type=Path, help="also write the rows as JSON here")
    p.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    p.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a keyword of the benchmark (tuples comma-separated), e.g. --opt n=16",
    )
    p.set_defaults(func=bench_command)


def bench_options(fn: Callable[..., list[dict]], pairs: list[str]) -> dict[str, object]:
    """Parse ``["n=16", "sizes=256,512"]`` against ``fn``'s keyword-only parameters.

    >>> bench_options(bench_blend, ["sizes=64,128", "repeat=1"])
    {'sizes': (64, 128), 'repeat': 1}
    """
    import inspect

    from inpaintkit.options import parse_value

    params = {
        p.name: p
        for p in inspect.signature(fn).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or key not in params:
            known = ", ".join(params) or "none"
            raise InpaintError(f"bad --opt {pair!r}: give KEY=VALUE with KEY one of {known}")
        default = params[key].default
        if isinstance(default, tuple):
            item = default[0] if default else ""
            out[key] = tuple(parse_value(t, item) for t in text.split(",") if t.strip())
        else:
            out[key] = parse_value(text, default, str(params[key].annotation))
    return out


def bench_command(args: argparse.Namespace) -> int:
    """Handler of ``inpaintkit bench``."""
    _load_benchmarks()
    if args.list or not args.name:
        for name, fn in sorted(BENCHMARKS.items()):
            print(f"{name:<15} {(fn.__doc__ or '').strip().splitlines()[0]}")
        return 0
    if args.name not in BENCHMARKS:
        raise InpaintError(
            f"unknown benchmark {args.name!r}; known: {', '.join(sorted(BENCHMARKS))}"
        )
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = BENCHMARKS[args.name](**bench_options(BENCHMARKS[args.name], args.opt))
    print(
        f"machine: {os.cpu_count()} CPU cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    print(rows_to_markdown(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


def _load_benchmarks() -> None:
    """Import modules that define further benchmarks (model-specific ones live with the model)."""
    import importlib

    for mod in (
        "inpaintkit.eval.bench_models",
        "inpaintkit.eval.bench_deepfill",
        "inpaintkit.eval.bench_song",
    ):
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
