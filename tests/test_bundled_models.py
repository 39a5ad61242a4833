"""Every model bundled in the package: fp16, small, with a complete card.

These read the files committed under ``src/inpaintkit/weights`` (headers only, no network is
built), so a model added with ``scripts/bundle_model.py`` and then edited by hand, or exported in
float32, fails here rather than in a user's download.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors import safe_open

from inpaintkit.registry import list_families
from inpaintkit.weights import bundled_dir

BUNDLED = sorted(bundled_dir().glob("*.safetensors"))
METHOD_ARCH = {f.name: f.arch for f in list_families()}  # family (= method) -> architecture
MAX_MIB = 20.0  # DESIGN.md: fp16 files under ~20 MB each


def test_the_package_bundles_models() -> None:
    assert BUNDLED, f"no .safetensors under {bundled_dir()}"


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_model_is_small_fp16_with_a_card(path: Path) -> None:
    mib = path.stat().st_size / 2**20
    assert mib < MAX_MIB, f"{path.name} is {mib:.1f} MiB"
    with safe_open(str(path), framework="pt") as f:
        dtypes = {f.get_slice(k).get_dtype() for k in f.keys()}  # noqa: SIM118 (no __iter__)
    floats = {d for d in dtypes if d.startswith(("F", "BF"))}
    assert floats == {"F16"}, f"{path.name}: float tensors stored as {sorted(floats)}"

    card = json.loads(path.with_suffix(".json").read_text())
    method = max((m for m in METHOD_ARCH if path.stem.startswith(f"{m}_")), key=len, default="")
    assert method, f"{path.name}: the name does not start with a method ({sorted(METHOD_ARCH)})"
    assert card["file_mib"] == pytest.approx(mib, abs=0.01)
    assert card["full_size_command"].strip(), "the card must say how to train the full model"
    assert card["notes"], "the card must say how this model was trained"
    measured = {k: v for k, v in card.get("metrics", {}).items() if isinstance(v, dict)}
    assert measured, f"{path.name}: no measured metrics in the card"
    for setting, values in measured.items():
        assert values.get("n", 0) > 0, (setting, values)
