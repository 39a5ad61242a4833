"""``inpaintkit train MODEL ...``: the argparse subcommand and its runner.

Wire it into the main CLI with::

    sub = parser.add_subparsers(dest="command")
    add_train_parser(sub)            # sets func=run_train
    ...
    return args.func(args)

Config precedence, lowest first: code defaults < the recipe's loop defaults < the checkpoint's
config (``--resume``) < ``--config FILE`` < ``--set KEY=VALUE`` < the explicit flags below.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from inpaintkit.errors import InpaintError
from inpaintkit.train import distributed as D
from inpaintkit.train.checkpoint import read_state, resolve_resume
from inpaintkit.train.config import merge, parse_sets, resolve
from inpaintkit.train.loop import Trainer
from inpaintkit.train.recipes import Recipe, get_recipe, list_recipes

# flag -> (dotted config key, type)
_FLAGS: dict[str, tuple[str, type]] = {
    "steps": ("loop.steps", int),
    "seed": ("loop.seed", int),
    "batch_size": ("recipe.batch_size", int),
    "precision": ("loop.precision", str),
    "workers": ("loop.workers", int),
    "device": ("loop.device", str),
    "ckpt_every": ("loop.ckpt_every", int),
    "keep_last": ("loop.keep_last", int),
    "sample_every": ("loop.sample_every", int),
    "channels_last": ("loop.channels_last", bool),
    "compile": ("loop.compile", bool),
    "no_progress": ("loop.progress", bool),
    "max_minutes": ("loop.max_minutes", float),
    "max_cpu_minutes": ("loop.max_cpu_minutes", float),
}


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``train`` subcommand to ``subparsers``; it sets ``func=run_train``."""
    p = subparsers.add_parser(
        "train",
        help="train a model with the one training loop (checkpoints, resume, torchrun)",
        description="Train MODEL (a recipe: e.g. dcgan) on --data. Runs unchanged under "
        "`torchrun --nproc_per_node N --no-python inpaintkit train ...`. Ctrl-C saves a "
        "checkpoint; --resume continues exactly.",
    )
    p.add_argument("model", help=f"what to train: {', '.join(list_recipes())}")
    p.add_argument("--data", help="training data: a folder or a spec like celeba:/path")
    p.add_argument("--out", help="run folder (default runs/<model>-<timestamp>)")
    p.add_argument("--config", help="JSON or YAML file {loop: {...}, recipe: {...}}")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set recipe.lr=1e-4 --set recipe.model.ngf=32",
    )
    p.add_argument(
        "--resume",
        nargs="?",
        const="latest",
        metavar="PATH",
        help="continue the latest checkpoint of --out, or of PATH (a run or checkpoint folder)",
    )
    p.add_argument("--steps", type=int, help="total training steps")
    p.add_argument("--batch-size", type=int, help="images per batch per process")
    p.add_argument("--seed", type=int, help="seed of init, data order and noise")
    p.add_argument("--precision", choices=("fp32", "bf16"), help="bf16 = autocast")
    p.add_argument("--workers", type=int, help="data-loader worker processes")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--ckpt-every", type=int, help="checkpoint every N steps")
    p.add_argument("--keep-last", type=int, help="keep the K newest checkpoints (0: all)")
    p.add_argument("--sample-every", type=int, help="sample grid every N steps (0: at the end)")
    p.add_argument(
        "--max-minutes",
        type=float,
        help="stop after M minutes of training, with a checkpoint and an export (--resume goes on)",
    )
    p.add_argument(
        "--max-cpu-minutes",
        type=float,
        help="the same limit in CPU minutes of this process (a fair budget on a busy machine)",
    )
    flag = {"action": "store_const", "const": True, "default": None}
    p.add_argument("--channels-last", help="channels-last memory format", **flag)
    p.add_argument("--compile", help="torch.compile the networks", **flag)
    p.add_argument("--no-progress", help="no progress bar", **flag)
    p.add_argument("--cache", action="store_true", help="keep decoded images in RAM")
    p.add_argument(
        "--data-opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a data option (docs/data.md), e.g. --data-opt length=16384 for house numbers",
    )
    p.set_defaults(func=run_train)
    return p


