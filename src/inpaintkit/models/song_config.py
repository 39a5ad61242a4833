"""The config of Song et al. 2018's networks (G1, G2, D1, D2): :class:`SongConfig`.

The architectures are in :mod:`inpaintkit.models.song` (G1, G2 and the family declaration) and
:mod:`inpaintkit.models.song_patchgan` (D1, D2).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from inpaintkit.errors import InpaintError

__all__ = ["D_FIELDS", "FEATURE_SCALE", "LEAKY_SLOPE", "SongConfig"]

FEATURE_SCALE = 4  # image pixels per relu3_1 cell (two 2x2 pools)
D_FIELDS = ("ndf", "d1_layers", "d2_layers", "d2_cond_scale")  # SongConfig fields of D1, D2 only
LEAKY_SLOPE = 0.2


@dataclass
class SongConfig:
    """Song et al.'s G1, G2, D1, D2 sizes and options; the defaults are the paper's 256 model.

    Attributes:
        ngf: generator width (G1's first block; G2's last up block).
        ndf: discriminator width (channels of the first conv of D1 and D2).
        image_size: side S of the square images, a power of two >= 16: G1 has log2(S) conv
            blocks, G2 log2(S / 4) + 1 (the paper: 256, and 128 / 512 for multi-scale).
        feature_channels: channels of G2's input map (relu3_1: 256).
        image_channels: channels of the images (3, RGB).
        mask_channel: G1 (and so D1's condition) sees the mask as a 4th channel beside the
            image with the hole zeroed; False: the zeroed image alone (the paper's centre-hole
            setting, where the mask is constant).
        dropout: dropout rate of the first ``dropout_blocks`` decoder blocks of G1 and G2
            (pix2pix: 0.5; 0 turns it off).
        dropout_blocks: how many decoder blocks, from the innermost, have dropout (3).
        d1_layers: PatchGAN depth of D1 (3: 70x70 patches, five conv blocks).
        d2_layers: PatchGAN depth of D2 on the feature grid (1: 64x64-pixel patches).
        d2_cond_scale: D2 multiplies its relu3_1 condition by this before joining it to the
            image (0.05). relu3_1 values reach 100 (std ~3) against the image's [-1, 1]:
            unscaled, D2 learns far less about the image in the same steps (docs/song.md,
            "D2's condition").
    """

    ngf: int = 64
    ndf: int = 64
    image_size: int = 256
    feature_channels: int = 256
    image_channels: int = 3
    mask_channel: bool = True
    dropout: float = 0.5
    dropout_blocks: int = 3
    d1_layers: int = 3
    d2_layers: int = 1
    d2_cond_scale: float = 0.05

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InpaintError for values the architecture does not support (also run when the
        config is made)."""
        s = self.image_size
        if isinstance(s, bool) or not isinstance(s, int) or s < 16 or s & (s - 1):
            raise InpaintError(f"song image_size must be a power of two >= 16, got {s}")
        for name in ("ngf", "ndf", "feature_channels", "image_channels", "d1_layers"):
            if getattr(self, name) < 1:
                raise InpaintError(f"song {name} must be >= 1, got {getattr(self, name)}")
        if self.d2_layers < 1 or self.dropout_blocks < 0:
            raise InpaintError("song d2_layers must be >= 1 and dropout_blocks >= 0")
        if not 0 <= self.dropout < 1:
            raise InpaintError(f"song dropout must be in [0, 1), got {self.dropout}")
        if not self.d2_cond_scale > 0:
            raise InpaintError(f"song d2_cond_scale must be > 0, got {self.d2_cond_scale}")

    @property
    def g1_depth(self) -> int:
        """Number of stride-2 conv blocks of G1: log2(image_size) (8 at 256)."""
        return int(math.log2(self.image_size))

    @property
    def g2_depth(self) -> int:
        """Number of stride-2 conv blocks of G2: log2(image_size / 4) (6 at 256)."""
        return int(math.log2(self.image_size // FEATURE_SCALE))

    @property
    def g1_in_channels(self) -> int:
        """Channels of G1's input: the image, plus the mask if ``mask_channel``."""
        return self.image_channels + int(self.mask_channel)

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict (for model cards)."""
        return asdict(self)
