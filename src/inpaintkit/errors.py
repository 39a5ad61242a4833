"""The one exception type users of inpaintkit can cause and catch."""

from __future__ import annotations


class InpaintError(Exception):
    """An error the user can cause and fix: bad file, size mismatch, unknown name, missing model.

    The CLI prints its message on one line without a traceback and exits with status 2; the web
    server answers it with a 4xx and the message. Internal bugs are never raised as this type.
    """
