"""The evaluation harness, as one import: engine, report writer and command line together.

The work is split by concern: :mod:`inpaintkit.eval.engine` runs methods x mask kinds x images,
:mod:`inpaintkit.eval.report` writes the CSV, Markdown, JSON and picture grids, and
:mod:`inpaintkit.cli.eval` is ``inpaintkit eval``'s parser and handler. This module keeps
the names that were importable from here before the split.
"""

from __future__ import annotations

from inpaintkit.cli.eval import (
    EVAL_EPILOG,
    add_eval_parser,
    eval_command,
    parse_mask_options,
    parse_method_list,
    parse_method_options,
)
from inpaintkit.eval.engine import BATCHED_KINDS, EvalConfig, evaluate, mask_seed
from inpaintkit.eval.report import write_outputs

__all__ = [
    "BATCHED_KINDS",
    "EVAL_EPILOG",
    "EvalConfig",
    "add_eval_parser",
    "eval_command",
    "evaluate",
    "mask_seed",
    "parse_mask_options",
    "parse_method_list",
    "parse_method_options",
    "write_outputs",
]
