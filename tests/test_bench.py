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
