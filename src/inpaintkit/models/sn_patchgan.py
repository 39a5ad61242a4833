"""SN-PatchGAN: the spectral-normalised patch critic of DeepFill v2 (Yu et al. 2019).

A cheaper adversarial option for training the DeepFill v1 generator on a CPU: one critic on
the (image, mask) pair instead of the paper's global + local WGAN-GP pair, trained with the
hinge loss and one critic step per generator step (no gradient penalty: spectral
normalisation bounds the critic). Six 5x5 stride-2 convolutions, leaky ReLU 0.2, no
normalisation layer; every element of the last map is one patch's score.

Example:
    >>> D = SNPatchGANCritic(cnum=8)
    >>> feats = D(torch.zeros(2, 3, 64, 64), torch.zeros(2, 1, 64, 64))
    >>> [tuple(f.shape) for f in feats][-1]
    (2, 16, 1, 1)
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

#: channel multipliers of the six convolutions (DeepFill v2: 64, 128, 256, 256, 256, 256).
WIDTHS: tuple[int, ...] = (1, 2, 4, 4, 4, 4)


class SNPatchGANCritic(nn.Module):
    """(image, mask) -> per-layer features; the last one is the patch score map.

    Args:
        image_channels: channels of the images (3).
        cnum: width of the first layer (64 in DeepFill v2).
        layers: how many stride-2 convolutions (6; fewer for small crops).
    """

    def __init__(self, *, image_channels: int = 3, cnum: int = 64, layers: int = 6) -> None:
        super().__init__()
        if cnum < 1 or not 1 <= layers <= len(WIDTHS):
            raise ValueError(f"cnum >= 1 and 1 <= layers <= {len(WIDTHS)} required")
        widths = [m * cnum for m in WIDTHS[:layers]]
        cins = [image_channels + 1, *widths[:-1]]
        self.convs = nn.ModuleList(
            spectral_norm(nn.Conv2d(cin, cout, 5, stride=2, padding=2))
            for cin, cout in zip(cins, widths, strict=True)
        )
        self.stride = 2**layers

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        """Critic features.

        Args:
            x: (B, C, H, W) images in [-1, 1] (the composite for fakes); H, W multiples of
                ``stride`` (64 for six layers).
            mask: (B, 1, H, W), 1 = hole.

        Returns:
            One (B, C_l, H / 2^l, W / 2^l) map per layer; the last (B, 4 cnum, H/64, W/64) map
            holds the patch scores (the hinge loss reads every element).
        """
        if x.dim() != 4 or mask.shape != (x.shape[0], 1, *x.shape[2:]):
            raise ValueError(f"x {tuple(x.shape)} and mask {tuple(mask.shape)} do not match")
        h = torch.cat([x, mask.to(x.dtype)], dim=1)  # (B, C + 1, H, W)
        feats = []
        for conv in self.convs:  # DeepFill v2's code: leaky ReLU after every conv, the last too
            h = nn.functional.leaky_relu(conv(h), 0.2)
            feats.append(h)
        return feats
