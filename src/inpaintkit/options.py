"""Turn ``key=value`` strings from the CLI or a form into typed method options.

The values are typed by :mod:`inpaintkit.typed_values`, the parser that training configs'
``--set`` uses too, from each option's annotation and default.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from inpaintkit.errors import InpaintError
from inpaintkit.registry import MethodInfo
from inpaintkit.typed_values import parse_value, split_assignment

__all__ = ["parse_options", "parse_value"]


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
            listed = ", ".join(sorted(known)) or "none"
            raise InpaintError(
                f"method {info.name!r} has no option {name!r}; its options: {listed}"
            )
        opt = known[name]
        try:
            out[name] = parse_value(value, opt.default, opt.annotation)
        except InpaintError as e:
            raise InpaintError(f"bad value for {info.name} option {name!r}: {e}") from None
    return out
