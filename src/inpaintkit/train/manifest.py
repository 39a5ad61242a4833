"""Checksum manifests of checkpoint folders: written last, verified before a resume.

``manifest.json`` lists every other file of the folder with its size and sha256. It is the
last file written, after which the folder is flushed to disk and renamed into place
(:func:`inpaintkit.atomic.publish_dir`). So a folder whose manifest is present and whose
files all match it is exactly what the run wrote; anything else (a truncated
``models.safetensors``, a file changed or lost since) is reported by :func:`verify` and the
resume falls back to an older intact checkpoint.

Folders written before manifests existed (no ``manifest.json``) are accepted as they are.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MANIFEST = "manifest.json"
_VERSION = 1


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(folder: Path) -> Path:
    """Write ``folder/manifest.json`` over every other file in ``folder``; returns its path."""
    files = {
        p.name: {"bytes": p.stat().st_size, "sha256": file_sha256(p)}
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != MANIFEST
    }
    path = folder / MANIFEST
    path.write_text(json.dumps({"format": _VERSION, "files": files}, indent=1), encoding="utf-8")
    return path


def verify(folder: Path) -> str | None:
    """None when ``folder`` matches its manifest (or predates manifests), else what is wrong."""
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        listed = json.loads(path.read_text(encoding="utf-8"))["files"]
        items = list(listed.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return f"{MANIFEST} is unreadable"
    for name, want in items:
        p = folder / name
        if not p.is_file():
            return f"{name} is missing"
        try:
            if p.stat().st_size != want["bytes"]:
                return f"{name} has {p.stat().st_size} bytes, the manifest says {want['bytes']}"
            if file_sha256(p) != want["sha256"]:
                return f"{name} does not match its sha256"
        except (OSError, KeyError, TypeError) as e:
            return f"{name} cannot be checked: {e}"
    return None
