"""``inpaintkit stylize``: Song et al.'s arbitrary style transfer with a trained Feature2Image.

The parser and handler only; what it does, and how the sizes and the model are chosen, is
told in :mod:`inpaintkit.style_transfer`::

    inpaintkit stylize --content photo.jpg --style painting.png -o out.png [--size 256]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inpaintkit.errors import InpaintError

EXAMPLES = """\
examples:
  inpaintkit stylize --content photo.jpg --style painting.png -o out.png
  inpaintkit stylize --content a.png --style b.png -o out.png --size 512 --model imagenet256
"""


def add_stylize_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``inpaintkit stylize``."""
    p = sub.add_parser(
        "stylize",
        help="arbitrary style transfer with a Song et al. Feature2Image model",
        description="Rebuild the content image's VGG features from the style image's patches "
        "(style swap) and translate them to an image with a trained song2018 G2.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--content", required=True, type=Path, help="the image to restyle")
    p.add_argument("--style", required=True, type=Path, help="the image whose patches to use")
    p.add_argument("-o", "--output", required=True, type=Path, help="output image file")
    p.add_argument("--model", help="song2018 model: domain, name or .safetensors path")
    p.add_argument("--size", type=int, default=256, help="longer side of the result (256)")
    p.add_argument("--style-size", type=int, help="longer side of the style (default --size)")
    p.add_argument("--patch", type=int, default=3, help="patch size of the style swap (3)")
    p.add_argument("--stride", type=int, default=1, help="stride of the style patches (1)")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.set_defaults(func=stylize_command)


def stylize_command(args: argparse.Namespace) -> int:
    """Handler of ``inpaintkit stylize``: read, transfer, write (never over an existing file
    unless ``--overwrite``)."""
    from inpaintkit import io
    from inpaintkit.api import load_image  # the pixel limit, checked from the header
    from inpaintkit.atomic import resolve_output
    from inpaintkit.style_transfer import stylize_pixels

    content, style = load_image(args.content), load_image(args.style)
    if resolve_output(args.output).exists() and not args.overwrite:  # fail before the work
        raise InpaintError(f"{args.output} already exists; pass --overwrite to replace it")
    pixels = stylize_pixels(
        content.pixels, style.pixels, model=args.model, size=args.size,
        style_size=args.style_size, patch=args.patch, stride=args.stride, device=args.device,
    )  # fmt: skip
    path = io.write_image(args.output, pixels, overwrite=args.overwrite)
    print(f"wrote {path} ({pixels.shape[1]}x{pixels.shape[0]})")
    return 0
