"""Tables of the DeepFill evaluation (scripts/eval_deepfill.sh): learned vs classical methods.

    python scripts/deepfill_table.py [--card deepfill_natural128]
    python scripts/deepfill_table.py --card deepfill_natural256 --label natural256
    python scripts/deepfill_table.py --card context_encoder_natural128_thick \
        --label context_encoder --masks thick
    python scripts/deepfill_table.py --faces [--card deepfill_celeba128]

Reads runs/eval_deepfill_{classical,learned,grow256,grow256c,ce,ce_<kind>}_{imagenet,dtd}/
summary.json (grow256: the session-8 `grow256` and `full128` rows; grow256c: the session-9
`grow256c` row, shown as `natural256` since its export became that bundled model, byte for
byte; eval commands in docs/deepfill.md) and prints one Markdown table per dataset and mask:
hole l1 / l2 in percent (the paper's relative errors), PSNR, SSIM, TV, LPIPS and seconds per
image, best value in bold, then each learned method's margin over the best classical method on
l1, PSNR, SSIM and LPIPS (positive = learned better).
With ``--card NAME`` the means of ``--label`` (default ``deepfill``) are written into that
bundled model's card, on the masks of ``--masks`` (default all: a Context Encoder's card takes
only the mask kind its model was trained and measured on).
``--faces`` prints the CelebA tables instead, from the one folder of ``eval_deepfill.sh faces``
(runs/eval_deepfill_faces_celeba: learned and classical methods together).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ("imagenet", "dtd")
COLUMNS = (  # key, header, higher is better, format
    ("l1_hole", "l1 % hole", False, ".2f"),
    ("l2_hole", "l2 % hole", False, ".2f"),
    ("psnr", "PSNR dB", True, ".2f"),
    ("psnr_hole", "PSNR hole", True, ".2f"),
    ("ssim", "SSIM", True, ".3f"),
    ("tv", "TV %", False, ".2f"),
    ("lpips", "LPIPS", False, ".3f"),
    ("seconds", "s / image", False, ".3f"),
)
MARGINS = (("l1_hole", False), ("psnr", True), ("ssim", True), ("lpips", False))
CLASSICAL = ("telea", "ns", "biharmonic", "patchmatch")
# eval labels shown under another name: the session-9 grow256 export is the bundled natural256
RENAMED = {"grow256c": "natural256"}


def load(dataset: str) -> tuple[dict, dict]:
    """(summary by mask and method, {method: "learned" | "classical"})."""
    merged: dict[str, dict] = {}
    group: dict[str, str] = {}
    # ce_<kind>: a Context Encoder trained for that mask kind (SUFFIX=_<kind> in eval_deepfill.sh)
    ce_kinds = sorted(p.name[len("eval_deepfill_") : -len(dataset) - 1]
                      for p in (ROOT / "runs").glob(f"eval_deepfill_ce_*_{dataset}"))  # fmt: skip
    for which in ("learned", "grow256", "grow256c", "ce", *ce_kinds, "classical"):
        path = ROOT / "runs" / f"eval_deepfill_{which}_{dataset}" / "summary.json"
        if not path.exists():
            continue
        for mask, by_method in json.loads(path.read_text())["summary"].items():
            for method, values in by_method.items():
                method = RENAMED.get(method, method)
                merged.setdefault(mask, {})[method] = values
                group[method] = "classical" if which == "classical" else "learned"
    return merged, group


def load_faces() -> tuple[dict, dict]:
    """(summary by mask and method, groups) of runs/eval_deepfill_faces_celeba."""
    path = ROOT / "runs" / "eval_deepfill_faces_celeba" / "summary.json"
    if not path.exists():
        return {}, {}
    summary = json.loads(path.read_text())["summary"]
    methods = {m for by_method in summary.values() for m in by_method}
    return summary, {m: "classical" if m in CLASSICAL else "learned" for m in methods}


def table(by_method: dict) -> list[str]:
    lines = ["| method | " + " | ".join(c[1] for c in COLUMNS) + " |"]
    lines.append("|---" * (len(COLUMNS) + 1) + "|")
    best = {}
    for key, _, higher, _ in COLUMNS:
        vals = {m: v[key] for m, v in by_method.items() if key in v}
        if vals:
            best[key] = (max if higher else min)(vals.values())
    for method, v in by_method.items():
        cells = []
        for key, _, _, fmt in COLUMNS:
            if key not in v:
                cells.append("n/a")
                continue
            text = f"{v[key]:{fmt}}"
            cells.append(f"**{text}**" if key != "seconds" and v[key] == best.get(key) else text)
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def margins(by_method: dict, group: dict) -> list[str]:
    classical = {m: v for m, v in by_method.items() if group.get(m) == "classical"}
    out = []
    for method, v in by_method.items():
        if group.get(method) != "learned" or not classical:
            continue
        cells = []
        for key, higher in MARGINS:
            others = {m: c[key] for m, c in classical.items()}
            top = (max if higher else min)(others, key=others.get)
            diff = v[key] - others[top] if higher else others[top] - v[key]
            cells.append(f"{key} {diff:+.3f} vs {top}")
        out.append(f"- {method}: " + "; ".join(cells))
    return out


def write_card_metrics(name: str, metrics: dict) -> None:
    """Replace the ``metrics`` of the bundled model card ``src/inpaintkit/weights/<name>.json``."""
    path = ROOT / "src" / "inpaintkit" / "weights" / f"{name}.json"
    card = json.loads(path.read_text())
    card["metrics"] = metrics
    path.write_text(json.dumps(card, indent=2) + "\n")
    print(f"metrics written to {path}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--card", help="bundled deepfill model whose card gets the metrics")
    p.add_argument("--label", default="deepfill", help="the method whose means --card writes")
    p.add_argument("--masks", default="", help="comma list: the masks --card writes (all)")
    p.add_argument("--faces", action="store_true", help="CelebA tables (eval_deepfill.sh faces)")
    args = p.parse_args()
    metrics: dict[str, dict] = {"eval": "scripts/eval_deepfill.sh classical && ... learned"}
    if args.faces:
        metrics["eval"] = "scripts/eval_deepfill.sh faces"
    if args.label != "deepfill":
        metrics["eval"] = f"row {args.label} of docs/deepfill.md's tables (eval command there)"
    card_masks = set(filter(None, args.masks.split(",")))
    for dataset in ("celeba",) if args.faces else DATASETS:
        summary, group = load_faces() if args.faces else load(dataset)
        if not summary:
            print(f"(no runs for {dataset})\n")
            continue
        for mask, by_method in summary.items():
            n = int(next(iter(by_method.values()))["n"])
            size = 128 if args.faces else 256
            print(f"### {dataset} val, mask `{mask}` ({n} images, {size}x{size})\n")
            print("\n".join(table(by_method)) + "\n")
            print("\n".join(margins(by_method, group)) + "\n")
            if args.label in by_method and (not card_masks or mask in card_masks):
                keep = ("l1_hole", "l2_hole", "psnr", "ssim", "tv", "lpips", "seconds", "n")
                d = by_method[args.label]
                metrics[f"{dataset}/{mask}"] = {k: round(d[k], 4) for k in keep if k in d}
    if args.card:
        write_card_metrics(args.card, metrics)


if __name__ == "__main__":
    main()
