"""Where inpaintkit keeps files it makes once and reuses (e.g. converted pretrained weights).

The folder is ``$INPAINTKIT_CACHE`` when that variable is set, else ``~/.cache/inpaintkit``.
Everything in it can be deleted at any time; it is rebuilt on demand.
"""

from __future__ import annotations

import os
from pathlib import Path

from inpaintkit.errors import InpaintError

CACHE_ENV = "INPAINTKIT_CACHE"


def cache_dir() -> Path:
    """The cache folder, created on demand.

    Returns:
        ``Path($INPAINTKIT_CACHE)`` if the variable is set and not empty, else
        ``~/.cache/inpaintkit``; the folder exists when this returns.

    Raises:
        InpaintError: if the folder cannot be created (e.g. a file is in the way).
    """
    env = os.environ.get(CACHE_ENV, "").strip()
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "inpaintkit"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InpaintError(
            f"cannot create the cache folder {path} ({e.strerror}); "
            f"set {CACHE_ENV} to a writable folder"
        ) from None
    return path
