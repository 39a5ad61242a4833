"""``inpaintkit eval``: its argument parser, the parsing of its lists and options, its handler.

Only argparse and text parsing live here; the engine (torch, metrics) is imported when the
command runs, so ``inpaintkit --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from inpaintkit.errors import InpaintError

#: eval/images.py CROPS (kept literal so that building the parser imports no cv2; a test checks).
CROP_CHOICES = ("center", "celeba", "resize")

EVAL_EPILOG = """\
examples:
  inpaintkit eval --data DIR/imagenet/val --methods telea,ns,patchmatch \\
      --masks center,random80 --size 256 --limit 50 --out runs/eval-imagenet
  inpaintkit eval --data faces/ --crop celeba --size 64 --methods yeh2017,telea \\
      --masks center,pattern --opt yeh2017.model=celeba64 --opt yeh2017.iterations=300
  inpaintkit eval --data housenumbers --split val --size 64 --limit 256 \\
      --methods yeh2017,vitoria2019,telea --masks center,random80 --opt yeh2017.preset=fast
  (the same command with --limit 780 --resume: only images 256..779 are computed)

Outputs in --out: per_image.csv, summary.md (mean +- std per mask kind), summary.json,
grid_<mask>.png (input | each method | ground truth), config.json, outputs/ (the grid images'
fills). per_image.csv is rewritten after every (mask, method) pair: a killed run, or the same
setting asked for more images (--limit), methods or masks, goes on with --resume and computes
only the missing rows.
"""


def add_eval_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``inpaintkit eval``."""
    p = sub.add_parser(
        "eval",
        help="measure methods on a folder of images with seeded masks",
        description="Run methods on the same images and seeded masks; write metrics and grids.",
        epilog=EVAL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data",
        required=True,
        help="folder of ground-truth images (recursive), or a dataset spec (celeba:DIR, "
        "cars:DIR, housenumbers) read with its training crop",
    )
    p.add_argument("--split", default="val", help="split of a dataset spec (default val)")
    p.add_argument(
        "--methods",
        required=True,
        help="comma-separated method names; LABEL=METHOD runs a method again under a label "
        "(e.g. deepfill,baseline=deepfill --opt baseline.model=natural128-baseline)",
    )
    p.add_argument("--masks", default="center", help="comma-separated mask kinds (default center)")
    p.add_argument(
        "--mask-opt",
        action="append",
        default=[],
        metavar="KIND.NAME=VALUE",
        help="a mask option, e.g. center.fraction=0.4375 (224 px at --size 512); repeatable",
    )
    p.add_argument("--size", type=int, default=256, help="square evaluation size (default 256)")
    p.add_argument("--limit", type=int, default=50, help="first N images (0 = all; default 50)")
    p.add_argument("--seed", type=int, default=0, help="mask seed (default 0)")
    p.add_argument(
        "--crop", default="center", choices=CROP_CHOICES, help="how to make images square"
    )
    p.add_argument("--out", default="eval", help="output folder (default ./eval)")
    p.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="METHOD.NAME=VALUE",
        help="a method option, e.g. nearest.data=train/ (repeatable)",
    )
    lp = p.add_mutually_exclusive_group()
    lp.add_argument(
        "--lpips", dest="lpips", action="store_true", default=None, help="compute LPIPS"
    )
    lp.add_argument("--no-lpips", dest="lpips", action="store_false", help="skip LPIPS")
    p.add_argument("--fid", action="store_true", help="also compute FID per method and mask")
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--batch",
        type=int,
        default=64,
        help="images per call for latent-search, retrieval and network methods (default 64)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="reuse the rows of an earlier run in --out (same data, size, seed and options; "
        "more images, methods or masks allowed) and compute only the missing ones",
    )
    p.set_defaults(func=eval_command)


