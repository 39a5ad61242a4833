"""DCGAN as used by Yeh et al. 2017 for semantic inpainting (CVPR 2017).

The layout follows the reference DCGAN of the known Yeh et al. reproductions,
with 5x5 kernels and stride 2 throughout (at ``image_size=64``, ``ngf=ndf=64``)::

    G: z (B, 100) ~ U[-1, 1]
       -> linear -> (B, 512, 4, 4)   BN, ReLU
       -> deconv -> (B, 512, 8, 8)   BN, ReLU
       -> deconv -> (B, 256, 16, 16) BN, ReLU
       -> deconv -> (B, 128, 32, 32) BN, ReLU
       -> deconv -> (B, 3, 64, 64)   tanh
    D: x (B, 3, 64, 64)
       -> conv -> (B, 64, 32, 32)    leaky ReLU 0.2        (no BN on the first layer)
       -> conv -> (B, 128, 16, 16)   BN, leaky ReLU 0.2
       -> conv -> (B, 256, 8, 8)     BN, leaky ReLU 0.2
       -> conv -> (B, 512, 4, 4)     BN, leaky ReLU 0.2
       -> linear -> (B,) logit

At ``image_size=32`` each network has one block fewer (G drops its second 8*ngf block, D its
8*ndf block). Choices the papers leave open: layers followed by batch norm have no bias (BN's
shift makes it redundant); the last G layer, the first D layer and D's head have one; weights
are initialised N(0, 0.02), BN scales N(1, 0.02), as in Radford et al.

Example:
    >>> nets = YEH2017.build(DCGANConfig(image_size=32, ngf=8, ndf=8, z_dim=16))
    >>> G, D = nets["G"], nets["D"]
    >>> x = G(sample_z(2, 16, generator=torch.Generator().manual_seed(0)))
    >>> tuple(x.shape), tuple(D(x).shape)
    ((2, 3, 32, 32), (2,))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.registry import ModelFamily, register_family, register_model

SIZES = (32, 64)


@dataclass
class DCGANConfig:
    """DCGAN architecture; the defaults are Yeh et al.'s 64x64 model.

    Attributes:
        z_dim: latent size; z ~ U[-1, 1] (Yeh et al.).
        image_size: 32 or 64.
        ngf: generator width: its hidden layers have (8, 8, 4, 2) x ngf channels at 64 px,
            (8, 4, 2) x ngf at 32 px.
        ndf: discriminator width: its convs have (1, 2, 4, 8) x ndf channels at 64 px,
            (1, 2, 4) x ndf at 32 px.
        kernel: conv kernel size (5 in the reference; odd, stride 2, "same" padding).
    """

    z_dim: int = 100
    image_size: int = 64
    ngf: int = 64
    ndf: int = 64
    kernel: int = 5

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InpaintError for values the architecture does not support (also run when the
        config is made)."""
        if self.image_size not in SIZES:
            raise InpaintError(f"dcgan image_size must be 32 or 64, got {self.image_size}")
        if self.kernel < 3 or self.kernel % 2 == 0:
            raise InpaintError(f"dcgan kernel must be odd and >= 3, got {self.kernel}")
        for name in ("z_dim", "ngf", "ndf"):
            if getattr(self, name) < 1:
                raise InpaintError(f"dcgan {name} must be >= 1, got {getattr(self, name)}")

    @property
    def g_channels(self) -> list[int]:
        """Generator channels at 4x4, 8x8, ... up to the last hidden resolution."""
        mults = [8, 8, 4, 2] if self.image_size == 64 else [8, 4, 2]
        return [m * self.ngf for m in mults]

    @property
    def d_channels(self) -> list[int]:
        """Discriminator channels after each stride-2 conv, ending at 4x4."""
        mults = [1, 2, 4, 8] if self.image_size == 64 else [1, 2, 4]
        return [m * self.ndf for m in mults]


def _up(c_in: int, c_out: int, k: int, *, bias: bool) -> nn.ConvTranspose2d:
    """Transposed conv that doubles H and W exactly (k odd, stride 2)."""
    return nn.ConvTranspose2d(c_in, c_out, k, stride=2, padding=k // 2, output_padding=1, bias=bias)


def _down(c_in: int, c_out: int, k: int, *, bias: bool) -> nn.Conv2d:
    """Conv that halves even H and W exactly (k odd, stride 2)."""
    return nn.Conv2d(c_in, c_out, k, stride=2, padding=k // 2, bias=bias)


def init_weights(module: nn.Module) -> None:
    """Radford et al.'s init: conv/linear N(0, 0.02), BN scale N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """G: z (B, z_dim) in [-1, 1] -> images (B, 3, S, S) in [-1, 1] (tanh)."""

    def __init__(self, cfg: DCGANConfig) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        ch, k = cfg.g_channels, cfg.kernel
        self.fc = nn.Linear(cfg.z_dim, ch[0] * 4 * 4, bias=False)
        self.bn0 = nn.BatchNorm2d(ch[0])
        blocks: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(ch):
            blocks += [_up(c_in, c_out, k, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        blocks += [_up(ch[-1], 3, k, bias=True), nn.Tanh()]
        self.main = nn.Sequential(*blocks)
        init_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, z_dim) -> (B, 3, S, S) in [-1, 1]."""
        x = self.fc(z).view(z.shape[0], -1, 4, 4)  # (B, 8 ngf, 4, 4)
        x = torch.relu(self.bn0(x))
        return self.main(x)  # (B, 3, S, S)


class Discriminator(nn.Module):
    """D: images (B, 3, S, S) in [-1, 1] -> (B,) logits (real > 0)."""

    def __init__(self, cfg: DCGANConfig) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        ch, k = cfg.d_channels, cfg.kernel
        layers: list[nn.Module] = [_down(3, ch[0], k, bias=True), nn.LeakyReLU(0.2, True)]
        for c_in, c_out in itertools.pairwise(ch):
            layers += [_down(c_in, c_out, k, bias=False), nn.BatchNorm2d(c_out)]
            layers += [nn.LeakyReLU(0.2, True)]
        self.main = nn.Sequential(*layers)
        self.head = nn.Linear(ch[-1] * 4 * 4, 1)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) -> (B,) logits."""
        h = self.main(x)  # (B, 8 ndf, 4, 4) at S=64
        return self.head(h.flatten(1)).squeeze(1)  # (B,)


def sample_z(
    n: int, z_dim: int, *, generator: torch.Generator, device: torch.device | str | None = None
) -> torch.Tensor:
    """``n`` latents (n, z_dim) ~ U[-1, 1] drawn from ``generator`` (on its device by default)."""
    device = generator.device if device is None else device
    return torch.rand(n, z_dim, generator=generator, device=device) * 2 - 1


#: the ``yeh2017`` family: a DCGAN whose G and D both go into the model file (latent search
#: needs D's prior loss); trained by the ``dcgan`` recipe.
YEH2017 = register_family(
    ModelFamily(
        name="yeh2017",
        arch="dcgan",
        config_cls=DCGANConfig,
        networks={"G": Generator, "D": Discriminator},
        exported=("G", "D"),
        method="yeh2017",
        default_domain="celeba64",
        aliases=("dcgan",),
        recipes=("dcgan",),
    )
)


@register_model("dcgan")
def build_dcgan(cfg: DCGANConfig | None = None) -> tuple[Generator, Discriminator]:
    """The DCGAN generator and discriminator for ``cfg`` (default: Yeh et al.'s 64x64 model)."""
    nets = YEH2017.build(cfg or DCGANConfig())
    return nets["G"], nets["D"]
