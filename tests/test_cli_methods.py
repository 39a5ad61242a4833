"""``inpaintkit methods`` from the catalogue, option help and choices, and a light CLI start."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from inpaintkit.catalog import build_catalog, read_catalog
from inpaintkit.cli import main
from inpaintkit.registry import get_method, list_methods
from inpaintkit.signatures import docstring_args, literal_choices

HEAVY = ("torch", "cv2", "scipy", "skimage")


def test_catalog_file_matches_the_registry():
    assert read_catalog() == build_catalog(), (
        "src/inpaintkit/catalog.json is stale: run `python -m inpaintkit.catalog`"
    )


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["methods"], ["methods", "--json"]])
def test_help_version_and_methods_import_no_torch(args):
    """Issue 22 #10: what the CLI imports to answer (a fresh process; timing is in the bench)."""
    probe = (
        "import contextlib, io, sys\n"
        "from inpaintkit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({args!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]", f"inpaintkit {' '.join(args)} imported {out.strip()}"


def test_every_option_has_help_and_internals_are_hidden():
    for m in list_methods():
        names = [o.name for o in m.user_options]
        assert "callback" not in names and "progress" not in names, m.name
        for o in m.user_options:
            assert o.help and "\n" not in o.help, f"{m.name}.{o.name} has no one-line help"
    preset = next(o for o in get_method("yeh2017").options if o.name == "preset")
    assert preset.choices == ("auto", "paper", "fast", "amortised")
    assert literal_choices("Literal['a', 'b'] | None") == ("a", "b")
    assert docstring_args("x\n\nArgs:\n    a: one. Two.\n") == {"a": "one"}


def test_methods_options_shows_help_choices_and_default_model(capsys):
    assert main(["methods", "--options", "yeh2017"]) == 0
    out = capsys.readouterr().out
    assert "  preset=auto|paper|fast|amortised\n" in out
    assert "the paper's search" in out
    assert "callback" not in out and "progress" not in out
    assert "model: celeba64 by default" in out or "none installed" in out


def test_methods_table_names_the_default_models(capsys):
    from inpaintkit.weights import default_model

    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for name in ("deepfill", "yeh2017", "vitoria2019", "context_encoder", "song2018"):
        if default_model(name):
            assert f"runs model {default_model(name)} by default" in out, name


def test_methods_json_and_unknown_method(capsys):
    assert main(["methods", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    ce = rows["context_encoder"]
    assert ce["default_model"] in (None, "natural128_center")
    assert all(o["help"] for r in rows.values() for o in r["options"])
    assert main(["methods", "--options", "nope"]) == 2
    assert "unknown method 'nope'; known methods:" in capsys.readouterr().err
