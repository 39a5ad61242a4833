"""Tests for inpaintkit.io: tiny images made in tmp_path, exact values everywhere."""

from __future__ import annotations

import os
import struct
import zlib
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image, ImageCms, ImageOps

from inpaintkit import convert
from inpaintkit import io as kio
from inpaintkit.errors import InpaintError


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _rgb8(h: int = 6, w: int = 10, seed: int = 0) -> np.ndarray:
    return _rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _u16(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return _rng(seed).integers(0, 65536, shape, dtype=np.uint16)


def _save(path: Path, im: Image.Image, fmt: str | None = None, **options: object) -> Path:
    im.save(path, fmt, **options)
    return path


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"  # Make: must survive the orientation reset
    return exif


def _png_with_exif(png: bytes, exif: bytes) -> bytes:
    """Insert an eXIf chunk right after IHDR (which always ends at byte 33)."""
    chunk = struct.pack(">I", len(exif)) + b"eXIf" + exif
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + exif))
    return png[:33] + chunk + png[33:]


def _cv2_bytes(suffix: str, rgb: np.ndarray) -> bytes:
    bgr = rgb[:, :, [2, 1, 0, 3][: rgb.shape[2]]] if rgb.ndim == 3 else rgb
    ok, buf = cv2.imencode(suffix, np.ascontiguousarray(bgr))
    assert ok
    return buf.tobytes()


def _written_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*"))


# ----------------------------------------------------------------------------- read: formats


@pytest.mark.parametrize(
    ("fmt", "suffix", "options"),
    [
        ("PNG", ".png", {}),
        ("WEBP", ".webp", {"lossless": True}),
        ("TIFF", ".tif", {}),
        ("BMP", ".bmp", {}),
    ],
)
def test_read_lossless_rgb_is_exact(tmp_path, fmt, suffix, options):
    px = _rgb8()
    path = _save(tmp_path / f"a{suffix}", Image.fromarray(px), fmt, **options)
    img = kio.read_image(path)
    assert img.pixels.dtype == np.uint8
    np.testing.assert_array_equal(img.pixels, px)
    assert (img.format, img.mode, img.grey, img.alpha, img.path) == (fmt, "RGB", False, None, path)
    assert img.size == (10, 6)
    assert img.bit_depth == 8


def test_read_jpeg_matches_pil_decoder_and_bytes_source(tmp_path):
    path = _save(tmp_path / "a.jpg", Image.fromarray(_rgb8()), "JPEG", quality=90)
    img = kio.read_image(path)
    np.testing.assert_array_equal(img.pixels, np.asarray(Image.open(path).convert("RGB")))
    assert img.format == "JPEG"
    from_bytes = kio.read_image(path.read_bytes())
    np.testing.assert_array_equal(from_bytes.pixels, img.pixels)
    assert from_bytes.path is None


def test_read_grey_l_replicates_channels(tmp_path):
    g = _rng().integers(0, 256, (5, 7), dtype=np.uint8)
    img = kio.read_image(_save(tmp_path / "g.png", Image.fromarray(g)))
    assert img.grey and img.mode == "L" and img.alpha is None
    for c in range(3):
        np.testing.assert_array_equal(img.pixels[:, :, c], g)


def test_read_la_and_rgba_split_alpha(tmp_path):
    la = _rng(1).integers(0, 256, (4, 5, 2), dtype=np.uint8)
    img = kio.read_image(_save(tmp_path / "la.png", Image.fromarray(la)))
    assert img.grey and img.mode == "LA"
    np.testing.assert_array_equal(img.pixels[:, :, 1], la[:, :, 0])
    np.testing.assert_array_equal(img.alpha, la[:, :, 1])
    rgba = _rng(2).integers(0, 256, (4, 5, 4), dtype=np.uint8)
    img = kio.read_image(_save(tmp_path / "rgba.png", Image.fromarray(rgba)))
    assert not img.grey and img.mode == "RGBA"
    np.testing.assert_array_equal(img.pixels, rgba[:, :, :3])
    np.testing.assert_array_equal(img.alpha, rgba[:, :, 3])


