"""The job endpoints: create (async or wait), poll, stream progress (SSE), cancel, fetch results.

Everything a request sends is decoded and checked in :func:`build_request` before a job is
queued, so bad input answers 4xx at once and the worker only ever sees valid jobs. Work that
grows faster than the pixels (dilating the mask, feathering, the method) runs in the job,
under the queue and its timeout; decoding holds an :class:`~inpaintkit.web.gate.ImageWork`
slot. Text fields are bounded (``method``, ``mask_kind``: 64 characters, ``options``: 16 KB).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import Response, StreamingResponse

from inpaintkit.api import check_size
from inpaintkit.errors import InpaintError
from inpaintkit.limits import check_image_size
from inpaintkit.masks import MASK_KINDS, make_mask
from inpaintkit.registry import get_method
from inpaintkit.web import results
from inpaintkit.web.config import WebConfig
from inpaintkit.web.gate import ImageWork
from inpaintkit.web.jobs import FINAL, Job, JobQueue, JobRequest
from inpaintkit.web.methods import check_model_installed, parse_options_json, web_options
from inpaintkit.web.uploads import (
    check_hole,
    decode_image,
    decode_mask,
    read_upload,
    safe_filename,
    safe_stem,
)

_ID_CHARS = frozenset("0123456789abcdef")


@dataclass
class JobForm:
    """The multipart fields of ``POST /api/jobs`` and ``POST /api/inpaint``."""

    image: UploadFile
    mask: UploadFile | None
    mask_kind: str | None
    mask_seed: int
    method: str
    options: str | None
    dilate: int
    feather: int


def job_form(
    image: Annotated[UploadFile, File(description="the image (PNG, JPEG, WebP, TIFF, BMP)")],
    mask: Annotated[UploadFile | None, File(description="mask file, white (>= 128) = hole")] = None,
    mask_kind: Annotated[
        str | None, Form(max_length=64, description="or a generated mask: center, ...")
    ] = None,
    mask_seed: Annotated[
        int, Form(ge=0, le=2**32 - 1, description="seed of the generated mask")
    ] = 0,
    method: Annotated[
        str, Form(max_length=64, description="a method name from GET /api/methods")
    ] = "telea",
    options: Annotated[
        str | None, Form(max_length=16_384, description='JSON options, e.g. {"radius": 5}')
    ] = None,
    dilate: Annotated[int, Form(ge=0, le=256, description="grow the hole by N pixels")] = 0,
    feather: Annotated[int, Form(ge=0, le=256, description="soft edge inside the hole")] = 0,
) -> JobForm:
    """FastAPI dependency collecting the job fields (documented in the OpenAPI schema)."""
    return JobForm(image, mask, mask_kind, mask_seed, method, options, dilate, feather)


def build_request(form: JobForm, cfg: WebConfig, work: ImageWork) -> JobRequest:
    """Decode and check everything before a job is queued: errors answer at once (4xx).

    The mask's dilation is left to the job (``JobRequest.dilate``): it runs in the queue.
    """
    info = get_method(form.method)
    options = web_options(info.name, parse_options_json(form.options), data_dirs=cfg.data_dirs)
    check_model_installed(info.name, options)
    data = read_upload(form.image.file, what="image", max_bytes=cfg.max_upload_bytes)
    name = safe_stem(form.image.filename)
    with work.slot():
        src = decode_image(data, name=safe_filename(form.image.filename), max_pixels=cfg.max_pixels)
        w, h = src.size
        check_image_size(w, h, max_pixels=cfg.max_pixels, kind=info.kind)  # memory: 413
        if form.mask is not None and form.mask.filename:
            mdata = read_upload(form.mask.file, what="mask", max_bytes=cfg.max_upload_bytes)
            hole = decode_mask(mdata, name=safe_filename(form.mask.filename, "mask"), size=(w, h))
        elif form.mask_kind:
            hole = make_mask(form.mask_kind, (w, h), seed=form.mask_seed)
        else:
            kinds = ", ".join(MASK_KINDS)
            raise InpaintError(f"send a mask file (white = hole) or a mask_kind ({kinds})")
    check_hole(hole)
    check_size(info, w, h)
    return JobRequest(
        info.name, src, hole, options, name=name, feather=form.feather, dilate=form.dilate
    )


def job_json(job: Job, jobs: JobQueue) -> dict[str, Any]:
    """The public state of ``job``, with the URLs of what it can serve."""
    out = job.describe()
    req = job.request
    base = f"/api/jobs/{job.id}"
    out["position"] = jobs.position(job)
    out["input"] = {
        "name": req.name,
        "width": req.source.size[0],
        "height": req.source.size[1],
        "format": results.output_format(req.source, None),
        "alpha": req.source.alpha is not None,
        "bit_depth": req.source.bit_depth,
    }
    out["urls"] = {"self": base, "events": f"{base}/events", "cancel": f"{base}/cancel"}
    res = job.result
    out["model"] = None if res is None else res.model
    if res is not None:
        out["notes"] = list(res.notes)
        out["urls"].update(result=f"{base}/result", mask=f"{base}/mask")
        out["extras"] = [
            {"name": n, "url": f"{base}/extras/{n}"} for n in results.image_extra_names(res.extras)
        ]
        out["values"] = results.scalar_extras(res.extras)
        k = len(res.samples)
        out["samples"] = k  # samples=K: fills 1..K, the best first (GET result?sample=i)
        if k > 1:
            out["urls"]["samples"] = [f"{base}/result?sample={i}" for i in range(1, k + 1)]
    return out


def _find(jobs: JobQueue, job_id: str) -> Job:
    if len(job_id) == 32 and set(job_id) <= _ID_CHARS:
        try:
            return jobs.get(job_id)
        except KeyError:
            pass
    raise HTTPException(
        404,
        f"no job {job_id!r}: unknown, or evicted (the server keeps the last "
        f"{jobs.max_results} finished jobs); run it again",
    )


def _done(job: Job) -> Any:
    if job.status == "done" and job.result is not None:
        return job.result
    if job.status in FINAL:
        raise HTTPException(409, f"job {job.id} has no result: {job.status}: {job.error}")
    raise HTTPException(409, f"job {job.id} is still {job.status}; wait for it to finish")


def result_response(
    job: Job, fmt: str | None, work: ImageWork, *, download: bool = False, sample: int = 1
) -> Response:
    """The result file of a done job in ``fmt`` (default: the input's format); ``sample``:
    which of a ``samples=K`` job's fills (1 = the best, the default)."""
    res = _done(job)
    if not 1 <= sample <= len(res.samples):
        raise HTTPException(404, f"job {job.id} has fills 1 to {len(res.samples)}, not {sample}")
    pil_fmt = results.output_format(res.source, fmt)
    key = pil_fmt if sample == 1 else f"{pil_fmt}/{sample}"
    if key not in job.encoded:
        with work.slot():
            pixels = res.samples[sample - 1]
            job.encoded[key] = results.encode_image(pixels, res.source, pil_fmt)
    part = f"_{sample}" if len(res.samples) > 1 else ""
    name = f"{job.request.name}_{job.request.method}{part}{results.SUFFIXES[pil_fmt]}"
    disposition = "attachment" if download else "inline"
    return Response(
        job.encoded[key],
        media_type=results.MEDIA_TYPES[pil_fmt],
        headers={
            "Content-Disposition": f'{disposition}; filename="{name}"',
            "X-Job-Id": job.id,
            "X-Model": res.model or "",
        },
    )


def add_job_routes(app: FastAPI, cfg: WebConfig, jobs: JobQueue, work: ImageWork) -> None:
    @app.post("/api/jobs", status_code=202, summary="Start an inpainting job")
    def create_job(form: Annotated[JobForm, Depends(job_form)]) -> dict[str, Any]:
        return job_json(jobs.submit(build_request(form, cfg, work)), jobs)

    @app.post("/api/inpaint", summary="Inpaint and wait: the result file in the input's format")
    def inpaint_now(
        form: Annotated[JobForm, Depends(job_form)],
        format: Annotated[str | None, Form(description="png, jpeg, webp, tiff or bmp")] = None,
    ) -> Response:
        if format:
            results.check_format(format)  # before the work, not after
        job = jobs.submit(build_request(form, cfg, work))
        job.finished.wait()
        if job.status != "done":
            status = 504 if job.status == "timeout" else 422
            raise HTTPException(status, job.error or job.status)
        return result_response(job, format, work)

    @app.get("/api/jobs/{job_id}", summary="State and progress of a job (poll this)")
    def get_job(job_id: str) -> dict[str, Any]:
        return job_json(_find(jobs, job_id), jobs)

    @app.post("/api/jobs/{job_id}/cancel", summary="Cancel a queued or running job")
    def cancel_job(job_id: str) -> dict[str, Any]:
        _find(jobs, job_id)
        return job_json(jobs.cancel(job_id), jobs)

    @app.get("/api/jobs/{job_id}/events", summary="Progress as server-sent events")
    async def job_events(job_id: str) -> StreamingResponse:
        job = _find(jobs, job_id)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(
            _event_stream(job, jobs), media_type="text/event-stream", headers=headers
        )

    @app.get("/api/jobs/{job_id}/result", summary="The result file")
    def job_result(
        job_id: str,
        format: Annotated[str | None, Query(description="png, jpeg, webp, tiff or bmp")] = None,
        download: Annotated[bool, Query(description="send as an attachment")] = False,
        sample: Annotated[
            int, Query(ge=1, le=64, description="which fill of a samples=K job (1 = best)")
        ] = 1,
    ) -> Response:
        job = _find(jobs, job_id)
        return result_response(job, format, work, download=download, sample=sample)

    @app.get("/api/jobs/{job_id}/mask", summary="The hole the job filled, as PNG")
    def job_mask(job_id: str) -> Response:
        job = _find(jobs, job_id)  # dilated in the job: the filled hole once it is done
        hole = job.result.mask if job.result is not None else job.request.hole
        with work.slot():
            return Response(results.mask_png(hole), media_type="image/png")

    @app.get("/api/jobs/{job_id}/extras/{name}", summary="An image by-product, as PNG")
    def job_extra(job_id: str, name: str) -> Response:
        extras = _done(_find(jobs, job_id)).extras
        names = results.image_extra_names(extras)
        if name not in names:
            listed = ", ".join(names) or "none"
            raise HTTPException(404, f"job {job_id} has no image extra {name!r} (has: {listed})")
        with work.slot():
            image = results.extra_image(extras[name])  # (H, W, 3) uint8
            return Response(results.png_bytes(image), media_type="image/png")


async def _event_stream(job: Job, jobs: JobQueue) -> AsyncIterator[str]:
    """``event: progress`` whenever the job's state changes, then one final ``event: end``."""
    last: dict[str, Any] | None = None
    quiet = 0.0
    while True:
        state = job_json(job, jobs)
        final = state["status"] in FINAL
        if state != last:
            last, quiet = state, 0.0
            yield f"event: {'end' if final else 'progress'}\ndata: {json.dumps(state)}\n\n"
            if final:
                return
        elif quiet > 15.0:
            quiet = 0.0
            yield ": still working\n\n"
        await asyncio.sleep(0.05)
        quiet += 0.05
