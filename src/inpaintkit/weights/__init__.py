"""Finding and reading trained model files (bundled with the package or installed by the user).

Naming: one model is two files, ``<method>_<domain>.safetensors`` and ``<method>_<domain>.json``,
where ``<method>`` is the inpainting method that uses it and ``<domain>`` names the training
images and size, e.g. ``yeh2017_celeba64`` (a DCGAN trained on 64x64 CelebA, for ``yeh2017``)
or ``vitoria2019_svhn64`` (a ResNet WGAN-GP, for ``vitoria2019``). Users select a model by its
domain (``--opt model=celeba64``) or by the path of its ``.safetensors`` file.

Where: the user directory first (``$INPAINTKIT_WEIGHTS``, else
``~/.local/share/inpaintkit/weights``), then the directory of this package (bundled models).
A user file shadows a bundled one of the same name.

The ``.safetensors`` file holds the generator's state dict under the prefix ``G.`` and the
discriminator's (or critic's) under ``D.``; floating tensors are stored in float16 (they are
loaded into float32 networks). The ``.json`` model card holds at least
``{"model": "<architecture registry name, e.g. dcgan>", "architecture": {<config fields>}}``
and, for bundled models, the data, the exact training command, steps and measured scores.
Loading never unpickles anything.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inpaintkit.errors import InpaintError

if TYPE_CHECKING:  # pragma: no cover - torch is imported when a model is read, not to list them
    import torch
    from torch import nn

#: architecture registry name -> the method whose model files it makes.
ARCH_METHOD: dict[str, str] = {
    "dcgan": "yeh2017",
    "wgan_resnet": "vitoria2019",
    "deepfill": "deepfill",
    "context_encoder": "context_encoder",
    "song": "song2018",
}
#: method -> the model used when the caller names none, in the library, the CLI, the HTTP API
#: and the web page alike: the general-purpose one. ``deepfill``, ``song2018``: natural photos,
#: not faces, at 128 px (they beat their sharper 256 px siblings on l1, PSNR and SSIM);
#: ``yeh2017``, ``vitoria2019``: faces (celeba64), the domain their papers show first;
#: ``context_encoder``: natural photos trained on the centre hole (the paper's setting).
DEFAULT_MODEL: dict[str, str] = {
    "deepfill": "natural128",
    "song2018": "natural128",
    "yeh2017": "celeba64",
    "vitoria2019": "celeba64",
    "context_encoder": "natural128_center",
}
#: method -> architecture registry name.
METHOD_ARCH: dict[str, str] = {m: a for a, m in ARCH_METHOD.items()}
#: architecture registry name -> (module, config dataclass) that builds it from a card.
ARCH_CONFIG: dict[str, tuple[str, str]] = {
    "dcgan": ("inpaintkit.models.dcgan", "DCGANConfig"),
    "wgan_resnet": ("inpaintkit.models.wgan_resnet", "WGANResNetConfig"),
    "deepfill": ("inpaintkit.models.deepfill", "DeepFillConfig"),
    "context_encoder": ("inpaintkit.models.context_encoder", "ContextEncoderConfig"),
    "song": ("inpaintkit.models.song", "SongConfig"),
}

__all__ = [
    "ARCH_METHOD",
    "DEFAULT_MODEL",
    "METHOD_ARCH",
    "ModelFile",
    "bundled_dir",
    "default_model",
    "find_model",
    "installed_for",
    "list_installed",
    "load_gan",
    "load_network",
    "read_model",
    "resolve_model",
    "search_dirs",
    "weights_dir",
]


def weights_dir() -> Path:
    """The user's model directory: ``$INPAINTKIT_WEIGHTS`` or ``~/.local/share/inpaintkit/weights``.

    It need not exist; copy ``<method>_<domain>.safetensors`` + ``.json`` there to install.
    """
    env = os.environ.get("INPAINTKIT_WEIGHTS")
    return Path(env).expanduser() if env else Path.home() / ".local/share/inpaintkit/weights"


def bundled_dir() -> Path:
    """The directory of the models shipped inside the package."""
    return Path(__file__).resolve().parent


def search_dirs() -> list[Path]:
    """Directories searched for models, in order: user directory, then bundled."""
    return [weights_dir(), bundled_dir()]


def _method(method_or_arch: str) -> str:
    if method_or_arch in METHOD_ARCH:
        return method_or_arch
    if method_or_arch in ARCH_METHOD:
        return ARCH_METHOD[method_or_arch]
    known = ", ".join(sorted([*METHOD_ARCH, *ARCH_METHOD]))
    raise InpaintError(f"no model files are defined for {method_or_arch!r}; known: {known}")


def find_model(method_or_arch: str, domain: str) -> Path | None:
    """The ``.safetensors`` file of ``<method>_<domain>``, user directory first, or None.

    Args:
        method_or_arch: a method (``yeh2017``) or its architecture (``dcgan``).
        domain: e.g. ``celeba64``; a full name ``yeh2017_celeba64`` is accepted too.
    """
    method = _method(method_or_arch)
    domain = domain.removeprefix(f"{method}_")
    for d in search_dirs():
        path = d / f"{method}_{domain}.safetensors"
        if path.is_file():
            return path
    return None


def list_installed(method_or_arch: str) -> list[str]:
    """Sorted domains with a model file for ``method_or_arch`` in any search directory.

    >>> isinstance(list_installed("dcgan"), list)
    True
    """
    if method_or_arch not in METHOD_ARCH and method_or_arch not in ARCH_METHOD:
        return []  # a method that uses no model files
    method = _method(method_or_arch)
    found: set[str] = set()
    for d in search_dirs():
        if d.is_dir():
            found.update(
                p.stem.removeprefix(f"{method}_") for p in d.glob(f"{method}_*.safetensors")
            )
    return sorted(found)


#: the name the CLI (``inpaintkit methods``) uses.
installed_for = list_installed


def _install_hint(method: str) -> str:
    arch = METHOD_ARCH[method]
    if method == "song2018":  # two networks, trained apart, combined into one file
        return (
            "train `inpaintkit train song-i2f` and `inpaintkit train song-f2i`, join their exports "
            "with inpaintkit.train.song.combine_song_models and copy the result to "
            f"{weights_dir()} as song2018_<domain>.safetensors/.json"
        )
    return (
        f"train one with `inpaintkit train {arch} --data DIR` and copy its exported "
        f".safetensors and .json to {weights_dir()} as {method}_<domain>.safetensors/.json"
    )


def default_model(method: str) -> str | None:
    """The model :func:`resolve_model` loads when the caller names none, or None if none is
    installed: the method's :data:`DEFAULT_MODEL` if installed, else the only installed one,
    else the first installed one by name (a method with models never fails for want of one).

    >>> default_model("telea") is None
    True
    """
    if method not in METHOD_ARCH and method not in ARCH_METHOD:
        return None
    installed = list_installed(method)
    if not installed:
        return None
    preferred = DEFAULT_MODEL.get(_method(method))
    return preferred if preferred in installed else installed[0]


def model_name(method: str, path: str | Path) -> str:
    """The short name of a model file as users write it: ``.../deepfill_natural128.safetensors``
    -> ``natural128`` (a file of another name is named by its stem).

    >>> model_name("deepfill", "/x/deepfill_natural128.safetensors")
    'natural128'
    """
    return Path(path).stem.removeprefix(f"{ARCH_METHOD.get(method, method)}_")


def resolve_model(method: str, model: str | None) -> Path:
    """The model file a method should load: ``model`` is a domain, a full name, a path or None.

    None picks :func:`default_model`. Errors name the installed models and how to get one.

    Raises:
        InpaintError: nothing installed, unknown domain, or a path that does not exist.
    """
    method = _method(method)
    installed = list_installed(method)
    listed = ", ".join(installed) or "none"
    if model is not None and (model.endswith(".safetensors") or os.sep in model):
        path = Path(model).expanduser()
        if not path.is_file():
            raise InpaintError(f"model file {path} does not exist")
        return path
    if model is None:
        model = default_model(method)
        if model is None:
            raise InpaintError(
                f"{method} needs a trained model and none is installed; {_install_hint(method)}"
            )
    path = find_model(method, model)
    if path is None:
        raise InpaintError(
            f"no {method} model {model!r} is installed (installed: {listed}); "
            + _install_hint(method)
        )
    return path


@dataclass
class ModelFile:
    """A model read from disk.

    Attributes:
        path: the ``.safetensors`` file.
        card: the parsed ``.json`` model card.
        arch: the architecture's registry name (``card["model"]``), or "" if the card has none.
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


