"""``inpaintkit report``: every docs table and figure, regenerated from evaluation folders.

    inpaintkit report table EVAL [EVAL ...]         # Markdown tables, margins over classical
    inpaintkit report card EVAL ... --card F --label L   # a label's means into a model card
    inpaintkit report cards [--prefix deepfill_]    # the bundled models' measured means
    inpaintkit report splice BASE_GRID EXTRA_GRID -o OUT  # one grid with both folders' methods
    inpaintkit report grid EVAL --mask M --columns input,A,ground truth -o OUT  # some columns
    inpaintkit report figure attention|song-stages|song-style -o OUT ...

Nothing here knows where runs live: every folder and file is an argument.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inpaintkit.errors import InpaintError

REPORT_EPILOG = """\
examples:
  inpaintkit report table ev/classical ev/learned --margins
  inpaintkit report table ev/celeba64 ev/celeba64-vitoria --style ranked \\
      --versus vitoria2019,yeh2017
  inpaintkit report table ev/song_512 ev/song_512_deepfill --masks center \\
      --methods telea,ns,patchmatch,deepfill,song128 --rename grow256c=natural256
  inpaintkit report card ev/classical ev/learned --label deepfill --prefix imagenet \\
      --card src/inpaintkit/weights/deepfill_natural128.json \\
      --eval-command "bash scripts/eval_deepfill.sh learned"
  inpaintkit report splice ev/celeba64/grid_center.png ev/celeba64-vitoria/grid_center.png \\
      --after 1 -o docs/img/eval_celeba64_center.jpg
  inpaintkit report grid ev/learned --mask center --columns "input,deepfill,ground truth" \
      -o docs/img/eval_deepfill_natural128_imagenet_center.jpg
  inpaintkit report figure attention -o docs/img/deepfill_attention.jpg
  inpaintkit report figure methods --image examples/astronaut.png \
      --mask examples/astronaut_mask.png --methods telea,ns,patchmatch -o methods.jpg
  inpaintkit report figure song-stages --data DIR/imagenet/val -o docs/img/song_stages.jpg
  inpaintkit report figure song-style --style-image a.jpg --style-image b.jpg \\
      -o docs/img/song_style.jpg

