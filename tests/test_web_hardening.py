"""Issue 21, items 5-8: dilation in the job queue (O(pixels)), bounded JSON fields, 413 for
images over Pillow's bomb limit, the Host/Origin policy."""

from __future__ import annotations

import io as _io
import struct
import threading
import time
import warnings

import cv2
import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the web app needs fastapi (pip install -e .)")
pytest.importorskip("httpx", reason="TestClient needs httpx: pip install -e '.[test]'")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from inpaintkit import io as kio
from inpaintkit.cli.serve import add_serve_parser
from inpaintkit.io import mask_files
from inpaintkit.web import create_app
from inpaintkit.web.methods import json_depth
from inpaintkit.web.security import HostOriginGuard

LOCAL = "http://127.0.0.1:8000"
W, H = 40, 30


def png(arr: np.ndarray) -> bytes:
    buf = _io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def jpeg_declaring(width: int, height: int) -> bytes:
    buf = _io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 200)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture
def image() -> bytes:
    return png(np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8))


@pytest.fixture
def mask() -> bytes:
    hole = np.zeros((H, W), np.uint8)
    hole[10:14, 12:20] = 255
    return png(hole)


def _wait(c: TestClient, job_id: str) -> dict:
    for _ in range(400):
        state = c.get(f"/api/jobs/{job_id}").json()
        if state["status"] not in ("queued", "running"):
            return state
        time.sleep(0.02)
    raise AssertionError("job did not finish")


# ----------------------------------------------------------------------------- item 5


def _disk_dilation(mask: np.ndarray, radius: int) -> np.ndarray:
    """The old O(pixels x r^2) dilation by a disk (the reference)."""
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    disk = (x * x + y * y <= radius * radius).astype(np.uint8)
    return cv2.dilate(mask.astype(np.uint8), disk) > 0


@pytest.mark.parametrize("radius", [0, 1, 2, 3, 4, 5, 7, 12, 25, 40])
def test_distance_transform_dilation_equals_disk_dilation(radius):
    rng = np.random.default_rng(radius)
    mask = rng.random((61, 83)) > 0.995
    mask[0, 0] = mask[-1, 40] = mask[30, -1] = True  # holes on the borders
    np.testing.assert_array_equal(kio.dilate_mask(mask, radius), _disk_dilation(mask, radius))
    single = np.zeros((101, 101), bool)
    single[50, 50] = True
    assert kio.dilate_mask(single, radius).sum() == _disk_dilation(single, radius).sum()


def test_dilation_runs_in_the_job_under_its_timeout(image, mask, monkeypatch):
    threads: list[str] = []
    real = kio.dilate_mask

    def slow_dilate(m: np.ndarray, radius: int) -> np.ndarray:
        threads.append(threading.current_thread().name)
        time.sleep(1.0)
        return real(m, radius)

    monkeypatch.setattr(mask_files, "dilate_mask", slow_dilate)  # read_mask's own
    with TestClient(create_app(timeout=0.3), base_url=LOCAL) as c:
        files = {"image": ("a.png", image), "mask": ("m.png", mask)}
        r = c.post("/api/jobs", files=files, data={"method": "telea", "dilate": "5"})
        assert r.status_code == 202
        assert _wait(c, r.json()["id"])["status"] == "timeout"
        assert threads and all(t.startswith("job-") for t in threads), threads
        monkeypatch.setattr(mask_files, "dilate_mask", real)
        r = c.post("/api/jobs", files=files, data={"method": "telea", "dilate": "3"})
        job = r.json()["id"]
        assert _wait(c, job)["status"] == "done"
        got = np.asarray(Image.open(_io.BytesIO(c.get(f"/api/jobs/{job}/mask").content))) > 0
        sent = np.asarray(Image.open(_io.BytesIO(mask))) >= 128
        np.testing.assert_array_equal(got, _disk_dilation(sent, 3))  # the hole actually filled


# ----------------------------------------------------------------------------- item 6


@pytest.mark.parametrize(
    "options",
    [
        "[" * 100_000,
        "{" * 50 + "}" * 50,
        '{"radius": [[[[1]]]]}',
        '{"radius": ' + "9" * 5000 + "}",
        '{"radius": NaN}',
        '{"radius": 1e300}',
        '{"radius": "' + "x" * 5000 + '"}',
        '{"radius": [' + ",".join(["1"] * 500) + "]}",
        "{" + ",".join(f'"k{i}": 1' for i in range(100)) + "}",
        " " * 20_000 + "{}",
    ],
)
def test_options_json_is_bounded_4xx_never_5xx(image, mask, options):
    with TestClient(create_app(), base_url=LOCAL, raise_server_exceptions=False) as c:
        files = {"image": ("a.png", image), "mask": ("m.png", mask)}
        r = c.post("/api/jobs", files=files, data={"method": "telea", "options": options})
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
        assert "\n" not in r.json()["detail"]


def test_text_fields_are_bounded(image, mask):
    with TestClient(create_app(), base_url=LOCAL, raise_server_exceptions=False) as c:
        cases = ({"method": "x" * 10_000}, {"mask_kind": "y" * 10_000}, {"mask_seed": "1" * 40})
        for data in cases:
            r = c.post("/api/jobs", files={"image": ("a.png", image)}, data=data)
            assert r.status_code == 422, (data.keys(), r.status_code)
            assert len(r.text) < 2000


