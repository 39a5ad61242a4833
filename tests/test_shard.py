"""`inpaintkit run|eval` sharded across torchrun ranks: disjoint, merged, resumable."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaintkit.cli import main
from inpaintkit.errors import InpaintError
from inpaintkit.shard import Shard, current_shard, shard_jobs

TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture
def photos(tmp_path: Path, smooth_image: np.ndarray) -> tuple[Path, Path]:
    """Five tiny images and one mask file."""
    d = tmp_path / "photos"
    d.mkdir()
    for i in range(5):
        Image.fromarray(np.roll(smooth_image, 6 * i, axis=1)).save(d / f"im{i}.png")
    mask = np.zeros(smooth_image.shape[:2], np.uint8)
    mask[16:30, 20:40] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    return d, tmp_path / "mask.png"


def _as_rank(monkeypatch: pytest.MonkeyPatch, rank: int, world: int) -> None:
    monkeypatch.setenv("RANK", str(rank))
    monkeypatch.setenv("WORLD_SIZE", str(world))


@pytest.mark.parametrize("world", [1, 2, 3, 7])
def test_slices_are_disjoint_cover_and_balanced(world: int) -> None:
    items = list(range(10))
    slices = [Shard(r, world).take(items) for r in range(world)]
    flat = sorted(x for s in slices for x in s)
    assert flat == items
    sizes = [len(s) for s in slices]
    assert max(sizes) - min(sizes) <= 1
    assert slices[0][:2] == [0, world]  # rank 0 takes 0, world, 2 * world, ...


def test_current_shard_reads_torchruns_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in TORCHRUN_ENV:
        monkeypatch.delenv(key, raising=False)
    assert current_shard() == Shard(0, 1, 0)
    _as_rank(monkeypatch, 1, 2)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert current_shard() == Shard(1, 2, 1)
    _as_rank(monkeypatch, 2, 2)
    with pytest.raises(InpaintError, match="RANK=2"):
        current_shard()
    monkeypatch.setenv("RANK", "one")
    with pytest.raises(InpaintError, match="not an integer"):
        current_shard()


def test_training_reads_the_same_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """One reader of torchrun's variables (inpaintkit.ranks) for sharded work and training."""
    from inpaintkit.train.distributed import dist_info

    for key in TORCHRUN_ENV:
        monkeypatch.delenv(key, raising=False)
    _as_rank(monkeypatch, 1, 2)
    monkeypatch.setenv("LOCAL_RANK", "1")
    info, shard = dist_info(), current_shard()
    assert (info.rank, info.world_size, info.local_rank) == (1, 2, 1)
    assert (shard.rank, shard.world_size, shard.local_rank) == (1, 2, 1)
    assert info.distributed and shard.sharded and not info.is_main
    monkeypatch.setenv("WORLD_SIZE", "")  # empty: unset, for both
    with pytest.raises(InpaintError, match="RANK=1 and WORLD_SIZE=1"):
        dist_info()
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(InpaintError, match="WORLD_SIZE='two' is not an integer"):
        dist_info()


def test_shard_jobs_slices_the_plan_before_skipping_what_is_done(monkeypatch) -> None:
    jobs = list(range(6))
    _as_rank(monkeypatch, 1, 2)
    assert shard_jobs(jobs) == [1, 3, 5]
    # rank 0 finished 0 and 2: rank 1's slice does not move to take them over
    assert shard_jobs(jobs, resume=True, done=lambda j: j in (0, 2, 3)) == [1, 5]
    with pytest.raises(ValueError, match="done="):
        shard_jobs(jobs, resume=True)


