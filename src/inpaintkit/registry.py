"""One registry for inpainting methods and trainable models.

Methods are what users run (``telea``, ``deepfill``, ...); models are network architectures
that the training loop builds by name (``dcgan``, ``wgan_resnet``, ...). Unknown names fail with
an :class:`~inpaintkit.errors.InpaintError` that lists the known ones.

Every method has one signature::

    fn(image: Tensor, mask: Tensor, *, <keyword-only options>) -> Tensor | MethodResult

with ``image`` (B, 3, H, W) float in [-1, 1] RGB and ``mask`` (B, 1, H, W) float, 1 = hole.
The returned fill has the shape of ``image``; the caller pastes known pixels back bit-exactly,
so a method need not preserve them itself.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from inpaintkit.errors import InpaintError


@dataclass
class MethodResult:
    """What a method returns when it has more to say than the filled image.

    Attributes:
        image: (B, 3, H, W) float in [-1, 1], the filled images.
        extras: named by-products, e.g. ``attention`` (B, 3, H, W) colour-coded offsets or
            ``loss`` (B,) final search loss. Values are tensors or plain Python objects.
        notes: human-readable remarks shown to the user (e.g. "resized 300x200 -> 64x64").
    """

    image: torch.Tensor
    extras: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


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


@dataclass(frozen=True)
class MethodInfo:
    """A registered inpainting method and what it needs.

    Attributes:
        name: stable registry name (used by the CLI, the API and the web app).
        fn: the method itself (see the module docstring for its signature).
        kind: ``classical``, ``latent-search``, ``feed-forward`` or ``retrieval``.
        summary: one line on what it is good for.
        needs: one line on what it needs to run (a trained model, a data folder, ...).
        paper: citation, or an empty string.
        max_pixels: largest H*W it accepts in one call, or None for no limit.
        models: names of the model files (under ``weights/``) it can use; empty when it needs
            none. ``default_model`` is used when the caller names none.
    """

    name: str
    fn: Callable[..., torch.Tensor | MethodResult]
    kind: str
    summary: str
    needs: str = "nothing"
    paper: str = ""
    max_pixels: int | None = None
    models: tuple[str, ...] = ()
    default_model: str | None = None

    @property
    def options(self) -> list[OptionInfo]:
        """The keyword-only options of ``fn``, in signature order, with their defaults, one-line
        help (docstring ``Args:``) and choices (``Literal[...]`` annotations)."""
        sig = inspect.signature(self.fn)
        helps = docstring_args(self.fn.__doc__ or "")
        out = []
        for p in sig.parameters.values():
            if p.kind is inspect.Parameter.KEYWORD_ONLY:
                ann = str(
                    p.annotation
                    if isinstance(p.annotation, str)
                    else getattr(p.annotation, "__name__", str(p.annotation))
                )
                out.append(
                    OptionInfo(p.name, p.default, ann, helps.get(p.name, ""), literal_choices(ann))
                )
        return out

    @property
    def user_options(self) -> list[OptionInfo]:
        """:attr:`options` without the internal ones (``callback``, ``progress``)."""
        return [o for o in self.options if o.name not in INTERNAL_OPTIONS]


_METHODS: dict[str, MethodInfo] = {}
_MODELS: dict[str, Callable[..., Any]] = {}


def register_method(
    name: str,
    *,
    kind: str,
    summary: str,
    needs: str = "nothing",
    paper: str = "",
    max_pixels: int | None = None,
    models: tuple[str, ...] = (),
    default_model: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register ``fn`` as inpainting method ``name`` (see module docstring)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _METHODS and _METHODS[name].fn is not fn:
            raise ValueError(f"method {name!r} registered twice")
        _METHODS[name] = MethodInfo(
            name=name,
            fn=fn,
            kind=kind,
            summary=summary,
            needs=needs,
            paper=paper,
            max_pixels=max_pixels,
            models=models,
            default_model=default_model,
        )
        return fn

    return deco


def register_model(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register a model builder ``fn(config) -> nn.Module`` (or a recipe) by name."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _MODELS and _MODELS[name] is not fn:
            raise ValueError(f"model {name!r} registered twice")
        _MODELS[name] = fn
        return fn

    return deco


def _load_builtin() -> None:
    """Import the modules whose decorators fill the registries (idempotent)."""
    import inpaintkit.methods
    import inpaintkit.models  # noqa: F401


def get_method(name: str) -> MethodInfo:
    """The registered method ``name``; an unknown name raises InpaintError listing known ones."""
    _load_builtin()
    try:
        return _METHODS[name]
    except KeyError:
        known = ", ".join(sorted(_METHODS))
        raise InpaintError(f"unknown method {name!r}; known methods: {known}") from None


def list_methods() -> list[MethodInfo]:
    """All public registered methods (names not starting with ``_``), by kind then name."""
    _load_builtin()
    order = {"classical": 0, "retrieval": 1, "latent-search": 2, "feed-forward": 3}
    public = [m for m in _METHODS.values() if not m.name.startswith("_")]
    return sorted(public, key=lambda m: (order.get(m.kind, 9), m.name))


def get_model(name: str) -> Callable[..., Any]:
    """The registered model builder ``name``; unknown names raise InpaintError."""
    _load_builtin()
    try:
        return _MODELS[name]
    except KeyError:
        known = ", ".join(sorted(_MODELS)) or "(none)"
        raise InpaintError(f"unknown model {name!r}; known models: {known}") from None


def list_models() -> list[str]:
    """Names of all registered models."""
    _load_builtin()
    return sorted(_MODELS)
