"""Table and LPIPS-vs-CPU-minutes curves of the deepfill recipe study (scripts/deepfill_study.sh).

    python scripts/deepfill_study_report.py [--study runs/study] [--stage-cpu 3]
        [--plot docs/img/study_lpips_cpu.png]

Reads ``<study>/eval/per_image.csv`` (labels ``<variant>_<stage>``, the starting model
``deepfill`` and the classical methods) and each snapshot's model card (its step count), and
prints a Markdown table per mask (mean PSNR, SSIM, hole l1 %, LPIPS over the validation
images), then with ``--paired`` each snapshot's paired difference from the start (mean over the
same images and holes +- its standard error, for PSNR and LPIPS), plus, with ``--plot``, one
LPIPS-vs-CPU-minutes panel per mask (needs matplotlib).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from inpaintkit.eval.resume import read_rows

METRICS = ("psnr", "ssim", "l1_hole", "lpips")


def _means(rows: list[dict]) -> dict[tuple[str, str], dict[str, float]]:
    acc: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        for m in METRICS:
            if r.get(m) is not None:
                acc[(r["mask"], r["method"])][m].append(float(r[m]))
    return {
        k: {m: sum(v) / len(v) for m, v in d.items()} | {"n": len(d["psnr"])}
        for k, d in acc.items()
    }


def _paired(rows: list[dict], mask: str, a: str, b: str, metric: str) -> tuple[float, float, int]:
    """Mean and standard error of ``a - b`` over the images both were scored on."""
    va = {r["index"]: float(r[metric]) for r in rows if r["mask"] == mask and r["method"] == a}
    vb = {r["index"]: float(r[metric]) for r in rows if r["mask"] == mask and r["method"] == b}
    d = [va[i] - vb[i] for i in va if i in vb]
    if len(d) < 2:
        return float("nan"), float("nan"), len(d)
    mean = sum(d) / len(d)
    var = sum((x - mean) ** 2 for x in d) / (len(d) - 1)
    return mean, (var / len(d)) ** 0.5, len(d)


def _label(method: str) -> tuple[str, int] | None:
    head, _, stage = method.rpartition("_")
    return (head, int(stage)) if head and stage.isdigit() else None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--study", default="runs/study")
    p.add_argument("--stage-cpu", type=float, default=3.0, help="CPU minutes per stage")
    p.add_argument("--plot", help="write the curves to this PNG")
    p.add_argument("--paired", action="store_true", help="paired differences from the start")
    a = p.parse_args()
    study = Path(a.study)
    rows = read_rows(study / "eval/per_image.csv")
    means = _means(rows)
    masks = sorted({k[0] for k in means})
    for mask in masks:
        print(f"\n### {mask} (ImageNet val, 256 px, n = {means[(mask, 'deepfill')]['n']})\n")
        print("| model | CPU min | steps | PSNR dB | SSIM | hole l1 % | LPIPS |")
        print("|---|---|---|---|---|---|---|")
        for (mk, method), v in sorted(means.items(), key=lambda kv: kv[0][1]):
            if mk != mask:
                continue
            lab = _label(method)
            if lab:
                card = json.loads((study / lab[0] / f"export_{lab[1]}/deepfill.json").read_text())
                cpu, steps = f"{lab[1] * a.stage_cpu:g}", str(card["steps"])
            else:
                cpu, steps = ("0", "(start)") if method == "deepfill" else ("", "")
            print(
                f"| {method} | {cpu} | {steps} | {v['psnr']:.2f} | {v['ssim']:.4f} | "
                f"{v['l1_hole']:.2f} | {v['lpips']:.4f} |"
            )
    if a.paired:
        print("\n### paired differences from the start (mean +- standard error)\n")
        print("| mask | model | PSNR dB | LPIPS |")
        print("|---|---|---|---|")
        for mask, method in sorted(k for k in means if _label(k[1])):
            cells = []
            for metric, fmt in (("psnr", "{:+.2f} +- {:.2f}"), ("lpips", "{:+.4f} +- {:.4f}")):
                mean, se, _ = _paired(rows, mask, method, "deepfill", metric)
                cells.append(fmt.format(mean, se))
            print(f"| {mask} | {method} | {cells[0]} | {cells[1]} |")
    if a.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(masks), figsize=(6 * len(masks), 4.2))
        for ax, mask in zip(list(getattr(axes, "flat", [axes])), masks, strict=True):
            start = means[(mask, "deepfill")]["lpips"]
            curves: dict[str, list[tuple[float, float]]] = defaultdict(list)
            for (mk, method), v in sorted(means.items()):
                lab = _label(method)
                if mk == mask and lab:
                    curves[lab[0]].append((lab[1] * a.stage_cpu, v["lpips"]))
            for name, pts in sorted(curves.items()):
                xs, ys = zip(*sorted([(0.0, start), *pts]), strict=True)
                ax.plot(xs, ys, marker="o", label=name)
            if (mask, "patchmatch") in means:
                ax.axhline(means[(mask, "patchmatch")]["lpips"], ls="--", c="k", label="PatchMatch")
            ax.set(
                title=f"{mask} hole",
                xlabel="CPU minutes of training",
                ylabel="LPIPS (lower is better)",
            )
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(a.plot, dpi=90)
        print(f"\nwrote {a.plot}")


if __name__ == "__main__":
    main()
