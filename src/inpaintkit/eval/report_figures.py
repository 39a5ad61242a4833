"""Docs figures: evaluation grids spliced together, attention maps, Song's stages and styles.

Each figure is a function of its inputs (an evaluation grid, a folder of photos, style images)
and writes one picture; ``inpaintkit report figure|splice`` calls them. The photos of the
attention figure are scikit-image's bundled samples, so it needs no data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from inpaintkit.errors import InpaintError
from inpaintkit.eval.report import show_hole

GRID_PAD = 4  # the gap report.picture_grid leaves between and around tiles

#: (scikit-image sample, mask kind, mask seed) rows of the attention figure
ATTENTION_CASES = (("astronaut", "box", 3), ("chelsea", "medium", 1), ("coffee", "box", 7),
                   ("rocket", "thick", 2))  # fmt: skip
#: scikit-image samples used as content in the style figure, in order
STYLE_CONTENT = ("astronaut", "chelsea", "coffee")


def save_picture(picture: np.ndarray, path: Path, *, quality: int = 85) -> Path:
    """Write an (H, W, 3) uint8 picture (JPEG at ``quality`` for .jpg, else lossless)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(picture).save(path, quality=quality)
    return path


def grid_columns(grid: Image.Image, cell: int) -> list[Image.Image]:
    """An ``inpaintkit eval`` grid cut into its column strips (a tile and the gap on its left)."""
    step = cell + GRID_PAD
    n = (grid.width - GRID_PAD) // step
    if n < 1 or GRID_PAD + n * step != grid.width:
        raise InpaintError(f"a {grid.width} px wide grid is not made of {cell} px cells")
    return [grid.crop((j * step, 0, (j + 1) * step, grid.height)) for j in range(n)]


