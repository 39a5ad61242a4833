import pytest

from inpaintkit.errors import InpaintError
from inpaintkit.options import parse_options, parse_value
from inpaintkit.registry import register_method


@register_method("_opts_probe", kind="classical", summary="test probe")
def _probe(
    image,
    mask,
    *,
    radius: int = 3,
    scale: float = 1.0,
    fast: bool = False,
    model: str | None = None,
    limit: int | None = None,
):
    return image


def test_parse_value_types():
    assert parse_value("7", 3) == 7 and isinstance(parse_value("7", 3), int)
    assert parse_value("0.25", 1.0) == 0.25
    assert parse_value("off", True) is False and parse_value("YES", False) is True
    assert parse_value("celeba64", None, "str | None") == "celeba64"
    assert parse_value("12", None, "int | None") == 12
    assert parse_value("none", None, "int | None") is None


def test_parse_options_against_signature():
    from inpaintkit.registry import get_method

    info = get_method("_opts_probe")
    got = parse_options(info, ["radius=5", "scale=0.5", "fast=true", "model=x", "limit=3"])
    assert got == {"radius": 5, "scale": 0.5, "fast": True, "model": "x", "limit": 3}


def test_parse_options_errors_name_the_known_options():
    from inpaintkit.registry import get_method

    info = get_method("_opts_probe")
    with pytest.raises(InpaintError, match=r"no option 'radiu'.*radius"):
        parse_options(info, ["radiu=3"])
    with pytest.raises(InpaintError, match="name=value"):
        parse_options(info, ["radius"])
    with pytest.raises(InpaintError, match="bad value"):
        parse_options(info, ["radius=big"])


def test_literal_choices_type_and_check_the_value():
    """Issue 22 #11: a Literal option is text whatever its words, and only its choices pass."""
    from inpaintkit.errors import InpaintError
    from inpaintkit.options import parse_options, parse_value
    from inpaintkit.registry import get_method

    assert parse_value("paint", None, "Literal['paint', 'float'] | None") == "paint"
    yeh = get_method("yeh2017")
    assert parse_options(yeh, ["precision=bf16", "preset=fast"]) == {
        "precision": "bf16",
        "preset": "fast",
    }
    with pytest.raises(InpaintError, match=r"choose fp32 \| bf16"):
        parse_options(yeh, ["precision=fp16"])
