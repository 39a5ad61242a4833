"""Draw the hand-placed object-removal masks of docs/efficient_training.md and the README grid.

    python scripts/removal_masks.py [--out docs/removal]

Each mask is a polygon (or box) traced by eye around one object in a held-out photo, dilated
by a few pixels as a person's brush would overshoot; written as ``<photo stem>__<object>_mask.png``
(255 = hole) at the photo's own size. The photos are not committed: the two wallpaper/OpenCV
photos come from ``python scripts/fetch_photos.py`` (``runs/data/photos/val``, held out from
every training run), the ImageNet ones from ../shared/datasets/imagenet/val (DATA.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

# photo -> (size (w, h), object -> (polygon points, dilation px))
SHAPES: dict[str, tuple[tuple[int, int], dict[str, tuple[list[tuple[int, int]], int]]]] = {
    "opencv_messi5.jpg": (
        (820, 512),
        {
            "player": (
                [
                    (100, 135),
                    (240, 160),
                    (300, 110),
                    (360, 88),
                    (405, 110),
                    (425, 170),
                    (470, 200),
                    (565, 238),
                    (560, 268),
                    (460, 238),
                    (455, 300),
                    (485, 322),
                    (560, 352),
                    (640, 380),
                    (688, 408),
                    (672, 440),
                    (600, 412),
                    (540, 402),
                    (480, 412),
                    (425, 422),
                    (405, 440),
                    (445, 470),
                    (468, 505),
                    (375, 506),
                    (355, 470),
                    (328, 440),
                    (330, 400),
                    (338, 340),
                    (300, 262),
                    (240, 212),
                    (150, 162),
                    (98, 150),
                ],
                10,
            ),
            "logo": ([(655, 448), (805, 448), (805, 500), (655, 500)], 4),
        },
    ),
    "lomiri_friends_by_Aitzol_Berasategi.jpg": (
        (512, 769),
        {
            "dog": (
                [
                    (240, 350),
                    (270, 338),
                    (322, 348),
                    (348, 385),
                    (348, 442),
                    (312, 472),
                    (302, 502),
                    (258, 502),
                    (244, 462),
                    (238, 400),
                ],
                8,
            ),
        },
    ),
    "n03444034_go-kart.jpg": (
        (383, 256),
        {
            "kart": (
                [
                    (58, 126),
                    (128, 120),
                    (134, 86),
                    (166, 76),
                    (178, 118),
                    (216, 124),
                    (266, 144),
                    (282, 166),
                    (282, 192),
                    (58, 192),
                ],
                5,
            ),
        },
    ),
    "n04252225_snowplow.jpg": (
        (384, 256),
        {
            "truck": ([(298, 110), (362, 110), (362, 166), (298, 166)], 4),
        },
    ),
    "n03384352_forklift.jpg": (
        (341, 256),
        {
            "cones": ([(68, 168), (92, 168), (96, 226), (64, 226)], 4),
        },
    ),
}


def draw(size: tuple[int, int], polygon: list[tuple[int, int]], dilate: int) -> np.ndarray:
    """(h, w) uint8 mask, 255 inside the polygon grown by ``dilate`` pixels (a disc)."""
    im = Image.new("L", size, 0)
    ImageDraw.Draw(im).polygon(polygon, fill=255)
    hole = np.asarray(im) > 0
    if dilate:
        yy, xx = np.mgrid[-dilate : dilate + 1, -dilate : dilate + 1]
        hole = ndimage.binary_dilation(hole, structure=xx**2 + yy**2 <= dilate**2)
    return hole.astype(np.uint8) * 255


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/removal"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for photo, (size, objects) in SHAPES.items():
        for name, (poly, dil) in objects.items():
            path = args.out / f"{Path(photo).stem}__{name}_mask.png"
            Image.fromarray(draw(size, poly, dil)).save(path, optimize=True, bits=1)
            print(path)


if __name__ == "__main__":
    main()