def test_read_palette_without_and_with_transparency(tmp_path):
    idx = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    palette = [255, 0, 0, 0, 255, 0, 10, 20, 30]
    p = Image.fromarray(idx, "L").convert("P")
    p.putpalette(palette)
    want = np.array(palette, np.uint8).reshape(3, 3)[idx]
    img = kio.read_image(_save(tmp_path / "p.png", p))
    assert img.mode == "P" and not img.grey and img.alpha is None
    np.testing.assert_array_equal(img.pixels, want)
    img = kio.read_image(_save(tmp_path / "pt.png", p, transparency=1))
    np.testing.assert_array_equal(img.pixels, want)
    np.testing.assert_array_equal(img.alpha, np.where(idx == 1, 0, 255))


def test_read_one_bit_and_cmyk(tmp_path):
    bits = np.array([[True, False, True], [False, False, True]])
    img = kio.read_image(_save(tmp_path / "b.png", Image.fromarray(bits)))
    assert img.mode == "1" and img.grey
    np.testing.assert_array_equal(img.pixels[:, :, 0], np.where(bits, 255, 0))
    cmyk = Image.new("CMYK", (3, 2), (10, 20, 30, 40))
    img = kio.read_image(_save(tmp_path / "c.tif", cmyk))
    assert img.mode == "CMYK" and not img.grey
    np.testing.assert_array_equal(img.pixels, np.asarray(cmyk.convert("RGB")))


def test_read_16bit_grey_png_and_big_endian_tiff(tmp_path):
    g = _u16((5, 7))
    img = kio.read_image(_save(tmp_path / "g16.png", Image.fromarray(g)))
    assert img.pixels.dtype == np.uint16 and img.bit_depth == 16 and img.grey
    np.testing.assert_array_equal(img.pixels[:, :, 2], g)
    be = Image.frombytes("I;16B", (7, 5), g.astype(">u2").tobytes())
    img = kio.read_image(_save(tmp_path / "be.tif", be))
    assert img.mode == "I;16B"
    np.testing.assert_array_equal(img.pixels[:, :, 0], g)


def test_read_mode_i_in_range_and_out_of_range(tmp_path):
    ok = np.array([[0, 65535], [7, 300]], np.int32)
    img = kio.read_image(_save(tmp_path / "i.tif", Image.fromarray(ok)))
    assert img.mode == "I" and img.pixels.dtype == np.uint16
    np.testing.assert_array_equal(img.pixels[:, :, 0], ok)
    bad = _save(tmp_path / "big.tif", Image.fromarray(np.array([[0, 70000]], np.int32)))
    with pytest.raises(InpaintError, match=r"outside 0\.\.65535"):
        kio.read_image(bad)


@pytest.mark.parametrize(("suffix", "channels"), [(".png", 3), (".png", 4), (".tif", 3)])
def test_read_16bit_colour_exact(tmp_path, suffix, channels):
    px = _u16((4, 6, channels), seed=channels)
    path = tmp_path / f"c16{suffix}"
    path.write_bytes(_cv2_bytes(suffix, px))
    img = kio.read_image(path)
    assert img.pixels.dtype == np.uint16 and not img.grey
    np.testing.assert_array_equal(img.pixels, px[:, :, :3])
    if channels == 4:
        np.testing.assert_array_equal(img.alpha, px[:, :, 3])
    else:
        assert img.alpha is None


