"""What a non-editable install ships: every package-data pattern names real files."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_data_pattern_matches_files() -> None:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_data = cfg["tool"]["setuptools"]["package-data"]
    for package, patterns in package_data.items():
        base = ROOT / "src" / package.replace(".", "/")
        for pattern in patterns:
            assert list(base.glob(pattern)), f"package-data {package}: {pattern!r} matches nothing"


def test_the_readme_example_ships_where_the_readme_reads_it() -> None:
    readme = (ROOT / "README.md").read_text()
    manifest = (ROOT / "MANIFEST.in").read_text()
    for name in ("examples/astronaut.png", "examples/astronaut_mask.png"):
        assert name in readme and (ROOT / name).is_file()
    assert "include examples/*.png" in manifest  # in the sdist, beside the README
