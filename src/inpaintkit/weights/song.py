"""Song et al. 2018 model files and the VGG they name (used by ``song2018``, ``stylize``, training).

A ``song2018_<domain>.safetensors`` file holds G1 under ``G1.`` and G2 under ``G2.`` (several
G2: ``G2_<size>.``); its card's ``architecture`` maps each prefix to that network's
:class:`~inpaintkit.models.song.SongConfig` fields plus ``vgg``, the feature extractor it was
trained with. :func:`inpaintkit.train.song.combine_song_models` writes one from a ``song-i2f``
and a ``song-f2i`` export. A bare ``song-f2i`` export is also read (G2 alone: enough for
``inpaintkit stylize``); a bare ``song-i2f`` export gives G1 alone.

VGG: the ImageNet VGG16 up to relu3_1 (the paper uses VGG19 relu3_1, identical in structure up
to that layer; :mod:`inpaintkit.nn.vgg`). ``vgg="random"`` in a card means a randomly
initialised VGG16 prefix with a fixed seed: for tests only, never for real models.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from inpaintkit.errors import InpaintError
from inpaintkit.models.song import FeatureToImage, ImageToFeature, SongConfig
from inpaintkit.nn.vgg import VGG16Features, load_vgg16
from inpaintkit.weights import find_model, list_installed, read_model, resolve_model, weights_dir

VGG_KINDS = ("imagenet", "random")
RANDOM_VGG_SEED = 0
INSTALL_HINT = (
    "train G1 with `inpaintkit train song-i2f` and G2 with `inpaintkit train song-f2i`, then "
    "join the two exports with inpaintkit.train.song.combine_song_models into "
    "{dir}/song2018_<domain>.safetensors (+ .json)"
)


# --- feature extractor --------------------------------------------------------------------------
def build_song_vgg(kind: str = "imagenet") -> VGG16Features:
    """VGG16 up to relu3_1, frozen, eval mode: (B, 3, H, W) -> {"relu3_1": (B, 256, H/4, W/4)}.

    ``kind``: ``"imagenet"`` (:func:`~inpaintkit.nn.vgg.load_vgg16`, the only choice for real
    models) or ``"random"`` (He-normal weights from seed ``RANDOM_VGG_SEED``, zero biases, the
    global RNG untouched: for tests without the weight package).
    """
    if kind not in VGG_KINDS:
        raise InpaintError(f"vgg must be one of {VGG_KINDS}, got {kind!r}")
    if kind == "imagenet":
        return load_vgg16(upto="relu3_1")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_VGG_SEED)
        net = VGG16Features(upto="relu3_1")
        for conv in net.convs.values():  # He init: activations keep their scale, like real VGG
            torch.nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            torch.nn.init.zeros_(conv.bias)
    return net.eval().requires_grad_(False)


@functools.lru_cache(maxsize=4)
def cached_song_vgg(kind: str, device: str = "cpu") -> VGG16Features:
    """:func:`build_song_vgg` on ``device``, built once per (kind, device): do not modify it."""
    return build_song_vgg(kind).to(device)


def relu3_1(vgg: VGG16Features, x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [-1, 1] -> (B, 256, H / 4, W / 4) relu3_1 features."""
    return vgg(x, layers=("relu3_1",))["relu3_1"]


# --- model files --------------------------------------------------------------------------------
@dataclass
class SongModel:
    """The networks of a Song model file, in eval mode.

    Attributes:
        path: the ``.safetensors`` file.
        g1: Image2Feature, or None (a bare ``song-f2i`` export).
        g2: Feature2Image networks by training size (empty for a bare ``song-i2f`` export).
        vgg: the feature extractor G2 was trained with (``"imagenet"`` or ``"random"``).
    """

    path: Path
    g1: ImageToFeature | None
    g2: dict[int, FeatureToImage] = field(default_factory=dict)
    vgg: str = "imagenet"

    def g2_for(self, size: int) -> FeatureToImage:
        """The G2 trained at ``size``, else the one whose size is nearest (log scale)."""
        return self.g2[min(self.g2, key=lambda s: (abs(math.log2(s / size)), s))]


def _parts(card_model: str, arch: dict[str, Any], path: Path) -> list[tuple[str, str, dict]]:
    """(role, tensor prefix, architecture) of every network in a Song file."""
    if card_model == "song-i2f":
        return [("G1", "G.", arch)]
    if card_model == "song-f2i":
        return [("G2", "G.", arch)]
    if card_model == "song" and all(isinstance(v, dict) for v in arch.values()):
        return [(name, f"{name}.", sub) for name, sub in arch.items()]
    raise InpaintError(f"{path} is not a Song model file (its card says model {card_model!r})")


def _build(role: str, arch: dict[str, Any], path: Path) -> tuple[torch.nn.Module, str]:
    """The network of one part from its architecture fields, and its ``vgg``."""
    names = {f.name for f in dataclasses.fields(SongConfig)}
    unknown = sorted(set(arch) - names - {"vgg"})
    if unknown or not (role == "G1" or role.startswith("G2")):
        raise InpaintError(f"model card of {path} has unknown song keys: {unknown or [role]}")
    cfg = SongConfig(**{k: v for k, v in arch.items() if k in names})
    net = ImageToFeature(cfg) if role == "G1" else FeatureToImage(cfg)
    return net, str(arch.get("vgg", "imagenet"))


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int, device: str) -> SongModel:
    mf = read_model(path)
    model = SongModel(path=Path(path), g1=None)
    vggs = set()
    for role, prefix, arch in _parts(mf.arch, mf.config, model.path):
        net, vgg = _build(role, arch, model.path)
        try:
            net.load_state_dict(mf.state_dict(prefix))  # fp16 on disk -> float32 parameters
        except RuntimeError as e:
            first = str(e).strip().splitlines()[0]
            raise InpaintError(f"{path} does not match its card ({prefix}): {first}") from None
        net = net.to(device).eval()
        if role == "G1":
            model.g1 = net
        else:
            model.g2[net.cfg.image_size] = net
            vggs.add(vgg)
    if len(vggs) > 1:
        raise InpaintError(f"{path} holds G2 networks trained on different VGGs: {sorted(vggs)}")
    model.vgg = vggs.pop() if vggs else "imagenet"
    return model


def load_song_model(path: str | Path, device: str = "cpu") -> SongModel:
    """Read a Song model file (combined, or a bare ``song-i2f``/``song-f2i`` export).

    Cached per file (path and modification time) and device: do not modify the networks.
    Raises InpaintError for a missing or unreadable file or weights that do not fit the card.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise InpaintError(f"model file {path} does not exist")
    return _load_cached(str(path), path.stat().st_mtime_ns, str(device))


def resolve_song_model(model: str | None) -> Path:
    """The file ``model`` names (domain, full name, path, None: the default); InpaintError
    (with how to make one) when nothing fits."""
    is_path = model is not None and (model.endswith(".safetensors") or os.sep in model)
    if not is_path:
        installed = list_installed("song2018")
        hint = INSTALL_HINT.format(dir=weights_dir())
        if model is None and not installed:
            raise InpaintError(f"song2018 needs a trained model and none is installed; {hint}")
        if model is not None and find_model("song2018", model) is None:
            listed = ", ".join(installed) or "none"
            raise InpaintError(
                f"no song2018 model {model!r} is installed (installed: {listed}); {hint}"
            )
    return resolve_model("song2018", model)