def _build_from_card(method: str, path: str) -> tuple[ModelFile, Any, Any]:
    """Read ``path``, check its architecture, build (networks, config) from its card."""
    from inpaintkit.registry import get_model

    mf = read_model(path)
    arch = METHOD_ARCH[method]
    if mf.arch in ARCH_METHOD and mf.arch != arch:
        raise InpaintError(f"{path} holds a {mf.arch} model but {method} needs a {arch} model")
    module_name, config_name = ARCH_CONFIG[arch]
    config_cls = getattr(importlib.import_module(module_name), config_name)
    unknown = sorted(set(mf.config) - {f.name for f in dataclasses.fields(config_cls)})
    if unknown:
        raise InpaintError(f"model card of {path} has unknown {arch} config keys: {unknown}")
    cfg = config_cls(**mf.config)
    return mf, get_model(arch)(cfg), cfg


def _load_state(net: nn.Module, mf: ModelFile, prefix: str) -> None:
    try:
        net.load_state_dict(mf.state_dict(prefix))  # fp16 on disk -> float32 parameters
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise InpaintError(
            f"{mf.path} does not match its {mf.arch} card ({prefix}): {first}"
        ) from None


@functools.lru_cache(maxsize=4)
def _load_gan_cached(
    method: str, path: str, mtime_ns: int, device: str
) -> tuple[nn.Module, nn.Module, Any]:
    mf, nets, cfg = _build_from_card(method, path)
    G, D = nets[:2]  # every GAN builder returns (generator, discriminator)
    for net, prefix in ((G, "G."), (D, "D.")):
        _load_state(net, mf, prefix)
    return G.to(device).eval(), D.to(device).eval(), cfg


