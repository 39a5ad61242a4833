"""The one parser of method options and training configs (inpaintkit.typed_values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from inpaintkit.errors import InpaintError
from inpaintkit.options import parse_options
from inpaintkit.registry import register_method
from inpaintkit.train.config import from_dict, parse_sets
from inpaintkit.typed_values import annotation_type, coerce, parse_value, split_assignment


@register_method("_typed_probe", kind="classical", summary="test probe")
def _probe(
    image,
    mask,
    *,
    betas: tuple[float, float] = (0.5, 0.999),
    box: tuple[int, int] | None = None,
    fast: bool = False,
    mode: Literal["l1", "l2"] = "l1",
    limit: int | None = None,
):
    return image


@dataclass
class _Inner:
    ngf: int = 64


@dataclass
class _Cfg:
    betas: tuple[float, float] = (0.5, 0.999)
    box: tuple[int, int] | None = None
    fast: bool = False
    mode: Literal["l1", "l2"] = "l1"
    limit: int | None = None
    model: _Inner = field(default_factory=_Inner)


def _method(*pairs: str) -> dict:
    from inpaintkit.registry import get_method

    return parse_options(get_method("_typed_probe"), pairs)


def _config(*pairs: str) -> _Cfg:
    return from_dict(_Cfg, parse_sets(pairs), prefix="")


def test_methods_and_configs_type_values_alike():
    pairs = ("betas=0.9,0.99", "box=8,4", "fast=yes", "mode=l2", "limit=none")
    got = _method(*pairs)
    assert got == {"betas": (0.9, 0.99), "box": (8, 4), "fast": True, "mode": "l2", "limit": None}
    cfg = _config(*pairs)
    assert (cfg.betas, cfg.box, cfg.fast, cfg.mode, cfg.limit) == (
        (0.9, 0.99),
        (8, 4),
        True,
        "l2",
        None,
    )
    assert isinstance(cfg.betas[0], float) and isinstance(cfg.box[0], int)


@pytest.mark.parametrize(
    ("text", "tp", "want"),
    [
        ("on", bool, True),
        ("OFF", bool, False),
        ("0", bool, False),
        ("10_000", int, 10000),
        ("1e-4", float, 1e-4),
        ("3", float, 3.0),
        ("[0.5, 0.999]", tuple[float, float], (0.5, 0.999)),
        ("0.5, 0.999", tuple[float, ...], (0.5, 0.999)),
        ("", tuple[int, ...], ()),
        ("1,2", list[int], [1, 2]),
        ("Null", int | None, None),
        ("none", str | None, None),
        ("7", int | None, 7),
        ("l2", Literal["l1", "l2"] | None, "l2"),
    ],
)
def test_coerce_text(text, tp, want):
    got = coerce(text, tp)
    assert got == want and type(got) is type(want)


def test_coerce_typed_values_from_files():
    assert coerce(1, bool) is True and coerce(0, bool) is False
    assert coerce(3, float) == 3.0 and isinstance(coerce(3, float), float)
    assert coerce([1, 2], tuple[int, int]) == (1, 2)
    assert coerce(None, float | None) is None


@pytest.mark.parametrize(
    ("value", "tp", "message"),
    [
        ("ten", int, "expects int, got 'ten'"),
        ("maybe", bool, "expects true/false, got 'maybe'"),
        (True, int, "expects int, got True"),
        ("1,2,3", tuple[int, int], r"expects 2 values \(tuple\[int, int\]\)"),
        ("1,x", tuple[int, ...], "expects int, got 'x'"),
        ("l3", Literal["l1", "l2"], r"got 'l3'; choose l1 \| l2"),
        ("none", int, "expects int, got 'none'"),
        (5, str, "expects str, got 5"),
    ],
)
def test_coerce_refuses_with_what_it_expects(value, tp, message):
    with pytest.raises(InpaintError, match=message):
        coerce(value, tp)


@pytest.mark.parametrize(
    ("parse", "pair", "message"),
    [  # a bad value names its key; an unknown key lists the valid ones: on both paths
        (_method, "limit=lots", r"bad value for _typed_probe option 'limit': expects int, got"),
        (_config, "limit=lots", r"config key 'limit' expects int, got 'lots'"),
        (_method, "mode=l3", r"option 'mode': got 'l3'; choose l1 \| l2"),
        (_config, "mode=l3", r"config key 'mode' got 'l3'; choose l1 \| l2"),
        (_method, "fastt=1", r"no option 'fastt'; its options: betas, box, fast"),
        (_config, "fastt=1", r"'fastt'.*known keys: betas, box, fast"),
        (_config, "model.ngff=3", r"'model\.ngff'.*known keys: model\.ngf"),
    ],
)
def test_bad_keys_and_values_on_both_paths(parse, pair, message):
    with pytest.raises(InpaintError, match=message):
        parse(pair)


def test_split_assignment():
    assert split_assignment(" radius = 5 ", flag="--opt") == ("radius", "5")
    assert split_assignment("a=b=c", flag="--opt") == ("a", "b=c")
    for bad in ("radius", "=5"):
        with pytest.raises(InpaintError, match=r"--opt expects name=value"):
            split_assignment(bad, flag="--opt")


def test_annotation_text_and_defaults():
    assert annotation_type("int") is int
    assert coerce("none", annotation_type("int", None)) is None  # a None default allows None
    assert annotation_type("Callback | None", None) is annotation_type("", None)  # unreadable
    assert parse_value("3", 1.0) == 3.0  # unannotated: the default's type
    assert parse_value("4,5", (1, 2)) == (4, 5)
    assert parse_value("anything", None, "np.random.Generator | None") == "anything"
