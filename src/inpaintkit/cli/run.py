"""``inpaintkit run``: inpaint one file or a whole folder."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inpaintkit.errors import InpaintError
from inpaintkit.shard import shard_jobs

RUN_EPILOG = """\
masks (exactly one of):
  --mask FILE        one mask for every input image
  --mask DIR         per image: DIR/<stem>_mask.<ext>, DIR/<stem>.mask.<ext>, DIR/<stem>-mask.<ext>
                     or (another folder than the images') DIR/<stem>.<ext>; an image is never
                     its own mask, and two candidates for one image are an error
  --mask-kind KIND   a generated mask (see `inpaintkit masks --list`), seeded by --seed

examples:
  inpaintkit run photo.jpg --mask mask.png -o photo_filled.jpg --compare
  inpaintkit run photo.jpg --mask mask.png -m patchmatch --opt patch_size=5
  inpaintkit run shots/ --mask shots_masks/ -m telea -o shots_filled/
  inpaintkit run face.png --mask-kind center -m yeh2017 --opt model=celeba64 --seed 1
  inpaintkit run photo.jpg --mask mask.png -m deepfill --save-attention
  inpaintkit run face.png --mask hole.png -m yeh2017 --samples 4 -o face.png   (face_1..4.png)

The output keeps the input's format, alpha, EXIF, ICC profile, XMP, JPEG comment and DPI, and a
JPEG's or WebP's quality and chroma subsampling; known pixels are copied bit for bit, and an
empty mask copies the file byte for byte. Existing files are never overwritten without
--overwrite (the output path is resolved first: `sub/../in.png` is `in.png`). Images over
--max-pixels (default 100 MP, or $INPAINTKIT_MAX_PIXELS) are refused from their header, before
decoding.
"""

_MASK_MARKERS = ("_mask", ".mask", "-mask")


def add_run_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``run`` subcommand."""
    p = sub.add_parser(
        "run",
        help="inpaint an image or a folder of images",
        description="Fill the holes of an image (or every image of a folder).",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", type=Path, help="an image file or a folder of images")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--mask", type=Path, help="mask file or folder of masks (hole where >= 128)")
    g.add_argument("--mask-kind", help="generate a mask of this kind instead")
    p.add_argument("-m", "--method", default="telea", help="method name (default: telea)")
    p.add_argument("-o", "--output", type=Path, help="output file (one input) or folder")
    p.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="method option, repeatable; `inpaintkit methods --options METHOD` lists each "
        "option with its description, choices and default",
    )
    p.add_argument("--device", default="cpu", help="torch device for learned methods")
    p.add_argument("--seed", type=int, default=0, help="seed for --mask-kind (default 0)")
    p.add_argument("--resize-mask", action="store_true", help="resize masks of another size")
    p.add_argument("--dilate", type=int, default=0, help="grow holes by N pixels")
    p.add_argument("--feather", type=int, default=0, help="soft edge of N pixels inside the hole")
    p.add_argument("--compare", action="store_true", help="also write <output>_compare.png")
    p.add_argument(
        "--save-attention",
        action="store_true",
        help="also write <output>_attention.png: deepfill's colour-coded attention map",
    )
    p.add_argument(
        "--samples",
        type=int,
        default=None,
        metavar="K",
        help="write K distinct fills as <output>_1 .. <output>_K, the best first (yeh2017, "
        "vitoria2019; default: one fill, written to <output>)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--resume", action="store_true", help="skip images whose output exists")
    p.add_argument(
        "--quality",
        type=int,
        default=None,
        help="JPEG/WebP quality 1..100 (default: the input's own; 95 for other inputs)",
    )
    p.add_argument(
        "--max-pixels",
        type=float,
        default=None,
        metavar="MP",
        help="refuse images larger than MP megapixels (default: $INPAINTKIT_MAX_PIXELS or 100)",
    )
    p.set_defaults(func=run_command)


@dataclass
class Job:
    """One image to inpaint: where it comes from, its mask source, where it goes."""

    image: Path
    mask: Path | None
    output: Path
    problem: str | None = None  # why it cannot run (no mask found): skipped and reported


def _is_mask_name(path: Path) -> bool:
    return any(path.stem.endswith(m) for m in _MASK_MARKERS)


