"""Summarise the latent-search evaluations (scripts/eval_latent.sh) against the classical methods.

    python scripts/latent_table.py [--cards]

Reads runs/eval-<domain>64/summary.json for celeba, cars and housenumbers and prints, per domain
and mask, yeh2017's PSNR / SSIM / LPIPS next to the best classical method on each metric and the
margin (positive = yeh2017 better). With ``--cards`` the means are also written into the
bundled models' cards (``metrics``).
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cards", action="store_true", help="write the means into the model cards")
    args = p.parse_args()
    for domain in DOMAINS:
        path = ROOT / "runs" / f"eval-{domain}64" / "summary.json"
        if not path.exists():
            print(f"({path} missing)\n")
            continue
        summary = json.loads(path.read_text())["summary"]
        n = next(iter(next(iter(summary.values())).values()))["n"]
        print(f"### {domain} 64x64, {n} held-out images\n")
        print("| mask | PSNR dB: yeh2017 vs best classical | SSIM | LPIPS (lower is better) |")
        print("|---|---|---|---|")
        print("\n".join(margin_rows(summary, "yeh2017")) + "\n")
        card = ROOT / "src" / "inpaintkit" / "weights" / f"yeh2017_{domain}64.json"
        if args.cards and card.exists():
            data = json.loads(card.read_text())
            keep = ("psnr", "psnr_hole", "ssim", "mse", "lpips", "seconds", "n")
            per_mask = {
                mask: {k: round(float(by["yeh2017"][k]), 4) for k in keep if k in by["yeh2017"]}
                for mask, by in summary.items()
                if "yeh2017" in by
            }
            data["metrics"] = {"eval": f"scripts/eval_latent.sh {domain} {n}", **per_mask}
            card.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
