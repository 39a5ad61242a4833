"""The ``inpaintkit`` command line: run | methods | masks | eval | bench | data | train | serve.

Every subcommand lives in the module that owns its work and contributes an ``add_parser``
function; this file only assembles them and turns :class:`InpaintError` into a one-line
message and exit status 2.
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

Masks: a pixel is a hole where it is >= 128 (8-bit), >= 32768 (16-bit) or nonzero (1-bit).
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (subcommands registered by their owning modules)."""
    from inpaintkit import __version__
    from inpaintkit.cli_guard import OneLineParser
    from inpaintkit.cli_run import add_run_parser
    from inpaintkit.cli_tools import add_masks_parser, add_methods_parser

    parser = OneLineParser(  # usage errors: one line, exit 2
        prog="inpaintkit",
        description="Deep generative image inpainting: fill holes in images.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"inpaintkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_run_parser(sub)
    add_methods_parser(sub)
    add_masks_parser(sub)
    for module, fn in _OPTIONAL_PARSERS:
        try:
            mod = __import__(module, fromlist=[fn])
        except ImportError as e:  # a subsystem whose optional dependency is missing
            if e.name and e.name.startswith("inpaintkit") and e.name != module:
                raise
            continue
        getattr(mod, fn)(sub)
    return parser


# (module, function): each adds one subcommand and sets its handler with set_defaults(func=...)
_OPTIONAL_PARSERS: list[tuple[str, str]] = [
    ("inpaintkit.eval.cli_args", "add_eval_parser"),
    ("inpaintkit.eval.bench", "add_bench_parser"),
    ("inpaintkit.eval.report_cli", "add_report_parser"),
    ("inpaintkit.data.cli_args", "add_data_parser"),
    ("inpaintkit.train.cli_args", "add_train_parser"),
    ("inpaintkit.web.cli_args", "add_serve_parser"),
    ("inpaintkit.cli_stylize", "add_stylize_parser"),
    ("inpaintkit.cli_weights", "add_weights_parser"),
]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``inpaintkit`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from inpaintkit.cli_guard import run_handler

    return run_handler(args)  # one line per error or warning, never a traceback


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
