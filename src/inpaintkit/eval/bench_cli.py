"""``inpaintkit bench cli``: how long the command line takes to answer (a fresh process each time).

A user meets the CLI's start time on every call, so ``--help``, ``--version`` and ``methods``
must not import torch, OpenCV or SciPy (the CLI imports them inside the commands that need
them). This benchmark runs each command in a new Python process (the import cache of the OS is
warm after the first run; ``warmup`` runs are not counted) and reports the median wall time and
the heavy modules the command imported.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

from inpaintkit.eval.bench import benchmark

HEAVY = ("torch", "cv2", "scipy", "skimage", "fastapi")

# Runs the CLI in-process and reports which heavy packages it imported, as JSON on stderr.
_PROBE = """
import contextlib, io, json, sys
from inpaintkit.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(%r))
print(json.dumps(heavy), file=sys.stderr)
"""


def run_cli(args: list[str]) -> tuple[float, list[str]]:
    """Wall seconds of ``python -c <probe> ARGS`` in a fresh process, and the heavy modules."""
    env = dict(os.environ)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE % (HEAVY,), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - start
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "[]"
    try:
        heavy = json.loads(last)
    except json.JSONDecodeError:
        heavy = [f"error: {last}"]
    return seconds, heavy


@benchmark("cli")
def bench_cli(
    *,
    commands: tuple[str, ...] = ("--help", "--version", "methods", "methods --options deepfill"),
    repeat: int = 5,
    warmup: int = 1,
) -> list[dict]:
    """Start time of CLI commands in fresh processes (median of repeat), and their imports."""
    rows = []
    for command in commands:
        args = command.split()
        for _ in range(warmup):
            run_cli(args)
        times, heavy = [], []
        for _ in range(repeat):
            seconds, heavy = run_cli(args)
            times.append(seconds)
        rows.append(
            {
                "command": f"inpaintkit {command}",
                "median_s": statistics.median(times),
                "min_s": min(times),
                "heavy_imports": ",".join(heavy) or "none",
            }
        )
    return rows
