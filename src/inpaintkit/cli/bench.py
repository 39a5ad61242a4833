"""``inpaintkit bench NAME``: run a benchmark of eval/bench*.py and print a Markdown table.

torch and the benchmarks are imported when the command runs, never to build the parser.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path

from inpaintkit.errors import InpaintError


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

    >>> def bench_x(*, sizes: tuple[int, ...] = (256,), repeat: int = 3) -> list[dict]: ...
    >>> bench_options(bench_x, ["sizes=64,128", "repeat=1"])
    {'sizes': (64, 128), 'repeat': 1}
    """
    import inspect

    from inpaintkit.typed_values import parse_value

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
        try:
            out[key] = parse_value(text, params[key].default, params[key].annotation)
        except InpaintError as e:
            raise InpaintError(f"bad --opt {pair!r}: {e}") from None
    return out


def bench_command(args: argparse.Namespace) -> int:
    """Handler of ``inpaintkit bench``."""
    from inpaintkit.eval.bench import load_benchmarks, rows_to_markdown

    BENCHMARKS = load_benchmarks()
    if args.list or not args.name:
        for name, fn in sorted(BENCHMARKS.items()):
            print(f"{name:<15} {(fn.__doc__ or '').strip().splitlines()[0]}")
        return 0
    if args.name not in BENCHMARKS:
        raise InpaintError(
            f"unknown benchmark {args.name!r}; known: {', '.join(sorted(BENCHMARKS))}"
        )
    import torch

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
