"""Golden outputs of every bundled model: a refactor must leave them bit-identical.

Each ``src/inpaintkit/weights/*.safetensors`` is run by its method on one seeded input (a smooth
image with texture, a square hole) and the output is compared with ``tests/golden/``: the sha256
of the float32 output bytes and the uint8 picture (a small PNG, for eyes and for a readable diff).
Latent search runs a few iterations with a fixed seed so the test stays fast.

The float bytes are exact on one machine with one thread; another CPU (other SIMD kernels) may
differ in the last bits, so the PNG is compared to within 1/255 there and the hash only where
``golden.json`` was written (same ``platform.machine()``, the same SIMD kernels
(``torch.backends.cpu.get_cpu_capability()``) and torch version). Regenerate after an
intended change with ``INPAINTKIT_REGEN_GOLDEN=1 pytest tests/test_golden_models.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaintkit.registry import get_method, list_methods

WEIGHTS = Path(__file__).resolve().parents[1] / "src/inpaintkit/weights"
#: the models (a model's latent encoder, ``<model>.encoder.safetensors``, is part of its model's
#: golden output: the search starts from it)
BUNDLED = sorted(p for p in WEIGHTS.glob("*.safetensors") if not p.stem.endswith(".encoder"))
GOLDEN = Path(__file__).resolve().parent / "golden"
REGEN = os.environ.get("INPAINTKIT_REGEN_GOLDEN") == "1"
#: method -> options that make it fast and deterministic.
FAST = {
    "yeh2017": {"iterations": 8, "seed": 0, "progress": False},
    "vitoria2019": {"iterations": 8, "seed": 0, "progress": False},
}


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _method_of(path: Path) -> str:
    names = [m.name for m in list_methods()]
    return max((m for m in names if path.stem.startswith(f"{m}_")), key=len)


def _inputs(side: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(1, 3, side, side) in [-1, 1] (gradients, a blob, seeded noise) and a centre hole."""
    g = torch.Generator().manual_seed(19)
    t = torch.linspace(-1, 1, side)
    y, x = torch.meshgrid(t, t, indexing="ij")
    img = torch.stack([0.8 * x, 0.6 * y, torch.exp(-4 * ((x - 0.3) ** 2 + y**2)) - 0.5])
    img = (img + 0.1 * torch.rand(3, side, side, generator=g)).clamp(-1, 1)[None]
    mask = torch.zeros(1, 1, side, side)
    mask[..., side // 4 : side // 2 + side // 8, side // 3 : 3 * side // 4] = 1.0
    return img, mask


def _run(path: Path) -> torch.Tensor:
    method = _method_of(path)
    side = 64 if method in FAST else 128
    img, mask = _inputs(side)
    torch.manual_seed(0)
    out = get_method(method).fn(img, mask, model=str(path), **FAST.get(method, {}))
    out = out.image if hasattr(out, "image") else out
    return out.detach().float().contiguous()


def _png(out: torch.Tensor) -> np.ndarray:
    a = ((out[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return a.permute(1, 2, 0).numpy()


def _key() -> str:
    """Where the float bits are reproducible: the CPU architecture, the SIMD kernels torch
    dispatches to on it (AVX2 and AVX512 machines differ in the last bits) and torch's version."""
    cpu = torch.backends.cpu.get_cpu_capability()
    return f"{platform.machine()} {cpu} torch {torch.__version__.split('+')[0]}"


def test_every_bundled_model_has_a_golden_output() -> None:
    assert BUNDLED
    if REGEN:
        pytest.skip("regenerating")
    recorded = json.loads((GOLDEN / "golden.json").read_text())["outputs"]
    assert sorted(recorded) == [p.stem for p in BUNDLED]


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_model_output_is_unchanged(path: Path) -> None:
    out = _run(path)
    digest = hashlib.sha256(out.numpy().tobytes()).hexdigest()
    picture = _png(out)
    index_path = GOLDEN / "golden.json"
    if REGEN:
        index = json.loads(index_path.read_text()) if index_path.is_file() else {"outputs": {}}
        index["machine"] = _key()
        index["outputs"][path.stem] = {"sha256_float32": digest, "shape": list(out.shape)}
        index_path.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
        Image.fromarray(picture).save(GOLDEN / f"{path.stem}.png", optimize=True)
        return
    index = json.loads(index_path.read_text())
    expected = np.asarray(Image.open(GOLDEN / f"{path.stem}.png").convert("RGB"))
    assert list(out.shape) == index["outputs"][path.stem]["shape"]
    if index["machine"] == _key():
        assert np.array_equal(picture, expected), f"{path.stem}: output picture changed"
        assert digest == index["outputs"][path.stem]["sha256_float32"], (
            f"{path.stem}: float output changed (bits)"
        )
    else:  # another CPU: last-bit differences of other kernels only
        diff = np.abs(picture.astype(int) - expected.astype(int))
        assert diff.max() <= 1, f"{path.stem}: output differs by {diff.max()}/255"
