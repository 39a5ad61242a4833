"""How large an image the library accepts, checked from the header before anything is decoded.

Two checks, both raising :class:`~inpaintkit.errors.ImageTooLargeError` (an
:class:`~inpaintkit.errors.InpaintError`: one line in the CLI, exit 2; 413 in the web app):

* pixels: ``W * H`` must not exceed the limit. The limit is the ``max_image_pixels`` argument
  of :func:`inpaintkit.inpaint` / :func:`inpaintkit.api.load_image`, else the CLI's
  ``--max-pixels`` (megapixels), else the ``INPAINTKIT_MAX_PIXELS`` environment variable
  (pixels, e.g. ``250e6``), else :data:`DEFAULT_MAX_PIXELS` (100 MP).
* memory: :func:`estimate_bytes` (a rough, documented per-pixel cost of decoding, converting
  and running a method) must fit in the memory the machine has available now.

Pillow's own decompression-bomb limit (``2 * PIL.Image.MAX_IMAGE_PIXELS``, about 179 MP)
stays a ceiling: a file that declares more is refused whatever the limit says.

Running out of memory anyway (a method that needs more than estimated) is turned into one
clean :class:`InpaintError` line by :func:`memory_guard`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from inpaintkit.errors import ImageTooLargeError, InpaintError

DEFAULT_MAX_PIXELS = 100_000_000
MAX_PIXELS_ENV = "INPAINTKIT_MAX_PIXELS"

#: rough bytes per image pixel while a method runs: the decoded image, its float32 tensors
#: (input, hole-zeroed copy, output), the mask and the pasted-back result, plus the method's
#: own working arrays. Peak RSS over the baseline measured on a 2048x2048 image with a
#: 300x200 hole (one thread): telea 105, ns 104, patchmatch 153, deepfill 126, song2018 195
#: bytes per pixel (+4 for the input arrays); these figures round up from those.
BYTES_PER_PIXEL = {
    "classical": 160,
    "retrieval": 160,
    "latent-search": 200,  # works on windows at the model's size; full-size tensors only
    "feed-forward": 256,  # windows capped by the method; full-size input, output, attention
}
_DEFAULT_BYTES_PER_PIXEL = 256
_FIXED_BYTES = 64 * 2**20  # interpreter, torch, a model's weights (order of magnitude)


def max_pixels_limit(given: int | float | None = None) -> int:
    """The pixel limit in force: ``given``, else ``$INPAINTKIT_MAX_PIXELS``, else the default.

    Raises:
        InpaintError: a limit that is not a positive number.
    """
    if given is None:
        text = os.environ.get(MAX_PIXELS_ENV, "").strip()
        if not text:
            return DEFAULT_MAX_PIXELS
        try:
            given = float(text)
        except ValueError:
            raise InpaintError(
                f"{MAX_PIXELS_ENV}={text!r} is not a number of pixels (e.g. 50e6)"
            ) from None
    if not given > 0:
        raise InpaintError(f"the pixel limit must be > 0, got {given:g}")
    return int(given)


def estimate_bytes(width: int, height: int, kind: str | None = None) -> int:
    """Rough peak memory (bytes) of inpainting a ``width`` x ``height`` image.

    Args:
        width, height: image size in pixels.
        kind: the method's kind (``classical``, ``retrieval``, ``latent-search``,
            ``feed-forward``), None for the largest estimate.
    """
    per_pixel = BYTES_PER_PIXEL.get(kind or "", _DEFAULT_BYTES_PER_PIXEL)
    return int(width) * int(height) * per_pixel + _FIXED_BYTES


def available_memory() -> int | None:
    """Bytes of memory available to this process now (Linux ``MemAvailable``), or None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def check_image_size(
    width: int,
    height: int,
    *,
    max_pixels: int | float | None = None,
    kind: str | None = None,
    name: str = "the image",
) -> None:
    """Refuse an image over the pixel limit or too large for the memory available.

    Args:
        width, height: the size its header declares.
        max_pixels: the limit (see :func:`max_pixels_limit` for None).
        kind: the method kind, for the memory estimate (None: the largest).
        name: how to call the image in the message.

    Raises:
        ImageTooLargeError: over the limit, or the estimate exceeds the available memory.
    """
    limit = max_pixels_limit(max_pixels)
    pixels = int(width) * int(height)
    if pixels > limit:
        raise ImageTooLargeError(
            f"{name} is {width}x{height} ({pixels / 1e6:.1f} MP), over the limit of "
            f"{limit / 1e6:.1f} MP; downscale it, or raise the limit (--max-pixels MP, "
            f"max_image_pixels=, or {MAX_PIXELS_ENV})"
        )
    need, have = estimate_bytes(width, height, kind), available_memory()
    if have is not None and need > have:
        raise ImageTooLargeError(
            f"{name} is {width}x{height} ({pixels / 1e6:.1f} MP): inpainting it needs about "
            f"{_gb(need)} of memory and {_gb(have)} is available; downscale it or free memory"
        )


def max_file_bytes(max_pixels: int | float | None = None) -> int:
    """The largest file an image within the pixel limit can need: 8 bytes a pixel (16-bit
    RGBA, uncompressed) plus 64 MB of metadata. Larger files are not read at all."""
    return 8 * max_pixels_limit(max_pixels) + 64 * 2**20


def check_file_bytes(
    nbytes: int, *, max_pixels: int | float | None = None, name: str = "the image"
) -> None:
    """Refuse a file larger than any image within the pixel limit can be (read nothing).

    Raises:
        ImageTooLargeError: ``nbytes`` over :func:`max_file_bytes`.
    """
    most = max_file_bytes(max_pixels)
    if nbytes > most:
        raise ImageTooLargeError(
            f"{name} is a {_gb(nbytes)} file, more than any image within the limit of "
            f"{max_pixels_limit(max_pixels) / 1e6:.1f} MP can take ({_gb(most)}); "
            "is it the right file?"
        )


def is_out_of_memory(exc: BaseException) -> bool:
    """True for the errors that mean "out of memory": MemoryError, torch's OutOfMemoryError,
    and the RuntimeErrors torch and numpy raise when an allocation fails."""
    if isinstance(exc, MemoryError):
        return True
    if type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    markers = ("out of memory", "can't allocate memory", "not enough memory", "unable to allocate")
    return isinstance(exc, RuntimeError | ValueError) and any(m in text for m in markers)


def out_of_memory_message(what: str | None = None) -> str:
    """The one line users read when memory ran out (``what``: during what, None if unknown)."""
    if what is None:
        return (
            "ran out of memory; make the work smaller (a smaller image or --batch-size, "
            "a lighter method) or use a machine with more memory"
        )
    return (
        f"ran out of memory during {what}; use a smaller image (or --max-pixels), "
        "a lighter method, or a machine with more memory"
    )


@contextmanager
def memory_guard(what: str | None = None) -> Iterator[None]:
    """Turn an out-of-memory error raised inside the block into one :class:`InpaintError`."""
    try:
        yield
    except InpaintError:
        raise
    except Exception as e:
        if is_out_of_memory(e):
            raise ImageTooLargeError(out_of_memory_message(what)) from None
        raise
