"""An elapsed-time line on stderr while a method without its own progress bar runs."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def ticking(desc: str, *, enabled: bool = True, every: float = 0.5) -> Iterator[None]:
    """Show ``desc: 12s`` on stderr, refreshed every ``every`` seconds, until the block ends.

    For methods that report no steps (``deepfill``, ``patchmatch``, ``biharmonic``, ...), so
    the user sees that the command is working; methods with a ``progress`` bar show theirs.
    Only on a terminal: a log or a pipe gets the one result line, not a stream of ticks.
    """
    if not enabled or not sys.stderr.isatty():
        yield
        return
    from tqdm import tqdm

    bar = tqdm(total=None, desc=desc, bar_format="{desc}: {elapsed}", leave=False, file=sys.stderr)
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(every):
            bar.refresh()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        bar.close()
