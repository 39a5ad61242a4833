"""The training loop: overfitting, bit-exact resume, checkpoints, Ctrl-C, config, bad input, CLI."""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
import torch
from safetensors.torch import load_file
from torch import nn
from torch.utils.data import TensorDataset

from inpaintkit.cli.train import add_train_parser
from inpaintkit.errors import InpaintError
from inpaintkit.train import checkpoint as ckpt
from inpaintkit.train.config import LoopConfig, from_dict, parse_sets, resolve
from inpaintkit.train.export import load_export
from inpaintkit.train.loop import Trainer, step_seed
from inpaintkit.train.recipes import Ctx, Models, Phase, Recipe, get_recipe, register_recipe
from inpaintkit.train.sampler import ShardedBatchSampler, make_loader

pytestmark = pytest.mark.usefixtures("one_thread")


FAST = {"workers": 0, "progress": False, "tensorboard": False, "n_samples": 4}
TINY_DCGAN = {"batch_size": 4, "model": {"z_dim": 8, "ngf": 4, "ndf": 4, "image_size": 32}}


# --- a toy recipe, registered only here: an autoencoder that must overfit one batch --------------


@dataclass
class ToyModel:
    image_size: int = 16
    width: int = 8


@dataclass
class ToyConfig:
    model: ToyModel
    batch_size: int = 4
    lr: float = 1e-2

    def __init__(self, model: ToyModel | None = None, batch_size: int = 4, lr: float = 1e-2):
        self.model, self.batch_size, self.lr = model or ToyModel(), batch_size, lr


def _toy_step(ctx: Ctx, x: torch.Tensor | None) -> dict[str, torch.Tensor]:
    assert x is not None
    return {"loss": (ctx.nets["ae"](x) - x).pow(2).mean()}


@register_recipe
class ToyRecipe(Recipe):
    name: ClassVar[str] = "toy-ae"
    config_cls: ClassVar[type] = ToyConfig
    hidden: ClassVar[bool] = True

    def build(self, cfg: ToyConfig, device: torch.device) -> Models:
        w = cfg.model.width
        ae = nn.Sequential(nn.Conv2d(3, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, 3, 3, padding=1))
        return Models({"ae": ae.to(device)}, {"ae": torch.optim.Adam(ae.parameters(), lr=cfg.lr)})

    def phases(self, cfg: ToyConfig) -> list[Phase]:
        return [Phase("ae", optimizer="ae", step=_toy_step)]

    def sample(self, nets, cfg, n, generator):  # type: ignore[no-untyped-def]
        x = torch.rand(n, 3, 16, 16, generator=generator) * 2 - 1
        return nets["ae"](x).clamp(-1, 1)

    def export(self, nets, cfg):  # type: ignore[no-untyped-def]
        return {"ae": nets["ae"]}


def _data(n: int, size: int, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.rand(n, 3, size, size, generator=g) * 2 - 1)


def _trainer(
    name: str,
    out: Path,
    *,
    loop: dict,
    recipe: dict | None = None,
    resume=None,
    n: int = 8,
    on_step=None,
) -> Trainer:
    r = get_recipe(name)
    sets = {"loop": {**FAST, **loop}, "recipe": recipe or {}}
    loop_cfg, cfg = resolve(r.config_cls, sets=sets)
    ds = _data(n, r.image_size(cfg))
    return Trainer(r, ds, loop=loop_cfg, cfg=cfg, out_dir=out, resume=resume, on_step=on_step)


