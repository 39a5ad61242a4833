"""Tables of the Song et al. evaluation (scripts/eval_song.sh): song2018 against the rest.

    python scripts/song_table.py [--card song2018_natural128]

256 px (centre 128 hole): runs/eval_song_256 merged with the centre rows of
runs/eval_deepfill_{learned,classical}_imagenet (the same 50 images and hole). 512 px (centre
224 hole, the paper's Table 1 setting): runs/eval_song_512, its deepfill row replaced by
runs/eval_song_512_deepfill when that exists (the bundled deepfill re-run after retraining:
``inpaintkit eval --data DIR/imagenet/val --methods deepfill --masks center --mask-opt
center.box=224,224 --size 512 --limit 50 --seed 0 --out runs/eval_song_512_deepfill``).

Prints one Markdown table per size (hole l1 % as the paper's mean l1 error, SSIM, PSNR,
LPIPS, seconds; best in bold), then each song label's margin over the best classical method
on LPIPS, hole l1 and SSIM, and whether the goal (beats every classical method on all three,
SSIM >= 0.89) is met. With ``--card NAME`` the song2018 means (labels ``song128``: the default
single scale, ``song2018``: the forced multi-scale) are written into that model's card.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from deepfill_table import table, write_card_metrics

ROOT = Path(__file__).resolve().parents[1]
CLASSICAL = ("telea", "ns", "biharmonic", "patchmatch")
GOAL = (("lpips", False), ("l1_hole", False), ("ssim", True))


def load(size: int) -> dict[str, dict]:
    """{method: means} of the centre mask at ``size``."""
    sources = [ROOT / "runs" / f"eval_song_{size}"]
    if size == 256:
        sources += [ROOT / "runs" / f"eval_deepfill_{w}_imagenet" for w in ("learned", "classical")]
    merged: dict[str, dict] = {}
    for src in sources:
        path = src / "summary.json"
        if path.exists():
            for method, values in json.loads(path.read_text())["summary"]["center"].items():
                if src.name.startswith("eval_deepfill_learned") and method != "deepfill":
                    continue  # the ablation models belong to docs/deepfill.md
                merged.setdefault(method, values)
    redo = ROOT / "runs" / f"eval_song_{size}_deepfill" / "summary.json"  # the current deepfill
    if redo.exists():
        merged.update(json.loads(redo.read_text())["summary"]["center"])
    return merged


def verdict(by_method: dict, method: str = "song2018") -> list[str]:
    """The goal of issue 6 for ``method``: margins over the best classical method."""
    classical = {m: v for m, v in by_method.items() if m in CLASSICAL}
    if method not in by_method or not classical:
        return []
    v, met, cells = by_method[method], True, []
    for key, higher in GOAL:
        others = {m: c[key] for m, c in classical.items()}
        top = (max if higher else min)(others, key=others.get)
        diff = v[key] - others[top] if higher else others[top] - v[key]
        met &= diff > 0
        cells.append(f"{key} {diff:+.3f} vs {top}")
    met &= v["ssim"] >= 0.89
    return [
        f"- {method}: "
        + "; ".join(cells)
        + f"; SSIM {v['ssim']:.3f}; goal {'met' if met else 'NOT met'}"
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--card", help="bundled song2018 model whose card gets the metrics")
    args = p.parse_args()
    metrics: dict[str, dict] = {
        "eval": "bash scripts/eval_song.sh 256 && bash scripts/eval_song.sh 512"
    }
    for size, hole in ((256, 128), (512, 224)):
        by_method = load(size)
        if not by_method:
            print(f"(no runs at {size})\n")
            continue
        n = int(next(iter(by_method.values()))["n"])
        print(f"### ImageNet val, {size}x{size}, centre {hole}x{hole} hole ({n} images)\n")
        print("\n".join(table(by_method)) + "\n")
        lines = [v for m in by_method if m.startswith("song") for v in verdict(by_method, m)]
        print("\n".join(lines) + "\n")
        keep = ("l1_hole", "psnr", "ssim", "lpips", "seconds", "n")
        for label, scales in (("song128", "default (128)"), ("song2018", "multi-scale")):
            if label in by_method:
                metrics[f"imagenet{size}/center{hole}/{scales}"] = {
                    k: round(by_method[label][k], 4) for k in keep if k in by_method[label]
                }
    if args.card:
        write_card_metrics(args.card, metrics)


if __name__ == "__main__":
    main()
