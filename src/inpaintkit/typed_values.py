"""The one parser of ``key=value`` settings: text (or JSON/YAML values) -> typed values.

Method options (``inpaintkit run --opt radius=5``, the web form, ``--mask-opt``, ``bench
--opt``) and training configs (``inpaintkit train --set recipe.lr=1e-4``, config files) are
typed here, from a type: a dataclass field's type or a keyword option's annotation (its text
when the module has ``from __future__ import annotations``; see :func:`annotation_type`).

The rules, the same for both:

- ``bool``: ``true/yes/on/1`` or ``false/no/off/0`` (any case);
- ``int``: ``3``, ``10_000``; ``float``: ``0.5``, ``1e-4``, an integer;
- ``tuple[...]`` / ``list[...]``: ``224,200`` or a JSON list ``[0.5, 0.999]``; each item is
  typed by its own type; a fixed-length tuple takes exactly its number of items;
- ``X | None``: ``none`` or ``null`` (any case) is None, anything else is an ``X``;
- ``Literal[...]``: one of the choices;
- ``str``: the text; ``Any`` (an annotation we cannot read): the value as given.

A value that does not fit raises :class:`~inpaintkit.errors.InpaintError` saying what was
expected (``expects int, got 'ten'``); the caller puts the key in front.

Example:
    >>> coerce("224,200", tuple[int, int]), coerce("off", bool), coerce("null", int | None)
    ((224, 200), False, None)
    >>> parse_value("[0.5, 0.999]", None, "tuple[float, float] | None")
    (0.5, 0.999)
"""

from __future__ import annotations

import inspect
import json
import numbers
import os
import types
import typing
from typing import Any, Literal

from inpaintkit.errors import InpaintError

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
NONE_WORDS = ("none", "null")

#: names an option annotation's text may use; anything else (Tensor, Path, a callback type)
#: makes the annotation unreadable here, and the option's default decides its type.
_ANNOTATION_NAMES: dict[str, Any] = {
    "Literal": Literal,
    "Optional": typing.Optional,
    "Union": typing.Union,
    "Any": Any,
    "None": None,
    "bool": bool,
    "int": int,
    "float": float,
    "str": str,
    "tuple": tuple,
    "list": list,
}


def type_name(tp: Any) -> str:
    """A short name of a type for messages: ``int``, ``tuple[int, ...]``, ``str | None``.

    >>> type_name(tuple[int, ...] | None), type_name(Literal["a", "b"])
    ('tuple[int, ...] | None', "Literal['a', 'b']")
    """
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is Literal:
        return f"Literal[{', '.join(map(repr, args))}]"
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else type_name(a) for a in args)
        return f"{type_name(origin)}[{inner}]"
    return "None" if tp is type(None) else getattr(tp, "__name__", str(tp))


def annotation_type(annotation: Any, default: Any = inspect.Parameter.empty) -> Any:
    """The type an option's annotation names, or the type of its default when unreadable.

    Args:
        annotation: a type, its text (``"int | None"``, ``"Literal['a', 'b']"``) or
            ``inspect.Parameter.empty``.
        default: the option's default, or ``inspect.Parameter.empty`` for none; its type
            decides when the annotation says nothing we can read, and a None default makes
            the type optional.

    >>> annotation_type("Literal['paper', 'fast'] | None")
    typing.Optional[typing.Literal['paper', 'fast']]
    >>> annotation_type("Callback | None", None), annotation_type("", 0.5)
    (typing.Any, <class 'float'>)
    """
    tp: Any = annotation
    if isinstance(annotation, str):
        try:  # a function's own annotation (never user input), as typing.get_type_hints does
            tp = eval(annotation, {"__builtins__": {}}, _ANNOTATION_NAMES)
        except Exception:  # a name from elsewhere (Tensor, Path, ...): not ours to type
            tp = None
    if tp is None or tp is typing.Any or not _readable(tp):
        if default is None or default is inspect.Parameter.empty:
            return Any
        if isinstance(default, tuple | list):  # items typed like the first default item
            item = type(default[0]) if default else Any
            return tuple[item, ...] if isinstance(default, tuple) else list[item]
        return type(default)
    if default is None and not _allows_none(tp):
        return tp | None
    return tp