# ----------------------------------------------------------------------------- EXIF orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pil_exif_transpose(tmp_path, orientation):
    px = _rgb8(3, 5)
    path = _save(tmp_path / "o.png", Image.fromarray(px), exif=_exif(orientation))
    want = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    np.testing.assert_array_equal(kio.read_image(path).pixels, want)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_orientation_6_and_3_upright_and_written_exif_is_1(tmp_path, suffix):
    px = np.zeros((8, 24, 3), np.uint8)
    px[:, :8] = 255  # white 8x8 block on the left of the stored (unrotated) image
    opts = {"quality": 100} if suffix == ".jpg" else {"lossless": True} if suffix == ".webp" else {}
    upright = {6: np.rot90(px, -1), 3: px[::-1, ::-1]}  # 6: turn clockwise, 3: half turn
    for orientation, want in upright.items():
        path = tmp_path / f"o{orientation}{suffix}"
        Image.fromarray(px).save(path, exif=_exif(orientation), **opts)
        img = kio.read_image(path)
        assert img.size == (want.shape[1], want.shape[0])
        np.testing.assert_array_equal(img.pixels > 128, want > 128)
        out = kio.write_image(tmp_path / f"w{orientation}{suffix}", img.pixels, like=img)
        exif = Image.open(out).getexif()
        assert exif[0x0112] == 1 and exif[0x010F] == "TestCam"
        assert kio.read_image(out).size == img.size


def test_orientation_applied_on_16bit_cv2_path_and_to_alpha(tmp_path):
    px = _u16((2, 3, 4))
    path = tmp_path / "o16.png"
    path.write_bytes(_png_with_exif(_cv2_bytes(".png", px), _exif(6).tobytes()[6:]))
    img = kio.read_image(path)
    np.testing.assert_array_equal(img.pixels, np.rot90(px[:, :, :3], -1))
    np.testing.assert_array_equal(img.alpha, np.rot90(px[:, :, 3], -1))
    exif = Image.Exif()
    exif.load(img.exif)
    assert exif[0x0112] == 1


def test_tiff_orientation_tag(tmp_path):
    px = _rgb8(2, 3)
    path = _save(tmp_path / "o.tif", Image.fromarray(px), tiffinfo={0x0112: 8})
    np.testing.assert_array_equal(kio.read_image(path).pixels, np.rot90(px, 1))


# ----------------------------------------------------------------------------- write


@pytest.mark.parametrize(
    ("suffix", "channels"), [(".png", 3), (".png", 4), (".tif", 3), (".tif", 4)]
)
def test_16bit_colour_round_trip_exact(tmp_path, suffix, channels):
    px = _u16((5, 4, channels), seed=10 + channels)
    src = tmp_path / f"in{suffix}"
    src.write_bytes(_cv2_bytes(suffix, px))
    img = kio.read_image(src)
    out = kio.write_image(tmp_path / f"out{suffix}", img.pixels, like=img)
    back = kio.read_image(out)
    assert back.pixels.dtype == np.uint16
    np.testing.assert_array_equal(back.pixels, px[:, :, :3])
    if channels == 4:
        np.testing.assert_array_equal(back.alpha, px[:, :, 3])


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_grey_round_trip_exact_and_stays_one_channel(tmp_path, suffix):
    g = _u16((6, 5), seed=3)
    img = kio.read_image(_save(tmp_path / f"g{suffix}", Image.fromarray(g)))
    out = kio.write_image(tmp_path / f"out{suffix}", img.pixels, like=img)
    assert Image.open(out).mode.startswith("I;16")
    np.testing.assert_array_equal(kio.read_image(out).pixels[:, :, 0], g)


def test_16bit_grey_alpha_png_round_trip(tmp_path):
    g, a = _u16((3, 4), seed=4), _u16((3, 4), seed=5)
    img = kio.LoadedImage(pixels=np.repeat(g[:, :, None], 3, axis=2), alpha=a, grey=True)
    out = kio.write_image(tmp_path / "ga.png", img.pixels, like=img)
    assert out.read_bytes()[24:26] == bytes([16, 4])  # IHDR: 16-bit grey + alpha
    back = kio.read_image(out)
    assert back.grey
    np.testing.assert_array_equal(back.pixels[:, :, 1], g)
    np.testing.assert_array_equal(back.alpha, a)


