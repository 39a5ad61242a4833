"""Song et al. 2018's conditional PatchGAN discriminators: D1 on (G1's input, image) pairs and
D2 on (feature map, image) pairs (see :mod:`inpaintkit.models.song` for the whole model)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inpaintkit.models.dcgan import init_weights
from inpaintkit.models.song_config import FEATURE_SCALE, LEAKY_SLOPE, SongConfig

__all__ = ["PatchDiscriminator", "build_d1", "build_d2"]


class PatchDiscriminator(nn.Module):
    """pix2pix PatchGAN on (condition, target) pairs: (B, 1, h, w) logits, real > 0.

    ``n_layers + 2`` k4 conv blocks: one stride-2 conv (no BN), ``n_layers - 1`` stride-2 and
    one stride-1 conv with BN (channels ``ndf * min(2^i, 8)``), leaky ReLU 0.2 after each, and a
    stride-1 conv to 1 channel (no activation: use BCE with logits). ``n_layers=3`` is the
    70x70 PatchGAN: 30x30 logits at 256 px.

    Args:
        cond_channels: channels of the condition (D1: G1's input; D2: the feature map).
        target_channels: channels of the judged image (3).
        ndf: width.
        n_layers: depth (3: 70x70 receptive field; 1: 16x16; 2: 34x34).
        unshuffle: the target is pixel-unshuffled by this factor to the condition's grid
            (D2: 4, so (B, 3, 4h, 4w) -> (B, 48, h, w)); 1 for same-size pairs (D1).
        cond_scale: the condition is multiplied by this before the concatenation (D1: 1;
            D2: ``SongConfig.d2_cond_scale``, to bring relu3_1 to the image's range).
    """

    def __init__(
        self,
        cond_channels: int,
        target_channels: int = 3,
        *,
        ndf: int = 64,
        n_layers: int = 3,
        unshuffle: int = 1,
        cond_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.n_layers, self.unshuffle, self.cond_scale = n_layers, unshuffle, cond_scale
        self.cond_channels, self.target_channels = cond_channels, target_channels
        widths = [ndf * min(2**i, 8) for i in range(n_layers + 1)]
        cin = cond_channels + target_channels * unshuffle**2
        layers = [nn.Conv2d(cin, widths[0], 4, 2, 1), nn.LeakyReLU(LEAKY_SLOPE, inplace=True)]
        for i in range(1, n_layers + 1):
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(widths[i - 1], widths[i], 4, stride, 1, bias=False)]
            layers += [nn.BatchNorm2d(widths[i]), nn.LeakyReLU(LEAKY_SLOPE, inplace=True)]
        layers.append(nn.Conv2d(widths[-1], 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        init_weights(self)

    @property
    def min_size(self) -> int:
        """Smallest input side on the condition's grid: 3 * 2^n_layers (one logit)."""
        return 3 * 2**self.n_layers

    def forward(self, condition: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B, cond, h, w), (B, target, h u, w u) -> (B, 1, h', w') logits.

        At the default ``n_layers=3``: h' = h / 8 - 2 (30 at 256).
        """
        r = self.unshuffle
        name = type(self).__name__
        if condition.dim() != 4 or condition.shape[1] != self.cond_channels:
            raise ValueError(
                f"{name} condition must be (B, {self.cond_channels}, h, w), "
                f"got {tuple(condition.shape)}"
            )
        want = (condition.shape[0], self.target_channels, *(r * d for d in condition.shape[-2:]))
        if tuple(target.shape) != want:
            raise ValueError(f"{name} target must be {want}, got {tuple(target.shape)}")
        if r > 1:
            target = F.pixel_unshuffle(target, r)  # (B, 3 r^2, h, w)
        h = torch.cat([condition * self.cond_scale, target], dim=1)
        if min(h.shape[-2:]) < self.min_size:
            raise ValueError(
                f"{name} needs inputs of at least {self.min_size} px on its grid, got "
                f"{h.shape[-2]}x{h.shape[-1]}"
            )
        return self.net(h)


def build_d1(cfg: SongConfig) -> PatchDiscriminator:
    """D1 on (G1's input, image) pairs at image resolution."""
    return PatchDiscriminator(
        cfg.g1_in_channels, cfg.image_channels, ndf=cfg.ndf, n_layers=cfg.d1_layers
    )


def build_d2(cfg: SongConfig) -> PatchDiscriminator:
    """D2 on (feature map, image) pairs, the image pixel-unshuffled by 4 to the map's grid."""
    return PatchDiscriminator(
        cfg.feature_channels,
        cfg.image_channels,
        ndf=cfg.ndf,
        n_layers=cfg.d2_layers,
        unshuffle=FEATURE_SCALE,
        cond_scale=cfg.d2_cond_scale,
    )
