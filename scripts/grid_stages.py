"""Which part of DeepFill makes the period-8 grid: the grid score of each stage's output.

    python scripts/grid_stages.py --data DIR/imagenet/val --limit 50 [--model natural256]

Runs the generator directly on the same 256 px crops and centre 128 px holes as
``scripts/grid_score.py`` and scores (1 = no grid; mean ± standard error over the images):

- ``coarse``: the coarse network's output (no contextual attention in it);
- ``fine``: the refinement network's output (what ``deepfill`` pastes);
- ``fine, attention branch zeroed``: the refinement with the contextual-attention branch's
  features set to zero (an ablation: the decoder was trained with them, so it is only a hint).
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import torch

from inpaintkit.eval.images import load_eval_images
from inpaintkit.weights import resolve_model
from inpaintkit.weights.read import load_network

_spec = importlib.util.spec_from_file_location(
    "grid_score", Path(__file__).with_name("grid_score.py")
)
assert _spec is not None and _spec.loader is not None
grid_score = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grid_score)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="a folder of images (e.g. ImageNet val)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--model", default=None, help="a deepfill domain or .safetensors path")
    a = p.parse_args()
    G, _ = load_network("deepfill", resolve_model("deepfill", a.model))
    size, box, margin = grid_score.SIZE, grid_score.BOX, grid_score.MARGIN
    lo, hi = (size - box) // 2, (size + box) // 2
    inner = slice(lo + margin, hi - margin)
    mask = torch.zeros(1, 1, size, size)
    mask[..., lo:hi, lo:hi] = 1

    def score(t: torch.Tensor) -> dict[int, float]:  # (1, 3, H, W) in [-1, 1]
        grey = ((t[0].mean(0) + 1) * 127.5).numpy()[inner, inner].astype(np.float64)
        return grid_score.spike_scores(grey)

    labels = ("coarse", "fine", "fine, attention branch zeroed")
    rows: dict[str, list[dict[int, float]]] = {k: [] for k in labels}
    images = load_eval_images(a.data, size=size, limit=a.limit)
    for _, px in images:
        x = torch.from_numpy(np.array(px)).permute(2, 0, 1)[None].float() / 127.5 - 1
        with torch.no_grad():
            out = G(x, mask)
            rows["coarse"].append(score(out.coarse))
            rows["fine"].append(score(out.fine))
            hook = G.refine.attention_out.register_forward_hook(lambda m, i, o: torch.zeros_like(o))
            fine0, _ = G.refine(out.coarse * mask + x * (1 - mask), mask)
            hook.remove()
            rows["fine, attention branch zeroed"].append(score(fine0))
    print(
        f"Grid spike by DeepFill stage, centre {box} px hole, {len(images)} images at {size} px\n"
    )
    print(grid_score.table("output", rows))


if __name__ == "__main__":
    main()