def test_16bit_png_keeps_icc_and_exif(tmp_path):
    icc = _srgb_icc()
    like = kio.LoadedImage(_u16((2, 2, 3)), icc_profile=icc, exif=_exif(1).tobytes())
    out = kio.write_image(tmp_path / "m.png", like.pixels, like=like)
    back = kio.read_image(out)
    assert back.icc_profile == icc
    assert Image.open(out).getexif()[0x010F] == "TestCam"


@pytest.mark.parametrize(("suffix", "grey"), [(".png", False), (".png", True), (".tif", False)])
def test_alpha_split_and_reattached_exactly(tmp_path, suffix, grey):
    rgba = _rng(7).integers(0, 256, (4, 6, 4), dtype=np.uint8)
    if grey:
        rgba[:, :, 1] = rgba[:, :, 2] = rgba[:, :, 0]
    src = Image.fromarray(rgba[:, :, [0, 3]] if grey else rgba)
    img = kio.read_image(_save(tmp_path / f"in{suffix}", src))
    out = kio.write_image(tmp_path / f"out{suffix}", img.pixels, like=img)
    back = kio.read_image(out)
    assert Image.open(out).mode == ("LA" if grey else "RGBA")
    np.testing.assert_array_equal(back.pixels, rgba[:, :, :3])
    np.testing.assert_array_equal(back.alpha, rgba[:, :, 3])
    other = np.full((4, 6), 77, np.uint8)
    out2 = kio.write_image(tmp_path / f"o2{suffix}", img.pixels, like=img, alpha=other)
    np.testing.assert_array_equal(kio.read_image(out2).alpha, other)


def test_jpeg_stays_jpeg_keeps_icc_and_honours_quality(tmp_path):
    icc = _srgb_icc()
    src = _save(tmp_path / "in.jpg", Image.fromarray(_rgb8(32, 32)), "JPEG", icc_profile=icc)
    img = kio.read_image(src)
    out = kio.write_image(tmp_path / "noext", img.pixels, like=img)
    assert out == tmp_path / "noext.jpg"
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.info["icc_profile"] == icc
    low = kio.write_image(tmp_path / "low.jpg", img.pixels, like=img, quality=20)
    assert low.stat().st_size < out.stat().st_size
    png = kio.write_image(tmp_path / "as.png", img.pixels, like=img)  # suffix decides
    assert Image.open(png).format == "PNG"
    forced = kio.write_image(tmp_path / "f.tif", img.pixels, format="png")
    assert Image.open(forced).format == "PNG"


def test_grey_like_writes_one_channel_exact_or_luma(tmp_path):
    g = np.array([[0, 100, 255]], np.uint8)
    like = kio.read_image(_save(tmp_path / "g.png", Image.fromarray(g)))
    out = kio.write_image(tmp_path / "same.png", like.pixels, like=like)
    assert Image.open(out).mode == "L"
    np.testing.assert_array_equal(np.asarray(Image.open(out)), g)
    colour = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], np.uint8)
    out = kio.write_image(tmp_path / "luma.png", colour, like=like)
    # 0.299 R + 0.587 G + 0.114 B: 76.245, 149.685, 29.07, 18.15
    np.testing.assert_array_equal(np.asarray(Image.open(out)), [[76, 150, 29, 18]])


def test_icc_dropped_when_colour_space_does_not_match(tmp_path):
    like = kio.LoadedImage(np.zeros((2, 2, 3), np.uint8), grey=True, icc_profile=_srgb_icc())
    out = kio.write_image(tmp_path / "g.png", like.pixels, like=like)
    assert "icc_profile" not in Image.open(out).info


def test_16bit_to_8bit_formats_rounds(tmp_path):
    px = np.array([[[0, 128, 129], [257, 65535, 32896]]], np.uint16)
    out = kio.write_image(tmp_path / "r.bmp", px)
    np.testing.assert_array_equal(kio.read_image(out).pixels, [[[0, 0, 1], [1, 255, 128]]])


