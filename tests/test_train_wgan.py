"""The ``wgan_resnet`` recipe (Vitoria et al. 2019) through the one training loop, tiny and CPU."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch.utils.data import TensorDataset

from inpaintkit.cli.train import add_train_parser
from inpaintkit.errors import InpaintError
from inpaintkit.train.config import resolve
from inpaintkit.train.loop import Trainer
from inpaintkit.train.recipes import get_recipe, list_recipes
from inpaintkit.train.wgan import WGANTrainConfig

pytestmark = pytest.mark.usefixtures("one_thread")


FAST = {"workers": 0, "progress": False, "tensorboard": False, "n_samples": 4}
S = 16
TINY = {"batch_size": 4, "model": {"z_dim": 8, "dim": 8, "image_size": S}}


def _data(n: int, size: int, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.rand(n, 3, size, size, generator=g) * 2 - 1)


def _trainer(out: Path, *, loop: dict, recipe: dict | None = None, resume=None) -> Trainer:
    r = get_recipe("wgan_resnet")
    sets = {"loop": {**FAST, **loop}, "recipe": {**TINY, **(recipe or {})}}
    loop_cfg, cfg = resolve(r.config_cls, sets=sets, loop_defaults=r.loop_defaults)
    return Trainer(r, _data(8, S), loop=loop_cfg, cfg=cfg, out_dir=out, resume=resume)


def _log(out: Path) -> list[dict[str, str]]:
    with (out / "log.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_defaults_are_the_papers() -> None:
    r = get_recipe("wgan_resnet")
    assert "wgan_resnet" in list_recipes() and r.loop_defaults == {"steps": 50_000}
    cfg = WGANTrainConfig()
    assert (cfg.model.z_dim, cfg.model.image_size, cfg.model.dim) == (128, 64, 64)
    assert (cfg.lr, cfg.beta1, cfg.beta2, cfg.gp_weight) == (1e-4, 0.0, 0.9, 10.0)
    assert (cfg.batch_size, cfg.critic_steps, cfg.flip) == (64, 5, True)
    phases = r.phases(cfg)
    assert [(p.name, p.optimizer, p.repeat, p.needs_data) for p in phases] == [
        ("D", "D", 5, True),
        ("G", "G", 1, False),
    ]
    models = r.build(cfg, torch.device("cpu"))
    for opt in models.optimizers.values():
        assert opt.param_groups[0]["betas"] == (0.0, 0.9) and opt.param_groups[0]["lr"] == 1e-4
    with pytest.raises(InpaintError, match="critic_steps"):
        WGANTrainConfig(critic_steps=0).validate()


def test_five_critic_updates_per_step(tmp_path: Path) -> None:
    t = _trainer(tmp_path, loop={"steps": 2, "sample_every": 0, "ckpt_every": 100})
    t.run()
    # Adam counts its updates: 5 critic updates and 1 generator update per step
    d_steps = {int(s["step"]) for s in t.models.optimizers["D"].state.values()}
    g_steps = {int(s["step"]) for s in t.models.optimizers["G"].state.values()}
    assert d_steps == {10} and g_steps == {2}
    rows = _log(tmp_path)
    assert [int(r["images_seen"]) for r in rows] == [5 * 4, 10 * 4]  # 5 real batches a step
    for r in rows:  # the critic's loss is -W + 10 GP (averaged over the 5 updates)
        expected = -float(r["D_wdist"]) + 10 * float(r["D_gp"])
        assert float(r["D_loss"]) == pytest.approx(expected, rel=1e-5, abs=1e-6)
        assert float(r["D_gp"]) >= 0


def test_critic_learns_to_separate(tmp_path: Path) -> None:
    # A faster critic (lr 1e-3) against a frozen-ish generator: the Wasserstein estimate grows.
    t = _trainer(tmp_path, loop={"steps": 6, "sample_every": 0, "ckpt_every": 100},
                 recipe={"lr": 1e-3})  # fmt: skip
    t.run()
    w = [float(r["D_wdist"]) for r in _log(tmp_path)]
    assert w[-1] > w[0] + 0.5, w


@pytest.mark.parametrize("speed", [{}, {"precision": "bf16", "channels_last": True}])
def test_resume_is_bit_exact(tmp_path: Path, speed: dict) -> None:
    loop = {"ckpt_every": 1, "sample_every": 0, "keep_last": 0, **speed}
    whole = _trainer(tmp_path / "a", loop={**loop, "steps": 2}).run()
    half = _trainer(tmp_path / "b", loop={**loop, "steps": 1}).run()
    assert half.checkpoint is not None
    rest = _trainer(tmp_path / "b", loop={**loop, "steps": 2}, resume=tmp_path / "b").run()
    assert whole.step == rest.step == 2 and rest.checkpoint is not None
    for name in ("models.safetensors", "optim.safetensors"):
        a = load_file(str(tmp_path / "a/checkpoints/step_000002" / name))
        b = load_file(str(rest.checkpoint / name))
        assert a.keys() == b.keys() and len(a) > 0
        for k in a:
            assert torch.equal(a[k], b[k]), f"{name}:{k}"
    rows_a, rows_b = _log(tmp_path / "a"), _log(tmp_path / "b")
    assert [(r["D_loss"], r["G_loss"]) for r in rows_a] == [
        (r["D_loss"], r["G_loss"]) for r in rows_b
    ]


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="inpaintkit")
    add_train_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    args.argv = ["inpaintkit", *argv]
    return args.func(args)


def test_cli_export_loads_and_inpaints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import inpaintkit
    import inpaintkit.data
    from inpaintkit import weights

    monkeypatch.setattr(
        inpaintkit.data, "open_dataset", lambda spec, *, size, **kw: _data(8, size), raising=False
    )
    out = tmp_path / "run"
    sets = ["recipe.model.z_dim=8", "recipe.model.dim=8", f"recipe.model.image_size={S}"]
    argv = ["train", "wgan_resnet", "--data", "fake:/x", "--out", str(out), "--steps", "1"]
    argv += ["--batch-size", "4", "--workers", "0", "--no-progress", "--sample-every", "0"]
    for s in sets:
        argv += ["--set", s]
    assert _cli(argv) == 0
    path = out / "export/wgan_resnet.safetensors"
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["model"] == "wgan_resnet" and card["steps"] == 1 and card["images_seen"] == 20
    assert card["architecture"] == {"z_dim": 8, "image_size": S, "dim": 8}
    G, D, cfg = weights.load_gan("vitoria2019", path)
    assert (cfg.z_dim, cfg.image_size, cfg.dim) == (8, S, 8)
    trained = load_file(str(out / "checkpoints/step_000001/models.safetensors"))
    torch.testing.assert_close(G.fc.weight, trained["G.fc.weight"], atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(D.fc.weight, trained["D.fc.weight"], atol=1e-3, rtol=1e-3)

    pixels = np.random.default_rng(0).integers(0, 256, (S, S, 3), dtype=np.uint8)
    hole = np.zeros((S, S), bool)
    hole[4:12, 4:12] = True
    res = inpaintkit.inpaint(
        pixels, hole, "vitoria2019", model=str(path), iterations=5, progress=False
    )
    assert res.pixels.shape == pixels.shape and res.notes == []
    assert np.array_equal(res.pixels[~hole], pixels[~hole])  # known pixels bit-exact
    assert res.extras["model"] == str(path) and res.extras["z"].shape == (1, 8)
    assert res.extras["z"].abs().max() <= 1


def test_ema_is_exported_and_resumes_bit_exactly(tmp_path: Path) -> None:
    loop = {"ckpt_every": 1, "sample_every": 0, "keep_last": 0}
    ema = {"ema_decay": 0.9, "lr": 1e-2}  # a large lr: the average visibly lags G
    whole = _trainer(tmp_path / "a", loop={**loop, "steps": 3}, recipe=ema).run()
    _trainer(tmp_path / "b", loop={**loop, "steps": 1}, recipe=ema).run()
    rest = _trainer(tmp_path / "b", loop={**loop, "steps": 3}, recipe=ema, resume=tmp_path / "b")
    rest_result = rest.run()
    assert whole.step == rest_result.step == 3
    a = load_file(str(tmp_path / "a/checkpoints/step_000003/models.safetensors"))
    b = load_file(str(tmp_path / "b/checkpoints/step_000003/models.safetensors"))
    assert any(k.startswith("G_ema.") for k in a) and a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    # the average lags the trained weights, and the export holds the average as G
    g = {k[2:]: v for k, v in a.items() if k.startswith("G.")}
    avg = {k[6:]: v for k, v in a.items() if k.startswith("G_ema.")}
    assert g.keys() == avg.keys() and any(not torch.equal(g[k], avg[k]) for k in g)
    exported = load_file(str(tmp_path / "a/export/wgan_resnet.safetensors"))

    def distance(ref: dict[str, torch.Tensor]) -> float:
        return sum(float((exported[f"G.{k}"].float() - ref[k].float()).abs().sum()) for k in ref)

    assert distance(avg) < 0.1 * distance(g)


def test_init_from_an_export_starts_both_nets_from_it(tmp_path: Path) -> None:
    _trainer(tmp_path / "a", loop={"sample_every": 0, "steps": 1}).run()
    export = tmp_path / "a/export/wgan_resnet.safetensors"
    r = get_recipe("wgan_resnet")
    _, cfg = resolve(r.config_cls, sets={"recipe": {**TINY, "init_from": str(export)}})
    nets = r.build(cfg, torch.device("cpu")).nets
    saved = load_file(str(export))
    for name in ("G", "D"):
        for k, v in nets[name].state_dict().items():
            if v.is_floating_point():
                assert torch.allclose(v, saved[f"{name}.{k}"].float(), atol=1e-2), k
    other = {**TINY, "model": {**TINY["model"], "dim": 4}, "init_from": str(export)}
    _, bad = resolve(r.config_cls, sets={"recipe": other})
    with pytest.raises(InpaintError, match="not a wgan_resnet export of this architecture"):
        r.build(bad, torch.device("cpu"))


def test_ema_decay_out_of_range_is_refused() -> None:
    with pytest.raises(InpaintError, match="ema_decay"):
        resolve(WGANTrainConfig, sets={"recipe": {"ema_decay": 1.0}})