@functools.lru_cache(maxsize=4)
def _load_network_cached(
    method: str, path: str, mtime_ns: int, device: str
) -> tuple[nn.Module, Any]:
    mf, nets, cfg = _build_from_card(method, path)
    G = nets[0] if isinstance(nets, tuple) else nets  # builders may add critics: unused here
    _load_state(G, mf, "G.")
    return G.to(device).eval(), cfg


def load_network(
    method_or_arch: str, path: str | Path, device: str = "cpu"
) -> tuple[nn.Module, Any]:
    """Build the (single) inference network of a model file and load its ``G.`` weights.

    For feed-forward methods (``deepfill``, ``context_encoder``) whose files hold only the
    generator. Returns (network, config) in eval mode on ``device``, float32, cached per file
    and device like :func:`load_gan` (callers must not modify the network).

    Raises:
        InpaintError: as :func:`load_gan`.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise InpaintError(f"model file {path} does not exist")
    return _load_network_cached(
        _method(method_or_arch), str(path), path.stat().st_mtime_ns, str(device)
    )


def load_gan(
    method_or_arch: str, path: str | Path, device: str = "cpu"
) -> tuple[nn.Module, nn.Module, Any]:
    """Build the GAN of a model file from its card and load its weights.

    Args:
        method_or_arch: ``yeh2017``/``dcgan`` or ``vitoria2019``/``wgan_resnet``.
        path: the ``.safetensors`` file (its ``.json`` card beside it).
        device: torch device for the networks.

    Returns:
        (G, D, config) in eval mode on ``device``, float32. Cached per file (path and
        modification time) and device: callers must not modify the networks.

    Raises:
        InpaintError: unreadable files, a card of another architecture, unknown config keys,
            or weights that do not fit the card's config.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise InpaintError(f"model file {path} does not exist")
    return _load_gan_cached(
        _method(method_or_arch), str(path), path.stat().st_mtime_ns, str(device)
    )