def test_atomic_write_leaves_no_temp_files_and_creates_parents(tmp_path):
    out = kio.write_image(tmp_path / "a" / "b" / "x.png", _rgb8())
    assert _written_files(tmp_path) == ["a", "b", "x.png"]
    np.testing.assert_array_equal(kio.read_image(out).pixels, _rgb8())


def test_failed_write_cleans_up_and_raises(tmp_path, monkeypatch):
    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    from inpaintkit import atomic

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(InpaintError, match="No space left"):
        kio.write_image(tmp_path / "x.png", _rgb8())
    assert _written_files(tmp_path) == []


def test_overwrite_refused_unless_asked(tmp_path):
    path = kio.write_image(tmp_path / "x.png", _rgb8(seed=1))
    with pytest.raises(InpaintError, match="already exists; pass --overwrite"):
        kio.write_image(path, _rgb8(seed=2))
    np.testing.assert_array_equal(kio.read_image(path).pixels, _rgb8(seed=1))
    kio.write_image(path, _rgb8(seed=2), overwrite=True)
    np.testing.assert_array_equal(kio.read_image(path).pixels, _rgb8(seed=2))
    like = kio.read_image(path)
    with pytest.raises(InpaintError, match=r"refusing to write over the input.*--overwrite"):
        kio.write_image(path, _rgb8(seed=3), like=like)


def test_write_errors(tmp_path):
    with pytest.raises(InpaintError, match=r"unsupported suffix; use one of \.png"):
        kio.write_image(tmp_path / "x.gif", _rgb8())
    with pytest.raises(InpaintError, match="unsupported suffix"):
        kio.write_image(tmp_path / "x", _rgb8())
    (tmp_path / "d.png").mkdir()
    with pytest.raises(InpaintError, match="is a directory"):
        kio.write_image(tmp_path / "d.png", _rgb8())
    with pytest.raises(InpaintError, match="quality"):
        kio.write_image(tmp_path / "q.jpg", _rgb8(), quality=0)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        kio.write_image(tmp_path / "s.png", np.zeros((2, 2), np.uint8))
    assert _written_files(tmp_path) == ["d.png"]


# ----------------------------------------------------------------------------- bad input files


def test_bad_files_raise_inpaint_error(tmp_path):
    text = tmp_path / "x.txt"
    text.write_text("hello")
    with pytest.raises(InpaintError, match=r"cannot read '.*x\.txt' as an image"):
        kio.read_image(text)
    empty = tmp_path / "e.png"
    empty.write_bytes(b"")
    with pytest.raises(InpaintError, match="the file is empty"):
        kio.read_image(empty)
    with pytest.raises(InpaintError, match="is a directory"):
        kio.read_image(tmp_path)
    with pytest.raises(InpaintError, match="no such file"):
        kio.read_image(tmp_path / "missing.png")
    gif = _save(tmp_path / "a.gif", Image.fromarray(_rgb8()))
    with pytest.raises(InpaintError, match="not a PNG, JPEG, WebP, TIFF or BMP"):
        kio.read_image(gif)
    truncated = tmp_path / "t.png"
    truncated.write_bytes(_save(tmp_path / "ok.png", Image.fromarray(_rgb8())).read_bytes()[:60])
    with pytest.raises(InpaintError, match="cannot read"):
        kio.read_image(truncated)
    with pytest.raises(InpaintError, match="cannot read '<bytes>'"):
        kio.read_mask(b"not an image")


# ----------------------------------------------------------------------------- masks


def test_mask_threshold_127_128_in_8bit_and_16bit(tmp_path):
    m8 = np.array([[0, 127, 128, 255]], np.uint8)
    want = [[False, False, True, True]]
    np.testing.assert_array_equal(
        kio.read_mask(_save(tmp_path / "m.png", Image.fromarray(m8))), want
    )
    m16 = np.array([[0, 32767, 32768, 65535]], np.uint16)
    np.testing.assert_array_equal(
        kio.read_mask(_save(tmp_path / "m16.png", Image.fromarray(m16))), want
    )
    np.testing.assert_array_equal(kio.read_mask(m8), want)
    np.testing.assert_array_equal(kio.read_mask(m16), want)


