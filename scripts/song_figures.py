"""Figures of docs/song.md: the multi-scale stages, and style transfer with the same G2.

    python scripts/song_figures.py [--model natural128] [--shared ../shared]

Writes docs/img/song_stages.jpg: ImageNet val centre crops at 512x512 with the centre 224 hole
(the paper's Table 1 setting); columns input (hole white) | G1 at 128 | stage 128 | stage 256 |
stage 512 | song2018 at scales 128,256,512 (blended) | song2018 at its default scales (the
bundled model: 128 alone) | patchmatch | original, each shown at 256 px. And
docs/img/song_style.jpg: rows content | style (a DTD val texture) | ``stylize`` result at 256.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from skimage import data

import inpaintkit
from inpaintkit.convert import from_tensor
from inpaintkit.eval.images import load_eval_images
from inpaintkit.eval.report import show_hole
from inpaintkit.masks import make_mask
from inpaintkit.style_transfer import stylize_pixels

ROOT = Path(__file__).resolve().parents[1]
STAGE_IMAGES = (3, 11, 24, 40)  # indices into the first 50 ImageNet val crops (eval order)
STYLES = (("astronaut", "dtd/val/crystalline"), ("chelsea", "dtd/val/bubbly"),
          ("coffee", "dtd/val/braided"))  # fmt: skip


def _cell(px: np.ndarray, side: int = 256) -> np.ndarray:
    return cv2.resize(px, (side, side), interpolation=cv2.INTER_AREA)


def _save(picture: np.ndarray, name: str) -> None:
    out = ROOT / "docs" / "img" / name
    cv2.imwrite(str(out), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(out)


def stages(model: str, shared: Path) -> None:
    images = load_eval_images(str(shared / "datasets/imagenet/val"), size=512, limit=50)
    hole = make_mask("center", (512, 512), box=(224, 224))
    rows = []
    for i in STAGE_IMAGES:
        px = images[i][1]
        res = inpaintkit.inpaint(px, hole, "song2018", model=model, scales=(128, 256, 512))
        default = inpaintkit.inpaint(px, hole, "song2018", model=model)
        pm = inpaintkit.inpaint(px, hole, "patchmatch")
        parts = [show_hole(px, hole)]
        for key in ("g1", "stage_128", "stage_256", "stage_512"):
            parts.append(from_tensor(res.extras[key][0].float(), dtype=np.uint8))
        parts += [res.pixels, default.pixels, pm.pixels, px]
        rows.append(np.concatenate([_cell(p) for p in parts], 1))
    _save(np.concatenate(rows, 0), "song_stages.jpg")


def style(model: str, shared: Path) -> None:
    rows = []
    for name, folder in STYLES:
        content = getattr(data, name)()
        path = sorted((shared / "datasets" / folder).iterdir())[0]
        sty = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        out = stylize_pixels(content, sty, model=model, size=256)
        rows.append(np.concatenate([_cell(content), _cell(sty), _cell(out)], 1))
    _save(np.concatenate(rows, 0), "song_style.jpg")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="natural128")
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    p.add_argument("--only", choices=("stages", "style"), help="make one of the two figures")
    args = p.parse_args()
    if args.only != "style":
        stages(args.model, args.shared)
    if args.only != "stages":
        style(args.model, args.shared)


if __name__ == "__main__":
    main()