def _find_mask(mask_dir: Path, image: Path) -> Path | None:
    """The mask of ``image`` in ``mask_dir``; None when there is none.

    Marked names (``<stem>_mask.*``, ``<stem>.mask.*``, ``<stem>-mask.*``) come first; a plain
    ``<stem>.*`` counts only when the masks have their own folder (beside the images it is
    another image). The image itself never counts.

    Raises:
        InpaintError: more than one candidate of the winning kind.
    """
    from inpaintkit.io import is_image_file

    stem = image.stem
    own = image.resolve()
    same_folder = mask_dir.resolve() == image.parent.resolve()
    kinds = [[stem + m for m in _MASK_MARKERS]] + ([] if same_folder else [[stem]])
    for names in kinds:
        found = sorted(
            c
            for c in mask_dir.iterdir()
            if c.stem in names and is_image_file(c) and c.resolve() != own
        )
        if len(found) > 1:
            listed = ", ".join(c.name for c in found)
            raise InpaintError(
                f"more than one mask for {image.name} in {str(mask_dir)!r} ({listed}); "
                "keep one, or give --mask FILE"
            )
        if found:
            return found[0]
    return None


def plan_jobs(args: argparse.Namespace) -> list[Job]:
    """Expand the input (file or folder) into jobs with masks and outputs."""
    from inpaintkit.atomic import resolve_output
    from inpaintkit.io import list_images

    src: Path = args.input
    if not src.exists():
        raise InpaintError(f"input {str(src)!r} does not exist")
    tag = args.method
    if src.is_file():
        out = args.output or src.with_name(f"{src.stem}_{tag}{src.suffix}")
        if resolve_output(out).is_dir():
            out = out / f"{src.stem}_{tag}{src.suffix}"
        return [Job(src, _mask_for(args, src), out)]
    files = [p for p in list_images(src) if not _is_mask_name(p)]
    if not files:
        raise InpaintError(f"no images found in folder {str(src)!r}")
    out_dir = args.output or src.with_name(f"{src.name}_{tag}")
    if resolve_output(out_dir).exists() and not resolve_output(out_dir).is_dir():
        raise InpaintError(f"output {str(out_dir)!r} is a file; give a folder for a folder input")
    return [_folder_job(args, p, out_dir / p.relative_to(src)) for p in files]


def _folder_job(args: argparse.Namespace, image: Path, output: Path) -> Job:
    """A job of a folder run: an image without a mask in the mask folder is not an abort but a
    job with a problem, skipped and reported like an unreadable image."""
    try:
        return Job(image, _mask_for(args, image), output)
    except InpaintError as e:
        if args.mask is None or not args.mask.is_dir():
            raise
        return Job(image, None, output, problem=str(e))


def _mask_for(args: argparse.Namespace, image: Path) -> Path | None:
    if args.mask is None:
        return None
    if args.mask.is_dir():
        found = _find_mask(args.mask, image)
        if found is None:
            raise InpaintError(
                f"no mask for {image.name} in {str(args.mask)!r} "
                f"(looked for {image.stem}_mask.*, {image.stem}.mask.*, {image.stem}-mask.* "
                f"and, in a folder of masks, {image.stem}.*)"
            )
        return found
    if not args.mask.exists():
        raise InpaintError(f"mask {str(args.mask)!r} does not exist")
    if args.mask.resolve() == image.resolve():
        raise InpaintError(f"the mask {str(args.mask)!r} is the input image itself")
    return args.mask


def _outputs(job: Job, options: dict) -> list[Path]:
    """The files a job writes: its output, or ``<output>_1 .. _K`` for ``samples=K`` > 1."""
    from inpaintkit.samples import sample_paths

    k = options.get("samples") or 1
    return [job.output] if k == 1 else sample_paths(job.output, k)


def _written(job: Job, options: dict) -> bool:
    return all(p.exists() for p in _outputs(job, options))


def compare_picture(image: np.ndarray, mask: np.ndarray, *results: np.ndarray) -> np.ndarray:
    """Side by side: input with the hole tinted red | each result. (H, W, 3) -> (H, W', 3) uint8."""

    def to8(a: np.ndarray) -> np.ndarray:
        return a if a.dtype == np.uint8 else np.rint(a / 257.0).astype(np.uint8)

    left = to8(image).astype(np.float32)
    red = np.array([255.0, 40.0, 40.0], np.float32)
    left[mask] = 0.45 * left[mask] + 0.55 * red
    gap = np.full((image.shape[0], 8, 3), 255, np.uint8)
    parts = [left.astype(np.uint8)]
    for result in results:
        parts += [gap, to8(result)]
    return np.concatenate(parts, axis=1)


