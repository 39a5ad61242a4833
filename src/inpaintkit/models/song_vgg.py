"""The feature extractor of Song et al. 2018: VGG16 up to relu3_1 (G1's feature loss, G2's input).

The paper uses VGG19 relu3_1, identical in structure up to that layer to VGG16's
(:mod:`inpaintkit.nn.vgg`), whose ImageNet weights we can get. ``"random"`` is a randomly
initialised VGG16 prefix with a fixed seed: for tests only, never for real models. A Song
model card records which one its G2 was trained on (``vgg``).
"""

from __future__ import annotations

import functools

import torch

from inpaintkit.errors import InpaintError
from inpaintkit.nn.vgg import VGG16Features, load_vgg16

__all__ = ["RANDOM_VGG_SEED", "VGG_KINDS", "build_song_vgg", "cached_song_vgg", "relu3_1"]

VGG_KINDS = ("imagenet", "random")
RANDOM_VGG_SEED = 0


def build_song_vgg(kind: str = "imagenet", *, upto: str = "relu3_1") -> VGG16Features:
    """VGG16 up to relu3_1, frozen, eval mode: (B, 3, H, W) -> {"relu3_1": (B, 256, H/4, W/4)}.

    ``kind``: ``"imagenet"`` (:func:`~inpaintkit.nn.vgg.load_vgg16`, the only choice for real
    models) or ``"random"`` (He-normal weights from seed ``RANDOM_VGG_SEED``, zero biases, the
    global RNG untouched: for tests without the weight package). ``upto``: the deepest layer
    kept (a deeper one for the training recipes' perceptual losses; a random VGG's weights
    depend on it).
    """
    if kind not in VGG_KINDS:
        raise InpaintError(f"vgg must be one of {VGG_KINDS}, got {kind!r}")
    if kind == "imagenet":
        return load_vgg16(upto=upto)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_VGG_SEED)
        net = VGG16Features(upto=upto)
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
