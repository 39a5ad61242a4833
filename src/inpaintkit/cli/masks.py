"""``inpaintkit masks``: write a seeded generated mask to try a method with."""

from __future__ import annotations

import argparse
from pathlib import Path

from inpaintkit.errors import InpaintError


def add_masks_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``inpaintkit masks``."""
    p = sub.add_parser(
        "masks",
        help="write a generated mask (centre, pattern, random80, half, strokes, ...)",
        description="Write one seeded mask: white (255) = hole, black = known.",
        epilog="examples:\n  inpaintkit masks --list\n"
        "  inpaintkit masks center --size 64x64 -o center.png\n"
        "  inpaintkit masks thick --size 512x384 --seed 7 -o strokes.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("kind", nargs="?", help="mask kind (see --list)")
    p.add_argument("--size", default="256x256", help="WxH (default 256x256)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", type=Path, help="output PNG")
    p.add_argument("--list", action="store_true", help="list the kinds")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=masks_command)


def parse_size(text: str) -> tuple[int, int]:
    """``"640x480"`` -> (640, 480); ``"256"`` -> (256, 256)."""
    try:
        parts = [int(v) for v in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 1:
        raise InpaintError(f"size must look like 640x480, got {text!r}")
    return parts[0], parts[1]


def masks_command(args: argparse.Namespace) -> int:
    """Handler of ``inpaintkit masks``."""
    from inpaintkit.masks import MASK_KINDS, make_mask, mask_coverage

    if args.list or not args.kind:
        for name, fn in sorted(MASK_KINDS.items()):
            doc = (fn.__doc__ or "").strip().splitlines()
            print(f"{name:<14} {doc[0] if doc else ''}")
        return 0
    if args.output is None:
        raise InpaintError("give an output file with -o mask.png")
    from inpaintkit.io import write_mask

    mask = make_mask(args.kind, parse_size(args.size), seed=args.seed)
    out = write_mask(args.output, mask, overwrite=args.overwrite)
    print(
        f"{out}: {args.kind} {args.size}, seed {args.seed}, {100 * mask_coverage(mask):.1f}% hole"
    )
    return 0
