"""One registry for inpainting methods and trainable models.

Methods are what users run (``telea``, ``deepfill``, ...); models are network architectures
that the training loop builds by name (``dcgan``, ``wgan_resnet``, ...); a model family
(:class:`ModelFamily`) is declared once in its ``models/<family>.py`` and ties an architecture
to its config, its named networks, its model files and its method. Unknown names fail with an
:class:`~inpaintkit.errors.InpaintError` that lists the known ones.

This module imports none of its plug-ins (it sits below them): the modules that register
methods, models and recipes are imported by the loaders given to :func:`add_plugin_loader`
(:mod:`inpaintkit.plugins`, installed when the ``inpaintkit`` package is imported), run once on
the first lookup.

Every method has one signature::

    fn(image: Tensor, mask: Tensor, *, <keyword-only options>) -> Tensor | MethodResult

with ``image`` (B, 3, H, W) float in [-1, 1] RGB and ``mask`` (B, 1, H, W) float, 1 = hole.
The returned fill has the shape of ``image``; the caller pastes known pixels back bit-exactly,
so a method need not preserve them itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inpaintkit.errors import InpaintError
from inpaintkit.signatures import INTERNAL_OPTIONS, OptionInfo, keyword_options

if TYPE_CHECKING:  # pragma: no cover - annotations only: importing the registry stays light
    import torch


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


@dataclass(frozen=True)
class ModelFamily:
    """One model family, declared once in its ``models/<family>.py``.

    Attributes:
        name: the family's one name: its method, the prefix of its model files
            (``<name>_<domain>.safetensors``), the name the CLI and the docs use.
        arch: the architecture name that model cards record (``card["model"]``) and
            :func:`get_model` knows.
        config_cls: the architecture's config dataclass (a card's ``architecture`` fills it).
        networks: named network constructors ``name -> fn(config) -> nn.Module``, in the order
            they are built (that order draws the initial weights from the global RNG).
        exported: the networks a model file holds (its tensor prefixes ``<name>.``).
        method: the inpainting method that uses the model files.
        default_domain: the model a method uses when several are installed and the caller
            names none, or None.
        aliases: older or per-layer names that still resolve to this family (architecture,
            recipe, registry names).
        recipes: the training recipes that make its networks (``inpaintkit train <recipe>``).
        install_hint: how to get a model, when the generic hint (train a recipe, then
            ``inpaintkit weights install``) does not fit; ``{dir}`` is the user model directory.
        recipe_parts: for a recipe whose export names a network otherwise than the family
            (card model -> {file prefix: network}), e.g. ``song-i2f``: ``{"G": "G1"}``.
        card_extras: keys of a card's ``architecture`` that are not config fields (e.g. Song's
            ``vgg``, the feature extractor G2 was trained with).
    """

    name: str
    arch: str
    config_cls: type
    networks: dict[str, Callable[[Any], Any]]
    exported: tuple[str, ...]
    method: str
    default_domain: str | None = None
    aliases: tuple[str, ...] = ()
    recipes: tuple[str, ...] = ()
    install_hint: str = ""
    recipe_parts: dict[str, dict[str, str]] = field(default_factory=dict)
    card_extras: tuple[str, ...] = ()

    def build(self, cfg: Any = None, only: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The named networks for ``cfg`` (None: the config's defaults), all or ``only`` some.

        >>> fam = get_family("dcgan")
        >>> sorted(fam.build(fam.config_cls(image_size=32, ngf=4, ndf=4, z_dim=8)))
        ['D', 'G']
        """
        cfg = self.config_cls() if cfg is None else cfg
        return {n: fn(cfg) for n, fn in self.networks.items() if only is None or n in only}

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this family answers to: its name, its architecture, its aliases."""
        return tuple(dict.fromkeys((self.name, self.arch, *self.aliases)))


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
        attention_picture: ``fn(extras) -> (H, W, 3) uint8 or None``: a picture of the first
            image's attention from a result's extras, for methods that return one (deepfill).
        total_steps: ``fn(options) -> int or None``: the steps a call with ``options`` will
            report through its ``callback`` (latent search: from ``iterations`` or the preset).
        models: names of the model files (under ``weights/``) it can use; empty when it needs
            none. ``default_model`` is used when the caller names none (by default the
            ``default_domain`` of its model ``family``). ``models`` is given to
            :func:`register_method` as a tuple or as a function that lists them, called each
            time ``models`` is read (so installed files are looked up when asked, not at import).
    """

    name: str
    fn: Callable[..., torch.Tensor | MethodResult]
    kind: str
    summary: str
    needs: str = "nothing"
    paper: str = ""
    max_pixels: int | None = None
    models_fn: Callable[[], tuple[str, ...]] | tuple[str, ...] = ()
    fixed_default: str | None = None
    family: str | None = None
    attention_picture: Callable[[dict[str, Any]], Any] | None = None
    total_steps: Callable[[dict[str, Any]], int | None] | None = None

    @property
    def default_model(self) -> str | None:
        """The model used when the caller names none: its family's ``default_domain``."""
        if self.fixed_default is None and self.family is not None:
            return get_family(self.family).default_domain
        return self.fixed_default

    @property
    def models(self) -> tuple[str, ...]:
        """The model names it can use now (looked up on each read)."""
        return tuple(self.models_fn() if callable(self.models_fn) else self.models_fn)

    @property
    def options(self) -> list[OptionInfo]:
        """The keyword-only options of ``fn``, in signature order, with their defaults, one-line
        help (docstring ``Args:``) and choices (``Literal[...]`` annotations)."""
        return keyword_options(self.fn)

    @property
    def user_options(self) -> list[OptionInfo]:
        """:attr:`options` without the internal ones (``callback``, ``progress``)."""
        return [o for o in self.options if o.name not in INTERNAL_OPTIONS]


