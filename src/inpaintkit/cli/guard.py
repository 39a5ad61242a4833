"""What reaches the terminal when a CLI command fails or warns: one line, never a traceback.

:func:`run_handler` runs a subcommand's handler and turns

* :class:`~inpaintkit.errors.InpaintError` into ``inpaintkit: error: <message>``, exit 2;
* running out of memory anywhere (``MemoryError``, torch's out-of-memory errors) into one
  line of ours, exit 2 (the input was too large for this machine);
* Ctrl+C into ``inpaintkit: interrupted``, exit 130.

A mistyped command line is one line too (:class:`OneLineParser`: ``inpaintkit run: error: the
following arguments are required: input (see inpaintkit run --help)``), exit 2.

Warnings raised while the command runs are held back: a command that fails prints its one
error line and nothing else; one that succeeds prints each distinct warning once, as
``inpaintkit: warning: <message>`` on one line (never Python's two-line warning format).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any, NoReturn

from inpaintkit.errors import InpaintError
from inpaintkit.limits import is_out_of_memory, out_of_memory_message


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (no usage block), exit 2.

    Subparsers made with ``add_subparsers().add_parser`` are of the same class.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def run_handler(args: argparse.Namespace) -> int:
    """Run ``args.func(args)``; the exit status (see the module docstring)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            status = int(args.func(args) or 0)
        except InpaintError as e:
            print(f"inpaintkit: error: {_one_line(e)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("inpaintkit: interrupted", file=sys.stderr)
            return 130
        except Exception as e:
            if not is_out_of_memory(e):
                raise
            print(f"inpaintkit: error: {out_of_memory_message()}", file=sys.stderr)
            return 2
    seen: set[str] = set()
    for w in caught:
        line = _one_line(w.message)
        if line not in seen:
            seen.add(line)
            print(f"inpaintkit: warning: {line}", file=sys.stderr)
    return status
