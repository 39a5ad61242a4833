"""Docs tables from evaluation folders: merge ``summary.json`` files, compare, rank, margins.

Every table in the docs is printed from one or more ``inpaintkit eval`` output folders run on
the same images and masks (a method evaluated later goes in a folder of its own; later
folders' rows replace earlier ones for the same label). ``inpaintkit report table`` prints
them; ``inpaintkit report card`` writes a method's means into a model card.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from inpaintkit.errors import InpaintError

#: the classical methods learned ones are measured against (margins)
CLASSICAL = ("telea", "ns", "biharmonic", "patchmatch", "tv", "lowrank")

# (key, header, format, higher is better)
COMPARE_COLUMNS = (
    ("l1_hole", "l1 % hole", ".2f", False),
    ("l2_hole", "l2 % hole", ".2f", False),
    ("psnr", "PSNR dB", ".2f", True),
    ("psnr_hole", "PSNR hole", ".2f", True),
    ("ssim", "SSIM", ".3f", True),
    ("tv", "TV %", ".2f", False),
    ("lpips", "LPIPS", ".3f", False),
)
RANKED_COLUMNS = (
    ("psnr", "PSNR dB", ".2f", True),
    ("psnr_hole", "PSNR hole", ".2f", True),
    ("ssim", "SSIM", ".3f", True),
    ("lpips", "LPIPS", ".3f", False),
)
HIGHER_IS_BETTER = {k: hib for k, _, _, hib in COMPARE_COLUMNS} | {"seconds": False}


@dataclass
class Merged:
    """The means of one or more evaluation folders.

    Attributes:
        summary: {mask: {label: {metric: mean}}}, labels in first-seen order.
        size: the evaluation size (pixels a side) of the first folder, if it says.
        data: the first folder's ``--data``.
        sources: the folders read.
    """

    summary: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    size: int | None = None
    data: str | None = None
    sources: list[Path] = field(default_factory=list)


def load_summaries(
    folders: Sequence[str | Path],
    *,
    rename: dict[str, str] | None = None,
    methods: Sequence[str] | None = None,
    masks: Sequence[str] | None = None,
) -> Merged:
    """Merge the ``summary.json`` of ``folders`` (later folders replace a label's means).

    Args:
        folders: ``inpaintkit eval`` output folders.
        rename: label -> the name shown (e.g. an eval label whose export became a bundled model).
        methods: keep only these labels (after renaming), in this order; None: all.
        masks: keep only these mask kinds; None: all.

    Raises:
        InpaintError: a folder without summary.json, or one label measured on another number of
            images than the rest of its mask's table.
    """
    rename = rename or {}
    merged = Merged()
    for folder in map(Path, folders):
        path = folder / "summary.json"
        if not path.is_file():
            raise InpaintError(
                f"{str(folder)!r} holds no summary.json (an `inpaintkit eval` --out)"
            )
        cfg_path = folder / "config.json"
        if cfg_path.is_file() and merged.size is None:
            cfg = json.loads(cfg_path.read_text())
            merged.size, merged.data = cfg.get("size"), cfg.get("data")
        merged.sources.append(folder)
        for mask, by_label in json.loads(path.read_text())["summary"].items():
            if masks is not None and mask not in masks:
                continue
            for label, values in by_label.items():
                name = rename.get(label, label)
                merged.summary.setdefault(mask, {})[name] = values
    for mask, by_label in merged.summary.items():
        if methods is not None:
            merged.summary[mask] = by_label = {m: by_label[m] for m in methods if m in by_label}
        counts = {m: v.get("n") for m, v in by_label.items()}
        if len(set(counts.values())) > 1:
            raise InpaintError(
                f"mask {mask!r}: the folders measured different numbers of images ({counts}); "
                "a table compares methods on the same images"
            )
    return merged


def _fmt(value: float | None, fmt: str) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:{fmt}}"


def _seconds(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def _best(by_label: dict[str, dict], columns: Sequence[tuple]) -> dict[str, str]:
    """{metric: the best mean as printed}: ties in print are all bold."""
    best = {}
    for key, _, fmt, higher in columns:
        vals = [v[key] for v in by_label.values() if v.get(key) is not None]
        vals = [x for x in vals if math.isfinite(x)]
        if vals:
            best[key] = f"{(max if higher else min)(vals):{fmt}}"
    return best


def compare_table(by_label: dict[str, dict]) -> list[str]:
    """| method | l1 % hole | l2 % hole | PSNR | PSNR hole | SSIM | TV % | LPIPS | s / image |."""
    cols = [c for c in COMPARE_COLUMNS if any(c[0] in v for v in by_label.values())]
    lines = ["| method | " + " | ".join(c[1] for c in cols) + " | s / image |"]
    lines.append("|---" * (len(cols) + 2) + "|")
    best = _best(by_label, cols)
    for label, v in by_label.items():
        cells = []
        for key, _, fmt, _ in cols:
            text = _fmt(v.get(key), fmt)
            cells.append(f"**{text}**" if text == best.get(key) else text)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {_seconds(v.get('seconds'))} |")
    return lines


def ranked_table(summary: dict[str, dict[str, dict]], titles: dict[str, str]) -> list[str]:
    """One table for every mask: | mask | method | PSNR | PSNR hole | SSIM | LPIPS | s / image |.

    Methods are ranked by PSNR within a mask, the first in bold; the best value of each column
    in bold.
    """
    lines = ["| mask | method | " + " | ".join(c[1] for c in RANKED_COLUMNS) + " | s / image |"]
    lines.append("|---" * (len(RANKED_COLUMNS) + 3) + "|")
    for mask, by in summary.items():
        best = _best(by, RANKED_COLUMNS)
        order = sorted(by, key=lambda m: -by[m].get("psnr", -math.inf))
        for i, label in enumerate(order):
            v = by[label]
            cells = [titles.get(mask, mask) if i == 0 else "", f"**{label}**" if i == 0 else label]
            for key, _, fmt, _ in RANKED_COLUMNS:
                text = _fmt(v.get(key), fmt)
                cells.append(f"**{text}**" if text == best.get(key) else text)
            cells.append(_seconds(v.get("seconds")))
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def margin(a: dict, b: dict, key: str) -> float:
    """How much better ``a`` is than ``b`` on ``key`` (positive = ``a`` better)."""
    diff = a[key] - b[key]
    return diff if HIGHER_IS_BETTER.get(key, True) else -diff


def margins(
    by_label: dict[str, dict],
    *,
    classical: Sequence[str] = CLASSICAL,
    metrics: Sequence[str] = ("l1_hole", "psnr", "ssim", "lpips"),
) -> list[str]:
    """For each non-classical label: its margin over the best classical label on each metric."""
    base = {m: v for m, v in by_label.items() if m in classical}
    out = []
    for label, v in by_label.items():
        if label in classical or not base:
            continue
        cells = []
        for key in metrics:
            others = {m: c for m, c in base.items() if key in c}
            if key not in v or not others:
                continue
            top = max(others, key=lambda m, k=key: margin(others[m], v, k))
            cells.append(f"{key} {margin(v, others[top], key):+.3f} vs {top}")
        out.append(f"- {label}: " + "; ".join(cells))
    return out


def versus(summary: dict[str, dict[str, dict]], a: str, b: str) -> list[str]:
    """Per mask: ``a``'s PSNR / SSIM / LPIPS margins over ``b`` (positive = ``a`` better)."""
    rows = [f"| mask | PSNR ({a} - {b}) | SSIM | LPIPS (lower is better) |", "|---|---|---|---|"]
    for mask, by in summary.items():
        if a in by and b in by:
            x, y = by[a], by[b]
            cells = [f"{margin(x, y, 'psnr'):+.2f} dB", f"{margin(x, y, 'ssim'):+.3f}"]
            cells.append(
                f"{margin(x, y, 'lpips'):+.3f}" if "lpips" in x and "lpips" in y else "n/a"
            )
            rows.append(f"| {mask} | " + " | ".join(cells) + " |")
    return rows


CARD_METRICS = ("l1_hole", "l2_hole", "psnr", "psnr_hole", "ssim", "tv", "lpips", "seconds", "n")


def card_metrics(
    merged: Merged, label: str, *, prefix: str = "", keep: Sequence[str] = CARD_METRICS
) -> dict[str, dict[str, float]]:
    """``label``'s means per mask, keyed ``PREFIX/MASK`` (or ``MASK``), rounded to 4 decimals."""
    out = {}
    for mask, by in merged.summary.items():
        if label in by:
            key = f"{prefix}/{mask}" if prefix else mask
            out[key] = {k: round(float(by[label][k]), 4) for k in keep if k in by[label]}
    if not out:
        raise InpaintError(f"no folder measured {label!r}; labels: {labels_of(merged)}")
    return out


def labels_of(merged: Merged) -> str:
    """The labels of a merged summary, comma-separated."""
    seen: list[str] = []
    for by in merged.summary.values():
        seen += [m for m in by if m not in seen]
    return ", ".join(seen) or "none"


def write_card_metrics(
    card: Path, metrics: dict[str, dict], *, command: str | None, replace: bool = False
) -> None:
    """Put ``metrics`` into the ``metrics`` of the model card ``card`` (other keys untouched).

    Args:
        card: a model card (JSON).
        metrics: {key: {metric: mean}} (see :func:`card_metrics`).
        command: the evaluation command, stored as ``metrics["eval"]``.
        replace: drop the card's earlier metrics first (default: add to and replace by key).
    """
    if not card.is_file():
        raise InpaintError(f"model card {str(card)!r} does not exist")
    data = json.loads(card.read_text())
    old = {} if replace else dict(data.get("metrics") or {})
    if command:
        old["eval"] = command
    data["metrics"] = old | metrics
    card.write_text(json.dumps(data, indent=2) + "\n")


def bundled_cards(folder: Path | None = None) -> dict[str, dict]:
    """{model file stem: card} of the bundled models (or of the cards in ``folder``)."""
    if folder is None:
        from importlib.resources import files

        folder = Path(str(files("inpaintkit") / "weights"))
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def cards_table(cards: dict[str, dict], *, prefix: str = "") -> list[str]:
    """One Markdown table of every card's measured means: | model | setting | n | PSNR | ... |.

    Args:
        cards: {model name: card} (see :func:`bundled_cards`).
        prefix: keep the models whose name starts with it (e.g. ``deepfill_``).
    """
    cols = (("psnr", ".2f"), ("ssim", ".3f"), ("lpips", ".3f"), ("l1_hole", ".2f"))
    lines = ["| model | setting | images | PSNR dB | SSIM | LPIPS | l1 % hole |", "|---" * 7 + "|"]
    commands = []
    for name, card in cards.items():
        if not name.startswith(prefix):
            continue
        metrics = card.get("metrics") or {}
        for setting, v in metrics.items():
            if isinstance(v, dict):
                cells = [_fmt(v.get(k), f) for k, f in cols]
                lines.append(
                    f"| `{name}` | {setting} | {int(v.get('n', 0))} | " + " | ".join(cells) + " |"
                )
        if metrics.get("eval"):
            commands.append(f"- `{name}`: `{metrics['eval']}`")
    return [*lines, "", "Commands:", "", *commands]