def test_mask_one_bit_and_colour_rules(tmp_path):
    bits = np.array([[True, False], [False, True]])
    path = _save(tmp_path / "b.png", Image.fromarray(bits))
    np.testing.assert_array_equal(kio.read_mask(path), bits)
    rgb = np.zeros((1, 3, 3), np.uint8)
    rgb[0, 1] = (0, 0, 200)
    rgb[0, 2] = (127, 127, 127)
    np.testing.assert_array_equal(
        kio.read_mask(_save(tmp_path / "c.png", Image.fromarray(rgb))), [[0, 1, 0]]
    )
    rgba = np.zeros((1, 3, 4), np.uint8)  # flat black colour, alpha varies -> alpha decides
    rgba[0, :, 3] = (0, 255, 128)
    np.testing.assert_array_equal(
        kio.read_mask(_save(tmp_path / "a.png", Image.fromarray(rgba))), [[0, 1, 1]]
    )
    rgba[0, 0, :3] = 255  # colour varies now: hole where opaque AND bright (none here)
    np.testing.assert_array_equal(kio.read_mask(rgba), [[0, 0, 0]])
    rgba[0, 2, :3] = 200  # bright and alpha 128 (half opaque) -> hole
    np.testing.assert_array_equal(kio.read_mask(rgba), [[0, 0, 1]])


def test_mask_alpha_transparent_background_is_never_a_hole(tmp_path):
    """Issue 22 #2: a transparent white background with an opaque black blob is no hole at all,
    and an opaque white blob on a transparent white background is exactly the blob."""
    rgba = np.full((40, 60, 4), 255, np.uint8)
    rgba[:, :, 3] = 0  # transparent white background
    rgba[10:20, 10:30] = (0, 0, 0, 255)  # opaque black blob
    path = _save(tmp_path / "blob.png", Image.fromarray(rgba))
    assert not kio.read_mask(path).any()
    rgba[25:35, 40:50] = (255, 255, 255, 255)  # opaque white blob: the hole
    want = np.zeros((40, 60), bool)
    want[25:35, 40:50] = True
    np.testing.assert_array_equal(
        kio.read_mask(_save(tmp_path / "b2.png", Image.fromarray(rgba))), want
    )
    la16 = np.zeros((4, 4, 4), np.uint16)  # 16-bit: same rule at 32768
    la16[..., :3] = 65535
    la16[:2, :, 3] = 65535
    np.testing.assert_array_equal(kio.read_mask(la16), np.arange(4)[:, None].repeat(4, 1) < 2)


def test_mask_numpy_inputs():
    np.testing.assert_array_equal(kio.read_mask(np.array([[True, False]])), [[True, False]])
    np.testing.assert_array_equal(kio.read_mask(np.array([[0.49, 0.5, 1.0]])), [[0, 1, 1]])
    np.testing.assert_array_equal(kio.read_mask(np.array([[[0], [200]]], np.uint8)), [[0, 1]])
    with pytest.raises(InpaintError, match=r"\[0, 1\]"):
        kio.read_mask(np.array([[0.0, 2.0]]))
    with pytest.raises(InpaintError, match="int64"):
        kio.read_mask(np.array([[0, 1]], np.int64))
    with pytest.raises(InpaintError, match="no pixels"):
        kio.read_mask(np.zeros((0, 5), bool))


def test_mask_size_mismatch_and_resize(tmp_path):
    m = np.array([[1, 0], [0, 1]], bool)
    with pytest.raises(InpaintError) as err:
        kio.read_mask(m, size=(4, 3))
    assert str(err.value) == "mask is 2x2 but the image is 4x3; pass --resize-mask to resize it"
    np.testing.assert_array_equal(kio.read_mask(m, size=(2, 2)), m)
    big = kio.read_mask(_save(tmp_path / "m.png", Image.fromarray(m)), size=(4, 4), resize=True)
    np.testing.assert_array_equal(big, np.kron(m, np.ones((2, 2), int)).astype(bool))
    small = kio.read_mask(big, size=(2, 2), resize=True)
    np.testing.assert_array_equal(small, m)


