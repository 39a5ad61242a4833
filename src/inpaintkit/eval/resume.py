"""Resuming an evaluation: reuse the rows an earlier run of the same setting already wrote.

An evaluation of nine methods on 780 images runs for hours on a laptop; the harness writes
``per_image.csv`` after every (mask, method) pair and the full-size outputs of the grid images
under ``outputs/``, so a killed run, or a run asked for more images, methods or masks later,
computes only what is missing. The setting that decides the numbers (data, size, crop, split,
seed, mask options, each method's options) must match the earlier run's ``config.json``;
``limit``, ``methods`` and ``masks`` may grow.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from inpaintkit.errors import InpaintError

#: config fields that must equal the earlier run's for its rows to be comparable
SETTING_FIELDS = ("data", "size", "crop", "split", "seed")
#: per-image columns that stay text in the CSV
TEXT_COLUMNS = ("method", "mask", "image")

RowKey = tuple[str, str, int]  # (method label, mask kind, image index)
#: folder of the rows each torchrun rank has computed so far (merged into per_image.csv at the end)
SHARDS_DIR = "shards"


def _parse_cell(key: str, text: str) -> Any:
    if key in TEXT_COLUMNS:
        return text
    if key == "index":
        return int(text)
    return float(text) if text != "" else None


def read_rows(path: Path) -> list[dict]:
    """The rows of a ``per_image.csv`` with numbers as numbers (empty cells -> None)."""
    with open(path, newline="") as f:
        return [{k: _parse_cell(k, v) for k, v in r.items()} for r in csv.DictReader(f)]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def check_setting(old: dict, new: dict) -> None:
    """Raise when ``new`` (an EvalConfig as a dict) would not reproduce ``old``'s numbers.

    Options are compared per method label present in both runs, mask options per kind present
    in both; configs written before those fields existed count as having none.
    """
    diffs = [f for f in SETTING_FIELDS if _jsonable(old.get(f)) != _jsonable(new.get(f))]
    for label in set(old.get("methods", [])) & set(new["methods"]):
        old_method = old.get("aliases", {}).get(label, label)
        if old_method != new["aliases"].get(label, label):
            diffs.append(f"method of label {label}")
        if _jsonable(old.get("options", {}).get(label, {})) != _jsonable(
            new["options"].get(label, {})
        ):
            diffs.append(f"options of {label}")
    for kind in set(old.get("masks", [])) & set(new["masks"]):
        if _jsonable(old.get("mask_options", {}).get(kind, {})) != _jsonable(
            new["mask_options"].get(kind, {})
        ):
            diffs.append(f"options of mask {kind}")
    if diffs:
        raise InpaintError(
            "--resume: the earlier run in this folder used another setting ("
            + ", ".join(diffs)
            + "); its rows would not be comparable. Use another --out, or repeat its setting."
        )


def load_previous(out: Path, cfg: dict, names: list[str]) -> dict[RowKey, dict]:
    """The earlier run's rows in ``out`` keyed by (label, mask, index); {} when there is none.

    Args:
        out: the output folder.
        cfg: the new run's EvalConfig as a dict.
        names: the new run's image names, by index; the earlier rows must name the same.
    """
    csv_path, cfg_path = out / "per_image.csv", out / "config.json"
    sources = [csv_path] if csv_path.exists() else []
    sources += sorted((out / SHARDS_DIR).glob("*.csv"))  # a killed sharded run's rows
    if not sources:
        return {}
    if not cfg_path.exists():
        raise InpaintError(f"--resume: {sources[0]} has no config.json to check against")
    check_setting(json.loads(cfg_path.read_text()), cfg)
    done: dict[RowKey, dict] = {}
    rows = [row for path in sources for row in read_rows(path)]
    dropped = {
        "methods": sorted({r["method"] for r in rows} - set(cfg["methods"])),
        "masks": sorted({r["mask"] for r in rows} - set(cfg["masks"])),
        "images": sorted({r["index"] for r in rows if r["index"] >= len(names)})[:1],
    }
    if any(dropped.values()):
        what = "; ".join(
            f"{k} {', '.join(map(str, v))}" + (" and later" if k == "images" else "")
            for k, v in dropped.items()
            if v
        )
        raise InpaintError(
            f"--resume: the earlier run in {out} also has {what}, which this run would drop from "
            "per_image.csv; ask for them too (--methods, --masks, --limit) or use another --out"
        )
    for row in rows:
        i = row["index"]
        if row["image"] != names[i]:
            raise InpaintError(
                f"--resume: image {i} was {row['image']!r} in the earlier run and is "
                f"{names[i]!r} now; the data changed. Use another --out."
            )
        done[(row["method"], row["mask"], i)] = row
    return done


def partial_path(out: Path, rank: int) -> Path:
    """A new file for the rows torchrun rank ``rank`` computes in this run (unique per process).

    Each run writes new files, so the rows of a killed run stay readable until rank 0 has
    merged them into ``per_image.csv``.
    """
    import uuid

    path = out / SHARDS_DIR / f"rank{rank:03d}-{uuid.uuid4().hex[:8]}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def output_path(out: Path, kind: str, label: str, index: int) -> Path:
    """Where the full-size output of grid image ``index`` is kept (PNG, lossless)."""
    return out / "outputs" / kind / f"{label}_{index:04d}.png"


def save_output(out: Path, kind: str, label: str, index: int, pixels: np.ndarray) -> None:
    """Keep one grid image's output so a resumed run can draw the grid without recomputing."""
    path = output_path(out, kind, label, index)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def load_output(out: Path, kind: str, label: str, index: int) -> np.ndarray | None:
    """A kept output as (H, W, 3) uint8, or None when the earlier run did not keep it."""
    path = output_path(out, kind, label, index)
    if not path.exists():
        return None
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
