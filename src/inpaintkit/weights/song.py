"""Song et al. 2018 model files and the VGG they name (used by ``song2018``, ``stylize``, training).

A ``song2018_<domain>.safetensors`` file holds G1 under ``G1.`` and G2 under ``G2.`` (several
G2: ``G2_<size>.``); its card's ``architecture`` maps each prefix to that network's
:class:`~inpaintkit.models.song.SongConfig` fields plus ``vgg``, the feature extractor it was
trained with. :func:`inpaintkit.weights.write.combine_song_models` writes one from a
``song-i2f`` and ``song-f2i`` exports. A bare ``song-f2i`` export is also read (G2 alone: enough for
``inpaintkit stylize``); a bare ``song-i2f`` export gives G1 alone.

VGG: the ImageNet VGG16 up to relu3_1 (the paper uses VGG19 relu3_1, identical in structure up
to that layer; :mod:`inpaintkit.nn.vgg`). ``vgg="random"`` in a card means a randomly
initialised VGG16 prefix with a fixed seed: for tests only, never for real models.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from inpaintkit.errors import InpaintError
from inpaintkit.models.song import FeatureToImage, ImageToFeature
from inpaintkit.nn.vgg import VGG16Features, load_vgg16
from inpaintkit.weights import resolve_model
from inpaintkit.weights.read import LoadedModel, load_model

VGG_KINDS = ("imagenet", "random")
RANDOM_VGG_SEED = 0


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


def _song_model(loaded: LoadedModel) -> SongModel:
    """The G1 and the G2 (by training size) of a loaded Song file, and the VGG G2 was trained on."""
    model = SongModel(path=loaded.path, g1=None)
    vggs = set()
    for prefix, net in loaded.nets.items():
        if prefix == "G1":
            model.g1 = net
        else:
            model.g2[net.cfg.image_size] = net
            vggs.add(str(loaded.extras[prefix].get("vgg", "imagenet")))
    if len(vggs) > 1:
        raise InpaintError(
            f"{loaded.path} holds G2 networks trained on different VGGs: {sorted(vggs)}"
        )
    model.vgg = vggs.pop() if vggs else "imagenet"
    return model


def load_song_model(path: str | Path, device: str = "cpu") -> SongModel:
    """Read a Song model file (combined, or a bare ``song-i2f``/``song-f2i`` export).

    Cached per file (path and modification time) and device: do not modify the networks.
    Raises InpaintError for a missing or unreadable file or weights that do not fit the card.
    """
    return _song_model(load_model("song2018", path, device))


def resolve_song_model(model: str | None) -> Path:
    """The file ``model`` names (domain, full name, path, None: the only one or the default);
    InpaintError (with how to make one) when nothing fits."""
    return resolve_model("song2018", model)