def parse_data_opts(pairs: list[str]) -> dict[str, Any]:
    """``["length=100", "fold=2", "check=false"]`` -> typed keyword options of open_dataset.

    >>> parse_data_opts(["length=100", "check=false", "fonts=a.ttf"])
    {'length': 100, 'check': False, 'fonts': 'a.ttf'}
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise InpaintError(f"--data-opt expects KEY=VALUE, got {pair!r}")
        low = text.strip().lower()
        if low.lstrip("-").isdigit():
            out[key] = int(low)
        elif low in ("true", "false"):
            out[key] = low == "true"
        else:
            out[key] = text
    return out


def _flag_sets(args: argparse.Namespace) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for attr, (key, _) in _FLAGS.items():
        value = getattr(args, attr, None)
        if value is None:
            continue
        if attr == "no_progress":
            value = False
        merge(tree, parse_sets([f"{key}={value}"]))
    return tree


def _command(args: argparse.Namespace) -> str:
    argv = getattr(args, "argv", None) or ["inpaintkit", *sys.argv[1:]]
    cmd = shlex.join(argv)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        nodes = os.environ.get("GROUP_WORLD_SIZE", "1")
        per_node = os.environ.get("LOCAL_WORLD_SIZE", os.environ["WORLD_SIZE"])
        cmd = f"torchrun --nnodes {nodes} --nproc_per_node {per_node} --no-python {cmd}"
    return cmd


def _resume_source(
    args: argparse.Namespace, recipe: Recipe
) -> tuple[Path | None, dict[str, Any] | None]:
    """The checkpoint to resume from and its state, or (None, None) for a new run."""
    if not args.resume:
        return None, None
    where = args.out if args.resume == "latest" else args.resume
    if where is None:
        raise InpaintError("--resume without a path needs --out RUN_FOLDER (or --resume PATH)")
    ckpt = resolve_resume(where)
    state = read_state(ckpt)
    if state.get("recipe") != recipe.name:
        raise InpaintError(
            f"checkpoint {str(ckpt)!r} was written by recipe {state.get('recipe')!r}, not "
            f"{recipe.name!r}; resume it with `inpaintkit train {state.get('recipe')} --resume`"
        )
    return ckpt, state


def run_train(args: argparse.Namespace) -> int:
    """Run ``inpaintkit train`` for parsed ``args``; 0 when finished or stopped cleanly.

    Raises:
        InpaintError: unknown recipe or config key, no data, nothing to resume, bad data.
    """
    recipe = get_recipe(args.model)
    ckpt, state = _resume_source(args, recipe)
    sets = merge(parse_sets(args.set or []), _flag_sets(args))
    loop, cfg = resolve(
        recipe.config_cls,
        base=state["config"] if state else None,
        file=args.config,
        sets=sets,
        loop_defaults=recipe.loop_defaults,
    )
    data = args.data or (state or {}).get("data")
    if not data:
        raise InpaintError("no training data: pass --data FOLDER (or a spec like celeba:/path)")
    info = D.init_distributed(D.pick_device(loop.device, D.dist_info()))
    if args.out:
        out = Path(args.out)
    elif ckpt is not None:
        out = ckpt.parent.parent
    else:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path(D.broadcast_object(f"runs/{recipe.name}-{stamp}"))
    from inpaintkit.data import open_dataset  # lazy: the data layer is heavy to import

    extra: dict[str, Any] = {"cache": True} if args.cache else {}
    extra |= parse_data_opts(args.data_opt)
    dataset = open_dataset(
        data, size=recipe.image_size(cfg), split="train", seed=loop.seed, **extra
    )
    if args.cache and hasattr(dataset, "warm_cache"):
        dataset.warm_cache(progress=info.is_main)  # decode once; forked loader workers share it
    trainer = Trainer(
        recipe,
        dataset,
        loop=loop,
        cfg=cfg,
        out_dir=out,
        resume=ckpt,
        data_spec=data,
        command=_command(args),
    )
    try:
        result = trainer.run()
    finally:
        D.shutdown()
    if info.is_main:
        if result.stopped:
            resume = f"inpaintkit train {recipe.name} --out {shlex.quote(str(out))} --resume"
            print(f"continue with: {resume}")
        else:
            print(f"done: {result.step} steps in {out}; weights {result.export}")
    return 0
