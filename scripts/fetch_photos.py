"""Fetch the real photographs of Debian's wallpaper and OpenCV packages and cut training tiles.

    python scripts/fetch_photos.py [--out runs/data/photos] [--debs DIR] [--tile 320]

The natural-image stand-in for Places2 that ../shared/DATA.md names: the photographs (not the
drawings) among ``mate-backgrounds``, ``lomiri-wallpapers-16.04`` and
``plasma-workspace-wallpapers``, and ``opencv-doc``'s example photos; the list below was picked
by eye from a contact sheet. Each package is fetched with ``apt-get download`` (Debian's mirror,
reachable here) unless ``--debs`` already holds it, and unpacked with ``dpkg -x``.

Every 8th photo (by the sorted list) is held out for ``val/``: saved whole, short side 512. The
others are resized so their short side is 384, 768 and 1536 px (each that is not an upscale; the
original size for the small OpenCV photos) and cut into non-overlapping ``--tile`` squares,
written as JPEG (quality 95) to ``train/``. A 5120 x 2880 wallpaper gives ~45 tiles, a 512 px
OpenCV photo one. ``MANIFEST.tsv`` lists each photo, its package and what it became.

Then train on them beside ImageNet and DTD, e.g. ``--data "IMAGENET/train+dtd:DTD/train+
runs/data/photos/train"``. The scikit-image photos (astronaut, ...) are left out on purpose:
the benchmarks and figures use them. Nothing here is committed (``runs/`` is ignored); the
wallpapers' licences are their packages' (GPL, CC BY-SA and others; see each package's copyright).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

# fmt: off
# package -> photos inside it (paths under the unpacked root); drawings and renders left out
PHOTOS: dict[str, tuple[str, ...]] = {
    "lomiri-wallpapers-16.04": tuple(
        f"usr/share/backgrounds/{n}.jpg"
        for n in (
            "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "Picture_0B_by_freespace",
            "Picture_1A_by_freespace", "Wine_by_Jakkub_Mede", "aitzgorri_by_Aitzol_Berasategi",
            "free_by_Peter_Nerlich", "friends_by_Aitzol_Berasategi", "greentock_by_Peter_Nerlich",
            "life_by_Aitzol_Berasategi", "picosdeeuropa_by_Aitzol_Berasategi",
            "seeding_by_Clements_Engelhardt", "sunset_by_Aitzol_Berasategi",
        )
    ),
    "mate-backgrounds": tuple(
        f"usr/share/backgrounds/mate/nature/{n}.jpg"
        for n in (
            "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird",
            "RainDrops", "Storm", "TwoWings", "Wood", "YellowFlower",
        )
    ),
    "plasma-workspace-wallpapers": tuple(
        f"usr/share/wallpapers/{n}/contents/images/{size}.jpg"
        for n, size in (
            ("BytheWater", "1920x1080"), ("ColdRipple", "1920x1080"),
            ("ColorfulCups", "2560x1600"), ("DarkestHour", "1920x1080"),
            ("EveningGlow", "1920x1080"), ("FallenLeaf", "1920x1080"), ("Grey", "1920x1080"),
            ("Kite", "1920x1080"), ("OneStandsOut", "1920x1080"), ("Path", "1920x1080"),
            ("summer_1am", "1920x1080"),
        )
    ),
    "opencv-doc": tuple(
        f"usr/share/doc/opencv-doc/examples/data/{n}"
        for n in (
            "aero1.jpg", "aero3.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "basketball1.png",
            "board.jpg", "building.jpg", "butterfly.jpg", "fruits.jpg", "graf1.png", "home.jpg",
            "leuvenA.jpg", "leuvenB.jpg", "messi5.jpg", "orange.jpg", "rubberwhale1.png",
            "squirrel_cls.jpg", "stuff.jpg",
        )
    ),
}
# fmt: on
SHORT_SIDES = (384, 768, 1536)
VAL_EVERY = 8


def fetch(package: str, debs: Path, root: Path) -> None:
    """Unpack ``package``'s .deb (downloaded into ``debs`` if absent) into ``root``."""
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        subprocess.run(["apt-get", "download", package], cwd=debs, check=True)
        found = sorted(debs.glob(f"{package}_*.deb"))
    subprocess.run(["dpkg", "-x", str(found[-1]), str(root)], check=True)


def resized(im: Image.Image, short: int) -> Image.Image:
    """``im`` scaled (Lanczos) so that its short side is ``short``."""
    w, h = im.size
    s = short / min(w, h)
    return im.resize((max(short, round(w * s)), max(short, round(h * s))), Image.LANCZOS)


def tiles(im: Image.Image, tile: int) -> list[Image.Image]:
    """The non-overlapping ``tile`` squares of ``im``, centred (the margins are dropped)."""
    w, h = im.size
    nx, ny = w // tile, h // tile
    x0, y0 = (w - nx * tile) // 2, (h - ny * tile) // 2
    return [
        im.crop((x0 + i * tile, y0 + j * tile, x0 + (i + 1) * tile, y0 + (j + 1) * tile))
        for j in range(ny)
        for i in range(nx)
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("runs/data/photos"))
    p.add_argument("--debs", type=Path, help="folder with the .deb files (else downloaded)")
    p.add_argument("--tile", type=int, default=320, help="side of the training tiles")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        debs = args.debs or Path(tmp)
        root = Path(tmp) / "root"
        for package in PHOTOS:
            fetch(package, debs, root)
        (args.out / "train").mkdir(parents=True, exist_ok=True)
        (args.out / "val").mkdir(parents=True, exist_ok=True)
        listed = sorted((pkg, rel) for pkg, rels in PHOTOS.items() for rel in rels)
        manifest = ["photo\tpackage\tsize\tsplit\tfiles"]
        n_train = 0
        for k, (pkg, rel) in enumerate(listed):
            im = Image.open(root / rel).convert("RGB")
            name = rel.split("/")[3] if rel.startswith("usr/share/wallpapers/") else Path(rel).stem
            stem = f"{pkg.split('-')[0]}_{name}"
            if k % VAL_EVERY == VAL_EVERY - 1:
                resized(im, 512).save(args.out / "val" / f"{stem}.jpg", quality=95)
                manifest.append(f"{rel}\t{pkg}\t{im.size[0]}x{im.size[1]}\tval\t1")
                continue
            sides = [s for s in SHORT_SIDES if s <= min(im.size)] or [min(im.size)]
            made = 0
            for s in sides:
                for i, t in enumerate(tiles(resized(im, s), args.tile)):
                    t.save(args.out / "train" / f"{stem}_s{s}_{i:03d}.jpg", quality=95)
                    made += 1
            n_train += made
            manifest.append(f"{rel}\t{pkg}\t{im.size[0]}x{im.size[1]}\ttrain\t{made}")
        (args.out / "MANIFEST.tsv").write_text("\n".join(manifest) + "\n")
    n_val = sum(1 for line in manifest if "\tval\t" in line)
    print(f"{len(listed)} photos: {n_train} train tiles of {args.tile} px, {n_val} val photos "
          f"-> {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
