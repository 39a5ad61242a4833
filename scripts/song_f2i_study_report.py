"""Table of the song2018 G1/G2 recipe study (scripts/song_f2i_study.sh), with paired differences.

    python scripts/song_f2i_study_report.py [--study runs/song_f2i_eff] [--stage-cpu 12]

Reads ``<study>/eval/per_image.csv`` (labels ``<preset>_<stage>`` for G2 runs and
``g1_<preset>_<stage>`` for G1 runs, the bundled ``song2018``
and the classical methods) and each snapshot's model card (its step count), and prints one
Markdown table: the mean hole l1 %, PSNR, SSIM and LPIPS over the images, and for each learned
row the paired difference from the bundled model, mean ± standard error of the per-image
differences (std / sqrt(n)): a difference within about two standard errors is noise.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

from inpaintkit.eval.resume import read_rows

METRICS = ("l1_hole", "psnr", "ssim", "lpips")
BASE = "song2018"


def _paired(a: list[float], b: list[float]) -> tuple[float, float]:
    d = [x - y for x, y in zip(a, b, strict=True)]
    m = sum(d) / len(d)
    sd = math.sqrt(sum((x - m) ** 2 for x in d) / max(1, len(d) - 1))
    return m, sd / math.sqrt(len(d))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--study", default="runs/song_f2i_eff")
    p.add_argument("--stage-cpu", type=float, default=12.0, help="CPU minutes per stage")
    a = p.parse_args()
    study = Path(a.study)
    vals: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in read_rows(study / "eval/per_image.csv"):
        for m in METRICS:
            if r.get(m) is not None:
                vals[r["method"]][m][int(r["index"])] = float(r[m])
    base = vals[BASE]
    n = len(base["psnr"])
    print(f"ImageNet val, first {n} images, 512 px, centre 224 hole; paired differences vs "
          f"the bundled `{BASE}` natural128 (mean ± s.e.)\n")  # fmt: skip
    print("| model | CPU min | steps | hole l1 % | PSNR dB | SSIM | LPIPS | Δ l1 % | Δ PSNR | "
          "Δ SSIM | Δ LPIPS |\n|---|---|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for method in sorted(vals, key=lambda k: (k != BASE, k)):
        v = vals[method]
        means = [sum(v[m].values()) / len(v[m]) for m in METRICS]
        cpu = steps = ""
        head, _, stage = method.rpartition("_")
        part = "song-i2f" if head.startswith("g1_") else "song-f2i"  # train-g1 runs: G1
        card = study / head / f"export_{stage}/{part}.json"
        if head and stage.isdigit() and card.is_file():
            cpu, steps = f"{int(stage) * a.stage_cpu:g}", str(json.loads(card.read_text())["steps"])
        cells = [f"{means[0]:.2f}", f"{means[1]:.2f}", f"{means[2]:.4f}", f"{means[3]:.4f}"]
        diffs = [""] * 4
        if method != BASE:
            for i, m in enumerate(METRICS):
                keys = sorted(base[m])
                d, se = _paired([v[m][k] for k in keys], [base[m][k] for k in keys])
                digits = 4 if m in ("ssim", "lpips") else 2
                diffs[i] = f"{d:+.{digits}f} ± {se:.{digits}f}"
        print(f"| {method} | {cpu} | {steps} | " + " | ".join(cells + diffs) + " |")


if __name__ == "__main__":
    main()
