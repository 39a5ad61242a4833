"""``inpaintkit data show``: a grid of what a model would be trained on."""

from __future__ import annotations

import argparse
from pathlib import Path

DATA_EPILOG = """\
examples:
  inpaintkit data show --data celeba:celeba/align_178x218/train --size 64 -o celeba.png
  inpaintkit data show --data cars:DIR/cars/train --size 64 -o cars.png
  inpaintkit data show --data DIR/dtd/train --size 256 -n 16 -o dtd.png
  inpaintkit data show --data housenumbers --size 64 -o house_numbers.png

--data takes a folder (layout detected), a scheme such as celeba:DIR, svhn:DIR, cars:DIR,
places365:DIR, dtd:DIR, paris:DIR, housenumbers[:PHOTOS_DIR], or several joined with '+'.
See docs/data.md.
"""


def add_data_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``inpaintkit data`` and its ``show`` action."""
    p = sub.add_parser(
        "data",
        help="look at training data (grids of what a model is trained on)",
        description="Inspect datasets as the training loop sees them.",
        epilog=DATA_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    acts = p.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    s = acts.add_parser(
        "show",
        help="write a grid of training images",
        epilog=DATA_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("--data", required=True, help="dataset spec (folder or scheme:folder)")
    s.add_argument("--size", type=int, default=64, help="image side (default 64)")
    s.add_argument("-n", type=int, default=64, help="number of images (default 64)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--split", default="train", choices=("train", "val", "test"))
    s.add_argument("--transform", default="auto", help="auto or an explicit transform name")
    s.add_argument("-o", "--output", type=Path, required=True, help="output PNG")
    s.set_defaults(func=data_show_command)


def data_show_command(args: argparse.Namespace) -> int:
    """Handler of ``inpaintkit data show``."""
    from inpaintkit.data.grid import show_dataset

    out = show_dataset(
        args.data,
        size=args.size,
        n=args.n,
        seed=args.seed,
        out=args.output,
        transform=args.transform,
        split=args.split,
    )
    print(f"wrote {out}")
    return 0
