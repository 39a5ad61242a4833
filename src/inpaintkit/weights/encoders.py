"""Latent encoders: files that sit beside a latent-search model and start its search.

An encoder of the ``latent_encoder`` family (:mod:`inpaintkit.models.latent_encoder`) is
trained for ONE generator file, so it is stored under that file's name with the suffix
``.encoder``::

    yeh2017_celeba64.safetensors            the generator's model (G, D) and its card
    yeh2017_celeba64.encoder.safetensors    its encoder (E., fp16) and its card
    yeh2017_celeba64.encoder.json           {"model": "latent_encoder", "architecture": {...},
                                             "generator": "yeh2017_celeba64",
                                             "generator_sha256": "<sha256 of the model file>", ...}

The encoder is used only with the generator it was trained for: :func:`find_encoder` looks
beside the model file, then in the search directories (user first, then bundled), and takes
the first ``<stem>.encoder.safetensors`` whose card's ``generator_sha256`` is the model file's
sha256, so a user's own ``yeh2017_celeba64`` never starts from the bundled model's encoder.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from inpaintkit.errors import InpaintError
from inpaintkit.registry import ModelFamily, find_family

__all__ = [
    "ENCODER_SUFFIX",
    "encoder_name",
    "find_encoder",
    "generator_of",
    "is_encoder_file",
    "model_sha256",
    "resolve_generator",
]

#: the suffix of an encoder's stem: ``<model stem>.encoder``.
ENCODER_SUFFIX = ".encoder"


def is_encoder_file(path: str | Path) -> bool:
    """Whether ``path`` (a ``.safetensors`` file or a stem) is an encoder's by its name.

    >>> is_encoder_file("x/yeh2017_celeba64.encoder.safetensors"), is_encoder_file("yeh2017_x")
    (True, False)
    """
    name = Path(path).name.removesuffix(".safetensors").removesuffix(".json")
    return name.endswith(ENCODER_SUFFIX)


def encoder_name(model: str) -> str:
    """The stem of the encoder of model ``model`` (a stem or a name).

    >>> encoder_name("yeh2017_celeba64")
    'yeh2017_celeba64.encoder'
    """
    return model if model.endswith(ENCODER_SUFFIX) else f"{model}{ENCODER_SUFFIX}"


@functools.lru_cache(maxsize=32)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()  # as weights.write.file_sha256 (which imports this module)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_sha256(path: str | Path) -> str:
    """The sha256 of a model file, cached by path, modification time and size."""
    p = Path(path).resolve()
    st = p.stat()
    return _sha256(str(p), st.st_mtime_ns, st.st_size)


def _card(path: Path) -> dict[str, Any]:
    try:
        card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def find_encoder(model_path: str | Path) -> Path | None:
    """The encoder trained for the model file ``model_path``, or None.

    Looks for ``<stem>.encoder.safetensors`` beside the model, then in the user and bundled
    weights folders; a candidate counts only when its card's ``generator_sha256`` is the model
    file's sha256 (and its card says ``latent_encoder``).
    """
    from inpaintkit.weights import search_dirs

    model_path = Path(model_path)
    name = f"{encoder_name(model_path.stem)}.safetensors"
    dirs = dict.fromkeys([model_path.parent.resolve(), *(d.resolve() for d in search_dirs())])
    for d in dirs:
        cand = d / name
        if not cand.is_file():
            continue
        card = _card(cand)
        trained_for = card.get("generator_sha256")
        if card.get("model") == "latent_encoder" and trained_for == model_sha256(model_path):
            return cand
    return None


def resolve_generator(spec: str) -> tuple[ModelFamily, Path]:
    """The family and file of a generator named by ``spec``: ``<family>_<domain>`` (an
    installed model, e.g. ``yeh2017_celeba64``) or a ``.safetensors`` path (an export).

    Raises:
        InpaintError: not a latent-search model, not installed, or a missing file.
    """
    from inpaintkit.weights import resolve_model

    if spec.endswith(".safetensors") or "/" in spec:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise InpaintError(f"generator file {path} does not exist")
        family = find_family(str(_card(path).get("model", "")))
    else:
        family = next((f for f in _latent_families() if spec.startswith(f"{f.name}_")), None)
        path = resolve_model(family.name, spec) if family is not None else Path(spec)
    if family is None or family not in _latent_families():
        names = ", ".join(f.name for f in _latent_families())
        raise InpaintError(
            f"recipe.generator must name a latent-search model (<family>_<domain> of {names}) "
            f"or its .safetensors file, got {spec!r}"
        )
    return family, path


def _latent_families() -> list[ModelFamily]:
    out = [find_family("yeh2017"), find_family("vitoria2019")]
    return [f for f in out if f is not None]


def generator_of(card: dict[str, Any]) -> str:
    """The generator model an encoder's card names (``generator``), or ""."""
    return str(card.get("generator") or "")
