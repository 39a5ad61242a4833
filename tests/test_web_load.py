"""A bounded load test of the web server on 127.0.0.1 (``pytest -m slow tests/test_web_load.py``).

uvicorn serves the app in a thread on a free port. 50 jobs (a 512x512 photo-like PNG, a
generated mask, ``telea``) are sent by 10 client threads at a time, each waiting for its job
before sending the next; meanwhile ``/api/health`` is polled every 50 ms. What must hold:

* every job is answered: ``done``, or 503 with ``Retry-After`` when the queue is full;
* ``/api/health`` answers in under 100 ms (median) while the jobs run;
* memory is bounded: the server keeps at most ``max_results`` finished jobs, and the
  process's resident memory grows by less than 1 GB.

``INPAINTKIT_LOAD_REPORT=FILE`` appends the measured figures to FILE (docs/security.md).
"""

from __future__ import annotations

import io as _io
import os
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the web app needs fastapi (pip install -e .)")
uvicorn = pytest.importorskip("uvicorn", reason="the web app needs uvicorn (pip install -e .)")
httpx = pytest.importorskip("httpx", reason="the load test needs httpx: pip install -e '.[test]'")

from inpaintkit.web import create_app  # noqa: E402

JOBS, CONCURRENT, SIZE, MAX_RESULTS = 50, 10, 512, 16


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _image() -> bytes:
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    noise = np.random.default_rng(0).integers(0, 30, (SIZE, SIZE, 3))
    arr = np.clip(np.stack([x // 2, y // 2, (x + y) // 4], 2) + noise, 0, 255).astype(np.uint8)
    buf = _io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(max_results=MAX_RESULTS)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", app
    srv.should_exit = True
    thread.join(10)


def _one_job(base: str, image: bytes) -> str:
    """Send one job and wait for it: ``done`` or ``busy`` (503 with Retry-After)."""
    with httpx.Client(base_url=base, timeout=120) as c:
        files = {"image": ("photo.png", image)}
        r = c.post("/api/jobs", files=files, data={"method": "telea", "mask_kind": "center"})
        if r.status_code == 503:
            assert r.headers.get("Retry-After"), "503 without Retry-After"
            return "busy"
        assert r.status_code == 202, r.text
        job = r.json()["id"]
        while True:
            state = c.get(f"/api/jobs/{job}").json()
            if state["status"] not in ("queued", "running"):
                assert state["status"] == "done", state
                assert c.get(f"/api/jobs/{job}/result").status_code == 200
                return "done"
            time.sleep(0.05)


@pytest.mark.slow
def test_fifty_jobs_ten_at_a_time(server):
    base, app = server
    image = _image()
    rss_before = _rss_bytes()
    latencies: list[float] = []
    health_errors: list[int] = []
    rss_peak = rss_before
    stop = threading.Event()

    def poll_health() -> None:
        nonlocal rss_peak
        with httpx.Client(base_url=base, timeout=30) as c:
            while not stop.is_set():
                t0 = time.perf_counter()
                r = c.get("/api/health")
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    health_errors.append(r.status_code)
                rss_peak = max(rss_peak, _rss_bytes())
                time.sleep(0.05)

    watcher = threading.Thread(target=poll_health, daemon=True)
    watcher.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        outcomes = list(pool.map(lambda _: _one_job(base, image), range(JOBS)))
    seconds = time.perf_counter() - start
    stop.set()
    watcher.join(10)
    kept = app.state.jobs.stats()["kept_results"]
    median_ms = 1000 * statistics.median(latencies)
    p95_ms = 1000 * sorted(latencies)[int(0.95 * (len(latencies) - 1))]
    growth_mb = (rss_peak - rss_before) / 1e6
    figures = (
        f"load: {JOBS} jobs ({SIZE}x{SIZE} telea), {CONCURRENT} at a time, in {seconds:.1f} s: "
        f"{outcomes.count('done')} done, {outcomes.count('busy')} busy (503 + Retry-After); "
        f"/api/health median {median_ms:.1f} ms, p95 {p95_ms:.1f} ms over {len(latencies)} "
        f"polls; RSS {rss_before / 1e6:.0f} MB -> peak {rss_peak / 1e6:.0f} MB; "
        f"kept results {kept} (max {MAX_RESULTS})"
    )
    print(figures)
    if os.environ.get("INPAINTKIT_LOAD_REPORT"):
        with open(os.environ["INPAINTKIT_LOAD_REPORT"], "a") as f:
            f.write(figures + "\n")
    assert not health_errors and len(latencies) > 10, (health_errors, len(latencies))
    assert len(outcomes) == JOBS and set(outcomes) <= {"done", "busy"}
    assert outcomes.count("done") >= 1
    assert median_ms < 100, figures
    assert kept <= MAX_RESULTS and growth_mb < 1000, figures
