"""docs/architecture.md's worked example (adding a method) runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inpaintkit import registry

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def _python_blocks() -> list[str]:
    section = DOC.read_text().split("## How to add a method (worked example)")[1].split("\n## ")[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.fixture
def clean_registry():
    yield
    registry._METHODS.pop("mean_fill", None)  # the example must not leak into other tests


def test_the_worked_example_registers_a_method_that_inpaint_runs(clean_registry) -> None:
    define, use = _python_blocks()
    scope: dict = {}
    exec(compile(define, str(DOC), "exec"), scope)
    info = registry.get_method("mean_fill")
    assert info.kind == "classical" and [o.name for o in info.options] == ["weight"]
    exec(compile(use, str(DOC), "exec"), scope)  # its own assert checks the fill
    assert (scope["res"].pixels[~scope["hole"]] == scope["img"][~scope["hole"]]).all()
