"""The job queue behind the web app: one worker, a bounded queue, progress, cancel, timeout.

One worker thread takes jobs one at a time from a bounded FIFO queue, so the machine never runs
two inpaintings at once; a full queue answers :class:`BusyError` at once instead of piling up work.
Each job runs :func:`inpaintkit.api.inpaint` in its own computation thread while the worker
watches it:

* Progress: a method whose signature takes ``callback`` (the latent searches, ``tv``,
  ``lowrank``, ``deepfill``, ``song2018``: ``callback(step, loss[, total])``) reports step /
  total / loss; any other method is reported as ``running`` until it ends.
* Cancel: a queued job is taken out of the queue; a running one is marked ``cancelled`` at once
  and stopped at its next callback (an internal :class:`StopJobError` is raised inside it).
* Timeout: a job still running ``timeout`` seconds after it started is marked ``timeout`` and
  stopped the same way.

Python cannot kill a thread, so a method without a callback that is cancelled or times out
keeps computing until it returns; its result is thrown away, and the worker waits for it before
the next job (one computation at a time, always). Finished jobs are kept in memory, the newest
``max_results`` of them; older ones are evicted.
"""

from __future__ import annotations

import collections
import inspect
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inpaintkit import api, io
from inpaintkit.errors import InpaintError
from inpaintkit.registry import get_method

log = logging.getLogger("inpaintkit.web")

#: job states; the last four are final.
STATES = ("queued", "running", "done", "failed", "cancelled", "timeout")
FINAL = frozenset(STATES[2:])
_WATCH_SECONDS = 0.05  # how often the worker checks a running job for cancel and timeout


class BusyError(Exception):
    """The queue is full: the caller should answer "busy, try again" (never an InpaintError)."""


class StopJobError(Exception):
    """Raised inside a method's callback to stop a cancelled or timed-out job (internal)."""


@dataclass
class JobRequest:
    """What to run: a decoded image and mask and a method with checked options.

    Attributes:
        method: registered method name.
        source: the decoded input (upright pixels, alpha, format, EXIF kept for writing back).
        hole: (H, W) bool, True = hole; already dilated, neither empty nor full.
        options: the method's typed keyword options (never ``callback``).
        name: file stem for download names (never used as a path).
        feather: soft edge of this many pixels inside the hole (see ``api.inpaint``).
        dilate: grow the hole by this many pixels first; done in the job (O(pixels)), so it
            runs under the queue and its timeout, never in a request handler.
    """

    method: str
    source: io.LoadedImage
    hole: np.ndarray
    options: dict[str, Any] = field(default_factory=dict)
    name: str = "image"
    feather: int = 0
    dilate: int = 0


class Job:
    """One inpainting job and its state; the worker thread writes it, request handlers read it.

    Attributes:
        id: random hex id (not derived from the request).
        request: what to run.
        status: one of :data:`STATES`.
        step, total, loss: progress of methods that report it (total None when unknown).
        error: the message of a failed, cancelled or timed-out job.
        result: the :class:`inpaintkit.api.Inpainted` of a done job.
        seconds: wall time from start to end of the run.
        version: grows by one on every change (lets a stream wait for news).
        finished: set when the job reaches a final state.
    """

    def __init__(self, request: JobRequest) -> None:
        self.id = uuid.uuid4().hex
        self.request = request
        self.status = "queued"
        self.step = 0
        self.total: int | None = None
        self.loss: float | None = None
        self.error: str | None = None
        self.result: api.Inpainted | None = None
        self.created = time.time()
        self.started: float | None = None
        self.seconds: float | None = None
        self.version = 0
        self.finished = threading.Event()
        self.cancel_requested = threading.Event()
        self.encoded: dict[str, bytes] = {}  # result files already encoded, by format (and fill)
        self._lock = threading.Lock()

    def start(self, total: int | None) -> None:
        """Mark the job running (called by the worker)."""
        with self._lock:
            self.status, self.total, self.started = "running", total, time.monotonic()
            self.version += 1

    def report(self, step: int, loss: float | None, total: int | None = None) -> None:
        """Record progress (called from the method's callback; ``total`` when it knows)."""
        with self._lock:
            if self.status == "running":
                self.step = int(step)
                self.loss = None if loss is None else float(loss)
                if total is not None:
                    self.total = int(total)
                self.version += 1

    def finish(
        self, status: str, *, error: str | None = None, result: api.Inpainted | None = None
    ) -> bool:
        """Move to the final ``status``; the first final state wins. True if this call won."""
        with self._lock:
            if self.finished.is_set():
                return False
            self.status, self.error, self.result = status, error, result
            if self.started is not None:
                self.seconds = time.monotonic() - self.started
            self.version += 1
            self.finished.set()
            return True

    def describe(self) -> dict[str, Any]:
        """A JSON-able snapshot of the job's state."""
        with self._lock:
            return {
                "id": self.id,
                "method": self.request.method,
                "status": self.status,
                "step": self.step,
                "total": self.total,
                "loss": self.loss,
                "error": self.error,
                "seconds": self.seconds,
                "version": self.version,
            }


