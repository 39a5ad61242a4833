"""scripts/grid_score.py: the checkerboard score is ~1 on texture and spikes on a grid."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "scripts" / "grid_score.py"


@pytest.fixture(scope="module")
def grid_score():
    spec = importlib.util.spec_from_file_location("grid_score", _PATH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _texture(n: int = 112, seed: int = 0) -> np.ndarray:
    """Smooth random texture: white noise blurred by a box of 5 along each axis."""
    x = np.random.default_rng(seed).normal(size=(n, n))
    for axis in (0, 1):
        x = sum(np.roll(x, s, axis) for s in range(-2, 3)) / 5
    return x


def test_texture_scores_near_one(grid_score) -> None:
    scores = grid_score.spike_scores(_texture())
    assert set(scores) == {2, 4, 8}
    assert all(0.2 < v < 2.0 for v in scores.values()), scores


@pytest.mark.parametrize("period", [2, 4, 8])
def test_grid_of_one_period_spikes_there(grid_score, period: int) -> None:
    n = 112
    yy, xx = np.mgrid[:n, :n]
    grid = np.cos(2 * np.pi * xx / period) + np.cos(2 * np.pi * yy / period)
    base = grid_score.spike_scores(_texture())
    scores = grid_score.spike_scores(_texture() + 0.3 * grid)
    assert scores[period] > 5 * base[period], (period, scores, base)
    others = [q for q in (2, 4, 8) if q != period]
    assert all(scores[q] < 2.0 for q in others), scores


def test_parse_method(grid_score) -> None:
    assert grid_score.parse_method("patchmatch") == ("patchmatch", "patchmatch", {})
    assert grid_score.parse_method("deepfill:natural128") == (
        "deepfill:natural128",
        "deepfill",
        {"model": "natural128"},
    )
    assert grid_score.parse_method("new=deepfill:runs/x.safetensors") == (
        "new",
        "deepfill",
        {"model": "runs/x.safetensors"},
    )


def test_table_shows_mean_and_standard_error(grid_score) -> None:
    rows = {"a": [{2: 1.0, 4: 2.0, 8: 3.0}, {2: 3.0, 4: 2.0, 8: 5.0}]}
    lines = grid_score.table("method", rows).splitlines()
    assert lines[0] == "| method | period 2 | period 4 | period 8 |"
    assert lines[2] == "| a | 2.00 ± 1.00 | 2.00 ± 0.00 | 4.00 ± 1.00 |"
