"""Training configs: dataclasses with defaults in code, filled from JSON/YAML files and ``--set``.

A run's config has two parts, each a dataclass:

- ``loop``: :class:`LoopConfig`, what the training loop does (steps, checkpoints, precision, ...);
- ``recipe``: the recipe's own config (its defaults are the paper's), e.g. ``DCGANTrainConfig``
  with a nested ``model`` config.

Files and ``--set`` only fill these dataclasses; an unknown key is an
:class:`~inpaintkit.errors.InpaintError` that lists the known ones. Keys are dotted paths::

    --set loop.steps=2000 --set recipe.lr=1e-4 --set recipe.model.ngf=32

A config file holds the same tree as JSON or YAML: ``{"loop": {"steps": 2000}, "recipe": {...}}``.

Example:
    >>> cfg = from_dict(LoopConfig, {"steps": "20", "precision": "bf16"})
    >>> cfg.steps, cfg.precision
    (20, 'bf16')
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from inpaintkit.errors import InpaintError
from inpaintkit.typed_values import coerce, split_assignment

T = TypeVar("T")

PRECISIONS = ("fp32", "bf16")


@dataclass
class LoopConfig:
    """What the one training loop does; the recipe decides what a step is.

    Attributes:
        steps: training steps; one step runs every phase of the recipe once (with its repeats).
        seed: seeds model init, data order and every step's noise.
        ckpt_every: write a checkpoint every this many steps (and always at the end).
        keep_last: keep this many newest checkpoints; 0 keeps all.
        sample_every: write a sample grid PNG every this many steps (0: only at the end).
        n_samples: images in the sample grid.
        log_every: write a CSV row every this many steps (1: every step).
        precision: ``fp32`` or ``bf16`` (autocast; on CPU and on GPUs that support it).
        channels_last: store conv weights and batches channels-last (NHWC).
        compile: wrap the networks in ``torch.compile``.
        workers: data-loader worker processes (0: load in the main process).
        device: ``auto`` (cuda:<local rank> if available, else cpu), ``cpu``, ``cuda``.
        deterministic: ask torch for deterministic kernels (GPU; CPU kernels already are).
        progress: show a progress bar (rank 0 only).
        tensorboard: also log to TensorBoard when ``torch.utils.tensorboard`` imports.
        max_minutes: stop after this many minutes of this invocation's training (0: no limit),
            with a checkpoint AND an export of the weights so far, so that a time-boxed job
            (a 10-minute GPU call) brings back usable weights; ``--resume`` continues.
    """

    steps: int = 10_000
    seed: int = 0
    ckpt_every: int = 1_000
    keep_last: int = 3
    sample_every: int = 500
    n_samples: int = 64
    log_every: int = 1
    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False
    workers: int = 2
    device: str = "auto"
    deterministic: bool = False
    progress: bool = True
    tensorboard: bool = True
    max_minutes: float = 0.0
    max_cpu_minutes: float = 0.0

    def validate(self) -> None:
        """Raise InpaintError when a value is out of range."""
        positive = ("steps", "ckpt_every", "n_samples", "log_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise InpaintError(f"loop.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("keep_last", "sample_every", "workers", "max_minutes", "max_cpu_minutes"):
            if getattr(self, name) < 0:
                raise InpaintError(f"loop.{name} must be >= 0, got {getattr(self, name)}")
        if self.precision not in PRECISIONS:
            raise InpaintError(
                f"loop.precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )


def from_dict(cls: type[T], data: dict[str, Any] | None = None, *, prefix: str = "") -> T:
    """Build dataclass ``cls`` from defaults, overridden by ``data`` (nested dicts for sub-configs).

    Args:
        cls: a dataclass type; fields that are dataclasses are filled recursively.
        data: values to override; strings are converted to the field's type
            (:func:`inpaintkit.typed_values.coerce`).
        prefix: dotted path of ``cls`` inside the run config, used in error messages.

    Raises:
        InpaintError: a key that ``cls`` does not have, or a value of the wrong type.
    """
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        where = prefix.rstrip(".") or "the config"
        raise InpaintError(
            f"unknown config key {prefix + unknown[0]!r} in {where}; known keys: "
            + ", ".join(prefix + k for k in fields)
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        tp = hints[name]
        if dataclasses.is_dataclass(tp):
            if isinstance(value, tp):
                kwargs[name] = value
                continue
            if not isinstance(value, dict):
                raise InpaintError(f"config key {prefix + name!r} is a section; set its keys")
            kwargs[name] = from_dict(tp, value, prefix=f"{prefix}{name}.")
        else:
            try:
                kwargs[name] = coerce(value, tp)
            except InpaintError as e:
                raise InpaintError(f"config key {prefix + name!r} {e}") from None
    return cls(**kwargs)


def to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-ready dict of dataclass ``cfg`` (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def parse_sets(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["loop.steps=20", "recipe.model.ngf=8"]`` -> ``{"loop": {"steps": "20"}, ...}``.

    Values stay strings here; :func:`from_dict` types them for each field with
    :func:`inpaintkit.typed_values.coerce`, the parser of method options too (``1e-4``,
    ``true``, ``none``, ``0.5,0.999`` or ``[0.5, 0.999]`` for a tuple).

    Raises:
        InpaintError: an item without ``=`` or with an empty key.
    """
    tree: dict[str, Any] = {}
    for item in items:
        form = "KEY=VALUE like loop.steps=100"
        key, value = split_assignment(item, flag="--set", form=form)
        if any(not part for part in key.split(".")):
            raise InpaintError(f"--set expects {form}, got {item!r}")
        merge(tree, _nest(key.split("."), value))
    return tree


