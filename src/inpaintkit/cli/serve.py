"""``inpaintkit serve``: start the local web app (FastAPI app, run by uvicorn).

FastAPI and uvicorn are imported only when the command runs, so the rest of the CLI does not
pay for them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inpaintkit.errors import InpaintError

EPILOG = """\
examples:
  inpaintkit serve                               # http://127.0.0.1:8000/
  inpaintkit serve --port 8080 --timeout 120
  inpaintkit serve --data faces=~/data/celeba    # lets the page use `nearest` with data=faces
  curl -F image=@photo.jpg -F mask=@mask.png -F method=telea \\
       http://127.0.0.1:8000/api/inpaint -o filled.jpg

The API is listed at /openapi.json and described in docs/web.md. The server binds to
127.0.0.1 (this machine only) unless --host says otherwise; it has no login, so do not
expose it to a network you do not trust. It answers only requests addressed to this machine
(Host: localhost, 127.0.0.1, [::1] or --host) and refuses POSTs from other web pages (Origin);
allow more with --allow-host / --allow-origin or $INPAINTKIT_ALLOW_HOSTS /
$INPAINTKIT_ALLOW_ORIGINS (comma separated). See docs/security.md.
"""


def add_serve_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``inpaintkit serve``."""
    p = sub.add_parser(
        "serve",
        help="start the local web app: draw a mask, pick a method, compare, download",
        description="Start the web app and HTTP API (FastAPI + uvicorn).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument(
        "--max-upload-mb", type=float, default=25.0, help="largest uploaded file (default: 25)"
    )
    p.add_argument(
        "--max-pixels", type=float, default=16.0, help="largest image in megapixels (default: 16)"
    )
    p.add_argument(
        "--queue-size", type=int, default=8, help="jobs that may wait while one runs (default: 8)"
    )
    p.add_argument(
        "--timeout", type=float, default=600.0, help="seconds one job may run (default: 600)"
    )
    p.add_argument(
        "--max-results", type=int, default=16, help="finished jobs kept in memory (default: 16)"
    )
    p.add_argument("--device", default="cpu", help="torch device for methods that take one")
    p.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="a folder of images the `nearest` method may use, by NAME (repeatable)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept requests with this Host name (repeatable; * = any)",
    )
    p.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="URL",
        help="also accept POSTs from pages of this origin, e.g. https://tools.lan (repeatable)",
    )
    p.add_argument("--log-level", default="info", help="uvicorn log level (default: info)")
    p.set_defaults(func=serve_command)


def parse_data_dirs(pairs: list[str]) -> dict[str, Path]:
    """``["faces=~/celeba"]`` -> ``{"faces": Path("~/celeba").expanduser()}``.

    Raises:
        InpaintError: a pair without ``=``, an empty name, or a folder that does not exist.
    """
    out: dict[str, Path] = {}
    for pair in pairs:
        name, sep, folder = pair.partition("=")
        name = name.strip()
        if not sep or not name or not folder.strip():
            raise InpaintError(f"--data expects NAME=DIR, got {pair!r}")
        path = Path(folder.strip()).expanduser()
        if not path.is_dir():
            raise InpaintError(f"--data {name}: folder {str(path)!r} does not exist")
        out[name] = path
    return out


def _check_limits(args: argparse.Namespace) -> None:
    if not 1 <= args.port <= 65535:
        raise InpaintError(f"--port must be 1..65535, got {args.port}")
    for flag, value in (
        ("--max-upload-mb", args.max_upload_mb),
        ("--max-pixels", args.max_pixels),
        ("--timeout", args.timeout),
    ):
        if not value > 0:
            raise InpaintError(f"{flag} must be > 0, got {value:g}")
    if args.queue_size < 0 or args.max_results < 1:
        raise InpaintError("--queue-size must be >= 0 and --max-results >= 1")


def serve_command(args: argparse.Namespace) -> int:
    """Handler of ``inpaintkit serve``: build the app and run uvicorn until interrupted."""
    _check_limits(args)
    data_dirs = parse_data_dirs(args.data)
    try:
        import uvicorn

        from inpaintkit.web.app import create_app
        from inpaintkit.web.security import HOSTS_ENV, ORIGINS_ENV, from_env
    except ImportError as e:
        raise InpaintError(
            f"the web app needs {e.name}: pip install fastapi uvicorn python-multipart"
        ) from None
    app = create_app(
        max_upload_bytes=int(args.max_upload_mb * 1e6),
        max_pixels=int(args.max_pixels * 1e6),
        queue_size=args.queue_size,
        timeout=args.timeout,
        max_results=args.max_results,
        device=args.device,
        data_dirs=data_dirs,
        bind_host=args.host,
        allowed_hosts=[*args.allow_host, *from_env(HOSTS_ENV)],
        allowed_origins=[*args.allow_origin, *from_env(ORIGINS_ENV)],
    )
    print(f"inpaintkit web app: http://{args.host}:{args.port}/  (Ctrl+C to stop)")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
