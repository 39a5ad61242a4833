"""The method catalogue: what every built-in method is, without importing it.

``inpaintkit methods`` must answer in well under a second, but the methods' modules import
torch, OpenCV and SciPy. So the registry's metadata of the built-in methods (name, kind,
summary, needs, paper, models, options with their one-line help and choices) is written to
``catalog.json`` beside this file, and the CLI lists from it. The file is generated, never
edited by hand::

    python -m inpaintkit.catalog          # rewrite catalog.json from the registry

``tests/test_catalog.py`` fails when it differs from the registry (a method or an option was
added or changed without regenerating it). A program that registered its own methods sees them
too: :func:`method_entries` reads the live registry once it has been imported.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).resolve().parent / "catalog.json"


def jsonable(value: Any) -> Any:
    """An option default as JSON: tuples become lists, anything exotic its ``repr``."""
    if isinstance(value, tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return repr(value)


def describe(info: Any) -> dict[str, Any]:
    """One registered method (:class:`~inpaintkit.registry.MethodInfo`) as a catalogue entry."""
    from inpaintkit.registry import find_family

    family = find_family(info.name)
    return {
        "name": info.name,
        "kind": info.kind,
        "summary": info.summary,
        "needs": info.needs,
        "paper": info.paper,
        "max_pixels": info.max_pixels,
        "uses_models": family is not None,
        "default_model": family.default_domain if family is not None else None,
        "options": [
            {
                "name": o.name,
                "default": jsonable(o.default),
                "annotation": o.annotation,
                "help": o.help,
                "choices": jsonable(o.choices),
            }
            for o in info.user_options
        ],
    }


def build_catalog() -> list[dict[str, Any]]:
    """The catalogue of every public built-in method, from the registry (imports them all)."""
    from inpaintkit.registry import list_methods

    return [describe(m) for m in list_methods()]


def read_catalog() -> list[dict[str, Any]]:
    """The catalogue as written in ``catalog.json`` (no method is imported)."""
    return json.loads(CATALOG_PATH.read_text())


def method_entries() -> list[dict[str, Any]]:
    """The catalogue: from the live registry once methods are imported, else from the file."""
    if "inpaintkit.methods" in sys.modules:
        return build_catalog()
    return read_catalog()


def write_catalog(path: Path = CATALOG_PATH) -> Path:
    """Write :func:`build_catalog` as JSON (sorted keys, 1-space indent) to ``path``."""
    path.write_text(json.dumps(build_catalog(), indent=1, sort_keys=True) + "\n")
    return path


if __name__ == "__main__":  # pragma: no cover
    print(f"wrote {write_catalog()}")
