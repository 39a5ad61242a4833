"""A latent encoder for a frozen GAN generator: (masked image, mask) -> the generator's z.

Amortised latent search (ours, beyond Yeh et al. 2017 and Vitoria et al. 2019): instead of
starting the latent search from a random z, a small conv net guesses z from the known pixels in
one forward pass, and the search refines it. At ``image_size=64``, ``width=w``::

    E: [x * (1 - m), m] (B, 4, 64, 64)       the hole blanked (0), the mask as a 4th channel
       -> conv 4x4 s2 -> (B, w, 32, 32)      leaky ReLU 0.2       (no norm on the first layer)
       -> conv 4x4 s2 -> (B, 2w, 16, 16)     BN, leaky ReLU 0.2
       -> conv 4x4 s2 -> (B, 4w, 8, 8)       BN, leaky ReLU 0.2
       -> conv 4x4 s2 -> (B, 8w, 4, 4)       BN, leaky ReLU 0.2
       -> linear, tanh -> (B, z_dim)         in [-1, 1]: the box both papers' searches clip
                                             z to (also for the normal prior of Vitoria)

Each halving of ``image_size`` drops one conv (the net always ends at 4x4). At w = 32 and
z_dim 100 it has 1.10M parameters (2.1 MiB in fp16). The encoder's files sit beside the
generator's (``<model>.encoder.safetensors``: :mod:`inpaintkit.weights.encoders`); the
``latent_encoder`` recipe trains one (:mod:`inpaintkit.train.latent_encoder`).

Example:
    >>> E = LATENT_ENCODER.build(LatentEncoderConfig(z_dim=8, image_size=16, width=4))["E"]
    >>> x, m = torch.zeros(2, 3, 16, 16), torch.ones(2, 1, 16, 16)
    >>> z = E(x, m)
    >>> tuple(z.shape), bool(z.abs().max() <= 1)
    ((2, 8), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.registry import ModelFamily, register_family

PRIORS = ("uniform", "normal")


@dataclass
class LatentEncoderConfig:
    """Shape of a latent encoder; ``z_dim``, ``image_size`` and ``prior`` are its generator's.

    Attributes:
        z_dim: latent size of the generator (DCGAN 100, ResNet WGAN-GP 128).
        image_size: side of the generator's images, a power of two >= 8.
        prior: the generator's latent prior, ``uniform`` U[-1, 1] or ``normal`` N(0, 1): what
            the recipe draws training latents from (the output is in [-1, 1] either way).
        width: channels of the first conv; they double at each halving (32: 1.1M parameters).
    """

    z_dim: int = 100
    image_size: int = 64
    prior: str = "uniform"
    width: int = 32

    def validate(self) -> None:
        """Raise InpaintError for values the architecture does not support."""
        s = self.image_size
        if s < 8 or s & (s - 1):
            raise InpaintError(f"latent_encoder image_size must be a power of two >= 8, got {s}")
        if self.z_dim < 1 or self.width < 1:
            raise InpaintError(
                f"latent_encoder z_dim and width must be >= 1, got {self.z_dim}, {self.width}"
            )
        if self.prior not in PRIORS:
            raise InpaintError(f"latent_encoder prior must be one of {PRIORS}, got {self.prior!r}")

    @property
    def channels(self) -> list[int]:
        """Channels after each stride-2 conv, ending at 4x4 (64 px: w, 2w, 4w, 8w)."""
        n = self.image_size.bit_length() - 3  # log2(S / 4)
        return [self.width * 2**i for i in range(n)]


class LatentEncoder(nn.Module):
    """E: (masked image (B, 3, S, S) in [-1, 1], mask (B, 1, S, S), 1 = hole) -> z (B, z_dim)."""

    def __init__(self, cfg: LatentEncoderConfig) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        layers: list[nn.Module] = []
        c_in = 4
        for i, c in enumerate(cfg.channels):
            layers.append(nn.Conv2d(c_in, c, 4, stride=2, padding=1, bias=i == 0))
            if i:
                layers.append(nn.BatchNorm2d(c))
            layers.append(nn.LeakyReLU(0.2, True))
            c_in = c
        self.main = nn.Sequential(*layers)
        self.head = nn.Linear(c_in * 4 * 4, cfg.z_dim)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S), (B, 1, S, S) -> (B, z_dim); hole pixels of ``image`` are ignored."""
        x = torch.cat([image * (1 - mask), mask], 1)  # (B, 4, S, S)
        h = self.main(x)  # (B, 8w, 4, 4) at S = 64
        z = self.head(h.flatten(1))  # (B, z_dim)
        return torch.tanh(z)  # the search's box [-1, 1]


#: the ``latent_encoder`` family: one network ``E``, stored beside a latent-search model as
#: ``<model>.encoder.safetensors`` (not as ``latent_encoder_<domain>``); trained by the
#: ``latent_encoder`` recipe against a frozen ``yeh2017`` or ``vitoria2019`` generator.
LATENT_ENCODER = register_family(
    ModelFamily(
        name="latent_encoder",
        arch="latent_encoder",
        config_cls=LatentEncoderConfig,
        networks={"E": LatentEncoder},
        exported=("E",),
        method="yeh2017/vitoria2019",
        recipes=("latent_encoder",),
        install_hint=(
            "train one with `inpaintkit train latent_encoder --set recipe.generator=yeh2017_"
            "celeba64 --data DIR` and install it with `inpaintkit weights install RUN/export/"
            "latent_encoder.safetensors` (it lands beside the model's name in {dir})"
        ),
    )
)
