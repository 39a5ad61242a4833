import math

from inpaintkit.cli import main
from inpaintkit.eval.bench import BENCHMARKS, bench_blend, rows_to_markdown, timed


def test_bench_blend_rows():
    rows = bench_blend(sizes=(32,), repeat=1)
    assert (
        rows[0]["size"] == "32x32" and rows[0]["seconds"] > 0 and math.isfinite(rows[0]["peak_mib"])
    )


def test_timed_counts_repeats():
    calls = []
    sec, _ = timed(lambda: calls.append(1), repeat=3, warmup=2)
    assert len(calls) == 5 and sec >= 0


def test_markdown_and_cli_list(capsys):
    md = rows_to_markdown([{"a": 1.23456, "b": "x"}, {"a": 2.0, "c": 3}])
    assert md.splitlines()[0] == "| a | b | c |" and "1.235" in md
    assert main(["bench", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in BENCHMARKS)
    assert main(["bench", "nope"]) == 2


def test_deepfill_train_step_speed_rows():
    """`bench deepfill-train` (docs/training.md's speed table) runs a real G and D update."""
    from inpaintkit.eval.bench_deepfill import bench_deepfill_train

    rows = bench_deepfill_train(crops=(32,), cnum=4, batch=1, modes=("bf16-cl",), repeat=1)
    assert [(r["crop"], r["bf16"], r["channels_last"]) for r in rows] == [(32, True, True)]
    assert rows[0]["generator_s"] > 0 and rows[0]["critic_s"] > 0


def test_song_d2_probe_rows(tmp_path):
    """`bench song-d2` trains a fresh D2 on the bundled G2's images; accuracy is a fraction."""
    import numpy as np
    from PIL import Image

    from inpaintkit.errors import InpaintError
    from inpaintkit.eval.bench_song import bench_song_d2

    rng = np.random.default_rng(0)
    for i in range(16):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(
            tmp_path / f"{i:02d}.png"
        )
    rows = bench_song_d2(data=str(tmp_path), images=16, held_out=8, steps=2,
                         cond_scales=(1.0, 0.05), seeds=(0,))  # fmt: skip
    assert [r["d2_cond_scale"] for r in rows] == [1.0, 0.05]
    assert all(0 <= r["held_out_accuracy"] <= 1 and r["d2_loss_last50"] > 0 for r in rows)
    import pytest

    with pytest.raises(InpaintError, match="at least 108"):
        bench_song_d2(data=str(tmp_path), images=16)
    with pytest.raises(InpaintError, match="needs --opt data"):
        bench_song_d2()
