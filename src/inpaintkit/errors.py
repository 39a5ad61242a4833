"""The one exception type users of inpaintkit can cause and catch."""

from __future__ import annotations


class InpaintError(Exception):
    """An error the user can cause and fix: bad file, size mismatch, unknown name, missing model.

    The CLI prints its message on one line without a traceback and exits with status 2; the web
    server answers it with a 4xx and the message. Internal bugs are never raised as this type.
    """


class ImageTooLargeError(InpaintError):
    """An image (or its header's declared size) is over a pixel or memory limit.

    A subclass of :class:`InpaintError`, so it is caught and printed the same way; the web
    server answers it with 413 instead of 422.
    """


class InpaintWarning(UserWarning):
    """Something the user should know that does not stop the work (a damaged but readable file).

    Warnings of this type carry one line of ours; the CLI prints it as ``inpaintkit: warning:``.
    """