def run_command(args: argparse.Namespace) -> int:
    """Handler of ``inpaintkit run``."""
    from tqdm import tqdm

    from inpaintkit.api import inpaint, load_image
    from inpaintkit.io import write_image
    from inpaintkit.options import parse_options
    from inpaintkit.registry import get_method
    from inpaintkit.samples import check_samples_option

    info = get_method(args.method)
    options = parse_options(info, args.opt)
    if args.samples is not None:
        options["samples"] = args.samples
        check_samples_option(info, options)  # samples > 1 for a one-fill method: refused now
    jobs = shard_jobs(plan_jobs(args), resume=args.resume, done=lambda j: _written(j, options))
    if args.mask_kind is not None:
        from inpaintkit.masks import MASK_KINDS

        if args.mask_kind not in MASK_KINDS:
            raise InpaintError(
                f"unknown mask kind {args.mask_kind!r}; known: {', '.join(sorted(MASK_KINDS))}"
            )
    failures: list[str] = []
    bar = tqdm(jobs, desc=args.method, unit="img", disable=len(jobs) == 1, file=sys.stderr)
    for job in bar:
        try:
            _run_one(job, args, info.name, options, inpaint, load_image, write_image)
        except InpaintError as e:
            if len(jobs) == 1:
                raise
            failures.append(f"{job.image}: {e}")
            tqdm.write(f"inpaintkit: skipped {job.image}: {e}", file=sys.stderr)
    if failures:
        print(f"inpaintkit: {len(failures)} of {len(jobs)} images failed", file=sys.stderr)
        return 1
    return 0


def _run_one(job, args, method, options, inpaint, load_image, write_image) -> None:
    if job.problem:
        raise InpaintError(job.problem)
    from inpaintkit.atomic import resolve_output
    from inpaintkit.registry import get_method

    max_px = None if args.max_pixels is None else args.max_pixels * 1e6
    kind = get_method(method).kind
    image = load_image(job.image, max_image_pixels=max_px, kind=kind)
    if job.mask is not None:
        mask_src = job.mask
    else:
        from inpaintkit.masks import make_mask

        mask_src = make_mask(args.mask_kind, image.size, seed=args.seed)
    for path in _outputs(job, options):
        if resolve_output(path).exists() and not args.overwrite:  # `sub/../x` is `x`
            raise InpaintError(f"{str(path)!r} exists; pass --overwrite to replace it")
    from inpaintkit.cli.ticker import ticking

    own_bar = any(o.name == "progress" for o in get_method(method).options)
    with ticking(f"{method} on {job.image.name}", enabled=not own_bar):
        res = inpaint(
            image,
            mask_src,
            method,
            device=args.device,
            resize_mask=args.resize_mask,
            dilate=args.dilate,
            feather=args.feather,
            max_image_pixels=max_px,
            **options,
        )
    for note in res.notes:
        print(f"inpaintkit: {job.image.name}: {note}", file=sys.stderr)
    model = f", model {res.model}" if res.model else ""
    if len(_outputs(job, options)) > 1:
        paths = res.save_samples(job.output, overwrite=args.overwrite, quality=args.quality)
        out = job.output
        fills = f"{len(paths)} fills, best first: {paths[0]} .. {paths[-1]}"
        msg = f"{job.image} -> {fills} ({method}{model}, {res.seconds:.2f} s)"
    else:
        out = res.save(job.output, overwrite=args.overwrite, quality=args.quality)
        msg = f"{job.image} -> {out} ({method}{model}, {res.seconds:.2f} s)"
    if args.compare:
        cmp_path = out.with_name(f"{out.stem}_compare.png")
        picture = compare_picture(image.pixels, res.mask, *res.samples)
        write_image(cmp_path, picture, overwrite=args.overwrite)
        msg += f", comparison {cmp_path}"
    if args.save_attention:
        msg += _save_attention(res, out, method, args.overwrite, write_image)
    print(msg)


def _save_attention(res, out: Path, method: str, overwrite: bool, write_image) -> str:
    """Write ``<out>_attention.png`` from the result's attention extra; the message part."""
    from inpaintkit.registry import get_method

    hook = get_method(method).attention_picture
    picture = hook(res.extras) if hook is not None else None
    if picture is None:
        print(f"inpaintkit: {method} gives no attention map (deepfill does)", file=sys.stderr)
        return ""
    path = out.with_name(f"{out.stem}_attention.png")
    write_image(path, picture, overwrite=overwrite)
    return f", attention {path}"