class JobQueue:
    """A bounded FIFO of jobs and the one worker thread that runs them, one at a time.

    Args:
        queue_size: jobs that may wait while one runs; more answer :class:`BusyError`.
        timeout: seconds a job may run before it is stopped and marked ``timeout``.
        max_results: finished jobs kept in memory (oldest evicted first).
        device: torch device passed to methods that take one.
    """

    def __init__(
        self,
        *,
        queue_size: int = 8,
        timeout: float = 600.0,
        max_results: int = 16,
        device: str = "cpu",
    ) -> None:
        if queue_size < 0 or timeout <= 0 or max_results < 1:
            raise ValueError("need queue_size >= 0, timeout > 0 and max_results >= 1")
        self.queue_size, self.timeout, self.max_results = queue_size, timeout, max_results
        self.device = device
        self._pending: collections.deque[Job] = collections.deque()
        self._jobs: collections.OrderedDict[str, Job] = collections.OrderedDict()
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self._running: Job | None = None
        self._closed = False

    # ----------------------------------------------------------------- request side
    def submit(self, request: JobRequest) -> Job:
        """Queue ``request`` and return its job; :class:`BusyError` when the queue is full."""
        job = Job(request)
        with self._cond:
            if self._closed:
                raise BusyError("the server is shutting down; try again later")
            if len(self._pending) >= self.queue_size and (self._running or self._pending):
                raise BusyError(
                    f"the server is busy: one job is running and {len(self._pending)} are "
                    "waiting (the queue is full); try again when one has finished"
                )
            self._pending.append(job)
            self._jobs[job.id] = job
            self._ensure_worker()
            self._cond.notify_all()
        return job

    def get(self, job_id: str) -> Job:
        """The job ``job_id``; raises KeyError when it is unknown or was evicted."""
        with self._cond:
            return self._jobs[job_id]

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job (no effect on a finished one); KeyError if unknown."""
        with self._cond:
            job = self._jobs[job_id]
            if job in self._pending:
                self._pending.remove(job)
                job.finish("cancelled", error="cancelled before it started")
                self._evict()
                return job
        job.cancel_requested.set()
        return job

    def position(self, job: Job) -> int:
        """How many jobs run or wait before ``job`` (0 when it runs or has finished)."""
        with self._cond:
            if job not in self._pending:
                return 0
            return self._pending.index(job) + (1 if self._running is not None else 0)

    def stats(self) -> dict[str, Any]:
        """Queue state for the health endpoint."""
        with self._cond:
            return {
                "running": self._running.id if self._running else None,
                "queued": len(self._pending),
                "queue_size": self.queue_size,
                "busy": self._running is not None,
                "kept_results": sum(j.finished.is_set() for j in self._jobs.values()),
            }

    def close(self, wait: float = 5.0) -> None:
        """Stop the worker: queued jobs are cancelled, a running one is asked to stop."""
        with self._cond:
            self._closed = True
            while self._pending:
                self._pending.popleft().finish("cancelled", error="the server shut down")
            if self._running is not None:
                self._running.cancel_requested.set()
            self._cond.notify_all()
            worker = self._worker
        if worker is not None:
            worker.join(wait)

    # ----------------------------------------------------------------- worker side
    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._loop, name="inpaintkit-web", daemon=True)
            self._worker.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._pending.popleft()
                self._running = job
            try:
                self._watch(job)
            finally:
                with self._cond:
                    self._running = None
                    self._evict()

    def _watch(self, job: Job) -> None:
        """Run ``job`` in a computation thread; mark cancel/timeout as soon as they happen."""
        info = get_method(job.request.method)
        job.start(total_steps(info, job.request.options) if takes_callback(info) else None)
        deadline = time.monotonic() + self.timeout
        worker = threading.Thread(
            target=self._compute, args=(job, deadline), name=f"job-{job.id[:8]}", daemon=True
        )
        worker.start()
        while worker.is_alive():
            worker.join(_WATCH_SECONDS)
            if job.finished.is_set():
                break
            if job.cancel_requested.is_set():
                job.finish("cancelled", error="cancelled by the user")
            elif time.monotonic() > deadline:
                job.finish("timeout", error=self._timeout_message())
        worker.join()  # a method without a callback runs to its end: never two at once

    def _timeout_message(self) -> str:
        return (
            f"the job ran longer than the server's {self.timeout:g} s limit and was stopped; "
            "use a faster method, fewer iterations or a smaller image"
        )

    def _compute(self, job: Job, deadline: float) -> None:
        req = job.request
        options = dict(req.options)
        info = get_method(req.method)
        if takes_callback(info):

            def callback(step: int, loss: float | None = None, total: int | None = None) -> None:
                if job.cancel_requested.is_set() or job.finished.is_set():
                    raise StopJobError
                if time.monotonic() > deadline:
                    job.finish("timeout", error=self._timeout_message())
                    raise StopJobError
                job.report(step, loss, total)

            options["callback"] = callback
        if "progress" in inspect.signature(info.fn).parameters:
            options["progress"] = False  # no tqdm bars in the server's log
        try:
            result = api.inpaint(
                req.source, req.hole, req.method, device=self.device, feather=req.feather,
                dilate=req.dilate, **options,
            )  # fmt: skip
        except StopJobError:
            job.finish("cancelled", error="cancelled by the user")
        except InpaintError as e:
            job.finish("failed", error=str(e))
        except Exception as e:  # a bug in a method: keep the server up, log the traceback
            log.exception("job %s (%s) crashed", job.id, req.method)
            job.finish("failed", error=f"internal error in {req.method}: {type(e).__name__}: {e}")
        else:
            job.finish("done", result=result)

    def _evict(self) -> None:
        """Drop the oldest finished jobs beyond ``max_results`` (call with the lock held)."""
        finished = [k for k, j in self._jobs.items() if j.finished.is_set()]
        for key in finished[: max(0, len(finished) - self.max_results)]:
            del self._jobs[key]


def takes_callback(info: Any) -> bool:
    """True when the method's signature takes ``callback(step, loss)``."""
    return "callback" in inspect.signature(info.fn).parameters


def total_steps(info: Any, options: dict[str, Any]) -> int | None:
    """Steps a reporting method will run: its ``iterations`` option or default; None if unknown.

    Latent-search methods whose ``iterations`` default is None take it from their ``preset``.
    """
    given = options.get("iterations")
    if isinstance(given, int) and not isinstance(given, bool):
        return given
    default = inspect.signature(info.fn).parameters.get("iterations")
    if default is not None and isinstance(default.default, int):
        return int(default.default)
    hook = getattr(info, "total_steps", None)  # the method's own count (latent search: presets)
    return hook(options) if hook is not None else None
