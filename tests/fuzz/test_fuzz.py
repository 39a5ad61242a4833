"""A seeded, bounded fuzzer: mutated image files through the library, the CLI and the web app.

Every case is a seed file (tests/fuzz/fuzzlib.py: PNG 8/16-bit, grey, palette, 1-bit, RGBA,
JPEG, WebP, TIFF, BMP, ...) with one mutation (byte flips, truncation, header corruption, a
huge declared size, spliced bytes), used as the image and, in some cases, as the mask. What
must hold, whatever the bytes:

* library (``inpaintkit.load_image`` + ``inpaint``): an :class:`InpaintError` (one line), or a
  result of the right shape and dtype whose known pixels are the input's, bit for bit; no
  Python warning other than our one-line :class:`InpaintWarning`;
* CLI (``inpaintkit.cli.main`` called in-process, the mutated file as the image or as the
  mask): exit 0 with the output written, or exit 2 with exactly one line on stderr (fd 2:
  libpng/libtiff output counts);
* web app (FastAPI TestClient): a 200 or a 4xx with a one-line ``detail``, never a 5xx;
* every case within :data:`CASE_SECONDS` (and a hard ``faulthandler`` guard against hangs).

CI runs a few hundred cases (``pytest tests/fuzz``); ``pytest -m slow tests/fuzz`` runs
``$INPAINTKIT_FUZZ_CASES`` (default 10,000) per target. A failure names its case number;
``make_case(seeds, n)`` rebuilds its bytes.
"""

from __future__ import annotations

import faulthandler
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fuzzlib import SUFFIX, H, W, make_case, make_seeds  # tests/fuzz is on sys.path (pytest)

from inpaintkit import inpaint
from inpaintkit.api import load_image
from inpaintkit.cli import main
from inpaintkit.errors import InpaintError, InpaintWarning

CASE_SECONDS = 20.0  # generous: 2 shared CPU cores; a real hang trips faulthandler
HANG_SECONDS = 120
LIMIT_PIXELS = 4_000_000  # fuzzed images may declare any size: keep decodes small and fast
CI_CASES = {"library": 300, "cli": 200, "asgi": 200}
SLOW_OFFSET = 1_000_000  # slow mode runs other case numbers than CI
_TIMES = ("cases", "seconds", "slowest", "slowest case")

SEEDS = make_seeds()
GOOD = np.asarray(load_image(SEEDS["png_rgb8"][1]).pixels)  # (H, W, 3) uint8
HOLE = np.zeros((H, W), bool)
HOLE[8:16, 10:22] = True


def _known_pixels_kept(res, src_pixels: np.ndarray) -> str | None:
    if res.pixels.shape != src_pixels.shape or res.pixels.dtype != src_pixels.dtype:
        return f"result {res.pixels.shape} {res.pixels.dtype} for {src_pixels.shape}"
    known = ~res.mask
    if not np.array_equal(res.pixels[known], src_pixels[known]):
        return "known pixels changed"
    return None


