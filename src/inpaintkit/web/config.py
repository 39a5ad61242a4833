"""The settings and limits of one web app (filled by :func:`inpaintkit.web.app.create_app`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class WebConfig:
    """The limits and settings of one app (see :func:`create_app`)."""

    max_upload_bytes: int = 25_000_000
    max_pixels: int = 16_000_000
    queue_size: int = 8
    timeout: float = 600.0
    max_results: int = 16
    device: str = "cpu"
    data_dirs: dict[str, Path] = field(default_factory=dict)
    bind_host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
