"""Issue 22 #6/#7: results keep the input's quality, chroma subsampling and metadata (XMP, JPEG
comment, DPI beside EXIF/ICC), and an empty mask copies the file byte for byte."""

from __future__ import annotations

import io as _io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from inpaintkit import inpaint
from inpaintkit.cli import main
from inpaintkit.file_encoding import estimate_jpeg_quality, estimate_webp_quality

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description dc:rights="CC-BY"/></rdf:RDF></x:xmpmeta>'  # noqa: E501


def photo(h: int = 96, w: int = 128) -> np.ndarray:
    """A smooth colour ramp with noise: compresses like a photo, not like flat colour."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:h, 0:w]
    ramp = np.stack([x * 2.0, y * 2.0, (x + y) * 1.0], axis=2)
    return np.clip(ramp + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)


def hole(h: int = 96, w: int = 128) -> np.ndarray:
    m = np.zeros((h, w), bool)
    m[40:52, 50:70] = True
    return m


@pytest.mark.parametrize("quality", [30, 75, 92])
def test_jpeg_quality_estimated_from_its_tables(quality):
    buf = _io.BytesIO()
    Image.fromarray(photo()).save(buf, "JPEG", quality=quality)
    assert estimate_jpeg_quality(Image.open(buf).quantization) == quality


@pytest.mark.parametrize("quality", [30, 60, 90])
def test_webp_quality_estimate_is_close(quality):
    buf = _io.BytesIO()
    Image.fromarray(photo()).save(buf, "WEBP", quality=quality)
    assert abs(estimate_webp_quality(buf.getvalue()) - quality) <= 6
    buf = _io.BytesIO()
    Image.fromarray(photo()).save(buf, "WEBP", lossless=True)
    assert estimate_webp_quality(buf.getvalue()) == 101


def test_jpeg_keeps_tables_subsampling_xmp_comment_dpi_and_size(tmp_path: Path):
    src = tmp_path / "in.jpg"
    Image.fromarray(photo()).save(
        src, "JPEG", quality=60, subsampling=1, xmp=XMP, comment=b"shot by me", dpi=(300, 300)
    )
    out = inpaint(src, hole(), "telea").save(tmp_path / "out.jpg")
    a, b = Image.open(src), Image.open(out)
    assert b.quantization == a.quantization, "the input's quality (its own tables)"
    assert JpegImagePlugin.get_sampling(b) == JpegImagePlugin.get_sampling(a) == 1  # 4:2:2
    assert b.info.get("xmp") == XMP and b.info.get("comment") == b"shot by me"
    assert b.info.get("dpi") == (300, 300)
    assert not b.info.get("progressive")
    prog = tmp_path / "prog.jpg"
    Image.fromarray(photo()).save(prog, "JPEG", quality=70, progressive=True)
    out_prog = inpaint(prog, hole(), "telea").save(tmp_path / "prog_out.jpg")
    assert Image.open(out_prog).info.get("progressive"), "a progressive JPEG stays progressive"
    assert out.stat().st_size < 1.2 * src.stat().st_size, "not re-encoded at quality 95"
    # an explicit quality still wins
    high = inpaint(src, hole(), "telea").save(tmp_path / "q95.jpg", quality=95)
    assert estimate_jpeg_quality(Image.open(high).quantization) == 95


def test_webp_keeps_quality_lossless_and_xmp(tmp_path: Path):
    src = tmp_path / "in.webp"
    Image.fromarray(photo()).save(src, "WEBP", quality=50, xmp=XMP)
    out = inpaint(src, hole(), "telea").save(tmp_path / "out.webp")
    assert (
        abs(estimate_webp_quality(out.read_bytes()) - estimate_webp_quality(src.read_bytes())) <= 3
    )
    assert out.stat().st_size < 1.3 * src.stat().st_size
    assert Image.open(out).info.get("xmp") == XMP
    lossless = tmp_path / "ll.webp"
    Image.fromarray(photo()).save(lossless, "WEBP", lossless=True)
    res = inpaint(lossless, hole(), "telea")
    out = res.save(tmp_path / "ll_out.webp")
    assert estimate_webp_quality(out.read_bytes()) == 101
    assert np.array_equal(np.asarray(Image.open(out)), res.pixels), "lossless stays lossless"


def test_tiff_keeps_xmp_and_dpi(tmp_path: Path):
    src = tmp_path / "in.jpg"
    Image.fromarray(photo()).save(src, "JPEG", quality=80, xmp=XMP, dpi=(200, 200))
    out = inpaint(src, hole(), "telea").save(tmp_path / "out.tif")
    im = Image.open(out)
    assert im.info.get("xmp") == XMP and im.info.get("dpi") == (200, 200)


def test_png_keeps_xmp(tmp_path: Path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    src = tmp_path / "in.png"
    Image.fromarray(photo()).save(src, "PNG", pnginfo=info)
    out = inpaint(src, hole(), "telea").save(tmp_path / "out.png")
    assert Image.open(out).info.get("xmp") == XMP


def test_empty_mask_copies_the_file_byte_for_byte(tmp_path: Path):
    src = tmp_path / "in.jpg"
    Image.fromarray(photo()).save(src, "JPEG", quality=83, comment=b"keep me")
    empty = tmp_path / "empty.png"
    Image.fromarray(np.zeros((96, 128), np.uint8)).save(empty)
    out = tmp_path / "out.jpg"
    assert main(["run", str(src), "--mask", str(empty), "-o", str(out)]) == 0
    assert out.read_bytes() == src.read_bytes()
    # another output format is an encode, not a copy
    png = inpaint(src, np.zeros((96, 128), bool), "telea").save(tmp_path / "out.png")
    assert Image.open(png).format == "PNG"
