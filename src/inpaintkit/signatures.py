"""A function's keyword-only options, read from its signature and its docstring.

The CLI (``inpaintkit methods --options NAME``), the web page and the method catalogue show an
option's default, its one-line help (the first sentence of its ``Args:`` entry) and its choices
(a ``Literal[...]`` annotation); :mod:`inpaintkit.typed_values` types the values given to it.

Example:
    >>> def fill(image, mask, *, radius: int = 3, mode: "Literal['a', 'b']" = "a"):
    ...     \"\"\"Fill.
    ...
    ...     Args:
    ...         radius: how far to look. In pixels.
    ...     \"\"\"
    >>> [(o.name, o.default, o.help, o.choices) for o in keyword_options(fill)]
    [('radius', 3, 'how far to look', None), ('mode', 'a', '', ('a', 'b'))]
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: options a caller never sets by hand (the CLI and the web app fill them in or leave them).
INTERNAL_OPTIONS = frozenset({"callback", "progress"})


@dataclass(frozen=True)
class OptionInfo:
    """One keyword-only option of a method, read from its signature and docstring.

    Attributes:
        name: the keyword.
        default: its default value.
        annotation: the type annotation as text (``"int"``, ``"Literal['paper', 'fast']"``).
        help: one line from the docstring's ``Args:`` entry (``name: text``), or "".
        choices: the allowed values of a ``Literal[...]`` annotation, or None.
    """

    name: str
    default: Any
    annotation: str
    help: str = ""
    choices: tuple[Any, ...] | None = None


def literal_choices(annotation: str) -> tuple[Any, ...] | None:
    """The values of a ``Literal[...]`` in an annotation's text, or None.

    >>> literal_choices("Literal['paper', 'fast'] | None")
    ('paper', 'fast')
    >>> literal_choices("int") is None
    True
    """
    found = re.search(r"Literal\[(.*?)\]", annotation)
    if not found:
        return None
    try:
        values = ast.literal_eval(f"({found.group(1)},)")
    except (ValueError, SyntaxError):
        return None
    return tuple(values)


def docstring_args(doc: str) -> dict[str, str]:
    r"""``{name: first sentence}`` from a Google docstring's ``Args:`` section.

    Entries may name several arguments (``patch, stride: ...``); continuation lines are joined
    until the first full stop; reST literals lose their double backquotes.

    >>> docstring_args("Do it.\n\nArgs:\n    a, b: the sides. More.\n    c: a long\n"
    ...                "        line.\n\nReturns:\n    x")
    {'a': 'the sides', 'b': 'the sides', 'c': 'a long line'}
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    out: dict[str, str] = {}
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Args:")
    except StopIteration:
        return out
    names: list[str] = []
    text: list[str] = []

    def flush() -> None:
        if names:
            joined = " ".join(text).strip().replace("``", "")
            sentence = re.split(r"(?<=[^.\s]{2})\.(\s|$)", joined, maxsplit=1)[0]
            for n in names:
                out[n] = sentence.rstrip(".").strip()

    for line in lines[start + 1 :]:
        if line.strip() and not line.startswith(" "):
            break  # the next section
        entry = re.match(r"^ {2,4}([\w, *]+?)(?: \([^)]*\))?: (.*)$", line)
        if entry and not line.startswith(" " * 5):
            flush()
            names = [n.strip().lstrip("*") for n in entry.group(1).split(",")]
            text = [entry.group(2)]
        elif line.strip():
            text.append(line.strip())
    flush()
    return out


def keyword_options(fn: Callable[..., Any]) -> list[OptionInfo]:
    """The keyword-only options of ``fn``, in signature order, with their defaults, one-line
    help (docstring ``Args:``) and choices (``Literal[...]`` annotations)."""
    sig = inspect.signature(fn)
    helps = docstring_args(fn.__doc__ or "")
    out = []
    for p in sig.parameters.values():
        if p.kind is inspect.Parameter.KEYWORD_ONLY:
            ann = p.annotation  # text under ``from __future__ import annotations``
            if not isinstance(ann, str):  # int -> "int", tuple[int, ...] -> "tuple[int, ...]"
                ann = "" if ann is inspect.Parameter.empty else inspect.formatannotation(ann)
            out.append(
                OptionInfo(p.name, p.default, ann, helps.get(p.name, ""), literal_choices(ann))
            )
    return out
