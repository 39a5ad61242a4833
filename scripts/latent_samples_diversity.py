"""How different are the ``samples=K`` fills of the latent searches, and how good is each?

    OMP_NUM_THREADS=1 python scripts/latent_samples_diversity.py \
        --data celeba:../shared/datasets/celeba/align_178x218/val --limit 16 --samples 4 \
        [--methods yeh2017,vitoria2019] [--model celeba64] [--mask center] [--preset fast]
        [--out runs/samples-celeba64] [--grid docs/img/samples_celeba64.png]

For each method: the K fills of every image (``samples=K``, one batched call), then
- diversity: the mean pairwise LPIPS between the K fills on the hole's bounding box (and the
  mean pairwise RMS difference in the hole, the distance of the selection rule);
- quality: PSNR and LPIPS (whole image, against the original) of fill 1 (the lowest search
  loss: what ``samples=1``-style use would keep) and fill K (the highest loss of the K), and of
  the per-image best and worst of the K by LPIPS (what a person choosing could gain or lose);
- how many images got K fills that all pass the distance rule.
Prints a Markdown table; ``--out`` also writes it (summary.md) with per_image.csv; ``--grid``
draws, for the first ``--grid-rows`` images, input | fill 1 .. K | original.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from inpaintkit.convert import from_tensor, mask_to_tensor, to_tensor
from inpaintkit.eval.images import load_eval_images
from inpaintkit.masks import make_mask
from inpaintkit.methods.latent_samples import hole_distance
from inpaintkit.metrics import psnr
from inpaintkit.perceptual import lpips
from inpaintkit.registry import get_method


def _bbox(hole: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(hole)
    return int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1


def _as_8bit(t: torch.Tensor) -> torch.Tensor:
    """(N, 3, S, S) in [-1, 1] -> the same, rounded to 8 bits (what a saved file holds)."""
    return torch.cat([to_tensor(from_tensor(t[i : i + 1])) for i in range(len(t))])


def measure(method: str, x: torch.Tensor, hole: np.ndarray, args: argparse.Namespace) -> dict:
    """Run ``method`` with samples=K on x (N, 3, S, S) and measure its fills (see the module)."""
    m = mask_to_tensor(hole).expand(len(x), -1, -1, -1)  # (N, 1, S, S)
    opts = {"model": args.model, "preset": args.preset, "samples": args.samples}
    start = time.perf_counter()
    res = get_method(method).fn(x * (1 - m), m, seed=args.seed, progress=False, **opts)
    seconds = time.perf_counter() - start
    N, K = len(x), args.samples
    # what a user gets: 8-bit pictures (as the eval harness measures them)
    out = res.extras["samples"]  # (N, K, 3, S, S)
    fills = torch.stack([_as_8bit(out[:, k]) for k in range(K)], 1)
    y0, y1, x0, x1 = _bbox(hole)
    crop = fills[..., y0:y1, x0:x1]  # (N, K, 3, h, w)
    pairs = list(itertools.combinations(range(K), 2))
    div_lpips = torch.stack([lpips(crop[:, i], crop[:, j]) for i, j in pairs], 1).mean(1)
    div_rms = torch.stack([hole_distance(fills[:, i], fills[:, j], m) for i, j in pairs], 1)
    quality_psnr = torch.stack([psnr(fills[:, k], x) for k in range(K)], 1)  # (N, K)
    quality_lpips = torch.stack([lpips(fills[:, k], x) for k in range(K)], 1)
    best, worst = quality_lpips.argmin(1), quality_lpips.argmax(1)
    rows = torch.arange(N)
    passed = int((res.extras.get("sample_distinct", torch.full((N,), K)) >= K).sum())
    return {
        "method": method,
        "seconds": seconds,
        "passed": passed,
        "n": N,
        "div_lpips": div_lpips.double(),
        "div_rms": div_rms.mean(1).double(),
        "psnr": quality_psnr.double(),
        "lpips": quality_lpips.double(),
        "best": best,
        "worst": worst,
        "rows": rows,
        "fills": fills,
    }


def table(results: list[dict], K: int) -> str:
    head = (
        f"| method | pairwise LPIPS of the {K} fills (hole box) | pairwise RMS in the hole | "
        f"all {K} distinct | fill 1 PSNR / LPIPS | fill {K} PSNR / LPIPS | best of {K} "
        f"PSNR / LPIPS | worst of {K} PSNR / LPIPS | seconds |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in results:
        p, q, rows = r["psnr"], r["lpips"], r["rows"]

        def pair(col: torch.Tensor, p=p, q=q, rows=rows) -> str:
            return f"{p[rows, col].mean():.2f} / {q[rows, col].mean():.4f}"

        first, last = torch.zeros_like(rows), torch.full_like(rows, K - 1)
        lines.append(
            f"| `{r['method']}` | {r['div_lpips'].mean():.4f} | {r['div_rms'].mean():.4f} | "
            f"{r['passed']} / {r['n']} | {pair(first)} | {pair(last)} | {pair(r['best'])} | "
            f"{pair(r['worst'])} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def write_csv(path: Path, results: list[dict], names: list[str], K: int) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", "image", "fill", "psnr", "lpips", "div_lpips", "div_rms"])
        for r in results:
            for i, k in itertools.product(range(r["n"]), range(K)):
                w.writerow(
                    [r["method"], names[i], k + 1, f"{float(r['psnr'][i, k]):.4f}",
                     f"{float(r['lpips'][i, k]):.5f}", f"{float(r['div_lpips'][i]):.5f}",
                     f"{float(r['div_rms'][i]):.5f}"]
                )  # fmt: skip


def grid(path: Path, x: torch.Tensor, hole: np.ndarray, results: list[dict], n: int) -> None:
    """Rows: for each method and each of the first n images, input | fills | original."""
    tiles = []
    masked = x.clone()
    masked[:, :, torch.from_numpy(hole)] = 1.0  # the hole in white
    for r in results:
        for i in range(min(n, len(x))):
            row = [masked[i], *r["fills"][i], x[i]]
            tiles.append(np.concatenate([from_tensor(t[None]) for t in row], 1))
    Image.fromarray(np.concatenate(tiles, 0)).save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="a folder or dataset spec (celeba:DIR)")
    ap.add_argument("--limit", type=int, default=16, help="images (default 16)")
    ap.add_argument("--methods", default="yeh2017,vitoria2019")
    ap.add_argument("--model", default="celeba64")
    ap.add_argument("--samples", type=int, default=4, help="K (default 4)")
    ap.add_argument("--mask", default="center", help="mask kind (default center)")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--out", type=Path, help="folder for summary.md and per_image.csv")
    ap.add_argument("--grid", type=Path, help="PNG: input | fills | original")
    ap.add_argument("--grid-rows", type=int, default=3, help="images per method in the grid")
    args = ap.parse_args()
    items = load_eval_images(args.data, size=args.size, limit=args.limit)
    names = [name for name, _ in items]
    x = torch.cat([to_tensor(px) for _, px in items])  # (N, 3, S, S)
    hole = make_mask(args.mask, (args.size, args.size), seed=args.seed)
    results = [measure(m, x, hole, args) for m in args.methods.split(",")]
    text = table(results, args.samples)
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "summary.md").write_text(text + "\n")
        write_csv(args.out / "per_image.csv", results, names, args.samples)
    if args.grid:
        grid(args.grid, x, hole, results, args.grid_rows)


if __name__ == "__main__":
    torch.set_grad_enabled(True)
    main()
