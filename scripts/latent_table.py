"""Summarise the latent-search evaluations (scripts/eval_latent.sh) against the classical methods.

    python scripts/latent_table.py [--cards] [--docs DOMAIN]

Reads runs/eval-<domain>64/summary.json for celeba, cars and housenumbers, plus any
runs/eval-<domain>64-<suffix>/summary.json on the same images (e.g. ``-vitoria``: a method
evaluated later, by ``OUT=... METHODS=vitoria2019 bash scripts/eval_latent.sh``), and prints,
per domain and mask, each latent-search method's PSNR / SSIM / LPIPS next to the best classical
method on each metric and the margin (positive = the latent method better), then vitoria2019
against yeh2017. With ``--cards`` the means are also written into the bundled models' cards
(``metrics``). ``--docs DOMAIN`` prints instead the table of docs/latent_search.md for that
domain: every method per mask, best first by PSNR, the best value of each column in bold.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("celeba", "cars", "housenumbers")
METRICS = (("psnr", True), ("ssim", True), ("lpips", False))
LATENT = ("yeh2017", "vitoria2019")


def margin_rows(summary: dict, method: str) -> list[str]:
    rows = []
    for mask, by_method in summary.items():
        if method not in by_method:
            continue
        mine = by_method[method]
        cells = [mask]
        for metric, higher in METRICS:
            others = {m: v[metric] for m, v in by_method.items() if m not in LATENT and metric in v}
            if not others or metric not in mine:
                cells.append("n/a")
                continue
            best = max(others, key=others.get) if higher else min(others, key=others.get)
            diff = mine[metric] - others[best] if higher else others[best] - mine[metric]
            fmt = ".2f" if metric == "psnr" else ".3f"
            cells.append(
                f"{mine[metric]:{fmt}} vs {others[best]:{fmt}} ({best}): "
                f"{'+' if diff >= 0 else ''}{diff:{fmt}}"
            )
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def load_summary(domain: str) -> dict | None:
    """{mask: {method: {metric: mean}}} of the domain's evaluation folders, merged."""
    base = ROOT / "runs" / f"eval-{domain}64" / "summary.json"
    if not base.exists():
        return None
    summary = json.loads(base.read_text())["summary"]
    n = next(iter(next(iter(summary.values())).values()))["n"]
    for extra in sorted((ROOT / "runs").glob(f"eval-{domain}64-*/summary.json")):
        for mask, by_method in json.loads(extra.read_text())["summary"].items():
            for method, metrics in by_method.items():
                if metrics["n"] != n:
                    raise SystemExit(f"{extra}: {method} has n={metrics['n']}, {base}: n={n}")
                summary.setdefault(mask, {})[method] = metrics
    return summary


def versus_rows(summary: dict, a: str, b: str) -> list[str]:
    """Per mask: ``a``'s PSNR / SSIM / LPIPS minus ``b``'s (positive = ``a`` better)."""
    rows = []
    for mask, by_method in summary.items():
        if a in by_method and b in by_method:
            x, y = by_method[a], by_method[b]
            cells = [f"{x['psnr'] - y['psnr']:+.2f} dB", f"{x['ssim'] - y['ssim']:+.3f}"]
            cells.append(f"{y['lpips'] - x['lpips']:+.3f}" if "lpips" in x else "n/a")
            rows.append(f"| {mask} | " + " | ".join(cells) + " |")
    return rows


MASK_TITLES = {
    "center": "center (25%)",
    "pattern": "pattern (~25%)",
    "random80": "random 80%",
    "half": "half (50%)",
    "three_squares": "three squares (Vitoria)",
}
DOCS_COLUMNS = (("psnr", ".2f", True), ("psnr_hole", ".2f", True), ("ssim", ".3f", True),
                ("lpips", ".3f", False))  # fmt: skip


def docs_table(summary: dict) -> list[str]:
    """The docs table: | mask | method | PSNR | PSNR hole | SSIM | LPIPS | s / image |."""
    lines = ["| mask | method | PSNR dB | PSNR hole | SSIM | LPIPS | s / image |"]
    lines.append("|---|---|---|---|---|---|---|")
    for mask, by in summary.items():
        best = {}
        for key, fmt, higher in DOCS_COLUMNS:
            vals = [f"{v[key]:{fmt}}" for v in by.values() if v.get(key) is not None]
            best[key] = (max if higher else min)(vals, key=float) if vals else None
        order = sorted(by, key=lambda m: -by[m]["psnr"])
        for i, method in enumerate(order):
            v = by[method]
            cells = [MASK_TITLES.get(mask, mask) if i == 0 else ""]
            cells.append(f"**{method}**" if i == 0 else method)
            for key, fmt, _ in DOCS_COLUMNS:
                text = f"{v[key]:{fmt}}" if v.get(key) is not None else "n/a"
                cells.append(f"**{text}**" if text == best[key] else text)
            sec = v["seconds"]
            cells.append(f"{sec:.3f}" if sec < 0.01 else f"{sec:.2f}")
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_card(domain: str, method: str, summary: dict, n: int) -> None:
    """Put ``method``'s means per mask into its bundled card, if that model is bundled."""
    card = ROOT / "src" / "inpaintkit" / "weights" / f"{method}_{domain}64.json"
    if not card.exists():
        return
    data = json.loads(card.read_text())
    keep = ("psnr", "psnr_hole", "ssim", "mse", "lpips", "seconds", "n")
    per_mask = {
        mask: {k: round(float(by[method][k]), 4) for k in keep if k in by[method]}
        for mask, by in summary.items()
        if method in by
    }
    data["metrics"] = {"eval": f"scripts/eval_latent.sh {domain} {n}", **per_mask}
    card.write_text(json.dumps(data, indent=2) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cards", action="store_true", help="write the means into the model cards")
    p.add_argument("--docs", choices=DOMAINS, help="print the docs table of one domain")
    args = p.parse_args()
    if args.docs:
        summary = load_summary(args.docs)
        if summary is None:
            raise SystemExit(f"runs/eval-{args.docs}64/summary.json missing")
        print("\n".join(docs_table(summary)))
        return
    for domain in DOMAINS:
        summary = load_summary(domain)
        if summary is None:
            print(f"(runs/eval-{domain}64/summary.json missing)\n")
            continue
        n = next(iter(next(iter(summary.values())).values()))["n"]
        for method in LATENT:
            if not any(method in by for by in summary.values()):
                continue
            print(f"### {domain} 64x64, {n} held-out images: {method}\n")
            head = f"PSNR dB: {method} vs best classical | SSIM | LPIPS (lower is better)"
            print(f"| mask | {head} |\n|---|---|---|---|")
            print("\n".join(margin_rows(summary, method)) + "\n")
            if args.cards:
                write_card(domain, method, summary, n)
        rows = versus_rows(summary, "vitoria2019", "yeh2017")
        if rows:
            print(f"### {domain}: vitoria2019 minus yeh2017 (positive = vitoria2019 better)\n")
            print("| mask | PSNR | SSIM | LPIPS |\n|---|---|---|---|")
            print("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