def test_run_ranks_write_disjoint_outputs_and_resume_skips_existing(
    tmp_path, photos, monkeypatch, capsys
) -> None:
    folder, mask = photos
    out = tmp_path / "filled"
    argv = ["run", str(folder), "--mask", str(mask), "-m", "telea", "-o", str(out)]
    written = []
    for rank in (0, 1):
        _as_rank(monkeypatch, rank, 2)
        assert main(argv) == 0
        written.append({line.split(" -> ")[0] for line in capsys.readouterr().out.splitlines()})
    assert not written[0] & written[1]
    assert len(written[0]) == 3 and len(written[1]) == 2
    assert sorted(p.name for p in out.iterdir()) == [f"im{i}.png" for i in range(5)]
    one = tmp_path / "one"
    monkeypatch.delenv("RANK")
    monkeypatch.delenv("WORLD_SIZE")
    assert main([*argv[:-1], str(one)]) == 0
    for i in range(5):  # the sharded outputs are the single process's, byte for byte
        assert (out / f"im{i}.png").read_bytes() == (one / f"im{i}.png").read_bytes()
    (out / "im1.png").unlink()
    (out / "im4.png").unlink()
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    redone = [line.split(" -> ")[0] for line in capsys.readouterr().out.splitlines()]
    assert sorted(Path(p).name for p in redone) == ["im1.png", "im4.png"]
    assert main(argv) == 1  # without --resume existing outputs are still refused


def _eval_argv(folder: Path, out: Path) -> list[str]:
    return [
        "eval", "--data", str(folder), "--methods", "telea,ns", "--masks", "center,half",
        "--size", "32", "--limit", "5", "--no-lpips", "--out", str(out),
    ]  # fmt: skip


def _metric_rows(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return [
            {k: v for k, v in r.items() if k not in ("seconds", "peak_mib")}
            for r in csv.DictReader(f)
        ]


def test_a_killed_sharded_eval_resumes_from_the_ranks_rows(tmp_path, photos, capsys) -> None:
    folder, _ = photos
    out = tmp_path / "ev"
    assert main(_eval_argv(folder, out)) == 0
    full = _metric_rows(out / "per_image.csv")
    # as a killed two-rank run leaves it: each rank's rows so far, no per_image.csv
    rows = list(csv.DictReader((out / "per_image.csv").open(newline="")))
    (out / "shards").mkdir()
    for rank in (0, 1):
        mine = [r for r in rows if int(r["index"]) % 2 == rank and r["mask"] == "center"]
        with (out / f"shards/rank{rank:03d}-test.csv").open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(mine)
    (out / "per_image.csv").unlink()
    capsys.readouterr()
    assert main([*_eval_argv(folder, out), "--resume"]) == 0
    assert "reusing 10 rows" in capsys.readouterr().err
    assert _metric_rows(out / "per_image.csv") == full
    assert not (out / "shards").exists()  # merged into per_image.csv


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_two_torchrun_ranks_equal_one_process(tmp_path, photos) -> None:
    """`torchrun --nproc_per_node 2 -m inpaintkit eval|run`: the files equal one process's."""
    folder, mask = photos
    script = tmp_path / "both.py"
    script.write_text(
        "import sys\nfrom inpaintkit.cli import main\n"
        f"assert main({_eval_argv(folder, tmp_path / 'ev2')!r}) == 0\n"
        f"assert main(['run', {str(folder)!r}, '--mask', {str(mask)!r}, "
        f"'-o', {str(tmp_path / 'run2')!r}]) == 0\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_ENV}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        str(script),
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "this rank computed 8 rows" in proc.stdout  # rank 1: images 1, 3 x 2 x 2 pairs
    assert proc.stdout.count(" -> ") == 5  # every image written once, by one rank

    ev2, ev1 = tmp_path / "ev2", tmp_path / "ev1"
    assert main(_eval_argv(folder, ev1)) == 0
    assert _metric_rows(ev2 / "per_image.csv") == _metric_rows(ev1 / "per_image.csv")
    s1, s2 = (json.loads((d / "summary.json").read_text())["summary"] for d in (ev1, ev2))
    for kind in s1:
        for m in s1[kind]:
            for c in ("psnr", "ssim_hole", "l1_hole", "n"):
                assert s2[kind][m][c] == pytest.approx(s1[kind][m][c], rel=1e-6)
    for kind in ("center", "half"):
        a = np.asarray(Image.open(ev1 / f"grid_{kind}.png"))
        assert np.array_equal(a, np.asarray(Image.open(ev2 / f"grid_{kind}.png")))
    assert not (ev2 / "shards").exists()
    run1 = tmp_path / "run1"
    assert main(["run", str(folder), "--mask", str(mask), "-o", str(run1)]) == 0
    for i in range(5):
        assert (tmp_path / "run2" / f"im{i}.png").read_bytes() == (run1 / f"im{i}.png").read_bytes()
