"""Split the shared Stanford Cars crops (train split only) into train and held-out folders.

    python scripts/split_cars.py [../shared/datasets/cars/train] [runs/data/cars]

Every 16th file in sorted order (509 of 8,144) goes to ``val/``, the rest to ``train/``, as
symbolic links; the bundled cars64 models never saw the ``val/`` images.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/cars/train").resolve()
    dst = Path(sys.argv[2] if len(sys.argv) > 2 else "runs/data/cars")
    files = sorted(p for p in src.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    counts = {"train": 0, "val": 0}
    for i, f in enumerate(files):
        split = "val" if i % 16 == 15 else "train"
        (dst / split).mkdir(parents=True, exist_ok=True)
        link = dst / split / f.name
        if not link.exists():
            os.symlink(f, link)
        counts[split] += 1
    print(f"{dst}: {counts['train']} train, {counts['val']} val")


if __name__ == "__main__":
    main()
