"""Synthetic house numbers: our stand-in for SVHN's 32x32 cropped digits (SVHN cannot be had here).

Like SVHN's "format 2", each image is a square crop centred on one digit of a 1-5 digit house
number, the digit filling most of the height and its neighbours cut by the left/right edges.
An item is drawn in four steps, all from ``numpy.random.default_rng([seed, split, part, index])``
(``part`` is 0 unless several specs are joined with ``+``):

1. a wall (a random crop of a real photo when a photo folder is given, else a smooth colour field
   with plaster noise and sometimes siding lines), and sometimes a plate behind the number;
2. the digits, in a random font, size, spacing and aspect, in a colour whose luma contrasts with
   the local background, sometimes with an outline or a drop shadow;
3. a mild homography (rotation, shear, perspective) and uneven lighting;
4. SVHN's capture defects: downsampling (sometimes from an even smaller crop), blur, sensor noise
   and JPEG compression.

Item ``i`` is a pure function of ``(seed, split, i)``, the font list and the photo folder (sorted),
so the data set is the same on every machine that has the same fonts. Fonts default to DejaVu
plus any ``*.ttf``/``*.otf`` under ``~/.cache/inpaintkit/fonts`` (see docs/data.md); with no font
at all, Pillow's bundled font is used.
"""

from __future__ import annotations

import colorsys
import functools
import io
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from inpaintkit.data.base import SeededDataset
from inpaintkit.data.folder import list_images
from inpaintkit.errors import InpaintError
from inpaintkit.io import read_rgb8

DEJAVU_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
USER_FONT_DIR = Path("~/.cache/inpaintkit/fonts")
SVHN_SIZES = {"train": 73257, "val": 26032, "test": 26032}
_SPLIT_CODE = {"train": 0, "test": 1, "val": 2}
_SKIP_FONTS = ("Math", "Weather", "ExtraLight", "DSEG14")
_LENGTH_P = np.array([0.12, 0.38, 0.33, 0.13, 0.04])  # 1..5 digits, roughly SVHN's mix
_WORK = 2  # digits are drawn at 2x the output size, then area-downsampled
_ITALIC_WEIGHT = 0.25  # house numbers are mostly upright


def _font_files(folder: Path) -> list[Path]:
    files = [*folder.rglob("*.ttf"), *folder.rglob("*.otf")] if folder.is_dir() else []
    return sorted(f for f in files if not any(s in f.name for s in _SKIP_FONTS))


def dejavu_fonts() -> list[Path]:
    """The installed DejaVu font files (empty if DejaVu is not installed)."""
    return next((fs for d in DEJAVU_DIRS if (fs := _font_files(d))), [])


def default_fonts() -> list[Path]:
    """DejaVu plus the fonts under ``~/.cache/inpaintkit/fonts`` (recursive), sorted."""
    return dejavu_fonts() + _font_files(USER_FONT_DIR.expanduser())


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    if not path:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=128)
def _photo(path: str) -> np.ndarray:
    return read_rgb8(Path(path))


def _pick_font(rng: np.random.Generator, fonts: Sequence[str | Path]) -> str:
    """A font path (upright fonts 4x as likely as italic ones); '' for Pillow's own font."""
    if not fonts:
        return ""
    names = [Path(f).name.lower() for f in fonts]
    w = np.array([_ITALIC_WEIGHT if "italic" in n or "oblique" in n else 1.0 for n in names])
    return str(fonts[int(rng.choice(len(fonts), p=w / w.sum()))])


def _luma(rgb: np.ndarray) -> float:
    return float(np.dot(rgb, (0.299, 0.587, 0.114)))


def _colour_with_luma(
    rng: np.random.Generator, luma: float, max_sat: float, *, warm: float = 0.0
) -> np.ndarray:
    """A random colour (RGB in [0, 1]) of luma ``luma``; brown/beige with probability ``warm``."""
    sat = max_sat * rng.random() ** 2  # mostly muted colours, as on streets
    hue = rng.uniform(0.04, 0.16) if rng.random() < warm else rng.random()
    rgb = np.array(colorsys.hsv_to_rgb(hue, sat, 1.0), np.float32)
    now = _luma(rgb)
    if now >= luma:
        return rgb * np.float32(luma / max(now, 1e-6))
    return 1 - (1 - rgb) * np.float32((1 - luma) / max(1 - now, 1e-6))