def _hole_for(w: int, h: int) -> np.ndarray:
    hole = np.zeros((h, w), bool)
    hole[h // 3 : max(h // 3 + 1, 2 * h // 3), w // 3 : max(w // 3 + 1, 2 * w // 3)] = True
    return hole


OUTCOMES: dict[str, int] = {}  # "result" / "refused" counts of the current run


def _outcome(kind: str) -> None:
    OUTCOMES[kind] = OUTCOMES.get(kind, 0) + 1


def library_case(n: int, data: bytes, fmt: str, tmp: Path) -> str | None:
    """None when the library behaved; else what went wrong."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            src = load_image(data, max_image_pixels=LIMIT_PIXELS)
            res = inpaint(src, _hole_for(*src.size), "telea", max_image_pixels=LIMIT_PIXELS)
            problem = _known_pixels_kept(res, src.pixels)
            if problem:
                return problem
            _outcome("result")
        except InpaintError as e:
            _outcome("refused")
            if "\n" in str(e) or not str(e):
                return f"error message not one line: {e!r}"
        try:  # the mutated file as the mask of a good image
            res = inpaint(GOOD, data, "telea", resize_mask=True, max_image_pixels=LIMIT_PIXELS)
            problem = _known_pixels_kept(res, GOOD)
            if problem:
                return f"as mask: {problem}"
        except InpaintError as e:
            if "\n" in str(e):
                return f"error message not one line: {e!r}"
    others = [w for w in caught if not issubclass(w.category, InpaintWarning)]
    if others:
        return f"warning reached the user: {others[0].category.__name__}: {others[0].message}"
    return None


def cli_case(n: int, data: bytes, fmt: str, tmp: Path, capfd) -> str | None:
    fuzzed = tmp / f"fuzzed{SUFFIX[fmt]}"
    fuzzed.write_bytes(data)
    if n % 2:  # the mutated file as the mask of a good image
        src, mask, out = tmp / "good.png", fuzzed, tmp / "out.png"
    else:
        src, mask, out = fuzzed, tmp / "mask.png", tmp / f"out{SUFFIX[fmt]}"
    args = ["run", str(src), "--mask", str(mask), "-o", str(out), "--resize-mask"]
    code = main([*args, "--overwrite", "--max-pixels", str(LIMIT_PIXELS / 1e6)])
    err = capfd.readouterr().err.strip().splitlines()
    if code == 2:
        if len(err) != 1 or not err[0].startswith("inpaintkit: error: "):
            return f"exit 2 with stderr {err!r}"
        _outcome("refused")
        return None
    if code != 0 or not out.is_file():
        return f"exit {code}, output written: {out.is_file()}, stderr {err!r}"
    if any(not line.startswith("inpaintkit: ") for line in err):
        return f"exit 0 with foreign stderr {err!r}"
    _outcome("result")
    return None


def asgi_case(n: int, data: bytes, fmt: str, client) -> str | None:
    name = f"f{SUFFIX[fmt]}"
    if n % 3 == 0:  # the mutated file as the mask
        files = {"image": ("good.png", SEEDS["png_rgb8"][1]), "mask": (name, data)}
        r = client.post("/api/inpaint", files=files, data={"method": "telea"})
    elif n % 3 == 1:
        r = client.post("/api/inpaint", files={"image": (name, data)}, data={"mask_kind": "center"})
    else:
        r = client.post("/api/preview", files={"image": (name, data)})
    if r.status_code >= 500:
        return f"{r.status_code}: {r.text[:200]}"
    if r.status_code >= 400:
        detail = r.json().get("detail")
        if not isinstance(detail, str) or "\n" in detail:
            return f"{r.status_code} with detail {detail!r}"
        _outcome(f"refused {r.status_code}")
    elif r.status_code != 200 or not r.content:
        return f"status {r.status_code}, {len(r.content)} bytes"
    else:
        _outcome("result")
    return None


def _run(cases: range, one: Callable[[int, bytes, str], str | None]) -> dict[str, float]:
    """Run ``one`` on every case; fail with the first 20 problems. Returns figures."""
    problems: list[str] = []
    OUTCOMES.clear()
    slowest, slowest_case, start = 0.0, -1, time.perf_counter()
    for n in cases:
        seed, fmt, mutation, data = make_case(SEEDS, n)
        faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
        t0 = time.perf_counter()
        try:
            problem = one(n, data, fmt)
        except Exception as e:  # anything but InpaintError escaping is a finding
            problem = f"{type(e).__name__}: {' '.join(str(e).split())[:300]}"
        finally:
            faulthandler.cancel_dump_traceback_later()
        took = time.perf_counter() - t0
        if took > slowest:
            slowest, slowest_case = took, n
        if problem is None and took > CASE_SECONDS:
            problem = f"took {took:.1f} s"
        if problem is not None:
            problems.append(f"case {n} ({seed}, {mutation}): {problem}")
    assert not problems, f"{len(problems)} of {len(cases)} cases failed:\n" + "\n".join(
        problems[:20]
    )
    figures = {"cases": len(cases), "seconds": time.perf_counter() - start, "slowest": slowest}
    figures["slowest case"] = slowest_case
    assert OUTCOMES.get("result", 0) > 0, "no case gave a result: the check is vacuous"
    return {**figures, **OUTCOMES}


def _report(target: str, figures: dict[str, float]) -> None:
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(figures.items()) if k not in _TIMES)
    line = (
        f"fuzz {target}: {figures['cases']} cases in {figures['seconds']:.1f} s, "
        f"slowest {figures['slowest']:.2f} s (case {figures['slowest case']}), 0 failures "
        f"({outcomes})"
    )
    print(line)
    path = os.environ.get("INPAINTKIT_FUZZ_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def _write_mask(tmp: Path) -> None:
    from PIL import Image

    Image.fromarray(np.where(HOLE, 255, 0).astype(np.uint8)).save(tmp / "mask.png")
    (tmp / "good.png").write_bytes(SEEDS["png_rgb8"][1])


@pytest.fixture
def asgi_client():
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from inpaintkit.web import create_app

    app = create_app(max_pixels=LIMIT_PIXELS)
    with TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as c:
        yield c


def _fuzz(target: str, cases: range, tmp_path: Path, capfd, client) -> dict[str, float]:
    _write_mask(tmp_path)
    if target == "library":
        return _run(cases, lambda n, d, f: library_case(n, d, f, tmp_path))
    if target == "cli":
        return _run(cases, lambda n, d, f: cli_case(n, d, f, tmp_path, capfd))
    return _run(cases, lambda n, d, f: asgi_case(n, d, f, client))


def test_seeds_cover_every_format_and_decode():
    assert len(SEEDS) >= 20
    assert {fmt for fmt, _ in SEEDS.values()} == set(SUFFIX)
    depths = {load_image(data).bit_depth for _, data in SEEDS.values()}
    assert depths == {8, 16}


@pytest.mark.parametrize("target", ["library", "cli", "asgi"])
def test_fuzz(target, tmp_path, capfd, request):
    client = request.getfixturevalue("asgi_client") if target == "asgi" else None
    _report(target, _fuzz(target, range(CI_CASES[target]), tmp_path, capfd, client))


@pytest.mark.slow
@pytest.mark.parametrize("target", ["library", "cli", "asgi"])
def test_fuzz_slow(target, tmp_path, capfd, request):
    wanted = os.environ.get("INPAINTKIT_FUZZ_TARGETS", "library,cli,asgi").split(",")
    if target not in wanted:
        pytest.skip(f"INPAINTKIT_FUZZ_TARGETS={','.join(wanted)}")
    n = int(os.environ.get("INPAINTKIT_FUZZ_CASES", "10000"))
    client = request.getfixturevalue("asgi_client") if target == "asgi" else None
    cases = range(SLOW_OFFSET, SLOW_OFFSET + n)
    _report(target, _fuzz(target, cases, tmp_path, capfd, client))
