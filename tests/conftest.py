"""Shared fixtures: everything seeded, tiny images, CPU only."""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_everything() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture
def smooth_image() -> np.ndarray:
    """A 48x64 smooth RGB uint8 image (gradients + a soft blob): easy to inpaint."""
    y, x = np.mgrid[0:48, 0:64].astype(np.float64)
    r = 40 + 3 * x
    g = 60 + 2 * y
    b = 120 + 60 * np.exp(-((x - 40) ** 2 + (y - 20) ** 2) / 200.0)
    return np.clip(np.stack([r, g, b], axis=2), 0, 255).astype(np.uint8)


@pytest.fixture
def square_hole() -> np.ndarray:
    """(48, 64) bool mask with a 12x16 hole in the middle."""
    m = np.zeros((48, 64), bool)
    m[18:30, 24:40] = True
    return m


@pytest.fixture
def one_thread() -> Iterator[None]:
    """One intra-op torch thread (tiny tensors on a shared 2-core machine: avoids OpenMP waits).

    Use with ``pytestmark = pytest.mark.usefixtures("one_thread")``.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def no_models(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No trained model is installed: empty user and bundled weight folders (for the errors)."""
    import inpaintkit.weights as weights

    empty = tmp_path_factory.mktemp("no-weights")
    monkeypatch.setenv("INPAINTKIT_WEIGHTS", str(empty))
    monkeypatch.setattr(weights, "bundled_dir", lambda: empty)