def test_json_depth_skips_strings():
    assert json_depth('{"a": "[[[[", "b": [1, {"c": "\\"]]"}]}') == 3
    assert json_depth("[" * 10) == 10 and json_depth('"{{{"') == 0


# ----------------------------------------------------------------------------- item 7


def test_image_over_pillows_bomb_limit_is_413_not_422(mask):
    bomb = jpeg_declaring(20_000, 10_000)  # 200 MP > 2 * Image.MAX_IMAGE_PIXELS
    with TestClient(create_app(max_pixels=10**9), base_url=LOCAL) as c:
        r = c.post("/api/jobs", files={"image": ("b.jpg", bomb), "mask": ("m.png", mask)})
        assert r.status_code == 413 and "too large" in r.json()["detail"]
        assert c.post("/api/preview", files={"image": ("b.jpg", bomb)}).status_code == 413
        r = c.post("/api/mask", files={"mask": ("b.jpg", bomb)}, data={"width": 8, "height": 8})
        assert r.status_code == 413


# ----------------------------------------------------------------------------- item 8


def test_foreign_host_is_refused(image):
    with TestClient(create_app(), base_url="http://evil.example:8000") as c:
        r = c.get("/api/health")
        assert r.status_code == 403 and "DNS-rebinding" in r.json()["detail"]
    for ok in ("http://localhost:8000", "http://127.0.0.1:9", "http://[::1]:8000"):
        with TestClient(create_app(), base_url=ok) as c:
            assert c.get("/api/health").status_code == 200, ok


def test_cross_origin_post_is_refused_same_origin_allowed(image, mask):
    files = {"image": ("a.png", image), "mask": ("m.png", mask)}
    with TestClient(create_app(), base_url=LOCAL) as c:
        r = c.post("/api/jobs", files=files, headers={"Origin": "http://evil.example"})
        assert r.status_code == 403 and "cross-origin" in r.json()["detail"]
        r = c.post("/api/jobs", files=files, headers={"Origin": "null"})
        assert r.status_code == 403
        r = c.post("/api/jobs", files=files, headers={"Origin": "http://127.0.0.1:8000"})
        assert r.status_code == 202
        assert c.post("/api/jobs", files=files).status_code == 202  # no Origin: curl, scripts
        r = c.get("/api/health", headers={"Origin": "http://evil.example"})
        assert r.status_code == 200  # reading is left to the browser's same-origin policy


def test_allowed_hosts_and_origins_widen_the_policy(image, mask):
    files = {"image": ("a.png", image), "mask": ("m.png", mask)}
    app = create_app(allowed_hosts=["inpaint.lan"], allowed_origins=["https://tools.lan"])
    with TestClient(app, base_url="http://inpaint.lan:8000") as c:
        assert c.get("/api/health").status_code == 200
        r = c.post("/api/jobs", files=files, headers={"Origin": "https://tools.lan"})
        assert r.status_code == 202
        r = c.post("/api/jobs", files=files, headers={"Origin": "https://other.lan"})
        assert r.status_code == 403
    with TestClient(create_app(allowed_hosts=["*"]), base_url="http://any.name") as c:
        assert c.get("/api/health").status_code == 200


def test_bind_address_rules():
    guard = HostOriginGuard(None, bind_host="0.0.0.0")
    assert guard.host_ok("192.168.1.20:8000") and not guard.host_ok("evil.example:8000")
    loop = HostOriginGuard(None, bind_host="127.0.0.1")
    assert not loop.host_ok("192.168.1.20:8000") and loop.host_ok("127.0.0.2")
    named = HostOriginGuard(None, bind_host="studio.local")
    assert named.host_ok("studio.local:8000") and not named.host_ok("")


def test_serve_flags_and_environment_reach_the_app(monkeypatch):
    import argparse

    from inpaintkit.cli import serve as cli_args

    parser = argparse.ArgumentParser()
    add_serve_parser(parser.add_subparsers())
    args = parser.parse_args(["serve", "--allow-host", "a.lan", "--allow-origin", "https://b.lan"])
    seen = {}
    monkeypatch.setenv("INPAINTKIT_ALLOW_HOSTS", "c.lan, d.lan")
    monkeypatch.setattr("inpaintkit.web.app.create_app", lambda **kw: seen.update(kw))
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: None)
    assert cli_args.serve_command(args) == 0
    assert seen["allowed_hosts"] == ["a.lan", "c.lan", "d.lan"]
    assert seen["allowed_origins"] == ["https://b.lan"] and seen["bind_host"] == "127.0.0.1"


def test_out_of_memory_in_a_request_or_a_job_is_one_clean_answer(image, mask, monkeypatch):
    import torch

    from inpaintkit.registry import register_method

    @register_method("_web_oom", kind="classical", summary="test: out of memory")
    def _web_oom(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        raise MemoryError

    files = {"image": ("a.png", image), "mask": ("m.png", mask)}
    with TestClient(create_app(), base_url=LOCAL, raise_server_exceptions=False) as c:
        r = c.post("/api/jobs", files=files, data={"method": "_web_oom"})
        state = _wait(c, r.json()["id"])
        assert state["status"] == "failed" and state["error"].startswith("ran out of memory")

        def no_memory(*a, **k):
            raise MemoryError

        monkeypatch.setattr(kio, "read_image", no_memory)
        r = c.post("/api/jobs", files=files, data={"method": "telea"})
        assert r.status_code == 413 and "ran out of memory" in r.json()["detail"]
