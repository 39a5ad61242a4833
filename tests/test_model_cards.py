"""Bundled model cards describe their models without this machine: provenance a user can follow."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CARDS = sorted((Path(__file__).resolve().parents[1] / "src/inpaintkit/weights").glob("*.json"))
MACHINE = re.compile(r"/work/|/home/|/root/|/tmp/|\.\./shared|\bsession\b", re.IGNORECASE)
SPLITS = ("train", "val")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("path", CARDS, ids=[p.stem for p in CARDS])
def test_card_names_its_data_and_commands_without_machine_paths(path: Path) -> None:
    card = json.loads(path.read_text())
    for text in _strings(card):
        assert not MACHINE.search(text), f"{path.name}: {MACHINE.search(text)[0]!r} in {text!r}"
    data = card["data"]
    assert any(s in data for s in SPLITS), f"{path.name}: data names no split: {data!r}"
    assert "--data " in data, f"{path.name}: data does not give the --data argument"
    assert card["command"].startswith(("inpaintkit train ", "combine_song_models(")), path.name
    assert card["metrics"]["eval"].strip(), f"{path.name}: no evaluation command"
    assert "docs/" not in card["metrics"]["eval"] or "inpaintkit eval" in card["metrics"]["eval"]
