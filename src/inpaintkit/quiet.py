"""Keep the image decoders' own chatter off the user's terminal.

libpng, libtiff and OpenCV print from C straight to file descriptor 2 (``libpng error: IDAT:
CRC error``, ``TIFFReadDirectory: Warning, ...``, ``[ WARN:0@...] global loadsave.cpp ...``)
and Pillow issues ``UserWarning``\\ s (``Truncated File Read``, ``Corrupt EXIF data``). Inside
:func:`decoder_output_captured` both are caught: C output by pointing fd 2 at a temporary file,
Python warnings by recording them. When the block raises, everything caught is dropped (the
caller's own one-line error says what went wrong); when it succeeds, what the decoders said is
summed up in ONE :class:`~inpaintkit.errors.InpaintWarning` of ours.

fd 2 is shared by the whole process: while one thread holds it (a few milliseconds per
decode), other threads' stderr lines land in the capture too. Lines in Python's formats
(``INFO:``/``WARNING:``/``ERROR:`` log records, tracebacks) are written back to the real stderr
afterwards; anything else written during a decode is taken for decoder output. A lock lets
only one thread capture at a time (nested use is free).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from inpaintkit.errors import InpaintWarning

_LOCK = threading.RLock()
_DEPTH = threading.local()
_PYTHON_OUTPUT = re.compile(r"^(INFO|WARNING|ERROR|DEBUG|CRITICAL):|^Traceback |^  File ")
_MATTERS = re.compile(r"error|corrupt|premature|truncat", re.IGNORECASE)  # not plain warnings
_IGNORED = ("DecompressionBombWarning",)  # the pixel limit already speaks for these


def _is_chatter(line: str) -> bool:
    return not _PYTHON_OUTPUT.match(line)


@contextmanager
def _fd2_captured() -> Iterator[list[str]]:
    """Point fd 2 at a temporary file for the block; the captured lines go to the list."""
    lines: list[str] = []
    with suppress(AttributeError, ValueError, OSError):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (a daemon, some embedded interpreters): nothing to capture
        yield lines
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            lines.extend(ln for ln in text.splitlines() if ln.strip())
            others = [ln for ln in lines if not _is_chatter(ln)]
            if others:  # another thread's output: give it back
                os.write(2, ("\n".join(others) + "\n").encode())


@contextmanager
def decoder_output_captured(name: str, *, report: bool = True) -> Iterator[None]:
    """Silence decoder output in the block; on success, one InpaintWarning if they spoke.

    Args:
        name: the file's name for the warning (``'photo.png'``).
        report: False drops what the decoders said even on success (a header peek whose
            file is decoded, and reported on, right after).
    """
    depth = getattr(_DEPTH, "n", 0)
    if depth:  # nested: the outer block captures
        yield
        return
    with _LOCK:
        _DEPTH.n = 1
        try:
            with warnings.catch_warnings(record=True) as caught, _fd2_captured() as c_lines:
                warnings.simplefilter("always")
                yield
        finally:
            _DEPTH.n = 0
    if not report:
        return
    said = [" ".join(str(w.message).split()) for w in caught]
    said = [s for s, w in zip(said, caught, strict=True) if w.category.__name__ not in _IGNORED]
    said += [ln.strip() for ln in c_lines if _is_chatter(ln) and _MATTERS.search(ln)]
    if said:
        first = said[0][:160]
        more = f" (and {len(said) - 1} more)" if len(said) > 1 else ""
        warnings.warn(
            f"{name} may be damaged: its decoder said {first!r}{more}; check the result",
            InpaintWarning,
            stacklevel=3,
        )