def _nest(parts: list[str], value: Any) -> dict[str, Any]:
    node: Any = value
    for part in reversed(parts):
        node = {part: node}
    return node


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into ``base`` in place and return ``base``."""
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def load_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON or YAML config file into a dict.

    Raises:
        InpaintError: missing or unparsable file, or a top level that is not a mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise InpaintError(f"config file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml  # optional: only needed for YAML files

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except ImportError:
        raise InpaintError("reading YAML configs needs PyYAML: pip install pyyaml") from None
    except Exception as exc:  # JSON/YAML syntax errors
        raise InpaintError(f"cannot parse config file {str(path)!r}: {exc}") from None
    if not isinstance(data, dict):
        raise InpaintError(f"config file {str(path)!r} must hold a mapping like {{'loop': {{}}}}")
    return data


def _apply_preset(recipe_cls: type, recipe: dict[str, Any]) -> dict[str, Any]:
    """``recipe`` over the values of its ``preset`` (a key of ``recipe_cls.PRESETS``).

    A preset only fills keys the config does not set itself; a recipe without presets, or a
    config without a ``preset`` key, is returned unchanged.
    """
    presets = getattr(recipe_cls, "PRESETS", None)
    name = recipe.get("preset")
    if not presets or name is None:
        return recipe
    if name not in presets:
        raise InpaintError(f"recipe.preset must be one of {', '.join(presets)}, got {name!r}")
    return merge(json.loads(json.dumps(presets[name])), recipe)


def resolve(
    recipe_cls: type[T],
    *,
    base: dict[str, Any] | None = None,
    file: str | Path | None = None,
    sets: dict[str, Any] | None = None,
    loop_defaults: dict[str, Any] | None = None,
) -> tuple[LoopConfig, T]:
    """The run config: code defaults < recipe loop defaults < preset < base < file < ``sets``.

    Args:
        recipe_cls: the recipe's config dataclass.
        base: a resolved config tree to start from (e.g. a checkpoint's), or None.
        file: a JSON/YAML config file, or None.
        sets: a nested override tree (e.g. from :func:`parse_sets` and CLI flags), or None.
        loop_defaults: the recipe's own defaults for loop keys (e.g. its paper's step count).

    Returns:
        ``(loop_config, recipe_config)``, validated.

    Raises:
        InpaintError: unknown keys (including unknown top-level sections) or bad values.
    """
    tree: dict[str, Any] = {"loop": dict(loop_defaults or {}), "recipe": {}}
    for layer in (base, load_file(file) if file else None, sets):
        if layer:
            merge(tree, json.loads(json.dumps(layer)))
    unknown = sorted(set(tree) - {"loop", "recipe"})
    if unknown:
        raise InpaintError(
            f"unknown config section {unknown[0]!r}; known sections: loop, recipe "
            "(write keys as loop.steps or recipe.lr)"
        )
    tree["recipe"] = _apply_preset(recipe_cls, tree["recipe"])
    loop = from_dict(LoopConfig, tree["loop"], prefix="loop.")
    loop.validate()
    recipe_cfg = from_dict(recipe_cls, tree["recipe"], prefix="recipe.")
    validate = getattr(recipe_cfg, "validate", None)
    if callable(validate):
        validate()
    return loop, recipe_cfg
