"""Peak resident memory of a block of code, sampled from /proc (Linux) in a thread."""

from __future__ import annotations

import os
import resource
import threading
import time
from types import TracebackType

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Current resident set size of this process in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


class PeakMemory:
    """Context manager measuring the peak RSS above the RSS at entry, in MiB.

    Sampling every ``interval`` seconds misses spikes shorter than that; torch, OpenCV and
    SciPy allocations are all seen (unlike tracemalloc).

    >>> with PeakMemory() as pm:
    ...     buf = bytearray(64 << 20)
    >>> pm.peak_mib > 30
    True
    """

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._base = 0
        self._peak = 0

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self._base = self._peak = rss_bytes()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._peak = max(self._peak, rss_bytes())
        self._stop.set()
        self._thread.join()
        if self._base == 0:  # no /proc: fall back to the lifetime peak
            self._peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.peak_mib = max(0, self._peak - self._base) / 2**20