def grid_cell(folder: Path) -> int:
    """The tile size of the grids in evaluation folder ``folder`` (from its config.json)."""
    import json

    from inpaintkit.eval.report import GRID_CELL

    cfg = folder / "config.json"
    if not cfg.is_file():
        raise InpaintError(f"{str(folder)!r} has no config.json: give the tile size (--cell)")
    size = int(json.loads(cfg.read_text())["size"])
    return size * max(1, GRID_CELL // size)


def splice_grids(
    base: Path, extra: Path, out: Path, *, after: int = 1, cell: int | None = None
) -> int:
    """Put ``extra``'s method columns into ``base`` after column ``after`` (0 = input).

    Both are ``grid_<mask>.png`` of evaluations on the same images and seeded masks (a method
    evaluated later has its own folder); every column of ``extra`` but its first (input) and
    last (ground truth) is copied. ``cell`` is the tile size (default: from the config.json
    beside ``base``). Returns the number of columns written.
    """
    cell = grid_cell(base.parent) if cell is None else cell
    a, b = (Image.open(p).convert("RGB") for p in (base, extra))
    if a.height != b.height:
        raise InpaintError(f"the grids have different heights ({a.height}, {b.height})")
    cols = grid_columns(a, cell)
    if not 0 <= after < len(cols):
        raise InpaintError(f"--after {after}: the base grid has columns 0..{len(cols) - 1}")
    cols[after + 1 : after + 1] = grid_columns(b, cell)[1:-1]
    canvas = Image.new("RGB", (sum(c.width for c in cols) + GRID_PAD, a.height), "white")
    for j, c in enumerate(cols):
        canvas.paste(c, (j * c.width, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out, quality=85)
    return len(cols)


def grid_titles(folder: Path) -> list[str]:
    """The column titles of an evaluation folder's grids: input, each method label, ground truth."""
    import json

    cfg = folder / "config.json"
    if not cfg.is_file():
        raise InpaintError(f"{str(folder)!r} has no config.json (an `inpaintkit eval` --out)")
    return ["input", *json.loads(cfg.read_text())["methods"], "ground truth"]


def select_grid(
    folder: Path, mask: str, columns: Sequence[str], out: Path, *, rows: int | None = None
) -> Path:
    """Cut ``grid_<mask>.png`` of an evaluation folder down to ``columns`` (by title), in order.

    Args:
        folder: an ``inpaintkit eval`` output folder.
        mask: the mask kind of the grid.
        columns: titles: ``input``, method labels, ``ground truth``.
        out: the picture to write (JPEG for .jpg, else lossless).
        rows: keep the first ``rows`` image rows (default all).
    """
    grid_path = folder / f"grid_{mask}.png"
    if not grid_path.is_file():
        raise InpaintError(f"{str(grid_path)!r} does not exist")
    titles = grid_titles(folder)
    unknown = [c for c in columns if c not in titles]
    if unknown:
        raise InpaintError(f"no column {unknown[0]!r} in {grid_path}; columns: {', '.join(titles)}")
    grid = Image.open(grid_path).convert("RGB")
    cell = grid_cell(folder)
    strips = grid_columns(grid, cell)
    if len(strips) != len(titles):
        raise InpaintError(
            f"{grid_path} has {len(strips)} columns, config.json names {len(titles)}"
        )
    picked = [strips[titles.index(c)] for c in columns]
    height = grid.height
    if rows is not None:
        height = min(grid.height, 18 + GRID_PAD + rows * (cell + GRID_PAD))  # 18: title band
    canvas = Image.new("RGB", (sum(c.width for c in picked) + GRID_PAD, height), "white")
    for j, c in enumerate(picked):
        canvas.paste(c.crop((0, 0, c.width, height)), (j * c.width, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out, quality=85)
    return out


def _sample(name: str, size: int) -> np.ndarray:
    """A scikit-image sample photo, top-left square, area-resized to (size, size, 3) uint8."""
    import cv2
    from skimage import data

    px = getattr(data, name)()
    side = min(px.shape[:2])
    return cv2.resize(px[:side, :side], (size, size), interpolation=cv2.INTER_AREA)


def _cell(px: np.ndarray, side: int) -> np.ndarray:
    import cv2

    return cv2.resize(px, (side, side), interpolation=cv2.INTER_AREA)


def attention_figure(
    out: Path,
    *,
    model: str | None = None,
    size: int = 256,
    cases: Sequence[tuple[str, str, int]] = ATTENTION_CASES,
) -> Path:
    """Rows: input (hole white) | deepfill | its attention map | telea | original."""
    import inpaintkit
    from inpaintkit.masks import make_mask
    from inpaintkit.methods.deepfill import attention_picture

    opts = {} if model is None else {"model": model}
    rows = []
    for name, kind, seed in cases:
        px = _sample(name, size)
        hole = make_mask(kind, (size, size), seed=seed)
        res = inpaintkit.inpaint(px, hole, "deepfill", **opts)
        tel = inpaintkit.inpaint(px, hole, "telea")
        att = attention_picture(res.extras)
        if att is None:
            raise InpaintError("the deepfill model gave no attention map (a no-attention model?)")
        rows.append(np.concatenate([show_hole(px, hole), res.pixels, att, tel.pixels, px], 1))
    return save_picture(np.concatenate(rows, 0), out, quality=88)


def song_stages_figure(
    data: str | Path,
    out: Path,
    *,
    indices: Sequence[int] = (3, 11, 24, 40),
    model: str | None = None,
    size: int = 512,
    box: int = 224,
    scales: Sequence[int] = (128, 256, 512),
    cell: int = 256,
) -> Path:
    """Song's multi-scale stages on evaluation images ``indices`` of ``data`` (centre box hole).

    Columns: input | G1 | each stage | song2018 at ``scales`` | song2018 at its default scales |
    patchmatch | original, each ``cell`` px.
    """
    import inpaintkit
    from inpaintkit.convert import from_tensor
    from inpaintkit.eval.images import load_eval_images
    from inpaintkit.masks import make_mask

    images = load_eval_images(str(data), size=size, limit=max(indices) + 1)
    if len(images) <= max(indices):
        raise InpaintError(f"{data}: {len(images)} images, the figure needs {max(indices) + 1}")
    hole = make_mask("center", (size, size), box=(box, box))
    opts = {} if model is None else {"model": model}
    rows = []
    for i in indices:
        px = images[i][1]
        res = inpaintkit.inpaint(px, hole, "song2018", scales=tuple(scales), **opts)
        default = inpaintkit.inpaint(px, hole, "song2018", **opts)
        pm = inpaintkit.inpaint(px, hole, "patchmatch")
        parts = [show_hole(px, hole)]
        for key in ("g1", *(f"stage_{s}" for s in scales)):
            if key in res.extras:
                parts.append(from_tensor(res.extras[key][0].float(), dtype=np.uint8))
        parts += [res.pixels, default.pixels, pm.pixels, px]
        rows.append(np.concatenate([_cell(p, cell) for p in parts], 1))
    return save_picture(np.concatenate(rows, 0), out)


def song_style_figure(
    styles: Sequence[str | Path],
    out: Path,
    *,
    contents: Sequence[str] = STYLE_CONTENT,
    model: str | None = None,
    size: int = 256,
) -> Path:
    """Rows: content (a scikit-image sample) | style image | ``inpaintkit stylize`` result."""
    from inpaintkit.io import read_image
    from inpaintkit.style_transfer import stylize_pixels

    if not styles or len(styles) > len(contents):
        raise InpaintError(f"give 1 to {len(contents)} style images, got {len(styles)}")
    rows = []
    for name, style_path in zip(contents, styles, strict=False):
        from skimage import data

        content = getattr(data, name)()
        sty = read_image(Path(style_path)).pixels[..., :3]
        sty = sty if sty.dtype == np.uint8 else np.rint(sty / 257.0).astype(np.uint8)
        res = stylize_pixels(content, sty, model=model, size=size)
        rows.append(np.concatenate([_cell(content, size), _cell(sty, size), _cell(res, size)], 1))
    return save_picture(np.concatenate(rows, 0), out)


def methods_figure(
    image: str | Path,
    mask: str | Path,
    methods: Sequence[str],
    out: Path,
    *,
    options: dict[str, dict] | None = None,
    crop: tuple[int, int, int, int] | None = None,
) -> Path:
    """One row: the input (hole white) and each method's result, titled, cropped to ``crop``.

    Args:
        image, mask: the photo and its mask (as ``inpaintkit run`` reads them).
        methods: method names, in column order.
        out: the picture to write.
        options: {method: {option: value}} (e.g. ``{"nearest": {"data": "DIR"}}``).
        crop: (x, y, width, height) of the part to show; default the whole image.
    """
    import inpaintkit
    from inpaintkit.eval.report import picture_grid

    options = options or {}
    results = [inpaintkit.inpaint(image, mask, m, **options.get(m, {})) for m in methods]
    first = results[0]
    to8 = (lambda a: a) if first.pixels.dtype == np.uint8 else (
        lambda a: np.rint(a / 257.0).astype(np.uint8))  # fmt: skip
    x, y, w, h = crop or (0, 0, first.pixels.shape[1], first.pixels.shape[0])
    if w < 1 or h < 1 or x < 0 or y < 0:
        raise InpaintError(f"crop {crop} is not a box inside the image")

    def cut(px: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(to8(px)[y : y + h, x : x + w])

    cols = [("input", [cut(show_hole(first.pixels, first.mask))])]
    cols += [(m, [cut(r.pixels)]) for m, r in zip(methods, results, strict=True)]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".grid.png")
    picture_grid(cols, tmp)
    Image.open(tmp).convert("RGB").save(out, quality=85)
    tmp.unlink()
    return out


def removals_figure(
    pairs: Sequence[tuple[str | Path, str | Path]],
    methods: Sequence[str],
    out: Path,
    *,
    aliases: dict[str, str] | None = None,
    options: dict[str, dict] | None = None,
    height: int = 256,
) -> Path:
    """Object removals on whole photos: one row per (photo, mask), input (hole tinted) then
    each method's result, every cell scaled to ``height`` px (rows padded to the widest).

    Args:
        pairs: (photo, mask) paths, one row each, in order.
        methods: column labels: a method name, or a label that ``aliases`` maps to a method
            (e.g. ``{"ours_new": "deepfill"}`` with ``options["ours_new"]["model"]`` a file).
        out: the picture to write (JPEG quality 90 for .jpg).
        options: {label: {option: value}}.
        height: cell height in pixels.
    """
    from PIL import ImageDraw, ImageFont

    import inpaintkit

    aliases, options = aliases or {}, options or {}
    pad, head = 4, 16
    rows: list[list[Image.Image]] = []
    for image, mask in pairs:
        results = [
            inpaintkit.inpaint(image, mask, aliases.get(m, m), **options.get(m, {}))
            for m in methods
        ]
        first = results[0]
        to8 = (lambda a: a) if first.pixels.dtype == np.uint8 else (
            lambda a: np.rint(a / 257.0).astype(np.uint8))  # fmt: skip
        shown = to8(first.pixels).astype(np.float32)
        hole = first.mask > 0
        shown[hole] = 0.35 * shown[hole] + 0.65 * np.array([255.0, 0.0, 255.0])
        cells = [shown.astype(np.uint8)] + [to8(r.pixels) for r in results]
        scale = height / cells[0].shape[0]
        size = (max(1, round(cells[0].shape[1] * scale)), height)
        rows.append([Image.fromarray(np.ascontiguousarray(c)).resize(size, Image.LANCZOS)
                     for c in cells])  # fmt: skip
    width = max(sum(c.width + pad for c in r) + pad for r in rows)
    canvas = Image.new("RGB", (width, head + len(rows) * (height + pad) + pad), "white")
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    x = pad
    for title, cell in zip(["input", *methods], rows[0], strict=True):
        draw.text((x + 2, 2), title, fill="black", font=font)
        x += cell.width + pad
    for i, row in enumerate(rows):
        x = pad
        for cell in row:
            canvas.paste(cell, (x, head + i * (height + pad)))
            x += cell.width + pad
    return save_picture(np.asarray(canvas), out, quality=90)
