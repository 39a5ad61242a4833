"""Turn ``key=value`` strings from the CLI or a form into typed method options."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from inpaintkit.errors import InpaintError
from inpaintkit.registry import MethodInfo, literal_choices

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_value(text: str, default: Any, annotation: str = "") -> Any:
    """Parse ``text`` to the type of ``default`` (or of ``annotation`` when default is None).

    >>> parse_value("3", 1), parse_value("0.5", 1.0), parse_value("yes", False)
    (3, 0.5, True)
    >>> parse_value("none", None, "int | None") is None
    True
    >>> parse_value("224,200", None, "tuple[int, int] | None")
    (224, 200)
    >>> parse_value("paint", None, "Literal['paint', 'float'] | None")
    'paint'
    """
    low = text.strip().lower()
    if low in ("none", "null") and (default is None or "None" in annotation):
        return None
    kind = type(default) if default is not None else None
    choices = literal_choices(annotation)
    if kind is None and choices:
        kind = type(choices[0])  # Literal["fp32", "bf16"] | None: text, whatever its words
    if kind is None:
        kinds = (("tuple", tuple), ("list", list), ("bool", bool), ("int", int), ("float", float))
        for name, t in (*kinds, ("str", str)):
            if name in annotation:
                kind = t
                break
    if kind is bool:
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"expected true/false, got {text!r}")
    if kind is int:
        return int(text)
    if kind is float:
        return float(text)
    if kind is tuple or kind is list:
        return kind(int(v) if v.strip().lstrip("-").isdigit() else v for v in text.split(","))
    return text


def parse_options(info: MethodInfo, pairs: Iterable[str]) -> dict[str, Any]:
    """Parse ``["radius=5", "model=celeba64"]`` against ``info``'s keyword options.

    Raises:
        InpaintError: malformed pair, unknown option (the message lists the known ones), a
            value of the wrong type, or one outside the option's choices (``Literal``).
    """
    known = {o.name: o for o in info.options}
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InpaintError(f"--opt expects name=value, got {pair!r}")
        name, value = (s.strip() for s in pair.split("=", 1))
        name = name.replace("-", "_")
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise InpaintError(
                f"method {info.name!r} has no option {name!r}; its options: {listed}"
            )
        opt = known[name]
        try:
            out[name] = parse_value(value, opt.default, opt.annotation)
        except ValueError as e:
            raise InpaintError(f"bad value for {info.name} option {name!r}: {e}") from None
        if opt.choices and out[name] is not None and out[name] not in opt.choices:
            listed = " | ".join(map(str, opt.choices))
            raise InpaintError(
                f"bad value for {info.name} option {name!r}: {value!r}; choose {listed}"
            )
    return out
