"""Turn ``key=value`` strings from the CLI or a form into typed method options.

The values are typed by :mod:`inpaintkit.typed_values`, the parser that training configs'
``--set`` uses too, from each option's annotation and default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from inpaintkit.errors import InpaintError
from inpaintkit.registry import MethodInfo
from inpaintkit.signatures import OptionInfo
from inpaintkit.typed_values import parse_value, split_assignment

__all__ = ["check_options", "parse_options", "parse_value"]


def _unknown(info: MethodInfo, names: list[str]) -> InpaintError:
    listed = ", ".join(sorted(o.name for o in info.options)) or "none"
    return InpaintError(
        f"method {info.name!r} has no option {', '.join(map(repr, names))}; its options: {listed}"
    )


def _typed(info: MethodInfo, opt: OptionInfo, value: Any) -> Any:
    try:
        return parse_value(value, opt.default, opt.annotation)
    except InpaintError as e:
        raise InpaintError(f"bad value for {info.name} option {opt.name!r}: {e}") from None


def check_options(info: MethodInfo, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` (Python values) typed by ``info``'s signature as :func:`parse_options` types
    text: ``"5"`` -> 5, a list or a NumPy array -> a tuple, a path -> its text.

    Raises:
        InpaintError: an option the method does not take (the message lists those it does),
            or a value of the wrong type (``bad value for song2018 option 'scales': ...``).
    """
    known = {o.name: o for o in info.options}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise _unknown(info, unknown)
    return {name: _typed(info, known[name], value) for name, value in options.items()}


def parse_options(info: MethodInfo, pairs: Iterable[str]) -> dict[str, Any]:
    """Parse ``["radius=5", "model=celeba64"]`` against ``info``'s keyword options.

    Raises:
        InpaintError: malformed pair, unknown option (the message lists the known ones), a
            value of the wrong type, or one outside the option's choices (``Literal``).
    """
    known = {o.name: o for o in info.options}
    out: dict[str, Any] = {}
    for pair in pairs:
        name, value = split_assignment(pair, flag="--opt")
        name = name.replace("-", "_")
        if name not in known:
            raise _unknown(info, [name])
        out[name] = _typed(info, known[name], value)
    return out