_METHODS: dict[str, MethodInfo] = {}
_MODELS: dict[str, Callable[..., Any]] = {}
_FAMILIES: dict[str, ModelFamily] = {}
_LOADERS: dict[str, list[Callable[[], None]]] = {}
_LOADED: set[int] = set()


def register_method(
    name: str,
    *,
    kind: str,
    summary: str,
    needs: str = "nothing",
    paper: str = "",
    max_pixels: int | None = None,
    models: Callable[[], tuple[str, ...]] | tuple[str, ...] = (),
    default_model: str | None = None,
    family: str | None = None,
    attention_picture: Callable[[dict[str, Any]], Any] | None = None,
    total_steps: Callable[[dict[str, Any]], int | None] | None = None,
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
            models_fn=models,
            fixed_default=default_model,
            family=family,
            attention_picture=attention_picture,
            total_steps=total_steps,
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


def register_family(family: ModelFamily) -> ModelFamily:
    """Register ``family`` under its name and every alias; returns it.

    Raises:
        ValueError: a name already taken by another family.
    """
    for name in family.names:
        if name in _FAMILIES and _FAMILIES[name] != family:
            raise ValueError(f"model family name {name!r} registered twice")
    for name in family.names:
        _FAMILIES[name] = family
    return family


def add_plugin_loader(loader: Callable[[], None], kind: str = "methods") -> None:
    """Have ``loader`` (it imports modules that register things) run before lookups of ``kind``.

    ``kind``: ``"methods"`` (methods, models and families) or ``"recipes"`` (training recipes).
    """
    if loader not in _LOADERS.setdefault(kind, []):
        _LOADERS[kind].append(loader)


def load_plugins(kind: str = "methods") -> None:
    """Run the plug-in loaders of ``kind`` once each (a loader that fails runs again next time)."""
    for loader in list(_LOADERS.get(kind, [])):
        if id(loader) not in _LOADED:
            _LOADED.add(id(loader))
            try:
                loader()
            except BaseException:
                _LOADED.discard(id(loader))
                raise


def get_family(name: str) -> ModelFamily:
    """The model family called ``name`` (its name or an alias: ``dcgan``, ``song-i2f``, ...).

    Raises:
        InpaintError: an unknown name; the message lists the known families.
    """
    load_plugins()
    try:
        return _FAMILIES[name]
    except KeyError:
        known = ", ".join(sorted(_FAMILIES)) or "(none)"
        raise InpaintError(f"no model files are defined for {name!r}; known: {known}") from None


def find_family(name: str) -> ModelFamily | None:
    """:func:`get_family`, or None for a name no family answers to."""
    load_plugins()
    return _FAMILIES.get(name)


def list_families() -> list[ModelFamily]:
    """Every registered model family once, by name."""
    load_plugins()
    return sorted({f.name: f for f in _FAMILIES.values()}.values(), key=lambda f: f.name)


def get_method(name: str) -> MethodInfo:
    """The registered method ``name``; an unknown name raises InpaintError listing known ones."""
    load_plugins()
    try:
        return _METHODS[name]
    except KeyError:
        known = ", ".join(sorted(_METHODS))
        raise InpaintError(f"unknown method {name!r}; known methods: {known}") from None


def list_methods() -> list[MethodInfo]:
    """All public registered methods (names not starting with ``_``), by kind then name."""
    load_plugins()
    order = {"classical": 0, "retrieval": 1, "latent-search": 2, "feed-forward": 3}
    public = [m for m in _METHODS.values() if not m.name.startswith("_")]
    return sorted(public, key=lambda m: (order.get(m.kind, 9), m.name))


def get_model(name: str) -> Callable[..., Any]:
    """The registered model builder ``name``; unknown names raise InpaintError."""
    load_plugins()
    try:
        return _MODELS[name]
    except KeyError:
        known = ", ".join(sorted(_MODELS)) or "(none)"
        raise InpaintError(f"unknown model {name!r}; known models: {known}") from None


def list_models() -> list[str]:
    """Names of all registered models."""
    load_plugins()
    return sorted(_MODELS)
