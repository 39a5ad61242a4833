"""Uploads: request-size limits and decoding of uploaded images and masks (inpaintkit.io rules).

Nothing here touches a path: uploads are bytes, decoded by :func:`inpaintkit.io.read_image` and
:func:`inpaintkit.io.read_mask` (EXIF orientation, alpha, 16-bit, the mask rule), so the web
app accepts exactly what the CLI accepts and rejects it with the same messages. Limits:

* bytes: :class:`BodyLimit` answers 413 before a too-large request body is read (from its
  ``Content-Length``, or while it streams in); each uploaded file is checked again.
* pixels: the image's size is read from its header before it is decoded, so a small file that
  would expand to a huge bitmap is refused without decoding it (413, also for files over
  Pillow's decompression-bomb limit, which Pillow will not even open).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, BinaryIO

import numpy as np
from fastapi import HTTPException

from inpaintkit import io
from inpaintkit.errors import ImageTooLargeError, InpaintError
from inpaintkit.headers import image_size
from inpaintkit.limits import memory_guard

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[..., Awaitable[None]]

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def megabytes(n: int) -> str:
    """``n`` bytes as a short human string (``25 MB``, ``0.5 MB``)."""
    return f"{n / 1e6:.3g} MB"


class BodyLimit:
    """ASGI middleware: answer 413 to request bodies larger than ``max_body`` bytes.

    A declared ``Content-Length`` above the limit is refused before anything is read; a body
    that streams past the limit stops the request with HTTPException(413) from ``receive``.
    """

    def __init__(self, app: ASGIApp, *, max_body: int, max_file: int) -> None:
        self.app, self.max_body, self.max_file = app, max_body, max_file

    def _message(self) -> str:
        return (
            f"the request is larger than this server's limit of {megabytes(self.max_body)} "
            f"(files up to {megabytes(self.max_file)} each); send a smaller file or start the "
            "server with a larger --max-upload-mb"
        )

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            await _send_json(send, 413, self._message())
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, limited, send)


async def _send_json(send: Any, status: int, detail: str) -> None:
    import json

    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def safe_filename(filename: str | None, default: str = "image") -> str:
    """An uploaded file's base name reduced to ``[A-Za-z0-9._-]``, at most 80 characters.

    Only used in messages and download names, never as a path.

    >>> safe_filename("../My photo (1).JPG")
    'My_photo_1_.JPG'
    """
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return _SAFE_NAME.sub("_", name).strip("._")[:80] or default


def safe_stem(filename: str | None, default: str = "image") -> str:
    """:func:`safe_filename` without its suffix (for download names).

    >>> safe_stem("../My photo (1).JPG")
    'My_photo_1'
    """
    name = safe_filename(filename, default)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return stem.strip("._") or default


def read_upload(file: BinaryIO, *, what: str, max_bytes: int) -> bytes:
    """All bytes of an uploaded file; 413 when it is larger than ``max_bytes``, 422 when empty."""
    data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise HTTPException(
            413,
            f"the {what} is larger than this server's limit of {megabytes(max_bytes)}; "
            "send a smaller file or start the server with a larger --max-upload-mb",
        )
    if not data:
        raise InpaintError(f"the uploaded {what} is empty (0 bytes); choose an image file")
    return data


def header_size(data: bytes) -> tuple[int, int] | None:
    """(W, H) from the image header without decoding the pixels; None if PIL cannot tell.

    Raises:
        ImageTooLargeError: over Pillow's decompression-bomb limit (answered 413).
    """
    return image_size(data)


def check_pixels(width: int, height: int, *, max_pixels: int, what: str = "image") -> None:
    """413 when ``width * height`` exceeds the server's pixel limit."""
    if width * height > max_pixels:
        raise HTTPException(
            413,
            f"the {what} is {width}x{height} ({width * height / 1e6:.1f} MP) but this server "
            f"accepts at most {max_pixels / 1e6:.1f} MP; downscale it or start the server "
            "with a larger --max-pixels",
        )


def _rename(e: InpaintError, what: str, name: str) -> InpaintError:
    """io's message for bytes says '<bytes>': name the upload instead."""
    return InpaintError(str(e).replace("'<bytes>'", f"the uploaded {what} '{name}'", 1))


def decode_image(data: bytes, *, name: str, max_pixels: int) -> io.LoadedImage:
    """Uploaded bytes -> :class:`io.LoadedImage` (upright, alpha split off), size-checked.

    Raises:
        InpaintError: not an image, truncated or otherwise unreadable (422).
        HTTPException: 413 when the image has more than ``max_pixels`` pixels.
    """
    size = header_size(data)
    if size is not None:
        check_pixels(*size, max_pixels=max_pixels)
    try:
        with memory_guard("decoding the image"):
            loaded = io.read_image(data)
    except ImageTooLargeError:
        raise
    except InpaintError as e:
        raise _rename(e, "image", name) from None
    check_pixels(*loaded.size, max_pixels=max_pixels)
    return loaded


def decode_mask(data: bytes, *, name: str, size: tuple[int, int]) -> np.ndarray:
    """Uploaded mask bytes -> (H, W) bool, True = hole, for an image of ``size = (W, H)``.

    The hole rule is inpaintkit.io's (>= 128 in 8-bit; with alpha, opaque and bright; ...).

    Raises:
        InpaintError: unreadable file, or a mask whose size differs from the image's.
    """
    w, h = size
    header = header_size(data)
    if header is not None and header not in ((w, h), (h, w)):  # (h, w): EXIF-rotated mask
        _mismatch(header, size)  # never decode a mask of the wrong size (or a bomb)
    try:
        with memory_guard("decoding the mask"):
            hole = io.read_mask(data)
    except ImageTooLargeError:
        raise
    except InpaintError as e:
        raise _rename(e, "mask", name) from None
    if (hole.shape[1], hole.shape[0]) != (w, h):
        _mismatch((hole.shape[1], hole.shape[0]), size)
    return hole


def _mismatch(mask_size: tuple[int, int], size: tuple[int, int]) -> None:
    raise InpaintError(
        f"the mask is {mask_size[0]}x{mask_size[1]} but the image is {size[0]}x{size[1]}; "
        "use a mask of the image's size (white = hole)"
    )


def check_hole(hole: np.ndarray) -> None:
    """422 for a mask with no hole or with nothing but hole.

    The library copies the image through for an empty mask; in the web app an empty mask
    is a missing step (nothing painted yet), so it is reported instead.
    """
    if not hole.any():
        raise InpaintError(
            "the mask is empty: paint over the area to remove, or upload or generate a mask"
        )
    if hole.all():
        raise InpaintError(
            "the mask covers the whole image: there are no known pixels to inpaint from; "
            "leave part of the image unmasked"
        )
