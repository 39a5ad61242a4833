"""How visible a periodic grid (checkerboard) is inside filled holes: a number per method.

    python scripts/grid_score.py --data DIR/imagenet/val --limit 50 \\
        --method deepfill --method new=deepfill:runs/v20/perc3/export_2/deepfill.safetensors \\
        --method patchmatch

Each image is cropped to a 256 px square as ``inpaintkit eval`` does, and filled in its centre
128 px box. A grid repeats every 2, 4 or 8 pixels (DeepFill's contextual attention pastes
patches with an 8 px stride, its decoder upsamples by 2 twice), so it makes a spike in the
Fourier magnitude of the hole's grey levels at those periods. The score at a period is the
magnitude there over the mean of its 24 neighbouring frequencies, averaged over the two axes and
the diagonal and over the images: about 1 for natural texture (the ground truth's row), above
1.5 a grid that shows at 100 % zoom. Prints a Markdown table, one row per method and the
ground truth.
"""

from __future__ import annotations

import argparse

import numpy as np

from inpaintkit.api import inpaint
from inpaintkit.eval.images import load_eval_images

PERIODS = (2, 4, 8)
SIZE, BOX, MARGIN = 256, 128, 8  # the crop, the centre hole, the band left out at its edge


def spike_scores(gray: np.ndarray) -> dict[int, float]:
    """Spike of each period in ``gray`` (N, N) float (N divisible by 8): magnitude / neighbours."""
    n = gray.shape[0]
    mag = np.abs(np.fft.fft2(gray - gray.mean()))
    out = {}
    for p in PERIODS:
        k, ratios = n // p, []
        for i, j in ((k, 0), (0, k), (k, k)):
            around = [mag[(i + a) % n, (j + b) % n] for a in range(-2, 3) for b in range(-2, 3)
                      if (a, b) != (0, 0)]  # fmt: skip
            ratios.append(mag[i, j] / max(float(np.mean(around)), 1e-9))
        out[p] = float(np.mean(ratios))
    return out


def table(first: str, rows: dict[str, list[dict[int, float]]]) -> str:
    """Markdown: one row per label, ``mean ± standard error`` of each period's scores."""
    lines = [f"| {first} | " + " | ".join(f"period {q}" for q in PERIODS) + " |",
             "|---|" + "---|" * len(PERIODS)]  # fmt: skip
    for label, scores in rows.items():
        per = [np.array([s[q] for s in scores]) for q in PERIODS]
        se = [v.std(ddof=1) / len(v) ** 0.5 if len(v) > 1 else float("nan") for v in per]
        cells = [f"{v.mean():.2f} ± {e:.2f}" for v, e in zip(per, se, strict=True)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_method(spec: str) -> tuple[str, str, dict[str, str]]:
    """``label=method:model`` / ``method:model`` / ``method`` -> (label, method, options)."""
    label, _, rest = spec.rpartition("=")
    method, _, model = rest.partition(":")
    return label or rest, method, ({"model": model} if model else {})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="a folder of images (e.g. ImageNet val)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--method", action="append", required=True,
                   help="label=method:model, method:model or method (repeatable)")  # fmt: skip
    a = p.parse_args()
    images = load_eval_images(a.data, size=SIZE, limit=a.limit)
    lo, hi = (SIZE - BOX) // 2, (SIZE + BOX) // 2
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[lo:hi, lo:hi] = 255
    inner = slice(lo + MARGIN, hi - MARGIN)  # 112 px: divisible by 8

    def score(px: np.ndarray) -> dict[int, float]:
        return spike_scores(px[inner, inner].astype(np.float64).mean(-1))

    rows = {"ground truth": [score(px) for _, px in images]}
    for spec in a.method:
        label, method, opts = parse_method(spec)
        rows[label] = [score(inpaint(px, mask, method=method, **opts).pixels) for _, px in images]
    print(f"Grid spike in the centre {BOX} px hole, {len(images)} images at {SIZE} px "
          "(1 = no grid; mean ± standard error over the images)\n")  # fmt: skip
    print(table("method", rows))


if __name__ == "__main__":
    main()
