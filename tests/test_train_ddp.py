"""The loop under torchrun: 2 CPU processes (gloo) end with equal weights; only rank 0 writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

SCRIPT = """
import os, sys
import torch
from safetensors.torch import save_file
from torch.utils.data import TensorDataset
from inpaintkit.train import get_recipe
from inpaintkit.train.config import resolve
from inpaintkit.train.loop import Trainer

rank, root = int(os.environ["RANK"]), sys.argv[1]
r = get_recipe("dcgan")
loop, cfg = resolve(r.config_cls, sets={
    "loop": {"steps": 3, "ckpt_every": 2, "sample_every": 2, "n_samples": 4, "workers": 0,
             "progress": False, "tensorboard": False},
    "recipe": {"batch_size": 2, "model": {"z_dim": 8, "ngf": 4, "ndf": 4, "image_size": 32}},
})
ds = TensorDataset(torch.rand(8, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1)
# Each rank gets its own out folder here so the test can see who wrote what; in real runs all
# ranks get the same folder and only rank 0 writes to it.
t = Trainer(r, ds, loop=loop, cfg=cfg, out_dir=f"{root}/out_rank{rank}")
res = t.run()
weights = {f"{n}.{k}": v.contiguous()
           for n, net in t.nets.items() for k, v in net.state_dict().items()}
save_file(weights, f"{root}/final_rank{rank}.safetensors")
line = f"rank {rank} world {t.dist.world_size} step {res.step} seen {t.images_seen}\\n"
os.write(1, line.encode())  # one write: the two ranks' lines must not interleave
"""


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_two_ranks_end_identical_and_only_rank0_writes(tmp_path: Path) -> None:
    script = tmp_path / "ddp_run.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",  # torchrun binds a free port itself: no pick-then-bind race
        "--nproc_per_node",
        "2",
        str(script),
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for rank in (0, 1):
        assert f"rank {rank} world 2 step 3 seen 12" in proc.stdout  # 3 steps x 2 ranks x 2 images

    a = load_file(str(tmp_path / "final_rank0.safetensors"))
    b = load_file(str(tmp_path / "final_rank1.safetensors"))
    assert a.keys() == b.keys()
    for k in a:  # parameters, and batch-norm buffers (synced from rank 0 at the end)
        assert torch.equal(a[k], b[k]), k
    assert any(not torch.equal(a[k], torch.zeros_like(a[k])) for k in a if "running_mean" in k)

    assert not (tmp_path / "out_rank1").exists()  # rank 1 wrote nothing
    out = tmp_path / "out_rank0"
    assert [p.name for p in sorted((out / "checkpoints").iterdir())] == [
        "step_000002",
        "step_000003",
    ]
    state = json.loads((out / "checkpoints/step_000003/state.json").read_text())
    assert state["world_size"] == 2 and state["images_seen"] == 12
    saved = load_file(str(out / "checkpoints/step_000003/models.safetensors"))
    for k in a:
        assert torch.equal(saved[k], a[k]), k
    rows = (out / "log.csv").read_text().splitlines()
    assert len(rows) == 1 + 3  # header + one row per step, written once
    assert (out / "export/dcgan.safetensors").is_file()
    assert (out / "samples/step_000002.png").is_file()
