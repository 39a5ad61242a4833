"""A bound on the image work request handlers do outside the job queue.

The inpainting itself (with the mask's dilation and feathering) runs in the job queue, one job
at a time, under the job timeout. What a handler must still do itself, so that bad input is
answered 4xx at once, is linear in the pixels and capped by ``max_pixels``: decoding an upload,
generating a mask, encoding a preview or a result. :class:`ImageWork` lets at most ``slots``
handlers do such work at once; a request that cannot get a slot within ``wait`` seconds is
answered 503 with ``Retry-After`` (:class:`~inpaintkit.web.jobs.BusyError`), so a burst of
large uploads cannot take every core (the thread pool has 40 threads).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from inpaintkit.web.jobs import BusyError


class ImageWork:
    """At most ``slots`` concurrent image decodes/encodes in request handlers.

    Args:
        slots: concurrent handlers allowed to decode or encode images.
        wait: seconds a handler waits for a slot before answering 503.
    """

    def __init__(self, slots: int = 2, wait: float = 30.0) -> None:
        if slots < 1 or wait < 0:
            raise ValueError("need slots >= 1 and wait >= 0")
        self.slots, self.wait = slots, wait
        self._sem = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self.in_use = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the block; BusyError when none frees up within ``wait``."""
        if not self._sem.acquire(timeout=self.wait):
            raise BusyError(
                f"the server is busy reading other images ({self.slots} at a time); try again"
            )
        with self._lock:
            self.in_use += 1
        try:
            yield
        finally:
            with self._lock:
                self.in_use -= 1
            self._sem.release()
