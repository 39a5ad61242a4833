"""The ResNet WGAN-GP of Gulrajani et al. 2017, as used by Vitoria et al. 2019 for inpainting.

Generator: z (B, z_dim) ~ N(0, 1) -> linear -> (B, 8d, 4, 4) -> up-blocks -> BN, ReLU,
3x3 conv -> tanh -> (B, 3, S, S) in [-1, 1]. Critic: (B, 3, S, S) -> 3x3 conv to d channels ->
down-blocks -> (B, 8d, 4, 4) flattened -> linear -> (B,) unbounded score (no sigmoid: WGAN).

At S = 64 there are 4 blocks each way: generator up-blocks output (8d, 4d, 2d, d), critic
down-blocks output (2d, 4d, 8d, 8d), exactly Gulrajani's ``gan_64x64.py`` ResNet. Each halving
of S drops one block: the generator keeps the LAST widths (S = 32: 4d, 2d, d) and the critic the
FIRST (S = 32: 2d, 4d, 8d), so for S >= 32 both still meet at (8d, 4, 4) (at S = 16 the critic
ends at 4d).

Residual block (both nets): norm, ReLU, 3x3 conv, norm, ReLU, 3x3 conv, plus a 1x1 conv
shortcut. Up-blocks use BatchNorm and nearest x2 upsampling before the first conv (and in the
shortcut); down-blocks use layer norm over (C, H, W) with a per-channel affine
(``nn.GroupNorm(1, C)``, Gulrajani's ``Layernorm`` over axes [1, 2, 3]) and 2x2 mean pooling
after the second conv (and in the shortcut). All convolutions and linears have biases.
Weights use PyTorch's default initialisation (Gulrajani uses He/Glorot uniform; the training
recipe may re-initialise).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.registry import ModelFamily, register_family, register_model


@dataclass
class WGANResNetConfig:
    """Size of the ResNet WGAN-GP.

    Attributes:
        z_dim: latent size; z ~ N(0, 1) (Vitoria et al.: 128).
        image_size: S, a power of two >= 8 (the paper: 64; 32 drops one block each way).
        dim: base width d; the widest layers have 8d channels (the paper: 64 -> 512).
    """

    z_dim: int = 128
    image_size: int = 64
    dim: int = 64

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InpaintError for values the architecture does not support (also run when the
        config is made)."""
        s = self.image_size
        if s < 8 or s & (s - 1):
            raise InpaintError(f"wgan_resnet image_size must be a power of two >= 8, got {s}")
        if self.z_dim < 1 or self.dim < 1:
            raise InpaintError(
                f"wgan_resnet z_dim and dim must be >= 1, got {self.z_dim}, {self.dim}"
            )

    @property
    def n_blocks(self) -> int:
        """Number of residual blocks in each net: log2(S / 4)."""
        return self.image_size.bit_length() - 3

    def to_dict(self) -> dict[str, int]:
        """The config as a plain dict (for model cards)."""
        return asdict(self)


class UpBlock(nn.Module):
    """BN, ReLU, nearest x2, 3x3 conv, BN, ReLU, 3x3 conv; shortcut nearest x2 + 1x1 conv."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, cin, h, w) -> (B, cout, 2h, 2w)
        skip = self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))
        h = F.interpolate(F.relu(self.norm1(x)), scale_factor=2, mode="nearest")
        h = self.conv1(h)
        h = self.conv2(F.relu(self.norm2(h)))
        return skip + h


class DownBlock(nn.Module):
    """LN, ReLU, 3x3 conv, LN, ReLU, 3x3 conv, mean pool; shortcut 1x1 conv + mean pool."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(1, cin)  # layer norm over (C, H, W), per-channel affine
        self.conv1 = nn.Conv2d(cin, cin, 3, padding=1)
        self.norm2 = nn.GroupNorm(1, cin)
        self.conv2 = nn.Conv2d(cin, cout, 3, padding=1)
        self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, cin, h, w) -> (B, cout, h/2, w/2)
        skip = F.avg_pool2d(self.shortcut(x), 2)
        h = self.conv1(F.relu(self.norm1(x)))
        h = F.avg_pool2d(self.conv2(F.relu(self.norm2(h))), 2)
        return skip + h


def _generator_widths(cfg: WGANResNetConfig) -> list[int]:
    """Output channels of the up-blocks: the last n of (..., 8d, 8d, 4d, 2d, d)."""
    n = cfg.n_blocks
    return [min(8, 2 ** (n - 1 - i)) * cfg.dim for i in range(n)]


def _critic_widths(cfg: WGANResNetConfig) -> list[int]:
    """Output channels of the down-blocks: the first n of (2d, 4d, 8d, 8d, 8d, ...)."""
    return [min(8, 2 ** (i + 1)) * cfg.dim for i in range(cfg.n_blocks)]


class Generator(nn.Module):
    """z (B, z_dim) -> image (B, 3, S, S) in [-1, 1] (tanh)."""

    def __init__(self, cfg: WGANResNetConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or WGANResNetConfig()
        top = 8 * cfg.dim
        self.fc = nn.Linear(cfg.z_dim, top * 4 * 4)
        widths = _generator_widths(cfg)
        self.blocks = nn.Sequential(
            *(UpBlock(cin, cout) for cin, cout in zip([top, *widths[:-1]], widths, strict=True))
        )
        self.out_norm = nn.BatchNorm2d(widths[-1])
        self.out_conv = nn.Conv2d(widths[-1], 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(z.shape[0], -1, 4, 4)  # (B, 8d, 4, 4)
        h = self.blocks(h)  # (B, d, S, S) at S = 64
        return torch.tanh(self.out_conv(F.relu(self.out_norm(h))))  # (B, 3, S, S)


class Critic(nn.Module):
    """image (B, 3, S, S) in [-1, 1] -> WGAN score (B,), unbounded."""

    def __init__(self, cfg: WGANResNetConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or WGANResNetConfig()
        widths = _critic_widths(cfg)
        self.in_conv = nn.Conv2d(3, cfg.dim, 3, padding=1)
        self.blocks = nn.Sequential(
            *(
                DownBlock(cin, cout)
                for cin, cout in zip([cfg.dim, *widths[:-1]], widths, strict=True)
            )
        )
        self.fc = nn.Linear(widths[-1] * 4 * 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.in_conv(x))  # (B, 8d, 4, 4)
        return self.fc(h.flatten(1)).squeeze(1)  # (B,)


#: the ``vitoria2019`` family: a ResNet WGAN-GP, G and critic D in the model file; trained by
#: the ``wgan`` recipe.
VITORIA2019 = register_family(
    ModelFamily(
        name="vitoria2019",
        arch="wgan_resnet",
        config_cls=WGANResNetConfig,
        networks={"G": Generator, "D": Critic},
        exported=("G", "D"),
        method="vitoria2019",
        default_domain="celeba64",
        aliases=("wgan_resnet", "wgan"),
        recipes=("wgan_resnet",),
    )
)


@register_model("wgan_resnet")
def build_wgan_resnet(cfg: WGANResNetConfig | None = None) -> tuple[Generator, Critic]:
    """Build the generator and critic for ``cfg`` (defaults: the paper's 64x64, z 128, d 64).

    >>> G, D = build_wgan_resnet(WGANResNetConfig(z_dim=8, image_size=16, dim=4))
    >>> tuple(D(G(torch.zeros(2, 8))).shape)
    (2,)
    """
    nets = VITORIA2019.build(cfg or WGANResNetConfig())
    return nets["G"], nets["D"]
