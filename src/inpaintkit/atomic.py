"""Durable, atomic publishing of files and folders, and output paths resolved before checks.

* :func:`resolve_output`: the path a write would really reach. ``sub/../in.png`` is ``in.png``
  (``..`` is applied after symlinks, as the OS does once ``sub/`` exists), so "does it exist?"
  and "is it the input?" are asked of the file that would be replaced, and only the folders
  that path needs are created.
* :func:`write_bytes`: temporary file beside the target, ``fsync``, ``os.replace``, then
  ``fsync`` of the folder: after it returns, a crash or power cut leaves either the old file or
  the complete new one, never a truncated one.
* :func:`fsync_tree` + :func:`publish_dir`: the same for a folder (training checkpoints).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from inpaintkit.errors import InpaintError


def resolve_output(path: str | Path) -> Path:
    """The absolute path a write to ``path`` reaches (symlinks followed, ``..`` applied)."""
    return Path(os.path.realpath(Path(path).expanduser()))


def fsync_dir(folder: str | Path) -> None:
    """Flush a folder's entries (a rename in it) to disk; a no-op where folders cannot be
    opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def make_parent(path: Path) -> None:
    """Create ``path``'s parent folders (only those: ``path`` should be resolved).

    Raises:
        InpaintError: a folder cannot be created.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InpaintError(f"cannot create folder '{path.parent}': {e.strerror or e}") from None


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably (see the module docstring).

    Raises:
        InpaintError: the folder or the file cannot be written.
    """
    make_parent(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise InpaintError(f"cannot write '{path}': {e.strerror or e}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_tree(folder: Path) -> None:
    """fsync every file in ``folder`` (not recursive) and the folder itself."""
    for p in folder.iterdir():
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    fsync_dir(folder)


def publish_dir(tmp: Path, final: Path) -> None:
    """Rename the complete folder ``tmp`` onto ``final`` after flushing it to disk.

    ``final`` must not exist (remove an old one first); the parent folder is flushed after.
    """
    fsync_tree(tmp)
    os.replace(tmp, final)
    fsync_dir(final.parent)
