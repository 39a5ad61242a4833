"""Reading model files: the one reader of ``<family>_<domain>.safetensors`` + its ``.json`` card.

A model file holds each network's state dict under its name as prefix (``G.``, ``D.``, ``G1.``,
``G2_256.``), floats in fp16 (loaded into float32 networks). The card's ``model`` names the
architecture (any name of the family: ``dcgan``, ``song-i2f``, ...) and ``architecture`` holds
the config fields, or, for a file of several differently configured networks (Song's), one
config object per prefix. Which networks exist and how they are built comes from the family's
declaration (:class:`~inpaintkit.registry.ModelFamily`). Loading never unpickles anything.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.registry import ModelFamily, find_family, get_family

__all__ = [
    "LoadedModel",
    "ModelFile",
    "load_export",
    "load_gan",
    "load_model",
    "load_network",
    "read_model",
]


@dataclass
class ModelFile:
    """A model read from disk.

    Attributes:
        path: the ``.safetensors`` file.
        card: the parsed ``.json`` model card.
        arch: the architecture's name as the card records it (``card["model"]``), or "".
        config: the architecture config fields (``card["architecture"]``).
        tensors: every tensor of the file, by its full (prefixed) name, as stored (fp16).
    """

    path: Path
    card: dict[str, Any]
    arch: str
    config: dict[str, Any]
    tensors: dict[str, torch.Tensor] = field(repr=False)

    def state_dict(self, prefix: str) -> dict[str, torch.Tensor]:
        """The tensors under ``prefix`` (e.g. ``"G."``), with the prefix removed."""
        return {k[len(prefix) :]: v for k, v in self.tensors.items() if k.startswith(prefix)}


def read_model(path: str | Path) -> ModelFile:
    """Read ``path`` (``.safetensors``) and the ``.json`` model card beside it.

    Raises:
        InpaintError: a missing or unreadable file or card, or a card without "architecture".
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    card_path = path.with_suffix(".json")
    if not card_path.is_file():
        raise InpaintError(f"model card {card_path} is missing: a model needs its .json beside it")
    try:
        card = json.loads(card_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InpaintError(f"cannot read model card {card_path}: {e}") from None
    if not isinstance(card, dict) or not isinstance(card.get("architecture"), dict):
        raise InpaintError(f"model card {card_path} has no 'architecture' config object")
    try:
        tensors = load_file(str(path))
    except (OSError, SafetensorError) as e:
        raise InpaintError(f"cannot read model file {path}: {e}") from None
    arch = str(card.get("model") or card.get("arch") or "")
    return ModelFile(
        path=path, card=card, arch=arch, config=dict(card["architecture"]), tensors=tensors
    )


@dataclass
class LoadedModel:
    """The networks of a model file, in eval mode, float32.

    Attributes:
        path: the ``.safetensors`` file.
        card: its model card.
        family: the family that declares its networks.
        nets: the networks by name: their file prefix (``G``, ``D``; Song: ``G1``, ``G2`` or
            ``G2_<size>``), or, in a recipe's export, the family's name for them (``G1``).
        configs: each network's config, by the same name.
        extras: each network's card keys that are not config fields (``family.card_extras``).
    """

    path: Path
    card: dict[str, Any]
    family: ModelFamily
    nets: dict[str, nn.Module]
    configs: dict[str, Any]
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def config(self) -> Any:
        """The config of the first network (one config for all in single-config files)."""
        return next(iter(self.configs.values()))


def _parts(family: ModelFamily, mf: ModelFile) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(name, file prefix, family network, architecture fields) of every network of ``mf``."""
    arch = mf.config
    if arch and all(isinstance(v, dict) for v in arch.values()):  # one config per network
        return [(p, p, p.split("_")[0], sub) for p, sub in arch.items()]
    renamed = family.recipe_parts.get(mf.arch)
    if renamed is not None:  # a recipe's export: its own names for the family's networks
        return [(net, p, net, arch) for p, net in renamed.items()]
    return [(p, p, p, arch) for p in family.exported]


def _config(family: ModelFamily, fields: dict[str, Any], path: Path) -> tuple[Any, dict]:
    names = {f.name for f in dataclasses.fields(family.config_cls)}
    unknown = sorted(set(fields) - names - set(family.card_extras))
    if unknown:
        raise InpaintError(f"model card of {path} has unknown {family.arch} config keys: {unknown}")
    extras = {k: v for k, v in fields.items() if k in family.card_extras}
    return family.config_cls(**{k: v for k, v in fields.items() if k in names}), extras


def _load_state(net: nn.Module, mf: ModelFile, prefix: str) -> None:
    try:
        net.load_state_dict(mf.state_dict(f"{prefix}."))  # fp16 on disk -> float32 parameters
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise InpaintError(
            f"{mf.path} does not match its {mf.arch} card ({prefix}.): {first}"
        ) from None


@functools.lru_cache(maxsize=8)
def _load_cached(
    family_name: str, path: str, mtime_ns: int, device: str, only: tuple[str, ...] | None
) -> LoadedModel:
    family = get_family(family_name)
    mf = read_model(path)
    holder = find_family(mf.arch)
    if mf.arch and holder is not None and holder.name != family.name:
        raise InpaintError(
            f"{path} holds a {mf.arch} model but {family.method} needs a {family.arch} model"
        )
    if mf.arch and holder is None and mf.arch != family.arch:
        raise InpaintError(f"{path} is not a {family.name} model file (its card says {mf.arch!r})")
    out = LoadedModel(path=Path(path), card=mf.card, family=family, nets={}, configs={})
    for name, prefix, network, fields in _parts(family, mf):
        if only is not None and name not in only:
            continue
        if network not in family.networks:
            raise InpaintError(f"model card of {path} has unknown {family.arch} keys: [{prefix!r}]")
        cfg, extras = _config(family, fields, out.path)
        net = family.build(cfg, only=(network,))[network]
        _load_state(net, mf, prefix)
        out.nets[name] = net.to(device).eval()
        out.configs[name], out.extras[name] = cfg, extras
    return out


def load_model(
    family: str, path: str | Path, device: str = "cpu", *, only: tuple[str, ...] | None = None
) -> LoadedModel:
    """Build the networks of a model file from its card and load their weights.

    Args:
        family: the family's name or any alias (``yeh2017``, ``dcgan``, ``song``, ...).
        path: the ``.safetensors`` file (its ``.json`` card beside it).
        device: torch device for the networks.
        only: the names of the networks to load (default: every network of the file).

    Returns:
        The networks in eval mode on ``device``, float32. Cached per file (path and
        modification time), device and ``only``: callers must not modify the networks.

    Raises:
        InpaintError: unreadable files, a card of another family, unknown config keys, or
            weights that do not fit the card's config.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise InpaintError(f"model file {path} does not exist")
    name = get_family(family).name
    return _load_cached(name, str(path), path.stat().st_mtime_ns, str(device), only)


def load_gan(
    family: str, path: str | Path, device: str = "cpu"
) -> tuple[nn.Module, nn.Module, Any]:
    """(G, D, config) of a GAN model file (``yeh2017``/``dcgan``, ``vitoria2019``/``wgan_resnet``).

    See :func:`load_model` (cached; callers must not modify the networks).
    """
    m = load_model(family, path, device, only=("G", "D"))
    return m.nets["G"], m.nets["D"], m.configs["G"]


def load_network(family: str, path: str | Path, device: str = "cpu") -> tuple[nn.Module, Any]:
    """(network, config): the single inference network ``G`` of a model file.

    For feed-forward methods (``deepfill``, ``context_encoder``) whose files hold only the
    generator. See :func:`load_model` (cached; callers must not modify the network).
    """
    m = load_model(family, path, device, only=("G",))
    return m.nets["G"], m.configs["G"]


def load_export(
    path: str | Path, *, dtype: torch.dtype = torch.float32
) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """Read an exported model: per-network state dicts (floats cast to ``dtype``) and its card.

    The card is read from the ``.json`` beside the weights, else from the file's metadata.

    Raises:
        InpaintError: missing or unreadable file.
    """
    path = Path(path)
    if not path.is_file():
        raise InpaintError(f"model file {str(path)!r} does not exist")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            flat = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise InpaintError(f"cannot read model file {str(path)!r}: {exc}") from None
    card_path = path.with_suffix(".json")
    if card_path.is_file():
        card = json.loads(card_path.read_text(encoding="utf-8"))
    else:
        card = json.loads(meta.get("card", "{}"))
    nets: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in flat.items():
        prefix, _, rest = key.partition(".")
        nets.setdefault(prefix, {})[rest] = value.to(dtype) if value.is_floating_point() else value
    return nets, card
