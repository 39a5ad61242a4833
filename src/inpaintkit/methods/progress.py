"""Progress of a long method: a tqdm bar on stderr and/or a ``callback(step, loss, total)``.

Every method that can run for more than a second takes ``progress`` (a bar for the CLI) and
``callback`` (the web app's progress and cancel: it may raise to stop the method). ``total``
is passed when the method knows its step count better than its ``iterations`` option says
(e.g. ``lowrank``: ``outer`` x ``iterations``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tqdm.auto import tqdm

Callback = Callable[..., None]  # callback(step: int, loss: float | None, total: int | None)


class Progress:
    """Report ``step`` of ``total`` to a bar (``enabled``) and to ``callback``.

    >>> seen = []
    >>> p = Progress(4, desc="x", enabled=False, callback=lambda s, v, total: seen.append(s))
    >>> p.update(2); p.update(4); p.close(); seen
    [2, 4]
    """

    def __init__(
        self, total: int, *, desc: str, enabled: bool, callback: Callback | None = None
    ) -> None:
        self.total, self.callback, self.step = int(total), callback, 0
        self.bar: Any = tqdm(total=self.total, desc=desc, disable=not enabled, leave=False)

    def update(self, step: int, value: float | None = None) -> None:
        """Move to ``step`` (absolute); ``value``: the current loss or change, if any."""
        self.bar.update(max(0, step - self.step))
        self.step = step
        if value is not None:
            self.bar.set_postfix_str(f"{value:.3g}", refresh=False)
        if self.callback is not None:
            self.callback(step, value, total=self.total)

    def close(self) -> None:
        self.bar.close()