A table compares labels measured on the same images: every folder is an `inpaintkit eval`
--out; a label in a later folder replaces the same label of an earlier one.
"""


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old or not new:
            raise InpaintError(f"{what} expects OLD=NEW, got {item!r}")
        out[old] = new
    return out


def _csv(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", nargs="+", type=Path, help="inpaintkit eval output folders")
    p.add_argument("--masks", help="comma-separated mask kinds to show (default all)")
    p.add_argument("--methods", help="comma-separated labels to show, in order (default all)")
    p.add_argument(
        "--rename", action="append", default=[], metavar="OLD=NEW", help="show a label renamed"
    )


def add_report_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``inpaintkit report`` and its subcommands."""
    p = sub.add_parser(
        "report",
        help="docs tables and figures from evaluation folders",
        description="Regenerate the tables and figures of the docs from evaluation folders.",
        epilog=REPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rs = p.add_subparsers(dest="report_command", metavar="WHAT", required=True)

    t = rs.add_parser("table", help="Markdown tables of one or more evaluation folders")
    _add_selection(t)
    t.add_argument("--style", choices=("compare", "ranked"), default="compare",
                   help="compare: one table per mask, all metrics; ranked: one table, "
                   "methods ranked by PSNR within each mask")  # fmt: skip
    t.add_argument("--title", help="heading before each mask's table (default: the data)")
    t.add_argument("--margins", action="store_true",
                   help="each learned label's margin over the best classical one")  # fmt: skip
    t.add_argument("--classical", default=None, help="comma-separated classical labels")
    t.add_argument("--versus", metavar="A,B", help="also A's margins over B per mask")
    t.set_defaults(func=_table_command)

    c = rs.add_parser("card", help="write a label's means into a model card's metrics")
    _add_selection(c)
    c.add_argument("--card", type=Path, required=True, help="the model card (.json) to update")
    c.add_argument("--label", required=True, help="the evaluation label of the card's model")
    c.add_argument("--prefix", default="", help="key prefix, e.g. imagenet -> imagenet/center")
    c.add_argument("--eval-command", help="the evaluation command, stored as metrics.eval")
    c.add_argument("--replace", action="store_true", help="drop the card's earlier metrics")
    c.set_defaults(func=_card_command)

    k = rs.add_parser("cards", help="the measured means of the bundled models' cards")
    k.add_argument("--prefix", default="", help="only models whose name starts with it")
    k.add_argument("--folder", type=Path, help="read the cards of this folder instead")
    k.set_defaults(func=_cards_command)

    s = rs.add_parser("splice", help="put one grid's method columns into another grid")
    s.add_argument("base", type=Path, help="grid_<mask>.png of the first folder")
    s.add_argument("extra", type=Path, help="grid_<mask>.png of a later folder, same images")
    s.add_argument("--after", type=int, default=1, help="insert after this column (0 = input)")
    s.add_argument("--cell", type=int, help="tile size of both grids (default: from config.json)")
    s.add_argument("-o", "--output", type=Path, required=True)
    s.set_defaults(func=_splice_command)

    g = rs.add_parser("grid", help="some columns of an evaluation grid, in a given order")
    g.add_argument("folder", type=Path, help="an inpaintkit eval output folder")
    g.add_argument("--mask", required=True, help="the mask kind of the grid")
    g.add_argument(
        "--columns", required=True, help="comma-separated titles: input, labels, ground truth"
    )
    g.add_argument("--rows", type=int, help="keep the first N image rows (default all)")
    g.add_argument("-o", "--output", type=Path, required=True)
    g.set_defaults(func=_grid_command)

    f = rs.add_parser("figure", help="a docs figure made by running the methods")
    f.add_argument(
        "name", choices=("attention", "methods", "removals", "song-stages", "song-style")
    )
    f.add_argument("-o", "--output", type=Path, required=True)
    f.add_argument("--model", help="the model of deepfill / song2018 (default: the default)")
    f.add_argument("--data", help="song-stages: a folder of photos (evaluation order)")
    f.add_argument("--indices", default="3,11,24,40", help="song-stages: which images")
    f.add_argument("--style-image", action="append", default=[], help="song-style: a style")
    f.add_argument(
        "--image",
        action="append",
        default=[],
        help="methods: the photo; removals: a photo (repeatable, one row each)",
    )
    f.add_argument(
        "--mask",
        action="append",
        default=[],
        help="methods: its mask; removals: the mask of each --image, in order",
    )
    f.add_argument("--methods", default="telea,ns,biharmonic,tv,lowrank,patchmatch",
                   help="methods, removals: the methods in column order; removals also"
                        " takes LABEL=METHOD")  # fmt: skip
    f.add_argument("--opt", action="append", default=[], metavar="METHOD.NAME=VALUE",
                   help="methods: a method option (repeatable)")  # fmt: skip
    f.add_argument("--crop", help="methods: X,Y,W,H of the part to show")
    f.add_argument("--height", type=int, default=256, help="removals: cell height in pixels")
    f.set_defaults(func=_figure_command)


def _load(args: argparse.Namespace):
    from inpaintkit.eval.report_tables import load_summaries

    return load_summaries(
        args.folders,
        rename=_pairs(args.rename, "--rename"),
        methods=_csv(args.methods),
        masks=_csv(args.masks),
    )


def _table_command(args: argparse.Namespace) -> int:
    from inpaintkit.eval import report_tables as rt

    merged = _load(args)
    classical = _csv(args.classical) or list(rt.CLASSICAL)
    where = args.title or f"`{merged.data}`" + (
        f", {merged.size}x{merged.size}" if merged.size else ""
    )
    print(f"<!-- inpaintkit report table {' '.join(map(str, args.folders))} -->\n")
    if args.style == "ranked":
        print(f"### {where}\n")
        print("\n".join(rt.ranked_table(merged.summary, {})) + "\n")
    for mask, by in merged.summary.items():
        if args.style == "compare":
            n = int(next(iter(by.values())).get("n", 0)) if by else 0
            print(f"### {where}, mask `{mask}` ({n} images)\n")
            print("\n".join(rt.compare_table(by)) + "\n")
        if args.margins:
            lines = rt.margins(by, classical=classical)
            if lines:
                print(f"Margins over the best classical method on `{mask}` (positive = better):\n")
                print("\n".join(lines) + "\n")
    if args.versus:
        a, _, b = args.versus.partition(",")
        print(f"### {a} against {b}\n")
        print("\n".join(rt.versus(merged.summary, a.strip(), b.strip())) + "\n")
    return 0


def _card_command(args: argparse.Namespace) -> int:
    from inpaintkit.eval.report_tables import card_metrics, write_card_metrics

    merged = _load(args)
    metrics = card_metrics(merged, args.label, prefix=args.prefix)
    write_card_metrics(args.card, metrics, command=args.eval_command, replace=args.replace)
    print(f"{args.card}: metrics {', '.join(metrics)}")
    return 0


def _cards_command(args: argparse.Namespace) -> int:
    from inpaintkit.eval.report_tables import bundled_cards, cards_table

    print("\n".join(cards_table(bundled_cards(args.folder), prefix=args.prefix)))
    return 0


def _splice_command(args: argparse.Namespace) -> int:
    from inpaintkit.eval.report_figures import splice_grids

    n = splice_grids(args.base, args.extra, args.output, after=args.after, cell=args.cell)
    print(f"{args.output}: {n} columns")
    return 0


def _grid_command(args: argparse.Namespace) -> int:
    from inpaintkit.eval.report_figures import select_grid

    columns = _csv(args.columns) or []
    print(select_grid(args.folder, args.mask, columns, args.output, rows=args.rows))
    return 0


def _figure_command(args: argparse.Namespace) -> int:
    from inpaintkit.eval import report_figures as rf

    if args.name == "attention":
        path = rf.attention_figure(args.output, model=args.model)
    elif args.name == "methods":
        from inpaintkit.cli.eval import parse_method_options

        if len(args.image) != 1 or len(args.mask) != 1:
            raise InpaintError("the methods figure needs one --image and one --mask")
        methods = _csv(args.methods) or []
        crop = tuple(int(v) for v in _csv(args.crop) or []) or None
        if crop is not None and len(crop) != 4:
            raise InpaintError(f"--crop expects X,Y,W,H, got {args.crop!r}")
        opts = parse_method_options(methods, args.opt)
        path = rf.methods_figure(args.image[0], args.mask[0], methods, args.output, options=opts,
                                 crop=crop)  # fmt: skip
    elif args.name == "removals":
        from inpaintkit.cli.eval import parse_method_options

        if not args.image or len(args.image) != len(args.mask):
            raise InpaintError(
                "the removals figure needs --image and --mask pairs (as many of each)"
            )
        labels, aliases = [], {}
        for item in _csv(args.methods) or []:
            label, sep, method = item.partition("=")
            labels.append(label)
            if sep:
                aliases[label] = method
        opts = parse_method_options(labels, args.opt, aliases)
        path = rf.removals_figure(list(zip(args.image, args.mask, strict=True)), labels,
                                  args.output, aliases=aliases, options=opts,
                                  height=args.height)  # fmt: skip
    elif args.name == "song-stages":
        if not args.data:
            raise InpaintError("song-stages needs --data FOLDER (e.g. ImageNet val)")
        indices = [int(i) for i in _csv(args.indices) or []]
        path = rf.song_stages_figure(args.data, args.output, indices=indices, model=args.model)
    else:
        path = rf.song_style_figure(args.style_image, args.output, model=args.model)
    print(path)
    return 0
