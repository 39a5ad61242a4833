"""The evaluation harness, as one import: the engine and the report writer together.

The work is split by concern: :mod:`inpaintkit.eval.engine` runs methods x mask kinds x images,
:mod:`inpaintkit.eval.report` writes the CSV, Markdown, JSON and picture grids, and
:mod:`inpaintkit.cli.eval` is ``inpaintkit eval``'s parser and handler (import its names from
there: this module sits below the CLI and does not import it). This module keeps the library
names that were importable from here before the split.
"""

from __future__ import annotations

from inpaintkit.eval.engine import BATCHED_KINDS, EvalConfig, evaluate, mask_seed
from inpaintkit.eval.report import write_outputs

__all__ = ["BATCHED_KINDS", "EvalConfig", "evaluate", "mask_seed", "write_outputs"]