def _log(out: Path) -> list[dict[str, str]]:
    with (out / "log.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _assert_same_checkpoint(a: Path, b: Path) -> None:
    for name in ("models.safetensors", "optim.safetensors"):
        ta, tb = load_file(str(a / name)), load_file(str(b / name))
        assert ta.keys() == tb.keys()
        for k in ta:
            assert torch.equal(ta[k], tb[k]), f"{name}:{k}"
    assert json.loads((a / "optim.json").read_text()) == json.loads((b / "optim.json").read_text())


# --- training ------------------------------------------------------------------------------------


def test_toy_overfits_one_batch(tmp_path: Path) -> None:
    res = _trainer("toy-ae", tmp_path, loop={"steps": 60, "sample_every": 0}, n=4).run()
    rows = _log(tmp_path)
    assert [int(r["step"]) for r in rows] == list(range(1, 61))
    first, last = float(rows[0]["ae_loss"]), float(rows[-1]["ae_loss"])
    assert last < first / 10, (first, last)
    assert not res.stopped and res.export == tmp_path / "export" / "toy-ae.safetensors"


@pytest.mark.parametrize("speed", [{}, {"precision": "bf16", "channels_last": True}])
def test_dcgan_resume_is_bit_exact(tmp_path: Path, speed: dict) -> None:
    loop = {"ckpt_every": 2, "sample_every": 2, "keep_last": 0, **speed}
    whole = _trainer("dcgan", tmp_path / "a", loop={**loop, "steps": 4}, recipe=TINY_DCGAN).run()
    half = _trainer("dcgan", tmp_path / "b", loop={**loop, "steps": 2}, recipe=TINY_DCGAN).run()
    assert half.checkpoint is not None and half.export is not None
    rest = _trainer(
        "dcgan", tmp_path / "b", loop={**loop, "steps": 4}, recipe=TINY_DCGAN, resume=tmp_path / "b"
    ).run()
    assert whole.step == rest.step == 4
    _assert_same_checkpoint(tmp_path / "a/checkpoints/step_000004", rest.checkpoint)
    rows_a, rows_b = _log(tmp_path / "a"), _log(tmp_path / "b")
    for ra, rb in zip(rows_a, rows_b, strict=True):
        assert (ra["step"], ra["D_loss"], ra["G_loss"]) == (rb["step"], rb["D_loss"], rb["G_loss"])
    # the 2N run went through a data epoch boundary (8 images, batch 4: 2 batches an epoch)
    assert rows_a[-1]["epoch"] == "2.0"
    # everything in the run folder is safetensors, JSON, CSV, PNG or text: no pickles
    suffixes = {p.suffix for p in (tmp_path / "a").rglob("*") if p.is_file()}
    assert suffixes <= {".safetensors", ".json", ".csv", ".png", ".txt"}
    from PIL import Image

    grid = Image.open(tmp_path / "a/samples/step_000004.png")  # 4 samples of 32 px in a row
    assert grid.size == (4 * 34 + 2, 36)
    card = json.loads((tmp_path / "a/export/dcgan.json").read_text())
    assert card["model"] == "dcgan" and card["steps"] == 4 and card["images_seen"] == 16
    assert card["architecture"]["ngf"] == 4 and card["metrics"] == {}


def test_killed_run_resumes_from_last_checkpoint(tmp_path: Path) -> None:
    _trainer("toy-ae", tmp_path / "a", loop={"steps": 5, "sample_every": 0}).run()
    # b "dies" after step 5 was logged but before its checkpoint: only step 3's remains
    _trainer("toy-ae", tmp_path / "b", loop={"steps": 5, "ckpt_every": 3, "sample_every": 0}).run()
    ckpt_b = tmp_path / "b/checkpoints"
    import shutil

    shutil.rmtree(ckpt_b / "step_000005")
    res = _trainer(
        "toy-ae",
        tmp_path / "b",
        loop={"steps": 5, "ckpt_every": 3, "sample_every": 0},
        resume=tmp_path / "b",
    ).run()
    _assert_same_checkpoint(tmp_path / "a/checkpoints/step_000005", res.checkpoint)
    assert [int(r["step"]) for r in _log(tmp_path / "b")] == [1, 2, 3, 4, 5]  # no duplicates
    assert len((tmp_path / "b/command.txt").read_text().splitlines()) == 2


def test_keep_last_k(tmp_path: Path) -> None:
    _trainer("toy-ae", tmp_path, loop={"steps": 5, "ckpt_every": 1, "keep_last": 2}).run()
    names = [p.name for p in ckpt.list_checkpoints(tmp_path / "checkpoints")]
    assert names == ["step_000004", "step_000005"]
    assert not [p for p in (tmp_path / "checkpoints").iterdir() if p.name.startswith(".")]


def test_stop_hook_saves_and_resumes(tmp_path: Path) -> None:
    def stop_at_3(t: Trainer) -> None:
        if t.step == 3:
            t.request_stop()

    loop = {"steps": 6, "ckpt_every": 100, "sample_every": 0}
    res = _trainer("toy-ae", tmp_path / "b", loop=loop, on_step=stop_at_3).run()
    assert res.stopped and res.step == 3 and res.export is None
    assert res.checkpoint == tmp_path / "b/checkpoints/step_000003"
    full = _trainer("toy-ae", tmp_path / "a", loop=loop).run()
    rest = _trainer("toy-ae", tmp_path / "b", loop=loop, resume=res.checkpoint).run()
    _assert_same_checkpoint(full.checkpoint, rest.checkpoint)


def test_max_minutes_checkpoints_exports_and_resumes(tmp_path: Path) -> None:
    # a budget that is spent after the first step: stop there, checkpoint AND export
    loop = {"steps": 4, "ckpt_every": 100, "sample_every": 0, "max_minutes": 1e-9}
    res = _trainer("toy-ae", tmp_path / "b", loop=loop).run()
    assert res.stopped and res.step == 1
    assert res.checkpoint == tmp_path / "b/checkpoints/step_000001"
    assert res.export is not None and res.export.is_file()
    assert json.loads(res.export.with_suffix(".json").read_text())["steps"] == 1
    # without a budget the resumed run finishes bit-exactly like an uninterrupted one
    free = {**loop, "max_minutes": 0.0}
    full = _trainer("toy-ae", tmp_path / "a", loop=free).run()
    rest = _trainer("toy-ae", tmp_path / "b", loop=free, resume=res.checkpoint).run()
    assert not rest.stopped and rest.step == 4
    _assert_same_checkpoint(full.checkpoint, rest.checkpoint)
    # a generous budget changes nothing
    roomy = _trainer("toy-ae", tmp_path / "c", loop={**loop, "max_minutes": 60.0}).run()
    assert not roomy.stopped and roomy.step == 4
    with pytest.raises(InpaintError, match="max_minutes"):
        _trainer("toy-ae", tmp_path / "d", loop={**loop, "max_minutes": -1.0})


SIGINT_SCRIPT = """
import sys, torch
from torch.utils.data import TensorDataset
from inpaintkit.train import get_recipe
from inpaintkit.train.config import resolve
from inpaintkit.train.loop import Trainer
r = get_recipe("dcgan")
loop, cfg = resolve(r.config_cls, sets={{"loop": {loop}, "recipe": {recipe}}})
ds = TensorDataset(torch.rand(8, 3, 32, 32) * 2 - 1)
def report(t):
    print("step", t.step, flush=True)
res = Trainer(r, ds, loop=loop, cfg=cfg, out_dir=sys.argv[1], on_step=report).run()
print("result", res.step, res.stopped, flush=True)
"""


def test_sigint_checkpoints_and_exits_cleanly(tmp_path: Path) -> None:
    loop = {**FAST, "steps": 100_000, "ckpt_every": 100_000, "sample_every": 0}
    script = SIGINT_SCRIPT.format(loop=repr(loop), recipe=repr(TINY_DCGAN))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("step 2"):
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    last = out.strip().splitlines()[-1].split()
    assert last[0] == "result" and last[2] == "True"
    stopped_at = int(last[1])
    assert stopped_at >= 2
    assert "SIGINT: finishing step" in err and f"stopped at step {stopped_at}" in err
    state = ckpt.read_state(tmp_path / "checkpoints" / ckpt.step_dir_name(stopped_at))
    assert state["step"] == stopped_at and state["recipe"] == "dcgan"
    # ... and it resumes
    more = _trainer(
        "dcgan",
        tmp_path,
        loop={"steps": stopped_at + 1, "sample_every": 0},
        recipe=TINY_DCGAN,
        resume=tmp_path,
    ).run()
    assert more.step == stopped_at + 1 and not more.stopped


# --- bad input -----------------------------------------------------------------------------------


def test_resume_from_another_recipe_raises(tmp_path: Path) -> None:
    _trainer("toy-ae", tmp_path, loop={"steps": 1, "sample_every": 0}).run()
    with pytest.raises(InpaintError, match="recipe 'toy-ae', not 'dcgan'"):
        _trainer("dcgan", tmp_path / "x", loop={"steps": 2}, recipe=TINY_DCGAN, resume=tmp_path)


def test_resume_with_other_architecture_raises(tmp_path: Path) -> None:
    _trainer("dcgan", tmp_path, loop={"steps": 1, "sample_every": 0}, recipe=TINY_DCGAN).run()
    wider = {**TINY_DCGAN, "model": {**TINY_DCGAN["model"], "ngf": 8}}
    with pytest.raises(InpaintError, match="does not fit network 'G'"):
        _trainer("dcgan", tmp_path, loop={"steps": 2}, recipe=wider, resume=tmp_path)


def test_nothing_to_resume_and_existing_run_raise(tmp_path: Path) -> None:
    with pytest.raises(InpaintError, match="no checkpoint to resume"):
        _trainer("toy-ae", tmp_path, loop={"steps": 1}, resume=tmp_path)
    _trainer("toy-ae", tmp_path, loop={"steps": 1, "sample_every": 0}).run()
    with pytest.raises(InpaintError, match="already holds a training run"):
        _trainer("toy-ae", tmp_path, loop={"steps": 1})


def test_bad_data_raises(tmp_path: Path) -> None:
    r = get_recipe("toy-ae")
    loop, cfg = resolve(r.config_cls, sets={"loop": FAST})
    cases = [
        (_data(0, 16), "is empty"),
        (_data(4, 8), r"shape \(3, 8, 8\).*\(3, 16, 16\)"),
        (_data(3, 16), "fewer than one batch"),
        (TensorDataset(torch.full((4, 3, 16, 16), 200.0)), r"\[-1, 1\]"),
    ]
    for ds, msg in cases:
        with pytest.raises(InpaintError, match=msg):
            Trainer(r, ds, loop=loop, cfg=cfg, out_dir=tmp_path)


def test_unknown_recipe_raises() -> None:
    with pytest.raises(InpaintError, match=r"known recipes: .*dcgan, deepfill"):
        get_recipe("dcgann")


# --- config --------------------------------------------------------------------------------------


def test_config_unknown_keys_and_types(tmp_path: Path) -> None:
    cls = get_recipe("dcgan").config_cls
    with pytest.raises(InpaintError, match=r"'recipe.lrr'.*known keys: recipe.model"):
        resolve(cls, sets=parse_sets(["recipe.lrr=1"]))
    with pytest.raises(InpaintError, match=r"'recipe\.model\.ngff'"):
        resolve(cls, sets=parse_sets(["recipe.model.ngff=3"]))
    with pytest.raises(InpaintError, match=r"'loop\.stepz'"):
        resolve(cls, sets=parse_sets(["loop.stepz=3"]))
    with pytest.raises(InpaintError, match="unknown config section 'steps'"):
        resolve(cls, sets=parse_sets(["steps=3"]))
    with pytest.raises(InpaintError, match="expects int, got 'ten'"):
        resolve(cls, sets=parse_sets(["loop.steps=ten"]))
    with pytest.raises(InpaintError, match="KEY=VALUE"):
        parse_sets(["loop.steps"])
    with pytest.raises(InpaintError, match="precision"):
        resolve(cls, sets=parse_sets(["loop.precision=fp8"]))
    with pytest.raises(InpaintError, match="image_size must be 32 or 64"):
        resolve(cls, sets=parse_sets(["recipe.model.image_size=48"]))


def test_config_precedence_and_files(tmp_path: Path) -> None:
    cls = get_recipe("dcgan").config_cls
    (tmp_path / "c.json").write_text(json.dumps({"loop": {"steps": 7, "seed": 3}}))
    (tmp_path / "c.yaml").write_text("recipe:\n  lr: 0.001\n  model: {ngf: 16}\nloop: {steps: 9}\n")
    loop, cfg = resolve(
        cls,
        file=tmp_path / "c.json",
        sets=parse_sets(["loop.seed=5"]),
        loop_defaults={"steps": 50, "keep_last": 1},
    )
    assert (loop.steps, loop.seed, loop.keep_last) == (7, 5, 1)
    loop, cfg = resolve(cls, file=tmp_path / "c.yaml")
    assert (loop.steps, cfg.lr, cfg.model.ngf, cfg.model.ndf) == (9, 0.001, 16, 64)
    assert from_dict(LoopConfig, {"channels_last": "true", "compile": "0"}).channels_last is True
    (tmp_path / "bad.json").write_text(json.dumps({"loop": {"nope": 1}}))
    with pytest.raises(InpaintError, match=r"'loop\.nope'"):
        resolve(cls, file=tmp_path / "bad.json")
    with pytest.raises(InpaintError, match="does not exist"):
        resolve(cls, file=tmp_path / "missing.yaml")


# --- parts ---------------------------------------------------------------------------------------


def test_sampler_order_shards_and_resume_position() -> None:
    n, b, world = 10, 2, 2
    full = [ShardedBatchSampler(n, batch_size=b, seed=1, rank=r, world_size=world) for r in (0, 1)]
    its = [iter(s) for s in full]
    batches = [[next(it) for _ in range(6)] for it in its]  # 2 batches an epoch a rank: 3 epochs
    for e in range(3):
        keys = [k for r in (0, 1) for bt in batches[r][2 * e : 2 * e + 2] for k in bt]
        assert {ep for ep, _ in keys} == {e}
        assert len({i for _, i in keys}) == 8  # no index twice within an epoch, across both ranks
    assert batches[0][:2] != batches[0][2:4]  # a new order each epoch
    later = iter(ShardedBatchSampler(n, batch_size=b, seed=1, rank=1, world_size=world, start=3))
    assert [next(later) for _ in range(3)] == batches[1][3:6]
    assert step_seed(0, 0, 5) != step_seed(0, 1, 5) != step_seed(0, 0, 6)


class _EpochData(torch.utils.data.Dataset):
    """Item i of epoch e is the constant image (e * 100 + i) / 1000."""

    def __init__(self) -> None:
        self.epoch = 0

    def __len__(self) -> int:
        return 6

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.full((3, 2, 2), (self.epoch * 100 + i) / 1000)


def _stream(workers: int, start: int, n: int) -> list[list[int]]:
    sampler = ShardedBatchSampler(6, batch_size=2, seed=0, start=start)
    data = make_loader(_EpochData(), sampler, workers=workers, pin_memory=False)
    return [(next(data)[:, 0, 0, 0] * 1000).round().int().tolist() for _ in range(n)]


def test_loader_tells_the_dataset_its_epoch_in_any_worker() -> None:
    main = _stream(0, 0, 7)  # 3 batches an epoch: epochs 0, 0, 0, 1, 1, 1, 2
    assert [b[0] // 100 for b in main] == [0, 0, 0, 1, 1, 1, 2]
    assert sorted(i % 100 for b in main[:3] for i in b) == list(range(6))
    assert _stream(2, 0, 7) == main  # two worker processes: the same stream
    assert _stream(0, 4, 3) == main[4:]  # resuming at batch 4


def test_checkpoint_roundtrip_restores_optimizer_and_rng(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.9))
    net(torch.randn(4, 3)).sum().backward()
    opt.step()
    rng = ckpt.capture_rng()
    expected = torch.rand(3)
    path = ckpt.save_checkpoint(
        tmp_path,
        7,
        nets={"n": net},
        optimizers={"o": opt},
        state={"recipe": "x", "batches": 1},
        rng=[rng],
    )
    torch.rand(10)
    net2 = nn.Linear(3, 2)
    opt2 = torch.optim.Adam(net2.parameters(), lr=5.0)
    state = ckpt.load_checkpoint(path, nets={"n": net2}, optimizers={"o": opt2}, recipe="x")
    assert state["step"] == 7 and torch.equal(torch.rand(3), expected)
    assert torch.equal(net2.weight, net.weight)
    assert opt2.param_groups[0]["lr"] == 1e-3 and tuple(opt2.param_groups[0]["betas"]) == (0.5, 0.9)
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    for i in s1:
        for k in s1[i]:
            assert torch.equal(s1[i][k], s2[i][k])


def test_export_is_fp16_and_loads_back(tmp_path: Path) -> None:
    res = _trainer("dcgan", tmp_path, loop={"steps": 1, "sample_every": 0}, recipe=TINY_DCGAN).run()
    raw = load_file(str(res.export))
    assert raw["G.fc.weight"].dtype == torch.float16
    assert raw["D.main.3.num_batches_tracked"].dtype == torch.int64
    nets, card = load_export(res.export)
    from inpaintkit.models.dcgan import DCGANConfig, Generator

    G = Generator(DCGANConfig(**card["architecture"]))
    G.load_state_dict(nets["G"])
    weights = load_file(str(res.checkpoint / "models.safetensors"))
    torch.testing.assert_close(G.fc.weight, weights["G.fc.weight"], atol=1e-3, rtol=1e-3)


# --- CLI -----------------------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="inpaintkit")
    add_train_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    args.argv = ["inpaintkit", *argv]
    return args.func(args)


def test_cli_train_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import inpaintkit.data

    calls = []

    def fake_open_dataset(spec: str, *, size: int, split: str, seed: int, **kw) -> TensorDataset:
        calls.append((spec, size, split, seed, kw))
        return _data(8, size)

    monkeypatch.setattr(inpaintkit.data, "open_dataset", fake_open_dataset, raising=False)
    out = tmp_path / "run"
    common = [
        "--set",
        "recipe.model.ngf=4",
        "--set",
        "recipe.model.ndf=4",
        "--workers",
        "0",
        "--set",
        "recipe.model.image_size=32",
        "--batch-size",
        "4",
        "--no-progress",
    ]
    argv = ["train", "dcgan", "--data", "fake:/x", "--out", str(out), "--steps", "2", *common]
    assert _cli(argv) == 0
    assert calls == [("fake:/x", 32, "train", 0, {})]
    card = json.loads((out / "export/dcgan.json").read_text())
    assert card["command"] == "inpaintkit " + " ".join(argv) and card["data"] == "fake:/x"
    assert json.loads((out / "config.json").read_text())["recipe"]["batch_size"] == 4
    assert (
        _cli(["train", "dcgan", "--out", str(out), "--resume", "--steps", "3", "--no-progress"])
        == 0
    )
    assert calls[-1][0] == "fake:/x"  # the data spec comes from the checkpoint
    assert ckpt.read_state(ckpt.find_latest(out / "checkpoints"))["step"] == 3
    with pytest.raises(InpaintError, match="recipe 'dcgan', not 'toy-ae'"):
        _cli(["train", "toy-ae", "--resume", str(out)])
    with pytest.raises(InpaintError, match="no training data"):
        _cli(["train", "dcgan", "--out", str(tmp_path / "new")])
    with pytest.raises(InpaintError, match=r"'recipe\.nope'"):
        _cli(["train", "dcgan", "--data", "x", "--set", "recipe.nope=1"])


def test_data_opts_are_typed_and_checked() -> None:
    from inpaintkit.cli.train import parse_data_opts

    assert parse_data_opts(["length=64", "fold=-1", "upscale=True"]) == {
        "length": 64,
        "fold": -1,
        "upscale": True,
    }
    with pytest.raises(InpaintError, match="KEY=VALUE"):
        parse_data_opts(["length"])