def _contrasting(rng: np.random.Generator, bg_luma: float) -> np.ndarray:
    """A digit colour at least 0.3 luma away from ``bg_luma`` (dark on light, light on dark)."""
    if bg_luma > 0.5 or (bg_luma > 0.35 and rng.random() < 0.5):
        target = rng.uniform(0.0, max(0.02, bg_luma - 0.3))
    else:
        target = rng.uniform(min(0.98, bg_luma + 0.3), 1.0)
    return _colour_with_luma(rng, target, max_sat=0.9)


def _smooth_noise(rng: np.random.Generator, side: int, cells: int) -> np.ndarray:
    """(side, side) smooth noise in about [-1, 1] (bicubic upsampling of a coarse grid)."""
    grid = rng.standard_normal((cells, cells)).astype(np.float32)
    return cv2.resize(grid, (side, side), interpolation=cv2.INTER_CUBIC)


def _wall(rng: np.random.Generator, side: int, photos: Sequence[Path]) -> np.ndarray:
    """(side, side, 3) float32 background in [0, 1]: a photo crop or a plastered wall."""
    if photos and rng.random() < 0.75:
        pic = _photo(str(photos[int(rng.integers(len(photos)))]))
        h, w = pic.shape[:2]
        crop = int(min(h, w) * rng.uniform(0.25, 0.8))
        y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
        patch = cv2.resize(pic[y : y + crop, x : x + crop], (side, side), cv2.INTER_AREA)
        patch = cv2.GaussianBlur(patch, (0, 0), rng.uniform(0.5, 2.5) * side / 128)
        out = patch.astype(np.float32) / 255
        mean = out.reshape(-1, 3).mean(axis=0)  # walls are plainer than textures: less contrast
        out = mean + (out - mean) * np.float32(rng.uniform(0.25, 0.8))
        grey = out.mean(axis=2, keepdims=True)  # street scenes are dull: pull towards grey
        return grey + (out - grey) * np.float32(rng.uniform(0.3, 1.0))
    base = _colour_with_luma(rng, rng.uniform(0.1, 0.95), max_sat=0.5, warm=0.5)
    shade = 1 + np.float32(0.25 * rng.random()) * _smooth_noise(rng, side, int(rng.integers(2, 6)))
    grain = _smooth_noise(rng, side, side // 2) * np.float32(rng.uniform(0.0, 0.05))
    wall = base[None, None] * shade[..., None] + grain[..., None]
    if rng.random() < 0.25:  # siding, bricks or tiles: periodic dark lines
        period = rng.uniform(0.15, 0.4) * side
        rows = (np.arange(side) % period) < rng.uniform(0.02, 0.08) * side
        wall[rows] *= rng.uniform(0.5, 0.85)
    return np.clip(wall, 0, 1)


def _draw_digits(
    rng: np.random.Generator, digits: str, centre: int, font: ImageFont.FreeTypeFont, side: int
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """Draw ``digits`` on a (side, side) mask, digit ``centre`` centred; return mask and bbox."""
    advance = font.getlength("0")
    track = advance * rng.uniform(-0.05, 0.35)
    xs = np.cumsum([0.0] + [font.getlength(ch) + track for ch in digits[:-1]])
    probe = Image.new("L", (side, side))
    ImageDraw.Draw(probe).text((side / 2, side / 2), digits[centre], 255, font, anchor="ls")
    ink = probe.getbbox() or (0, 0, side, side)
    jitter = rng.uniform(-0.04, 0.04, size=2) * side / 2
    dx = side / 2 - (ink[0] + ink[2]) / 2 + jitter[0] - xs[centre]
    dy = side / 2 - (ink[1] + ink[3]) / 2 + jitter[1]
    mask = Image.new("L", (side, side))
    draw = ImageDraw.Draw(mask)
    for x, ch in zip(xs, digits, strict=True):
        draw.text((side / 2 + x + dx, side / 2 + dy), ch, 255, font, anchor="ls")
    return mask, mask.getbbox() or (0, 0, side, side)


def _homography(rng: np.random.Generator, side: int) -> np.ndarray:
    """A mild random warp about the canvas centre: rotation, shear, aspect, perspective."""
    angle = np.deg2rad(rng.normal(0, 4))
    c, s = np.cos(angle), np.sin(angle)
    aspect = np.exp(rng.uniform(-0.15, 0.15))
    A = np.array([[c, -s], [s, c]]) @ np.array([[aspect, rng.normal(0, 0.12)], [0, 1 / aspect]])
    P = np.eye(3)
    P[:2, :2] = A
    P[2, :2] = rng.normal(0, 0.06, size=2)  # perspective, in units of the half side
    half = side / 2
    to_unit = np.array([[1 / half, 0, -1], [0, 1 / half, -1], [0, 0, 1]])
    return np.linalg.inv(to_unit) @ P @ to_unit


def _blend(img: np.ndarray, alpha: np.ndarray, colour: np.ndarray) -> np.ndarray:
    a = alpha[..., None]
    return img * (1 - a) + colour[None, None] * a


def _compose(
    rng: np.random.Generator,
    digits: str,
    centre: int,
    font_path: str,
    canvas: int,
    crop: int,
    photos: Sequence[Path],
) -> np.ndarray:
    """The number drawn on its wall: (canvas, canvas, 3) float32 in [0, 1], before warping."""
    height = crop * rng.uniform(0.6, 0.85)  # digit ink height, as in SVHN's square crops
    ref = _font(font_path, 100).getbbox("0123456789", anchor="ls")
    font = _font(font_path, max(8, round(100 * height / max(1, ref[3] - ref[1]))))
    text, box = _draw_digits(rng, digits, centre, font, canvas)
    img = _wall(rng, canvas, photos)
    if rng.random() < 0.4:  # a plate behind the number
        pad = height * rng.uniform(0.1, 0.45)
        rect = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
        plate = Image.new("L", (canvas, canvas))
        ImageDraw.Draw(plate).rounded_rectangle(rect, radius=pad * rng.uniform(0, 1), fill=255)
        plate_col = _colour_with_luma(rng, rng.uniform(0.05, 0.95), max_sat=0.8)
        img = _blend(img, np.asarray(plate, np.float32) / 255, plate_col)
    t = np.asarray(text, np.float32) / 255
    bg_luma = _luma(img[box[1] : box[3], box[0] : box[2]].reshape(-1, 3).mean(axis=0))
    colour = _contrasting(rng, bg_luma)
    if rng.random() < 0.25:  # drop shadow
        shift = np.float32([[1, 0, height * 0.05], [0, 1, height * 0.05]])
        shadow = cv2.warpAffine(t, shift, (canvas, canvas))
        img = img * (1 - 0.6 * shadow[..., None])
    if rng.random() < 0.15:  # outlined digits
        k = max(3, int(height * 0.08) | 1)
        outline = cv2.dilate(t, np.ones((k, k), np.uint8))
        img = _blend(img, outline, _contrasting(rng, _luma(colour)))
    return _blend(img, t, colour)


def _degrade(rng: np.random.Generator, img: np.ndarray, size: int) -> np.ndarray:
    """Lighting, downsampling, blur, noise and JPEG: float (K, K, 3) -> (size, size, 3) uint8."""
    k = img.shape[0]
    ramp = np.linspace(-1, 1, k, dtype=np.float32)
    gx, gy = rng.normal(0, 0.15, size=2)
    img = img * (1 + gx * ramp[None, :, None] + gy * ramp[:, None, None])
    img = img * rng.uniform(0.7, 1.15)
    small = cv2.resize(np.clip(img, 0, 1), (size, size), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.4:  # SVHN often upsampled small crops: lose detail first
        low = max(8, int(size * rng.uniform(0.35, 0.8)))
        small = cv2.resize(small, (low, low), interpolation=cv2.INTER_AREA)
        small = cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.75:
        sigma = rng.uniform(0.3, 1.0) * size / 32
        small = cv2.GaussianBlur(small, (0, 0), sigma)
    small = small + rng.uniform(0, 0.03) * rng.standard_normal(small.shape).astype(np.float32)
    pixels = np.clip(np.rint(small * 255), 0, 255).astype(np.uint8)
    if rng.random() < 0.8:
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "JPEG", quality=int(rng.integers(30, 90)))
        pixels = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return pixels


def render_house_number(
    rng: np.random.Generator,
    *,
    size: int = 64,
    fonts: Sequence[str | Path] = (),
    photos: Sequence[Path] = (),
) -> tuple[np.ndarray, int, str]:
    """Draw one SVHN-like crop.

    Args:
        rng: the only source of randomness.
        size: output side in pixels (SVHN: 32; our models: 64).
        fonts: font files to choose from; empty uses Pillow's bundled font.
        photos: image files whose random crops serve as walls; empty for synthetic walls.

    Returns:
        pixels (size, size, 3) uint8 RGB, the centred digit (0-9), and the whole number.
    """
    n = int(rng.choice(5, p=_LENGTH_P)) + 1
    digits = str(int(rng.integers(1, 10))) + "".join(str(d) for d in rng.integers(0, 10, n - 1))
    centre = int(rng.integers(n))
    font_path = _pick_font(rng, fonts)
    crop = size * _WORK
    canvas = 2 * crop
    img = _compose(rng, digits, centre, font_path, canvas, crop, photos)
    img = cv2.warpPerspective(
        img, _homography(rng, canvas), (canvas, canvas), borderMode=cv2.BORDER_REFLECT_101
    )
    lo = (canvas - crop) // 2
    return _degrade(rng, img[lo : lo + crop, lo : lo + crop], size), int(digits[centre]), digits


class HouseNumbers(SeededDataset):
    """Synthetic SVHN-like crops as (3, S, S) float32 items in [-1, 1] (no flips: digits).

    Args:
        size: output side (SVHN: 32; our models: 64).
        split: ``train``, ``val`` or ``test``: disjoint random streams.
        length: number of items (default: SVHN's 73,257 train / 26,032 test).
        seed: item ``i`` is a pure function of (seed, split, i, fonts, photos).
        photos: folder of real photos for the walls (e.g. DTD or ImageNet), or None.
        fonts: font files (default :func:`default_fonts`).
        stream: distinguishes concatenated datasets (set by ``open_dataset``).
        cache: keep rendered items in RAM.
    """

    name = "housenumbers"

    def __init__(
        self,
        *,
        size: int = 64,
        split: str = "train",
        length: int | None = None,
        seed: int = 0,
        photos: str | Path | None = None,
        fonts: Sequence[str | Path] | None = None,
        stream: int = 0,
        cache: bool = False,
    ) -> None:
        super().__init__(seed=seed, stream=stream, cache=cache)
        if split not in _SPLIT_CODE:
            raise InpaintError(f"unknown split {split!r}; use one of train, val, test")
        if size < 8:
            raise InpaintError(f"house numbers need a size of at least 8 px, got {size}")
        self.size, self.split = int(size), split
        self.length = SVHN_SIZES[split] if length is None else int(length)
        if self.length < 1:
            raise InpaintError(f"house numbers: length must be positive, got {self.length}")
        self.fonts = [Path(f) for f in (default_fonts() if fonts is None else fonts)]
        self.photos = list_images(photos) if photos is not None else []

    def __len__(self) -> int:
        return self.length

    def sample(self, index: int) -> tuple[np.ndarray, int, str]:
        """Item ``index`` as (pixels (S, S, 3) uint8, centred digit, whole number)."""
        index = self._check_index(index)
        rng = np.random.default_rng([self.seed, _SPLIT_CODE[self.split], self.stream, index])
        return render_house_number(rng, size=self.size, fonts=self.fonts, photos=self.photos)

    def prepared(self, index: int) -> np.ndarray:
        return self.sample(index)[0]