@pytest.mark.parametrize(("radius", "count"), [(0, 1), (1, 5), (2, 13), (3, 29), (4, 49)])
def test_dilate_single_pixel_grows_into_disk(radius, count):
    m = np.zeros((11, 11), bool)
    m[5, 5] = True
    out = kio.dilate_mask(m, radius)
    assert out.dtype == bool and int(out.sum()) == count
    yy, xx = np.mgrid[:11, :11]
    np.testing.assert_array_equal(out, (yy - 5) ** 2 + (xx - 5) ** 2 <= radius**2)
    np.testing.assert_array_equal(kio.read_mask(m, dilate=radius), out)


def test_dilate_border_and_negative():
    m = np.zeros((4, 4), bool)
    m[0, 0] = True
    assert int(kio.dilate_mask(m, 1).sum()) == 3
    with pytest.raises(InpaintError, match=">= 0"):
        kio.dilate_mask(m, -1)


def test_write_mask_round_trip(tmp_path):
    m = _rng(9).random((5, 6)) < 0.5
    out = kio.write_mask(tmp_path / "m", m)
    assert out.suffix == ".png"
    with Image.open(out) as im:
        assert im.mode == "L"
        assert set(np.unique(np.asarray(im))) <= {0, 255}
    np.testing.assert_array_equal(kio.read_mask(out), m)
    with pytest.raises(InpaintError, match="--overwrite"):
        kio.write_mask(out, m)


# ----------------------------------------------------------------------------- misc


def test_tensor_helpers_are_reexported_and_round_trip_exactly():
    assert kio.to_tensor is convert.to_tensor and kio.from_tensor is convert.from_tensor
    assert kio.mask_to_tensor is convert.mask_to_tensor
    for px in (_rgb8(), _u16((4, 5, 3))):
        t = kio.to_tensor(px)
        assert t.shape == (1, 3, px.shape[0], px.shape[1]) and t.dtype == torch.float32
        np.testing.assert_array_equal(kio.from_tensor(t, dtype=px.dtype), px)
    m = _rng().random((3, 4)) < 0.5
    np.testing.assert_array_equal(kio.tensor_to_mask(kio.mask_to_tensor(m)), m)


def test_image_suffixes_and_is_image_file(tmp_path):
    assert kio.IMAGE_SUFFIXES == (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
    (tmp_path / "A.PNG").write_bytes(b"x")
    (tmp_path / "b.txt").write_bytes(b"x")
    (tmp_path / ".hidden.png").write_bytes(b"x")
    (tmp_path / "dir.png").mkdir()
    found = sorted(p.name for p in tmp_path.iterdir() if kio.is_image_file(p))
    assert found == ["A.PNG"]
    assert not kio.is_image_file(tmp_path / "missing.png")


def test_write_keeps_file_mode_of_normal_files(tmp_path):
    out = kio.write_image(tmp_path / "x.png", _rgb8())
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_read_bytes_like_inputs():
    buf = BytesIO()
    Image.fromarray(_rgb8()).save(buf, "PNG")
    for src in (buf.getvalue(), bytearray(buf.getvalue())):
        np.testing.assert_array_equal(kio.read_image(src).pixels, _rgb8())


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_broken_exif_does_not_hide_pixels(tmp_path):
    path = tmp_path / "bad_exif.png"
    buf = BytesIO()
    Image.fromarray(_rgb8(2, 3)).save(buf, "PNG")
    path.write_bytes(_png_with_exif(buf.getvalue(), b"MM\x00*\x00\x00\xff\xff"))
    np.testing.assert_array_equal(kio.read_image(path).pixels, _rgb8(2, 3))
