"""The ``inpaintkit`` command line: run | methods | masks | eval | bench | data | train | serve.

One module per subcommand in this package (``cli/run.py``, ``cli/methods.py``, ...), each with
an ``add_*_parser`` function; this file only assembles them and turns :class:`InpaintError`
into a one-line message and exit status 2. Building the parser imports no torch, OpenCV or
SciPy: each handler imports what it needs when it runs, so ``inpaintkit --help``,
``--version`` and ``methods`` start fast (``inpaintkit bench cli`` measures it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EPILOG = """\
examples:
  inpaintkit run photo.jpg --mask mask.png -m telea -o out.jpg --compare
  inpaintkit run photos/ --mask masks/ -m patchmatch -o filled/
  inpaintkit run face.png --mask-kind center -m yeh2017 --opt model=celeba64
  inpaintkit methods
  inpaintkit masks thick --size 256x256 --seed 3 -o mask.png
  inpaintkit eval --data images/ --methods telea,ns --masks center,random80 --size 256 --out ev/
  inpaintkit serve                     # the web app at http://127.0.0.1:8000/

Masks: a pixel is a hole where it is >= 128 (8-bit), >= 32768 (16-bit) or nonzero (1-bit);
with an alpha channel, where it is also opaque (alpha >= half).
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (one subcommand per module of this package)."""
    import importlib

    from inpaintkit import __version__
    from inpaintkit.cli.guard import OneLineParser

    parser = OneLineParser(  # usage errors: one line, exit 2
        prog="inpaintkit",
        description="Deep generative image inpainting: fill holes in images.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"inpaintkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module, fn in SUBCOMMANDS:
        getattr(importlib.import_module(module), fn)(sub)
    return parser


# (module, function): each adds one subcommand and sets its handler with set_defaults(func=...)
SUBCOMMANDS: list[tuple[str, str]] = [
    ("inpaintkit.cli.run", "add_run_parser"),
    ("inpaintkit.cli.methods", "add_methods_parser"),
    ("inpaintkit.cli.masks", "add_masks_parser"),
    ("inpaintkit.cli.eval", "add_eval_parser"),
    ("inpaintkit.cli.bench", "add_bench_parser"),
    ("inpaintkit.cli.report", "add_report_parser"),
    ("inpaintkit.cli.data", "add_data_parser"),
    ("inpaintkit.cli.train", "add_train_parser"),
    ("inpaintkit.cli.serve", "add_serve_parser"),
    ("inpaintkit.cli.stylize", "add_stylize_parser"),
    ("inpaintkit.cli.weights", "add_weights_parser"),
]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``inpaintkit`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from inpaintkit.cli.guard import run_handler

    return run_handler(args)  # one line per error or warning, never a traceback


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
