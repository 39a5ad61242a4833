"""Model files: finding, reading, writing and verifying them (bundled or installed by the user).

Naming: one model is two files, ``<family>_<domain>.safetensors`` and ``<family>_<domain>.json``,
where ``<family>`` is the model family, which is also the inpainting method that uses it, and
``<domain>`` names the training images and size, e.g. ``yeh2017_celeba64`` (a DCGAN trained on
64x64 CelebA, for ``yeh2017``) or ``vitoria2019_svhn64`` (a ResNet WGAN-GP, for
``vitoria2019``). Families are declared once, in ``models/<family>.py``
(:class:`~inpaintkit.registry.ModelFamily`); an older name (``dcgan``, ``song``, ``song-i2f``,
``wgan_resnet``) finds the same files. Users select a model by its domain
(``--opt model=celeba64``) or by the path of its ``.safetensors`` file.

Where: the user directory first (``$INPAINTKIT_WEIGHTS``, else
``~/.local/share/inpaintkit/weights``; ``inpaintkit weights install FILE`` copies a model
there), then the directory of this package (bundled models). A user file shadows a bundled one
of the same name.

The ``.safetensors`` file holds each network's state dict under its name as prefix (``G.``,
``D.``; Song: ``G1.``, ``G2.``); floating tensors are stored in float16 (they are loaded into
float32 networks). The ``.json`` model card holds at least ``{"model": "<architecture name,
e.g. dcgan>", "architecture": {<config fields>}}`` and, for bundled models, the data, the exact
training command, steps, measured scores and the sha256 of the ``.safetensors`` file.
Loading never unpickles anything. Reading: :mod:`inpaintkit.weights.read`; writing, bundling,
verifying: :mod:`inpaintkit.weights.write`.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inpaintkit.errors import InpaintError
from inpaintkit.registry import ModelFamily, find_family, get_family

if TYPE_CHECKING:  # pragma: no cover
    from inpaintkit.weights.read import (
        LoadedModel,
        ModelFile,
        load_gan,
        load_model,
        load_network,
        read_model,
    )

#: names of :mod:`inpaintkit.weights.read` (torch), imported on first use (PEP 562), so that
#: finding and listing model files (``inpaintkit methods``) never imports torch.
_READ_NAMES = ("LoadedModel", "ModelFile", "load_gan", "load_model", "load_network", "read_model")


def __getattr__(name: str) -> Any:
    if name in _READ_NAMES:
        value = getattr(importlib.import_module("inpaintkit.weights.read"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'inpaintkit.weights' has no attribute {name!r}")


__all__ = [
    "LoadedModel",
    "ModelFile",
    "bundled_dir",
    "default_domain",
    "default_model",
    "find_model",
    "install_hint",
    "installed_for",
    "list_installed",
    "list_model_files",
    "load_gan",
    "load_model",
    "load_network",
    "model_name",
    "pick_default",
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


def _family(name: str) -> ModelFamily:
    """The family of a method, family name or alias (InpaintError listing the known ones)."""
    return get_family(name)


def default_domain(family: str) -> str | None:
    """The model a family's method uses when several are installed and none is named."""
    return _family(family).default_domain


def pick_default(preferred: str | None, installed: list[str]) -> str | None:
    """The model used when the caller names none: ``preferred`` (the family's
    ``default_domain``) if installed, else the first installed one by name, else None. A method
    with models never fails for want of a choice.

    >>> pick_default("celeba64", ["cars64", "celeba64"]), pick_default("x", ["b", "a"])
    ('celeba64', 'b')
    """
    if not installed:
        return None
    return preferred if preferred in installed else installed[0]


def default_model(method: str) -> str | None:
    """The model :func:`resolve_model` loads for ``method`` when none is named (None when it
    uses none or none is installed); the same in the library, the CLI, the API and the page.

    >>> default_model("telea") is None
    True
    """
    family = find_family(method)
    if family is None:
        return None
    return pick_default(family.default_domain, list_installed(family.name))


def model_name(method: str, path: str | Path) -> str:
    """The short name of a model file as users write it: ``.../deepfill_natural128.safetensors``
    -> ``natural128`` (a file of another name is named by its stem).

    >>> model_name("deepfill", "/x/deepfill_natural128.safetensors")
    'natural128'
    """
    family = find_family(method)
    return Path(path).stem.removeprefix(f"{family.name if family else method}_")


def list_model_files(name: str) -> list[str]:
    """Sorted domains of ``<name>_*.safetensors`` in the search directories, without looking
    ``name`` up in the registry (so without importing any method: ``inpaintkit methods``)."""
    found: set[str] = set()
    for d in search_dirs():
        if d.is_dir():
            stems = (p.stem for p in d.glob(f"{name}_*.safetensors"))
            # a model's encoder (<model>.encoder.safetensors: weights/encoders.py) is no model
            found.update(s.removeprefix(f"{name}_") for s in stems if not s.endswith(".encoder"))
    return sorted(found)


def find_model(method_or_arch: str, domain: str) -> Path | None:
    """The ``.safetensors`` file of ``<method>_<domain>``, user directory first, or None.

    Args:
        method_or_arch: a family (``yeh2017``) or any of its names (``dcgan``).
        domain: e.g. ``celeba64``; a full name ``yeh2017_celeba64`` is accepted too.
    """
    method = _family(method_or_arch).name
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
    family = find_family(method_or_arch)
    if family is None:
        return []  # a method that uses no model files
    return list_model_files(family.name)


#: the name the CLI (``inpaintkit methods``) uses.
installed_for = list_installed


def install_hint(family: str) -> str:
    """How to get a model of ``family``: train its recipe, then install the export."""
    fam = _family(family)
    if fam.install_hint:
        return fam.install_hint.format(dir=weights_dir())
    recipe = fam.recipes[0] if fam.recipes else fam.arch
    return (
        f"train one with `inpaintkit train {recipe} --data DIR` and install its export with "
        f"`inpaintkit weights install RUN/export/{recipe}.safetensors --name {fam.name}_<domain>` "
        f"(it lands in {weights_dir()})"
    )


def resolve_model(method: str, model: str | None) -> Path:
    """The model file a method should load: ``model`` is a domain, a full name, a path or None.

    None picks :func:`default_model` (the family's ``default_domain`` if installed, else the
    first installed one). Errors name the installed models and how to get one.

    Raises:
        InpaintError: nothing installed, unknown domain, or a path that does not exist.
    """
    family = _family(method)
    method = family.name
    installed = list_installed(method)
    listed = ", ".join(installed) or "none"
    if model is not None and (model.endswith(".safetensors") or os.sep in model):
        path = Path(model).expanduser()
        if not path.is_file():
            raise InpaintError(f"model file {path} does not exist")
        return path
    if model is None:
        model = pick_default(family.default_domain, installed)
        if model is None:
            raise InpaintError(
                f"{method} needs a trained model and none is installed; {install_hint(method)}"
            )
    path = find_model(method, model)
    if path is None:
        raise InpaintError(
            f"no {method} model {model!r} is installed (installed: {listed}); "
            + install_hint(method)
        )
    return path
