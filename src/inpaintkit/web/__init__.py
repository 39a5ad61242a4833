"""The local web app and HTTP API: ``inpaintkit serve`` or ``create_app()``.

A thin layer over :mod:`inpaintkit.api`: ``app.py`` (create_app, info routes, errors),
``job_routes.py`` (job endpoints, SSE), ``jobs.py`` (the queue and its worker), ``uploads.py``
(limits, decoding), ``methods.py`` (options from a request), ``results.py`` (encoding),
``config.py`` (limits), ``inpaintkit.cli.serve`` (``inpaintkit serve``) and ``static/`` (the page).
FastAPI is imported only when the app is built, so ``inpaintkit --help`` stays fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from inpaintkit.web.app import create_app

        return create_app
    raise AttributeError(f"module 'inpaintkit.web' has no attribute {name!r}")