def parse_method_list(text: str) -> tuple[list[str], dict[str, str]]:
    """``"telea,deepfill,baseline=deepfill"`` -> (labels, {label: method} for the aliased ones).

    >>> parse_method_list("telea, base=deepfill")
    (['telea', 'base'], {'base': 'deepfill'})
    """
    labels, aliases = [], {}
    for item in (m.strip() for m in text.split(",")):
        if not item:
            continue
        label, sep, method = (p.strip() for p in item.partition("="))
        if sep and (not label or not method or "." in label):
            raise InpaintError(f"--methods entry {item!r}: write LABEL=METHOD, e.g. base=deepfill")
        if label in labels:
            raise InpaintError(f"--methods names {label!r} twice; give one a label (L=METHOD)")
        labels.append(label)
        if sep:
            aliases[label] = method
    return labels, aliases


def parse_method_options(
    methods: list[str], pairs: list[str], aliases: dict[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """``["nearest.data=x"]`` -> ``{"nearest": {"data": "x"}}`` typed by each method's signature.

    Keys are the labels of ``methods``; ``aliases`` maps a label to its method.
    """
    from inpaintkit.options import parse_options
    from inpaintkit.registry import get_method

    aliases = aliases or {}

    grouped: dict[str, list[str]] = {}
    for pair in pairs:
        head, sep, _ = pair.partition("=")
        method, dot, _ = head.partition(".")
        if not sep or not dot:
            raise InpaintError(f"--opt expects METHOD.NAME=VALUE, got {pair!r}")
        if method not in methods:
            raise InpaintError(f"--opt {pair!r} names method {method!r}, which is not in --methods")
        grouped.setdefault(method, []).append(pair[len(method) + 1 :])
    return {m: parse_options(get_method(aliases.get(m, m)), ps) for m, ps in grouped.items()}


def parse_mask_options(masks: list[str], pairs: list[str]) -> dict[str, dict[str, Any]]:
    """``["center.fraction=0.4"]`` -> ``{"center": {"fraction": 0.4}}``, typed like the defaults.

    >>> parse_mask_options(["center"], ["center.fraction=0.4375"])
    {'center': {'fraction': 0.4375}}
    """
    import inspect

    from inpaintkit.masks import MASK_KINDS, mask_options
    from inpaintkit.typed_values import parse_value

    out: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        head, sep, value = pair.partition("=")
        kind, dot, name = head.strip().partition(".")
        if not sep or not dot or not name:
            raise InpaintError(f"--mask-opt expects KIND.NAME=VALUE, got {pair!r}")
        if kind not in masks:
            raise InpaintError(f"--mask-opt {pair!r} names mask {kind!r}, which is not in --masks")
        known = mask_options(kind)
        if name not in known:
            valid = ", ".join(known) or "none"
            raise InpaintError(f"mask kind {kind!r} has no option {name!r}; valid: {valid}")
        param = inspect.signature(MASK_KINDS[kind]).parameters[name]
        try:  # e.g. center.box=224,224 -> (224, 224)
            parsed = parse_value(value, known[name], param.annotation)
        except InpaintError as e:
            raise InpaintError(f"--mask-opt {pair!r}: {e}") from None
        out.setdefault(kind, {})[name] = parsed
    return out


def eval_command(args: argparse.Namespace) -> int:
    """Handler of ``inpaintkit eval``."""
    from inpaintkit.eval.engine import EvalConfig, evaluate

    methods, aliases = parse_method_list(args.methods)
    masks = [k.strip() for k in args.masks.split(",") if k.strip()]
    if not methods:
        raise InpaintError("--methods is empty")
    cfg = EvalConfig(
        data=args.data,
        methods=methods,
        masks=masks,
        size=args.size,
        limit=args.limit or None,
        seed=args.seed,
        out=args.out,
        crop=args.crop,
        split=args.split,
        options=parse_method_options(methods, args.opt, aliases),
        aliases=aliases,
        lpips=args.lpips,
        fid=args.fid,
        device=args.device,
        batch=args.batch,
        mask_options=parse_mask_options(masks, args.mask_opt),
        resume=args.resume,
    )
    res = evaluate(cfg)
    if not res["files"]:  # a torchrun rank other than 0: rank 0 wrote the merged files
        print(f"eval: this rank computed {len(res['rows'])} rows; rank 0 wrote {cfg.out}")
        return 0
    print((Path(cfg.out) / "summary.md").read_text())
    print("wrote: " + ", ".join(str(f) for f in res["files"]))
    return 0
