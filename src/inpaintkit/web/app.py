"""The FastAPI app: a thin HTTP layer over :mod:`inpaintkit.api` and the static page.

Build it with :func:`create_app` (``inpaintkit serve`` does, then runs it with uvicorn). Every
user error is a 4xx JSON ``{"detail": "<one line>"}``: an
:class:`~inpaintkit.errors.InpaintError` is 422, too many bytes or pixels 413 (also an image
over Pillow's decompression-bomb limit), a full queue 503, an unknown job 404, a foreign Host
or Origin 403 (:mod:`inpaintkit.web.security`). The endpoints are listed in ``docs/web.md``
and at ``/openapi.json``; the limits and the Host/Origin policy in ``docs/security.md``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from inpaintkit import __version__
from inpaintkit.errors import ImageTooLargeError, InpaintError
from inpaintkit.masks import MASK_KINDS, make_mask, mask_options
from inpaintkit.web import results
from inpaintkit.web.config import WebConfig
from inpaintkit.web.gate import ImageWork
from inpaintkit.web.job_routes import add_job_routes
from inpaintkit.web.jobs import BusyError, JobQueue
from inpaintkit.web.methods import describe_methods
from inpaintkit.web.security import HostOriginGuard
from inpaintkit.web.uploads import (
    BodyLimit,
    check_pixels,
    decode_image,
    decode_mask,
    read_upload,
    safe_filename,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(
    *,
    max_upload_bytes: int = 25_000_000,
    max_pixels: int = 16_000_000,
    queue_size: int = 8,
    timeout: float = 600.0,
    max_results: int = 16,
    device: str = "cpu",
    data_dirs: Mapping[str, str | Path] | None = None,
    bind_host: str = "127.0.0.1",
    allowed_hosts: Iterable[str] = (),
    allowed_origins: Iterable[str] = (),
) -> FastAPI:
    """Build the web app: the JSON/multipart API under ``/api`` and the page at ``/``.

    Args:
        max_upload_bytes: largest uploaded file (image or mask); a request may carry an image
            and a mask, so its body may be twice this plus 1 MB.
        max_pixels: largest image (W * H) accepted; a method's own ``max_pixels`` also holds.
        queue_size: jobs that may wait while one runs; more are answered 503 "busy".
        timeout: seconds one job may run before it is stopped and reported as ``timeout``.
        max_results: finished jobs (with their result images) kept in memory.
        device: torch device for methods that take one (``cpu``, ``cuda``).
        data_dirs: named folders the ``nearest`` method may use (``data`` option = a name).
        bind_host: the address the server listens on (its name is accepted as Host).
        allowed_hosts: more Host names accepted (``*``: any); the loopback names always are.
        allowed_origins: more origins that may POST (``*``: any); the page's own always may.

    Returns:
        A FastAPI app; its job worker starts with the first job and stops at shutdown.
    """
    cfg = WebConfig(
        max_upload_bytes=int(max_upload_bytes),
        max_pixels=int(max_pixels),
        queue_size=int(queue_size),
        timeout=float(timeout),
        max_results=int(max_results),
        device=device,
        data_dirs={str(k): Path(v).expanduser() for k, v in (data_dirs or {}).items()},
        bind_host=bind_host,
        allowed_hosts=tuple(allowed_hosts),
        allowed_origins=tuple(allowed_origins),
    )
    jobs = JobQueue(
        queue_size=cfg.queue_size, timeout=cfg.timeout, max_results=cfg.max_results, device=device
    )
    app = FastAPI(
        title="inpaintkit",
        version=__version__,
        description="Fill holes in images: upload an image and a mask (white = hole), pick a "
        "method, get the result in the input's format. Long jobs report progress over SSE.",
        lifespan=_lifespan(jobs),
    )
    app.state.config, app.state.jobs = cfg, jobs
    app.add_middleware(
        BodyLimit, max_body=2 * cfg.max_upload_bytes + 1_000_000, max_file=cfg.max_upload_bytes
    )
    app.add_middleware(  # added last = runs first: refuse foreign Host/Origin before anything
        HostOriginGuard,
        bind_host=cfg.bind_host,
        allowed_hosts=cfg.allowed_hosts,
        allowed_origins=cfg.allowed_origins,
    )
    _add_error_handlers(app)
    work = ImageWork()
    app.state.image_work = work
    _add_info_routes(app, cfg, jobs, work)
    add_job_routes(app, cfg, jobs, work)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    return app


def _lifespan(jobs: JobQueue) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.close()

    return lifespan


# ----------------------------------------------------------------------------- errors


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InpaintError)
    async def inpaint_error(request: Request, exc: InpaintError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(ImageTooLargeError)
    async def too_large(request: Request, exc: ImageTooLargeError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=413)

    @app.exception_handler(BusyError)
    async def busy(request: Request, exc: BusyError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg"))
        return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)


# ----------------------------------------------------------------------------- info


def _add_info_routes(app: FastAPI, cfg: WebConfig, jobs: JobQueue, work: ImageWork) -> None:
    @app.get("/api/health", summary="Server status, queue and limits")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "queue": {**jobs.stats(), "image_work": work.in_use},
            "limits": {
                "max_upload_bytes": cfg.max_upload_bytes,
                "max_pixels": cfg.max_pixels,
                "queue_size": cfg.queue_size,
                "timeout": cfg.timeout,
                "max_results": cfg.max_results,
            },
            "device": cfg.device,
        }

    @app.get("/api/methods", summary="Methods with their options and installed models")
    def methods() -> list[dict[str, Any]]:
        return describe_methods(data_dirs=cfg.data_dirs)

    @app.get("/api/masks", summary="Kinds of generated masks")
    def mask_kinds() -> list[dict[str, Any]]:
        out = []
        for name, fn in MASK_KINDS.items():
            doc = (fn.__doc__ or "").strip().splitlines()
            opts = {k: _plain(v) for k, v in mask_options(name).items()}
            out.append({"name": name, "summary": doc[0] if doc else "", "options": opts})
        return out

    @app.get("/api/masks/{kind}", summary="A generated mask as PNG (white = hole)")
    def generated_mask(
        kind: str,
        width: Annotated[int, Query(ge=1, description="image width in pixels")],
        height: Annotated[int, Query(ge=1, description="image height in pixels")],
        seed: Annotated[int, Query(ge=0, description="seed of the mask generator")] = 0,
    ) -> Response:
        check_pixels(width, height, max_pixels=cfg.max_pixels, what="mask")
        with work.slot():
            hole = make_mask(kind, (width, height), seed=seed)
            return Response(results.mask_png(hole), media_type="image/png")

    @app.post("/api/preview", summary="The uploaded image upright, as the PNG the page draws on")
    def preview(
        image: Annotated[UploadFile, File(description="the image file")],
    ) -> Response:
        data = read_upload(image.file, what="image", max_bytes=cfg.max_upload_bytes)
        with work.slot():
            src = decode_image(data, name=safe_filename(image.filename), max_pixels=cfg.max_pixels)
            png = results.preview_png(src)
        headers = {
            "X-Image-Width": str(src.size[0]),
            "X-Image-Height": str(src.size[1]),
            "X-Image-Format": src.format,
            "X-Image-Alpha": "1" if src.alpha is not None else "0",
            "X-Image-Bit-Depth": str(src.bit_depth),
        }
        return Response(png, media_type="image/png", headers=headers)

    @app.post("/api/mask", summary="An uploaded mask read with the library's rule, as PNG")
    def read_mask(
        mask: Annotated[UploadFile, File(description="mask file: a hole where >= 128")],
        width: Annotated[int, Form(ge=1, description="width of the image it belongs to")],
        height: Annotated[int, Form(ge=1, description="height of the image it belongs to")],
    ) -> Response:
        data = read_upload(mask.file, what="mask", max_bytes=cfg.max_upload_bytes)
        with work.slot():
            name = safe_filename(mask.filename, "mask")
            hole = decode_mask(data, name=name, size=(width, height))
            return Response(results.mask_png(hole), media_type="image/png")


def _plain(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v
