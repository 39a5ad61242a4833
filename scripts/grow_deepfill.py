"""Grow a DeepFill training checkpoint to twice its crop size (:mod:`inpaintkit.train.grow`).

    python scripts/grow_deepfill.py runs/deepfill-cpu128-9000/checkpoints/step_006655 \\
        runs/deepfill-grow256/checkpoints/step_006655
    inpaintkit train deepfill --resume runs/deepfill-grow256 --out runs/deepfill-grow256 \\
        --set recipe.image_size=256 ...   # the rest as the 128 px run
"""

from __future__ import annotations

import argparse

from inpaintkit.train.grow import grow_deepfill_checkpoint


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", help="a deepfill checkpoint folder (step_NNNNNN)")
    ap.add_argument("dst", help="the new checkpoint folder")
    args = ap.parse_args()
    for head, (old, new) in grow_deepfill_checkpoint(args.src, args.dst).items():
        print(f"{head}: {old} -> {new} inputs")
    print(f"wrote {args.dst}; resume it with --set recipe.image_size=<twice the old size>")


if __name__ == "__main__":
    main()