def _readable(tp: Any) -> bool:
    """True for a type :func:`coerce` knows (not a class of someone else's)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return all(a is type(None) or _readable(a) for a in typing.get_args(tp))
    if origin in (tuple, list):
        return all(a is Ellipsis or _readable(a) for a in typing.get_args(tp))
    return origin is Literal or tp in (bool, int, float, str, tuple, list, Any)


def _allows_none(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    return tp is Any or (
        origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)
    )


def coerce(value: Any, tp: Any) -> Any:
    """``value`` (a typed value, or text from a command line) as type ``tp`` (rules above).

    Raises:
        InpaintError: the value does not fit: ``expects int, got 'ten'`` (no key: the caller
            names it).
    """
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if type(None) in args and _is_none(value):
            return None
        kinds = [a for a in args if a is not type(None)]
        if len(kinds) == 1:  # X | None: X's own message (a Literal's choices, a list's form)
            return coerce(value, kinds[0])
        for arg in kinds:
            try:
                return coerce(value, arg)
            except InpaintError:
                continue
        raise InpaintError(f"expects {type_name(tp)}, got {value!r}")
    if origin is Literal:
        choices = typing.get_args(tp)
        for choice in choices:
            try:
                if coerce(value, type(choice)) == choice:
                    return choice
            except InpaintError:
                continue
        raise InpaintError(f"got {value!r}; choose {' | '.join(map(str, choices))}")
    if origin in (tuple, list) or tp in (tuple, list):
        return _sequence(value, tp)
    if tp is Any:
        return value
    return _scalar(value, tp)


def _is_none(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in NONE_WORDS)


def _sequence(value: Any, tp: Any) -> tuple[Any, ...] | list[Any]:
    """``"1,2"``, ``"[1, 2]"`` or ``[1, 2]`` -> a tuple or list typed item by item."""
    kind = typing.get_origin(tp) or tp
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise InpaintError(f"expects a list like [0.5, 0.999], got {value!r}") from None
        else:
            value = [v.strip() for v in text.split(",")] if text else []
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()  # a NumPy array
    if not isinstance(value, list | tuple):
        raise InpaintError(f"expects {type_name(tp)}, a list like [1, 2] or 1,2; got {value!r}")
    args = typing.get_args(tp)
    fixed = kind is tuple and args and Ellipsis not in args
    if fixed and len(value) != len(args):
        raise InpaintError(f"expects {len(args)} values ({type_name(tp)}), got {value!r}")
    items = [a for a in args if a is not Ellipsis] or [None]
    out = [_item(v, items[min(i, len(items) - 1)]) for i, v in enumerate(value)]
    return tuple(out) if kind is tuple else out


def _item(value: Any, tp: Any) -> Any:
    """One item of a sequence; an untyped text item is an int when it looks like one."""
    if tp is not None and tp is not Any:
        return coerce(value, tp)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return value


def _scalar(value: Any, tp: Any) -> Any:
    text = value.strip() if isinstance(value, str) else None
    if tp is bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()  # a file's 1 or 0 too
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise InpaintError(f"expects true/false, got {value!r}")
    if tp is int:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)  # an int, or a NumPy integer
        try:
            return int(text.replace("_", "")) if text is not None else _fail(value, tp)
        except ValueError:
            _fail(value, tp)
    if tp is float:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return float(value)
        try:
            return float(text) if text is not None else _fail(value, tp)
        except ValueError:
            _fail(value, tp)
    if tp is str and isinstance(value, str | os.PathLike):
        return os.fspath(value)  # a path given for a text option: its text
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    return _fail(value, tp)


def _fail(value: Any, tp: Any) -> typing.NoReturn:
    raise InpaintError(f"expects {type_name(tp)}, got {value!r}")


def parse_value(text: str, default: Any, annotation: Any = "") -> Any:
    """``text`` typed for an option with this default and annotation (:func:`annotation_type`).

    >>> parse_value("3", 1), parse_value("0.5", 1.0), parse_value("yes", False)
    (3, 0.5, True)
    >>> parse_value("none", None, "int | None") is None
    True
    >>> parse_value("224,200", None, "tuple[int, int] | None")
    (224, 200)
    >>> parse_value("paint", None, "Literal['paint', 'float'] | None")
    'paint'

    Raises:
        InpaintError: the text does not fit the type.
    """
    return coerce(text, annotation_type(annotation, default))


def split_assignment(pair: str, *, flag: str, form: str = "name=value") -> tuple[str, str]:
    """``"radius = 5"`` -> ``("radius", "5")``: the key and the value's text, stripped.

    Raises:
        InpaintError: no ``=``, or an empty key: ``{flag} expects {form}, got '...'``.
    """
    key, sep, value = pair.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InpaintError(f"{flag} expects {form}, got {pair!r}")
    return key, value.strip()
