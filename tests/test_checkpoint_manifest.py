"""Issue 21, item 9: checkpoint manifests written last, verified on resume, fallback to the
newest intact checkpoint, fsync before every rename that publishes a checkpoint or a file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from inpaintkit import io as kio
from inpaintkit.errors import InpaintError
from inpaintkit.train import checkpoint as ckpt
from inpaintkit.train.config import resolve
from inpaintkit.train.loop import Trainer
from inpaintkit.train.manifest import MANIFEST, verify
from inpaintkit.train.recipes import Ctx, Models, Phase, Recipe, get_recipe, register_recipe

pytestmark = pytest.mark.usefixtures("one_thread")
FILES = ["models.safetensors", "optim.safetensors", "rng.safetensors", "optim.json", "state.json"]


def _save(root: Path, step: int, net: nn.Module, opt: torch.optim.Optimizer) -> Path:
    return ckpt.save_checkpoint(
        root,
        step,
        nets={"n": net},
        optimizers={"o": opt},
        state={"recipe": "x", "batches": step},
        rng=[ckpt.capture_rng()],
    )


@pytest.fixture
def run(tmp_path: Path) -> tuple[Path, nn.Module, torch.optim.Optimizer]:
    """A run folder with checkpoints at steps 1, 2 and 3 of a tiny net."""
    net = nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for step in (1, 2, 3):
        net(torch.randn(4, 3)).sum().backward()
        opt.step()
        _save(tmp_path / "checkpoints", step, net, opt)
    return tmp_path, net, opt


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_manifest_is_written_and_verifies(run):
    root, _, _ = run
    latest = ckpt.find_latest(root / "checkpoints")
    listed = json.loads((latest / MANIFEST).read_text())["files"]
    assert sorted(listed) == sorted(FILES) and verify(latest) is None


@pytest.mark.parametrize("name", FILES[:4])
def test_resume_falls_back_to_the_newest_intact_checkpoint(run, name):
    root, _, _ = run
    _truncate(root / "checkpoints" / "step_000003" / name)
    warned: list[str] = []
    chosen = ckpt.resolve_resume(root, warn=warned.append)
    assert chosen.name == "step_000002"
    assert len(warned) == 1 and "step_000003 is damaged" in warned[0] and name in warned[0]
    net2 = nn.Linear(3, 2)
    opt2 = torch.optim.Adam(net2.parameters(), lr=5.0)
    state = ckpt.load_checkpoint(chosen, nets={"n": net2}, optimizers={"o": opt2}, recipe="x")
    assert state["step"] == 2
    with pytest.raises(InpaintError, match=r"damaged.*newest intact one is .*step_000002"):
        ckpt.resolve_resume(root / "checkpoints" / "step_000003")


def test_damaged_checkpoints_never_give_a_traceback(run):
    root, _, _ = run
    for step in (1, 2, 3):
        _truncate(root / "checkpoints" / ckpt.step_dir_name(step) / "models.safetensors")
    with pytest.raises(InpaintError, match="no intact checkpoint"):
        ckpt.resolve_resume(root, warn=lambda m: None)
    legacy = root / "checkpoints" / "step_000002"  # no manifest: the loaders must still be clean
    (legacy / MANIFEST).unlink()
    for name in FILES[:4]:
        net2 = nn.Linear(3, 2)
        opt2 = torch.optim.Adam(net2.parameters())
        with pytest.raises(InpaintError, match=r"cannot be loaded|damaged"):
            ckpt.load_checkpoint(legacy, nets={"n": net2}, optimizers={"o": opt2}, recipe="x")
        _truncate(legacy / name)


def _record_fsync_and_replace(monkeypatch) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst) -> None:
        events.append(("replace", str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name fds")
def test_fsync_before_the_rename_that_publishes(tmp_path, monkeypatch):
    events = _record_fsync_and_replace(monkeypatch)
    net = nn.Linear(3, 2)
    final = _save(tmp_path, 5, net, torch.optim.SGD(net.parameters(), lr=0.1))
    at = events.index(("replace", str(final)))
    synced = {Path(p).name for kind, p in events[:at] if kind == "fsync"}
    assert set(FILES) | {MANIFEST} <= synced
    assert ("fsync", str(tmp_path)) in events[at:]  # the rename itself reaches the disk
    events.clear()
    out = kio.write_image(tmp_path / "img.png", np.zeros((4, 4, 3), np.uint8))
    at = events.index(("replace", str(out)))
    assert [k for k, p in events[:at] if k == "fsync" and Path(p).name.startswith(".img.png")]
    assert ("fsync", str(tmp_path)) in events[at:]


# --- end to end: a run whose newest checkpoint is truncated resumes from the one before -------


@dataclass
class _Cfg:
    batch_size: int = 4
    lr: float = 1e-2


def _step(ctx: Ctx, x: torch.Tensor | None) -> dict[str, torch.Tensor]:
    return {"loss": (ctx.nets["ae"](x) - x).pow(2).mean()}


@register_recipe
class _ManifestToy(Recipe):
    name: ClassVar[str] = "toy-manifest"
    config_cls: ClassVar[type] = _Cfg
    hidden: ClassVar[bool] = True

    def build(self, cfg: _Cfg, device: torch.device) -> Models:
        ae = nn.Conv2d(3, 3, 3, padding=1).to(device)
        return Models({"ae": ae}, {"ae": torch.optim.Adam(ae.parameters(), lr=cfg.lr)})

    def phases(self, cfg: _Cfg) -> list[Phase]:
        return [Phase("ae", optimizer="ae", step=_step)]

    def image_size(self, cfg: _Cfg) -> int:
        return 8

    def architecture(self, cfg: _Cfg) -> dict:
        return {}

    def sample(self, nets, cfg, n, generator):  # type: ignore[no-untyped-def]
        return torch.rand(n, 3, 8, 8, generator=generator) * 2 - 1

    def export(self, nets, cfg):  # type: ignore[no-untyped-def]
        return {"ae": nets["ae"]}


def _trainer(out: Path, steps: int, resume=None) -> Trainer:
    loop = {"steps": steps, "ckpt_every": 1, "sample_every": 0, "keep_last": 0, "workers": 0}
    loop |= {"progress": False, "tensorboard": False}
    loop_cfg, cfg = resolve(_Cfg, sets={"loop": loop, "recipe": {}})
    data = TensorDataset(torch.rand(8, 3, 8, 8) * 2 - 1)
    recipe = get_recipe("toy-manifest")
    return Trainer(recipe, data, loop=loop_cfg, cfg=cfg, out_dir=out, resume=resume)


def test_trainer_resume_skips_a_truncated_latest_checkpoint(tmp_path, capsys):
    _trainer(tmp_path, 3).run()
    _truncate(tmp_path / "checkpoints" / "step_000003" / "optim.safetensors")
    res = _trainer(tmp_path, 4, resume=tmp_path).run()
    assert res.step == 4 and verify(res.checkpoint) is None
    err = capsys.readouterr().err
    assert "inpaintkit: warning: checkpoint step_000003 is damaged" in err
