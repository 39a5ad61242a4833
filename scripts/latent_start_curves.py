"""Quality of the latent search against its steps, per start: random, best of N, encoder.

Runs ``yeh2017`` / ``vitoria2019`` (the methods users call: same crops, search, Poisson blend)
once per start on the same held-out images and holes, and measures the composite at chosen
steps of that ONE search (the latents are taken at those steps, filled and blended as the
method does at its end), so a curve costs one search, not one per point. Writes JSON rows
(start, step, seconds, PSNR, hole PSNR, SSIM, LPIPS) and, with --plot, a PNG (matplotlib, not a
dependency of inpaintkit: ``pip install matplotlib``).

    python scripts/latent_start_curves.py --method yeh2017 --model celeba64 \\
        --data celeba:DIR/celeba/align_178x218/val --n 64 --steps 0,50,150,500,1500 \\
        --starts random,best32,encoder --out runs/latent_starts/yeh2017.json --plot docs/img/x.png

A start is ``NAME`` or ``NAME@MAXSTEPS`` (stop that start's search earlier):
``random`` (the ``paper`` preset's one random z), ``best32`` (the best of 32 random z, the
``fast`` preset's start), ``encoder`` (the model's installed latent encoder), ``encoder_best32``
(the encoder's z and 31 random z), ``encoder_jitter`` (the encoder's z and 31 around it,
Gaussian noise of --jitter). Every search runs in --precision (fp32: the paper's).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

import inpaintkit.methods.latent_search as ls
from inpaintkit.composite import fill_hole
from inpaintkit.data.sources import open_dataset
from inpaintkit.masks import make_mask
from inpaintkit.metrics import psnr, ssim
from inpaintkit.perceptual import lpips_composite
from inpaintkit.registry import get_method
from inpaintkit.weights import load_gan, resolve_model

STARTS: dict[str, dict[str, Any]] = {
    "random": {"start": "random", "init_candidates": 1},
    "best32": {"start": "random", "init_candidates": 32},
    "encoder": {"start": "encoder", "init_candidates": 1},
    "encoder_best32": {"start": "encoder", "init_candidates": 32},
    "encoder_jitter": {"start": "encoder", "init_candidates": 32},
}


@contextlib.contextmanager
def traced(**extra: Any) -> Iterator[None]:
    """Have the methods' latent search take ``extra`` keyword arguments (``on_latent``, ...)."""
    original = ls.latent_search
    ls.latent_search = functools.partial(original, **extra)
    try:
        yield
    finally:
        ls.latent_search = original


def measure(
    fill: torch.Tensor, y: torch.Tensor, m: torch.Tensor, truth: torch.Tensor
) -> dict[str, float]:
    """Metrics of the blended composite of ``fill`` (B, 3, S, S) into y (B, 3, S, S)."""
    out = fill_hole(y, m, fill, blend=True)
    out = ((out + 1) * 127.5).round() / 127.5 - 1  # what the user's 8-bit file holds
    whole, _ = lpips_composite(out, truth, m)
    return {
        "psnr": psnr(out, truth).mean().item(),
        "psnr_hole": psnr(out, truth, m).mean().item(),
        "ssim": ssim(out, truth).mean().item(),
        "lpips": whole.mean().item(),
    }


def run_start(
    name: str, max_steps: int, steps: list[int], args: argparse.Namespace, truth: torch.Tensor,
    m: torch.Tensor, G: torch.nn.Module,
) -> list[dict[str, Any]]:  # fmt: skip
    """One search with start ``name``; a row per step of ``steps`` up to ``max_steps``."""
    y = truth * (1 - m)
    want = {s for s in steps if s <= max_steps}
    rows: list[dict[str, Any]] = []
    overhead = cpu_overhead = 0.0
    t0, c0 = time.perf_counter(), time.process_time()

    def on_latent(step: int, z: torch.Tensor) -> None:
        nonlocal overhead, cpu_overhead
        if step not in want:
            return
        t, c = time.perf_counter(), time.process_time()
        with torch.no_grad():
            fill = G(z)
        row = {
            "start": name,
            "step": step,
            "seconds": t - t0 - overhead,  # wall: depends on the machine's load
            "cpu_seconds": c - c0 - cpu_overhead,  # this process's CPU time (all its threads)
            "threads": torch.get_num_threads(),
            **measure(fill, y, m, truth),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        overhead += time.perf_counter() - t
        cpu_overhead += time.process_time() - c

    extra: dict[str, Any] = {"on_latent": on_latent}
    if name == "encoder_jitter":
        extra["init_jitter"] = args.jitter
    opts = dict(STARTS[name])
    with traced(**extra):
        get_method(args.method).fn(
            y, m, model=args.model, iterations=max_steps, precision=args.precision,
            early_stop_tol=0.0, seed=args.seed, progress=False, **opts,
        )  # fmt: skip
    return rows


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """PSNR and LPIPS against steps (log scale, step 0 drawn at 1), one line per start."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for start in dict.fromkeys(r["start"] for r in rows):
        rs = sorted((r for r in rows if r["start"] == start), key=lambda r: r["step"])
        x = [max(r["step"], 1) for r in rs]
        axes[0].plot(x, [r["psnr"] for r in rs], "o-", label=start)
        axes[1].plot(x, [r["lpips"] for r in rs], "o-", label=start)
    for ax, what in zip(
        axes, ("PSNR dB (higher is better)", "LPIPS (lower is better)"), strict=True
    ):
        ax.set_xscale("log")
        ax.set_xlabel("search steps (0 drawn at 1)")
        ax.set_ylabel(what)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--method", default="yeh2017")
    p.add_argument("--model", default="celeba64")
    p.add_argument("--data", required=True, help="held-out images, e.g. celeba:DIR/.../val")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--mask", default="center")
    p.add_argument("--steps", default="0,50,150,500,1500")
    p.add_argument("--starts", default="random,best32,encoder")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    p.add_argument("--jitter", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="JSON rows (appended per start)")
    p.add_argument("--plot", type=Path, help="a PNG of the curves of every row in --out")
    args = p.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    _, _, cfg = load_gan(args.method, resolve_model(args.method, args.model), "cpu")
    G = load_gan(args.method, resolve_model(args.method, args.model), "cpu")[0]
    S = cfg.image_size
    ds = open_dataset(args.data, size=S, split="val", seed=args.seed)
    n = min(args.n, len(ds))
    truth = torch.stack([ds[i] for i in range(n)])  # (n, 3, S, S) in [-1, 1]
    holes = np.stack([make_mask(args.mask, (S, S), seed=args.seed + i) for i in range(n)])
    m = torch.from_numpy(holes[:, None].astype(np.float32))
    rows = json.loads(args.out.read_text()) if args.out.is_file() else []
    for spec in [s for s in args.starts.split(",") if s]:
        name, _, cap = spec.partition("@")
        rows = [r for r in rows if r["start"] != name]
        rows += run_start(name, int(cap) if cap else max(steps), steps, args, truth, m, G)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=1) + "\n")
    if args.plot:
        plot(rows, args.plot, f"{args.method} {args.model}: {n} held-out images, {args.mask} hole")


if __name__ == "__main__":
    main()
