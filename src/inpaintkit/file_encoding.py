"""How a source file was encoded, so that the result is written back the same way.

A JPEG keeps its quantisation tables (so its quality), its chroma subsampling and its
progressive scan; a lossy WebP
its estimated quality, a lossless WebP stays lossless; XMP, the JPEG comment and the DPI are
kept beside the EXIF and ICC profile that :mod:`inpaintkit.io` keeps. Without a source (arrays),
or when the caller asks for a ``quality``, JPEG and WebP use that quality (default 95).

Quality estimates:

* JPEG: the IJG quality (1..100) whose scaled standard tables (ITU-T T.81 Annex K, scaled as
  libjpeg's ``jpeg_quality_scaling`` does) are closest to the file's tables. Exact for files
  written by libjpeg (Pillow, most cameras' software); the tables themselves are reused when a
  JPEG is written back as a JPEG, so the estimate only matters for another output format.
* WebP: the quantisers of the VP8 frame header (parsed as libwebp's ``VP8EstimateQuality`` in
  extras/quality_estimate.c does), their mean over the segments mapped back through the
  inverse of libwebp's quality-to-quantiser curve (``QualityToCompression``: a cube law). On
  photos written by libwebp it lands within about 6 of the encoder's setting
  (tests/test_file_encoding.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: ITU-T T.81 Annex K standard tables, natural (row-major) order, as Pillow reports them.
_STD_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
_STD_CHROMA = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
) + (99,) * 32  # fmt: skip
DEFAULT_QUALITY = 95


@dataclass(frozen=True)
class SourceEncoding:
    """What of a source file's encoding and metadata to keep when writing the result.

    Attributes:
        format: PIL format of the source (``JPEG``, ``WEBP``, ...).
        quality: estimated quality 1..100 of a lossy JPEG/WebP source, or None.
        qtables: a JPEG's quantisation tables (natural order), reused for a JPEG result.
        subsampling: a JPEG's chroma subsampling for Pillow (0 = 4:4:4, 1 = 4:2:2,
            2 = 4:2:0), or None.
        lossless: the source is a lossless WebP.
        progressive: the source is a progressive JPEG.
        xmp: the XMP packet, or None.
        comment: the JPEG comment (COM segment), or None.
        dpi: (x, y) resolution, or None.
    """

    format: str
    quality: int | None = None
    qtables: dict[int, list[int]] | None = field(default=None, repr=False)
    subsampling: int | None = None
    lossless: bool = False
    progressive: bool = False
    xmp: bytes | None = field(default=None, repr=False)
    comment: bytes | None = None
    dpi: tuple[float, float] | None = None


def ijg_table(std: tuple[int, ...], quality: int) -> list[int]:
    """libjpeg's table for ``quality`` (1..100) from a standard table (baseline, 1..255).

    >>> ijg_table(_STD_LUMA, 50)[:4], ijg_table(_STD_LUMA, 100)[:4]
    ([16, 11, 10, 16], [1, 1, 1, 1])
    """
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (v * scale + 50) // 100)) for v in std]


def estimate_jpeg_quality(qtables: dict[int, list[int]]) -> int | None:
    """The IJG quality (1..100) whose tables are closest to ``qtables`` (Pillow's
    ``im.quantization``: table index -> 64 values, natural order); None without tables.

    >>> estimate_jpeg_quality({0: ijg_table(_STD_LUMA, 83), 1: ijg_table(_STD_CHROMA, 83)})
    83
    """
    if not qtables or 0 not in qtables or len(qtables[0]) != 64:
        return None
    pairs = [(list(qtables[0]), _STD_LUMA)]
    if 1 in qtables and len(qtables[1]) == 64:
        pairs.append((list(qtables[1]), _STD_CHROMA))

    def error(q: int) -> int:
        return sum(
            abs(a - b) for t, std in pairs for a, b in zip(t, ijg_table(std, q), strict=True)
        )

    return min(range(100, 0, -1), key=error)  # ties: the highest quality


def _bits(data: bytes, start_bit: int) -> Any:
    """A reader of big-endian-within-byte bit fields from ``start_bit`` (VP8 header)."""
    pos = start_bit

    def read(n: int) -> int:
        nonlocal pos
        if pos + n > 8 * len(data):
            raise ValueError("truncated VP8 header")
        value = 0
        for _ in range(n):
            value = (value << 1) | ((data[pos >> 3] >> (7 - (pos & 7))) & 1)
            pos += 1
        return value

    return read


def estimate_webp_quality(data: bytes) -> int | None:
    """Quality 0..100 of a lossy WebP file, 101 for lossless, None when unknown (animated,
    truncated, not WebP); see the module docstring."""
    if len(data) < 16 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    if b"VP8L" in data[12:40] and b"VP8 " not in data[12:40]:
        return 101
    if b"ANIM" in data[12:64]:
        return None
    start = data.find(b"\x9d\x01\x2a")  # VP8 key frame start code
    if start < 0:
        return None
    read = _bits(data, (start + 3 + 4) * 8)  # after the start code and width/height
    try:
        q = -1.0
        read(2)  # colour space, clamping type
        if read(1):  # segments
            update_map = read(1)
            if read(1):  # segment data
                absolute = read(1)
                qs = [0, 0, 0, 0]
                for s in range(4):
                    if read(1):
                        qs[s] = read(7)
                        if read(1):
                            qs[s] = -qs[s]
                if absolute:
                    q = sum(qs) / 4
                for _ in range(4):
                    if read(1):
                        read(7)
            if update_map:
                for _ in range(3):
                    if read(1):
                        read(8)
        read(1 + 6 + 3)  # filter type, level, sharpness
        if read(1) and read(1):  # loop-filter deltas
            for _ in range(8):
                if read(1):
                    read(6)
        read(2)  # partitions
        base_q = read(7)
    except ValueError:
        return None
    q = base_q if q < 0 else q
    # libwebp: linear = quality < 0.75 ? quality * 2/3 : 2 * quality - 1; q = 127 (1 - linear^(1/3))
    linear = (1.0 - min(max(q, 0.0), 127.0) / 127.0) ** 3
    quality = linear * 1.5 if linear < 0.5 else (linear + 1.0) / 2.0
    return max(0, min(100, round(100 * quality)))


def read_encoding(im: Any, data: bytes) -> SourceEncoding:
    """The :class:`SourceEncoding` of an opened PIL image ``im`` whose file bytes are ``data``."""
    fmt = im.format or "PNG"
    info = im.info
    xmp = info.get("xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode()
    comment = info.get("comment") if fmt == "JPEG" else None
    dpi = info.get("dpi")
    dpi = (float(dpi[0]), float(dpi[1])) if isinstance(dpi, tuple) and len(dpi) == 2 else None
    quality, qtables, subsampling, lossless = None, None, None, False
    if fmt in ("JPEG", "MPO"):
        from PIL import JpegImagePlugin

        qtables = {int(k): list(v) for k, v in (getattr(im, "quantization", None) or {}).items()}
        quality = estimate_jpeg_quality(qtables)
        sampling = JpegImagePlugin.get_sampling(im)
        subsampling = sampling if sampling in (0, 1, 2) else None
    elif fmt == "WEBP":
        estimate = estimate_webp_quality(data)
        lossless = estimate == 101
        quality = estimate if estimate is not None and estimate <= 100 else None
    return SourceEncoding(
        format="JPEG" if fmt == "MPO" else fmt,
        quality=quality,
        qtables=qtables or None,
        subsampling=subsampling,
        lossless=lossless,
        progressive=bool(info.get("progressive") or info.get("progression")),
        xmp=xmp or None,
        comment=comment or None,
        dpi=dpi,
    )


def save_options(source: SourceEncoding | None, fmt: str, quality: int | None) -> dict[str, Any]:
    """Pillow ``save`` keywords writing ``fmt`` like ``source``; ``quality`` overrides it.

    A JPEG written from a JPEG reuses its tables (the same quality) unless ``quality`` is
    given; JPEG and WebP otherwise use ``quality``, else the source's estimate, else 95.
    """
    out: dict[str, Any] = {}
    if fmt in ("JPEG", "WEBP"):
        if fmt == "WEBP" and source is not None and source.lossless and quality is None:
            out["lossless"] = True
        elif fmt == "JPEG" and quality is None and source is not None and source.qtables:
            out["qtables"] = source.qtables
        else:
            kept = source.quality if source is not None else None
            out["quality"] = quality or kept or DEFAULT_QUALITY
        if fmt == "JPEG" and source is not None and source.subsampling is not None:
            out["subsampling"] = source.subsampling
        if fmt == "JPEG" and source is not None and source.progressive:
            out["progressive"] = True
    if source is None:
        return out
    if source.xmp and fmt in ("JPEG", "WEBP"):
        out["xmp"] = source.xmp
    elif source.xmp and fmt == "TIFF":
        out["tiffinfo"] = {700: source.xmp}  # the XMP tag
    elif source.xmp and fmt == "PNG":
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", source.xmp.decode("utf-8", "replace"))
        out["pnginfo"] = info
    if source.comment and fmt == "JPEG":
        out["comment"] = source.comment
    if source.dpi and fmt in ("JPEG", "PNG", "TIFF"):
        out["dpi"] = source.dpi
    return out
