"""Song et al. 2018 model files (used by ``song2018``, ``stylize``, training).

A ``song2018_<domain>.safetensors`` file holds G1 under ``G1.`` and G2 under ``G2.`` (several
G2: ``G2_<size>.``); its card's ``architecture`` maps each prefix to that network's
:class:`~inpaintkit.models.song.SongConfig` fields plus ``vgg``, the feature extractor it was
trained with. :func:`inpaintkit.weights.write.combine_song_models` writes one from a
``song-i2f`` and ``song-f2i`` exports. A bare ``song-f2i`` export is also read (G2 alone: enough for
``inpaintkit stylize``); a bare ``song-i2f`` export gives G1 alone.

The VGG a card names (``imagenet``, or ``random`` for tests): :mod:`inpaintkit.models.song_vgg`
(its names are re-exported here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from inpaintkit.errors import InpaintError
from inpaintkit.models.song import FeatureToImage, ImageToFeature
from inpaintkit.models.song_vgg import (  # noqa: F401 (re-exported)
    RANDOM_VGG_SEED,
    VGG_KINDS,
    build_song_vgg,
    cached_song_vgg,
    relu3_1,
)
from inpaintkit.weights import resolve_model
from inpaintkit.weights.read import LoadedModel, load_model


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
    """The file ``model`` names (domain, full name, path, None: the default); InpaintError
    (with how to make one) when nothing fits."""
    return resolve_model("song2018", model)
