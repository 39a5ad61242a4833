"""Put the method columns of one evaluation grid into another made on the same images and masks.

    python scripts/splice_grid.py runs/eval-celeba64/grid_center.png \
        runs/eval-celeba64-vitoria/grid_center.png --after 1 -o docs/img/eval_celeba64_center.jpg

``inpaintkit eval`` draws ``input | method... | ground truth`` columns (``report.picture_grid``:
``--cell`` px tiles, 4 px gaps). A method evaluated later on the same images and seeded masks
(``OUT=... METHODS=... bash scripts/eval_latent.sh``) has its own grid; this copies its method
columns (all but the first and last) into the first grid after column ``--after`` (0 = input),
so the picture shows every method side by side. The rows must match: same images, same order.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

PAD = 4  # the gap report.picture_grid leaves between and around tiles


def columns(grid: Image.Image, cell: int) -> list[Image.Image]:
    """The grid cut into its column strips (each a tile plus the gap on its left)."""
    step = cell + PAD
    n = (grid.width - PAD) // step
    if PAD + n * step != grid.width:
        raise SystemExit(f"a {grid.width} px wide grid is not made of {cell} px cells")
    return [grid.crop((j * step, 0, (j + 1) * step, grid.height)) for j in range(n)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("base", type=Path)
    p.add_argument("extra", type=Path)
    p.add_argument("--after", type=int, default=1, help="insert after this column of base")
    p.add_argument("--cell", type=int, default=128, help="tile size of both grids")
    p.add_argument("-o", "--output", type=Path, required=True)
    args = p.parse_args()
    base, extra = (Image.open(f).convert("RGB") for f in (args.base, args.extra))
    if base.height != extra.height:
        raise SystemExit(f"the grids have different heights ({base.height}, {extra.height})")
    cols = columns(base, args.cell)
    cols[args.after + 1 : args.after + 1] = columns(extra, args.cell)[1:-1]
    out = Image.new("RGB", (sum(c.width for c in cols) + PAD, base.height), "white")
    for j, c in enumerate(cols):
        out.paste(c, (j * c.width, 0))
    out.save(args.output, quality=85)
    print(f"{args.output}: {len(cols)} columns")


if __name__ == "__main__":
    main()
