"""Make small copies of the training data for the device (GPU) machine, which `carry` moves.

    python scripts/pack_for_device.py natural [--short-side 256]   # -> runs/pack/natural
    python scripts/pack_for_device.py cars [--short-side 64]        # -> runs/pack/cars

The device machine cannot see ../shared, and one `run` call carries at most 64 MiB of ignored
paths (what it carries stays there while the machine is warm). ImageNet train (31 MB) + DTD
train (34 MB) + the photo tiles (29 MB, scripts/fetch_photos.py) do not fit, so each image is
re-encoded (JPEG, ``--quality`` 85) with its short side reduced to ``--short-side`` (never
enlarged): 256 (the default) is the size of Places2's standard images and of the paper-size
DeepFill and Song crops; 144 is what the CPU runs use (``--data-opt short_side=144``).
``cars``: the split made by scripts/split_cars.py, whole box crops with the short side at 64
(the 64x64 models resize them anyway). CelebA needs no pack: ``align_178x218/train`` (47 MB)
and ``align_89x109/train`` (39 MB) each fit in one call as they are (copy them into
``runs/pack/``).

Prints the size of the pack and the ``--data`` spec to train on, e.g.::

    runs/pack/natural: 2871 images, 59.0 MiB   (lower --quality: the ~13 MiB tree travels too)
    --data "runs/pack/natural/imagenet+runs/pack/natural/dtd+runs/pack/natural/photos"
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fetch_photos import resized  # same folder: scripts/
from PIL import Image

SHARED = Path("../shared/datasets")
SOURCES = {
    "natural": {
        "imagenet": SHARED / "imagenet/train",
        "dtd": SHARED / "dtd/train",
        "photos": Path("runs/data/photos/train"),
    },
    "cars": {"train": Path("runs/data/cars/train"), "val": Path("runs/data/cars/val")},
}
SPECS = {
    "natural": "runs/pack/natural/imagenet+runs/pack/natural/dtd+runs/pack/natural/photos",
    "cars": "cars:runs/pack/cars/train",
}
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


def shrink(src: Path, dst: Path, short_side: int, quality: int) -> None:
    """Re-encode ``src`` as JPEG ``dst``, short side at most ``short_side`` (Lanczos)."""
    im = Image.open(src).convert("RGB")
    if min(im.size) > short_side:
        im = resized(im, short_side)
    dst.parent.mkdir(parents=True, exist_ok=True)
    im.save(dst, quality=quality)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("what", choices=sorted(SOURCES))
    p.add_argument("--short-side", type=int, help="default 256 (natural) or 64 (cars)")
    p.add_argument("--quality", type=int, default=85, help="JPEG quality")
    p.add_argument("--out", type=Path, default=Path("runs/pack"))
    args = p.parse_args()
    short = args.short_side or {"natural": 256, "cars": 64}[args.what]
    out, n = args.out / args.what, 0
    for part, folder in SOURCES[args.what].items():
        if not folder.is_dir():
            raise SystemExit(f"{folder} is missing (see this script's docstring)")
        for src in sorted(f for f in folder.rglob("*") if f.suffix.lower() in SUFFIXES):
            dst = (out / part / src.relative_to(folder)).with_suffix(".jpg")
            shrink(src, dst, short, args.quality)
            n += 1
    mib = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    print(f"{out}: {n} images, {mib:.1f} MiB{' (over 64: lower --short-side)' if mib > 64 else ''}")
    print(f'--data "{SPECS[args.what]}"')


if __name__ == "__main__":
    main()
