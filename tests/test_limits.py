"""Issue 21, items 4 and 10: pixel and memory limits from the header, out-of-memory as one line,
decoder chatter (libpng, libtiff, Pillow warnings) kept off stderr."""

from __future__ import annotations

import io as _io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from inpaintkit import inpaint, limits
from inpaintkit import io as kio
from inpaintkit.cli import main
from inpaintkit.codecs import encode_png16
from inpaintkit.errors import ImageTooLargeError, InpaintError, InpaintWarning
from inpaintkit.registry import register_method


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    return struct.pack(">I", len(payload)) + kind + payload + crc


def huge_png(width: int = 20000, height: int = 8000) -> bytes:
    """A ~250-byte PNG whose header says width x height RGB; its data is truncated."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 20000)[:180]
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat)


def huge_jpeg(width: int = 12000, height: int = 12000) -> bytes:
    """A small JPEG whose SOF0 header is patched to say width x height."""
    buf = _io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 200)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _mask(path, w: int, h: int):
    Image.fromarray(np.full((h, w), 255, np.uint8)).save(path)
    return path


@pytest.mark.parametrize("make", [huge_png, huge_jpeg])
def test_huge_declared_size_refused_before_decoding(tmp_path, monkeypatch, make):
    path = _write(tmp_path / ("big.png" if make is huge_png else "big.jpg"), make())
    assert path.stat().st_size < 1000

    def no_decoding(*a, **k):
        raise AssertionError("decoded before the size check")

    monkeypatch.setattr(kio, "read_image", no_decoding)
    with pytest.raises(ImageTooLargeError, match=r"over the limit of 100\.0 MP"):
        inpaint(path, np.ones((4, 4), bool), "telea")
    with pytest.raises(ImageTooLargeError):
        inpaint(path.read_bytes(), np.ones((4, 4), bool), "telea")


@pytest.mark.parametrize("make", [huge_png, huge_jpeg])
def test_cli_huge_declared_size_one_line_exit_2(tmp_path, capfd, make):
    path = _write(tmp_path / ("big.png" if make is huge_png else "big.jpg"), make())
    mask = _mask(tmp_path / "m.png", 8, 8)
    code = main(["run", str(path), "--mask", str(mask), "-o", str(tmp_path / "o.png")])
    err = capfd.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("inpaintkit: error:") and "MP" in err[0]


def test_max_pixels_argument_flag_and_environment(tmp_path, smooth_image, square_hole, capsys,
                                                  monkeypatch):  # fmt: skip
    path = tmp_path / "in.png"
    Image.fromarray(smooth_image).save(path)
    h, w = smooth_image.shape[:2]
    with pytest.raises(ImageTooLargeError, match="64x48"):
        inpaint(path, square_hole, "telea", max_image_pixels=w * h - 1)
    assert inpaint(path, square_hole, "telea", max_image_pixels=w * h).pixels.shape == (h, w, 3)
    with pytest.raises(ImageTooLargeError):  # arrays too
        inpaint(smooth_image, square_hole, "telea", max_image_pixels=100)
    mask = tmp_path / "m.png"
    Image.fromarray(np.where(square_hole, 255, 0).astype(np.uint8)).save(mask)
    args = ["run", str(path), "--mask", str(mask), "-o", str(tmp_path / "o.png")]
    assert main([*args, "--max-pixels", "0.001"]) == 2
    assert "over the limit of 0.0 MP" in capsys.readouterr().err
    monkeypatch.setenv(limits.MAX_PIXELS_ENV, "100")
    assert main(args) == 2
    assert "INPAINTKIT_MAX_PIXELS" in capsys.readouterr().err
    assert main([*args, "--max-pixels", "1"]) == 0  # the flag wins over the environment
    monkeypatch.setenv(limits.MAX_PIXELS_ENV, "lots")
    with pytest.raises(InpaintError, match="not a number"):
        limits.max_pixels_limit()


def test_mask_header_checked_too(tmp_path, smooth_image):
    with pytest.raises(ImageTooLargeError, match="the mask"):
        inpaint(smooth_image, huge_png(), "telea")


def test_memory_estimate_refuses_what_does_not_fit(smooth_image, square_hole, monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 10_000_000)
    with pytest.raises(ImageTooLargeError, match=r"needs about .* of memory"):
        inpaint(smooth_image, square_hole, "telea")
    big, small = limits.estimate_bytes(1000, 1000, "feed-forward"), limits.estimate_bytes(10, 10)
    assert big > limits.estimate_bytes(1000, 1000, "classical") > small > 0


@register_method("_oom", kind="classical", summary="test: runs out of memory")
def _oom(image: torch.Tensor, mask: torch.Tensor, *, how: str = "memory") -> torch.Tensor:
    if how == "memory":
        raise MemoryError
    raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate "
                       "memory: you tried to allocate 1099511627776 bytes.")  # fmt: skip


@pytest.mark.parametrize("how", ["memory", "torch"])
def test_out_of_memory_is_one_clean_line(tmp_path, smooth_image, square_hole, capfd, how):
    with pytest.raises(InpaintError, match="ran out of memory"):
        inpaint(smooth_image, square_hole, "_oom", how=how)
    path, mask = tmp_path / "in.png", tmp_path / "m.png"
    Image.fromarray(smooth_image).save(path)
    Image.fromarray(np.where(square_hole, 255, 0).astype(np.uint8)).save(mask)
    code = main(["run", str(path), "--mask", str(mask), "-m", "_oom", "--opt", f"how={how}",
                 "-o", str(tmp_path / "o.png")])  # fmt: skip
    err = capfd.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "ran out of memory" in err[0]


def test_bugs_are_not_dressed_as_out_of_memory():
    assert not limits.is_out_of_memory(RuntimeError("shape mismatch"))
    assert limits.is_out_of_memory(MemoryError())
    with pytest.raises(KeyError), limits.memory_guard():
        raise KeyError("a bug stays a bug")


# ----------------------------------------------------------------------------- item 10


def _crc_broken_16bit_png() -> bytes:
    arr = np.random.default_rng(0).integers(0, 65535, (24, 32, 3)).astype(np.uint16)
    data = bytearray(encode_png16(arr, icc=None, exif=None))
    pos = 8
    while data[pos + 4 : pos + 8] != b"IDAT":
        pos += 12 + struct.unpack(">I", data[pos : pos + 4])[0]
    length = struct.unpack(">I", data[pos : pos + 4])[0]
    data[pos + 8 + length] ^= 0xFF  # the IDAT chunk's CRC
    return bytes(data)


def test_libpng_crc_error_is_one_line_of_ours(tmp_path, capfd):
    path = _write(tmp_path / "crc.png", _crc_broken_16bit_png())
    mask = _mask(tmp_path / "m.png", 32, 24)
    code = main(["run", str(path), "--mask", str(mask), "-o", str(tmp_path / "o.png")])
    captured = capfd.readouterr()
    err = captured.err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "IDAT chunk is corrupt" in err[0] and "libpng error" not in captured.err + captured.out


def _bad_exif_png(smooth_image: np.ndarray) -> bytes:
    buf = _io.BytesIO()
    Image.fromarray(smooth_image).save(buf, "PNG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00")
    return buf.getvalue()


def test_warning_becomes_one_line_and_errors_stay_one_line(tmp_path, smooth_image, square_hole,
                                                           capfd):  # fmt: skip
    path = _write(tmp_path / "exif.png", _bad_exif_png(smooth_image))
    with pytest.warns(InpaintWarning, match="may be damaged"):
        kio.read_image(path)
    good = _mask(tmp_path / "m.png", 64, 48)
    Image.fromarray(np.where(square_hole, 255, 0).astype(np.uint8)).save(good)
    assert main(["run", str(path), "--mask", str(good), "-o", str(tmp_path / "o.png")]) == 0
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("inpaintkit: warning:") and "EXIF" in err[0]
    wrong = _mask(tmp_path / "small.png", 8, 8)  # a user error after the warning: one line
    assert main(["run", str(path), "--mask", str(wrong), "-o", str(tmp_path / "p.png")]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("inpaintkit: error:")


@pytest.mark.parametrize("cut", [0.5, -20])
def test_truncated_tiff_is_one_error_without_pillow_warnings(capfd, recwarn, cut):
    buf = _io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (64, 64, 3)).astype(np.uint8)
    Image.fromarray(pixels).save(buf, "TIFF", compression="tiff_lzw")
    data = buf.getvalue()
    with pytest.raises(InpaintError) as info:  # "Truncated File Read" / "Corrupt EXIF data"
        kio.read_image(data[: int(len(data) * cut) if cut > 0 else cut])
    assert "\n" not in str(info.value)
    assert [str(w.message) for w in recwarn] == []
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    "argv", [["run"], ["run", "a.png", "--mask", "m.png", "--bogus"], ["frob"], ["run", "-m"]]
)
def test_command_line_mistakes_are_one_line(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert info.value.code == 2 and len(err) == 1 and "error:" in err[0] and "--help" in err[0]


def test_a_fifo_is_refused_not_waited_on(tmp_path, smooth_image):
    import os
    import threading

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            inpaint(fifo, np.zeros((4, 4), bool), "telea")
        except BaseException as e:
            outcome.append(e)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader so the test run can end
        with open(fifo, "wb") as f:
            f.write(b"x")
        worker.join(10)
        pytest.fail("reading a FIFO blocked")
    assert isinstance(outcome[0], InpaintError) and "not a regular file" in str(outcome[0])
    with pytest.raises(InpaintError, match="not a regular file"):
        kio.read_image(fifo)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "sparse.png"
    with open(path, "wb") as f:  # a real PNG header, then 3 GB of (sparse) nothing
        f.write(huge_png(64, 64))
        f.truncate(3 * 2**30)

    def no_reading(*a, **k):
        raise AssertionError("read")

    monkeypatch.setattr(kio, "read_image", no_reading)
    with pytest.raises(ImageTooLargeError, match=r"3\.2 GB file, more than any image"):
        inpaint(path, np.zeros((64, 64), bool), "telea", max_image_pixels=1e6)
