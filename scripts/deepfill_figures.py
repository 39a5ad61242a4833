"""Figures of docs/deepfill.md: results with their attention maps, and the example photo.

    python scripts/deepfill_figures.py     # writes docs/img/deepfill_attention.jpg

Rows: scikit-image photos (astronaut, chelsea, coffee, rocket) at 256x256 with a box or free-form
hole; columns: input (hole white) | deepfill (bundled model) | attention map | telea | original.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage import data

import inpaintkit
from inpaintkit.eval.report import show_hole
from inpaintkit.masks import make_mask
from inpaintkit.methods.deepfill import attention_picture

ROOT = Path(__file__).resolve().parents[1]
CASES = (("astronaut", "box", 3), ("chelsea", "medium", 1), ("coffee", "box", 7),
         ("rocket", "thick", 2))  # fmt: skip


def main() -> None:
    rows = []
    for name, kind, seed in CASES:
        px = getattr(data, name)()
        side = min(px.shape[:2])
        px = cv2.resize(px[:side, :side], (256, 256), interpolation=cv2.INTER_AREA)
        hole = make_mask(kind, (256, 256), seed=seed)
        res = inpaintkit.inpaint(px, hole, "deepfill")
        tel = inpaintkit.inpaint(px, hole, "telea")
        rows.append(np.concatenate(
            [show_hole(px, hole), res.pixels, attention_picture(res.extras), tel.pixels, px], 1,
        ))  # fmt: skip
    out = ROOT / "docs" / "img" / "deepfill_attention.jpg"
    picture = np.concatenate(rows, 0)
    cv2.imwrite(str(out), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    print(out)


if __name__ == "__main__":
    main()
