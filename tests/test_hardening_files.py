"""Issue 21, items 1-3: outputs resolved before checks, masks beside images, 16-bit PNG headers."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inpaintkit import inpaint
from inpaintkit import io as kio
from inpaintkit.cli import main
from inpaintkit.codecs import encode_png16
from inpaintkit.errors import InpaintError
from inpaintkit.headers import png_header, png_ihdr_first, png_problem


def _png(path: Path, arr: np.ndarray) -> Path:
    Image.fromarray(arr).save(path)
    return path


@pytest.fixture
def pair(tmp_path, smooth_image, square_hole, monkeypatch):
    """in.png + m.png in tmp_path, which is the working directory."""
    monkeypatch.chdir(tmp_path)
    _png(tmp_path / "in.png", smooth_image)
    _png(tmp_path / "m.png", np.where(square_hole, 255, 0).astype(np.uint8))
    return tmp_path


# ----------------------------------------------------------------------------- item 1


@pytest.mark.parametrize("out", ["sub/../in.png", "a/b/../../in.png"])
def test_cli_never_overwrites_input_through_missing_folder_and_dotdot(pair, capsys, out):
    before = (pair / "in.png").read_bytes()
    code = main(["run", "in.png", "--mask", "m.png", "-m", "telea", "-o", out])
    assert code == 2
    assert (pair / "in.png").read_bytes() == before
    assert not (pair / "sub").exists() and not (pair / "a").exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "in.png" in err[0]


def test_result_save_resolves_before_checking(pair, smooth_image, square_hole):
    res = inpaint(pair / "in.png", square_hole, "telea")
    before = (pair / "in.png").read_bytes()
    with pytest.raises(InpaintError, match=r"input|exists"):
        res.save("nodir/../in.png")
    with pytest.raises(InpaintError, match="exists"):
        res.save(pair / "nodir" / ".." / "m.png")
    assert (pair / "in.png").read_bytes() == before
    assert not (pair / "nodir").exists()
    out = res.save("nodir/../new.png")  # allowed: a new file, and no folder it does not need
    assert out.name == "new.png" and out.parent == pair.resolve()
    assert not (pair / "nodir").exists()
    np.testing.assert_array_equal(kio.read_image(out).pixels, res.pixels)


def test_write_mask_resolves_too(pair):
    with pytest.raises(InpaintError, match="exists"):
        kio.write_mask("x/../m.png", np.zeros((4, 4), bool))
    assert not (pair / "x").exists()


def test_overwrite_through_dotdot_creates_no_folder(pair, capsys):
    code = main(["run", "in.png", "--mask", "m.png", "-o", "sub/../out.png"])
    assert code == 0
    assert (pair / "out.png").is_file() and not (pair / "sub").exists()


# ----------------------------------------------------------------------------- item 2


def _folder(tmp_path: Path, smooth_image: np.ndarray, holes: dict[str, np.ndarray]) -> Path:
    d = tmp_path / "shots"
    d.mkdir()
    for name, hole in holes.items():
        _png(d / f"{name}.png", smooth_image)
        _png(d / f"{name}_mask.png", np.where(hole, 255, 0).astype(np.uint8))
    return d


def test_folder_with_masks_beside_images_uses_the_mask_files(tmp_path, smooth_image, capsys):
    a = np.zeros(smooth_image.shape[:2], bool)
    a[5:15, 5:20] = True
    b = np.zeros_like(a)
    b[30:40, 40:60] = True
    d = _folder(tmp_path, smooth_image, {"a": a, "b": b})
    out = tmp_path / "out"
    assert main(["run", str(d), "--mask", str(d), "-m", "telea", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    for name, hole in (("a", a), ("b", b)):
        got = kio.read_image(out / f"{name}.png").pixels
        changed = (got != smooth_image).any(axis=2)
        assert not changed[~hole].any()  # known pixels untouched: the mask file was used
        assert changed[hole].any()


def test_ambiguous_masks_beside_images_are_an_error(tmp_path, smooth_image, capsys):
    hole = np.zeros(smooth_image.shape[:2], bool)
    hole[5:15, 5:20] = True
    d = _folder(tmp_path, smooth_image, {"a": hole})
    _png(d / "a.mask.png", np.where(hole, 255, 0).astype(np.uint8))
    code = main(["run", str(d), "--mask", str(d), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "more than one mask for a.png" in err
    assert len(err.strip().splitlines()) == 1


def test_image_is_never_its_own_mask(pair, capsys):
    assert main(["run", "in.png", "--mask", "in.png", "-o", "o.png"]) == 2
    assert "image itself" in capsys.readouterr().err
    with pytest.raises(InpaintError, match="image itself"):
        inpaint(pair / "in.png", "./in.png", "telea")
    folder = pair / "only"
    folder.mkdir()
    _png(folder / "a.png", np.zeros((8, 8, 3), np.uint8))
    assert main(["run", str(folder), "--mask", str(folder), "-o", str(pair / "o")]) == 2
    assert "no mask for a.png" in capsys.readouterr().err


def test_separate_mask_folder_plain_names_still_work(tmp_path, smooth_image, square_hole):
    imgs, masks = tmp_path / "imgs", tmp_path / "masks"
    imgs.mkdir()
    masks.mkdir()
    _png(imgs / "a.png", smooth_image)
    _png(masks / "a.png", np.where(square_hole, 255, 0).astype(np.uint8))
    assert main(["run", str(imgs), "--mask", str(masks), "-o", str(tmp_path / "o")]) == 0


# ----------------------------------------------------------------------------- item 3


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    return struct.pack(">I", len(payload)) + kind + payload + crc


def _chunk_before_ihdr(data: bytes) -> bytes:
    return data[:8] + _chunk(b"tEXt", b"Comment\x00before IHDR") + data[8:]


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_16bit_png_with_a_chunk_before_ihdr_stays_16bit(channels):
    rng = np.random.default_rng(channels)
    arr = rng.integers(0, 65536, (6, 7, channels), dtype=np.uint16)
    arr = arr[:, :, 0] if channels == 1 else arr
    data = _chunk_before_ihdr(encode_png16(arr, icc=None, exif=None))
    assert png_header(data).offset > 8 and png_header(data).bit_depth == 16
    img = kio.read_image(data)
    assert img.pixels.dtype == np.uint16 and img.grey == (channels <= 2)
    grey = arr if arr.ndim == 2 else arr[:, :, 0]
    expected = arr[:, :, :3] if channels >= 3 else np.repeat(grey[:, :, None], 3, 2)
    np.testing.assert_array_equal(img.pixels, expected)
    if channels in (2, 4):
        np.testing.assert_array_equal(img.alpha, arr[:, :, -1])


def test_png_header_helpers():
    data = encode_png16(np.zeros((3, 5, 3), np.uint16), icc=None, exif=None)
    moved = _chunk_before_ihdr(data)
    assert png_ihdr_first(moved)[8:33] == data[8:33] and png_ihdr_first(data) == data
    assert png_header(b"not a png") is None
    bad = bytearray(data)
    bad[29] ^= 1  # IHDR's CRC
    assert png_problem(bytes(bad)) == "its IHDR chunk is corrupt (CRC)"
    assert png_problem(data) is None and "no IEND" in png_problem(data[:-12])


def test_16bit_png_with_a_huge_chunk_length_is_refused_before_opencv(monkeypatch):
    """A flipped byte in IDAT's length made OpenCV allocate ~3 GB and spend 12 s (found by
    tests/fuzz, case 1005209); the chunk walk refuses it first."""
    data = bytearray(encode_png16(np.ones((24, 32, 3), np.uint16), icc=None, exif=None))
    idat = data.index(b"IDAT") - 4
    data[idat] = 0xC8  # length 0xC8xxxxxx: 3.3 GB declared in a 100-byte file

    def no_opencv(*a, **k):
        raise AssertionError("handed to OpenCV")

    monkeypatch.setattr("inpaintkit.decode16.cv2.imdecode", no_opencv)
    with pytest.raises(InpaintError, match="'IDAT' chunk runs past the end of the file"):
        kio.read_image(bytes(data))
