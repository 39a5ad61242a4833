"""Context Encoder (Pathak et al. 2016, "Context Encoders: Feature Learning by Inpainting").

The learned baseline of Yeh's and Song's tables: an encoder-decoder that sees the image with its
hole prefilled by a constant mean colour and predicts the missing content, trained with l2 +
adversarial losses, one model per mask kind. At ``image_size=128`` (``nef=ngf=ndf=64``,
``bottleneck=4000``, the paper's inpainting model)::

    E: x (B, 3, 128, 128), hole prefilled with fill_value
       -> conv -> (B, 64, 64, 64)     leaky ReLU 0.2       (no BN on the first layer)
       -> conv -> (B, 64, 32, 32)     BN, leaky ReLU 0.2
       -> conv -> (B, 128, 16, 16)    BN, leaky ReLU 0.2
       -> conv -> (B, 256, 8, 8)      BN, leaky ReLU 0.2
       -> conv -> (B, 512, 4, 4)      BN, leaky ReLU 0.2
       -> 4x4 valid conv -> (B, 4000, 1, 1)  BN, leaky ReLU 0.2   (the bottleneck)
    G: -> 4x4 deconv -> (B, 512, 4, 4)  BN, ReLU
       -> deconv -> (B, 256, 8, 8) -> (B, 128, 16, 16) -> (B, 64, 32, 32) -> (B, 64, 64, 64)
          (each BN, ReLU)
       -> deconv -> (B, 3, 128, 128)  tanh
    D: x (B, 3, 128, 128) -> convs (64, 64, 128, 256, 512 channels, down to 4x4; BN except on
       the first, leaky ReLU 0.2) -> 4x4 valid conv -> (B,) logit

All convs are 4x4; the stride-2 ones halve (double) H and W exactly. Channels depend on the
resolution r a layer produces: ``width * min(8, max(1, 32 // r))`` (8x at 4x4, 4x at 8x8,
2x at 16x16, 1x at 32x32 and above), which is the paper's 128 px network and DCGAN's at 64 px.

Departures from the paper, on purpose: the decoder outputs the WHOLE image, not only the 64x64
centre that the paper's centre-region model predicts, so one network serves every mask kind
(the caller pastes the known pixels back); the discriminator sees the whole completed image.
Choices the paper leaves open follow :mod:`inpaintkit.models.dcgan`: layers followed by batch
norm have no bias, and weights are initialised N(0, 0.02), BN scales N(1, 0.02).

Example:
    >>> cfg = ContextEncoderConfig(image_size=16, nef=4, ngf=4, ndf=4, bottleneck=8)
    >>> nets = CONTEXT_ENCODER.build(cfg)
    >>> G, D = nets["G"], nets["D"]
    >>> x, m = torch.zeros(2, 3, 16, 16), torch.zeros(2, 1, 16, 16)
    >>> tuple(G(x, m).shape), tuple(D(x).shape)
    ((2, 3, 16, 16), (2,))
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.models.dcgan import init_weights
from inpaintkit.registry import ModelFamily, register_family, register_model


@dataclass
class ContextEncoderConfig:
    """Context Encoder architecture; the defaults are the paper's 128x128 inpainting model.

    Attributes:
        image_size: side S of the square images, a power of two >= 16 (paper: 128).
        nef: encoder width (channels of its first conv).
        ngf: decoder width (channels of its last hidden layer).
        ndf: discriminator width (channels of its first conv).
        bottleneck: channels of the 1x1 bottleneck (the paper's 4000; its code's default 100).
        image_channels: channels of the images (3, RGB).
        mask_kind: the :mod:`inpaintkit.masks` kind the model was trained for ("center",
            "box", "medium", ...); stored in the model card so users can see it.
        fill_value: colour in [-1, 1] per channel that prefills the hole (the paper: the
            dataset's mean colour; the authors' code uses RGB (117, 104, 123)/255 * 2 - 1).
            The default (0, 0, 0) is mid grey (RGB 127.5), close to ImageNet's mean colour.
    """

    image_size: int = 128
    nef: int = 64
    ngf: int = 64
    ndf: int = 64
    bottleneck: int = 4000
    image_channels: int = 3
    mask_kind: str = "center"
    fill_value: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if isinstance(self.fill_value, list):  # model cards store tuples as JSON lists
            self.fill_value = tuple(self.fill_value)  # type: ignore[assignment]
        self.validate()

    def validate(self) -> None:
        """Raise InpaintError for values the architecture does not support (also run when the
        config is made)."""
        s = self.image_size
        if isinstance(s, bool) or not isinstance(s, int) or s < 16 or s & (s - 1):
            raise InpaintError(f"context_encoder image_size must be a power of two >= 16, got {s}")
        for name in ("nef", "ngf", "ndf", "bottleneck", "image_channels"):
            if getattr(self, name) < 1:
                raise InpaintError(
                    f"context_encoder {name} must be >= 1, got {getattr(self, name)}"
                )
        from inpaintkit.masks import MASK_KINDS  # the mask generators: only to check the name

        if self.mask_kind not in MASK_KINDS:
            known = ", ".join(MASK_KINDS)
            raise InpaintError(
                f"context_encoder mask_kind {self.mask_kind!r} is unknown; known kinds: {known}"
            )
        fill = tuple(self.fill_value)
        if len(fill) != self.image_channels or not all(-1 <= float(v) <= 1 for v in fill):
            raise InpaintError(
                f"context_encoder fill_value must be {self.image_channels} numbers in [-1, 1], "
                f"got {self.fill_value!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict (for model cards)."""
        return asdict(self)

    @property
    def down_resolutions(self) -> list[int]:
        """Resolutions after each stride-2 conv: S/2, S/4, ..., 4."""
        return [self.image_size >> i for i in range(1, int(math.log2(self.image_size)) - 1)]

    @property
    def enc_channels(self) -> list[int]:
        """Encoder channels after each stride-2 conv (S/2 ... 4): 64, 64, 128, 256, 512 at 128."""
        return [_width(self.nef, r) for r in self.down_resolutions]

    @property
    def dec_channels(self) -> list[int]:
        """Decoder hidden channels at 4, 8, ..., S/2: 512, 256, 128, 64, 64 at 128."""
        return [_width(self.ngf, r) for r in reversed(self.down_resolutions)]

    @property
    def d_channels(self) -> list[int]:
        """Discriminator channels after each stride-2 conv (S/2 ... 4)."""
        return [_width(self.ndf, r) for r in self.down_resolutions]


def _width(base: int, resolution: int) -> int:
    """Channels of a layer producing ``resolution`` px: 8x base at 4 px, halving up to 1x."""
    return base * min(8, max(1, 32 // resolution))


def _down(c_in: int, c_out: int, *, bias: bool) -> nn.Conv2d:
    """4x4 stride-2 conv that halves even H and W exactly."""
    return nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=bias)


def _up(c_in: int, c_out: int, *, bias: bool) -> nn.ConvTranspose2d:
    """4x4 stride-2 transposed conv that doubles H and W exactly."""
    return nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=bias)


def _conv_stack(c_in: int, channels: list[int]) -> list[nn.Module]:
    """Stride-2 convs to ``channels``: leaky ReLU 0.2, BN on all but the first."""
    layers: list[nn.Module] = [_down(c_in, channels[0], bias=True), nn.LeakyReLU(0.2, True)]
    for a, b in itertools.pairwise(channels):
        layers += [_down(a, b, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2, True)]
    return layers


class ContextEncoder(nn.Module):
    """Encoder-decoder: image with a hole (B, C, S, S) -> whole predicted image (B, C, S, S)."""

    fill: torch.Tensor

    def __init__(self, cfg: ContextEncoderConfig) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        c, enc, dec = cfg.image_channels, cfg.enc_channels, cfg.dec_channels
        self.encoder = nn.Sequential(*_conv_stack(c, enc))
        self.bottleneck = nn.Sequential(
            nn.Conv2d(enc[-1], cfg.bottleneck, 4, bias=False),  # 4x4 valid: 4 -> 1
            nn.BatchNorm2d(cfg.bottleneck),
            nn.LeakyReLU(0.2, True),
        )
        up: list[nn.Module] = [
            nn.ConvTranspose2d(cfg.bottleneck, dec[0], 4, bias=False),  # 1 -> 4
            nn.BatchNorm2d(dec[0]),
            nn.ReLU(True),
        ]
        for a, b in itertools.pairwise(dec):
            up += [_up(a, b, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        up += [_up(dec[-1], c, bias=True), nn.Tanh()]
        self.decoder = nn.Sequential(*up)
        # the prefill colour follows the config, not the weights file: not in the state dict
        fill = torch.tensor([float(v) for v in cfg.fill_value]).view(1, c, 1, 1)
        self.register_buffer("fill", fill, persistent=False)
        init_weights(self)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Predict the whole image from its known pixels.

        Args:
            x: (B, C, S, S) in [-1, 1]; the content of the hole is ignored.
            mask: (B, 1, S, S), 1 = hole (a pixel is a hole where mask >= 0.5).

        Returns:
            (B, C, S, S) in [-1, 1] (tanh): the prediction for every pixel, hole and known.
        """
        S, C = self.cfg.image_size, self.cfg.image_channels
        if x.shape[1:] != (C, S, S) or mask.shape != (x.shape[0], 1, S, S):
            raise ValueError(
                f"expected x (B, {C}, {S}, {S}) and mask (B, 1, {S}, {S}), got "
                f"{tuple(x.shape)} and {tuple(mask.shape)}"
            )
        x = torch.where(mask >= 0.5, self.fill.to(x.dtype), x)  # (B, C, S, S): hole prefilled
        h = self.encoder(x)  # (B, 8 nef, 4, 4)
        h = self.bottleneck(h)  # (B, bottleneck, 1, 1)
        return self.decoder(h)  # (B, C, S, S)


class ContextDiscriminator(nn.Module):
    """DCGAN-style D on whole images: (B, C, S, S) in [-1, 1] -> (B,) logits (real > 0)."""

    def __init__(self, cfg: ContextEncoderConfig) -> None:
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        ch = cfg.d_channels
        self.main = nn.Sequential(*_conv_stack(cfg.image_channels, ch))
        self.head = nn.Conv2d(ch[-1], 1, 4)  # 4x4 valid: (B, 1, 1, 1)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, S, S) -> (B,) logits."""
        h = self.main(x)  # (B, 8 ndf, 4, 4)
        return self.head(h).flatten()  # (B,)


#: the ``context_encoder`` family: the encoder-decoder (``G``, the only network in the model
#: file) and its adversarial discriminator ``D``; trained by the ``context_encoder`` recipe.
CONTEXT_ENCODER = register_family(
    ModelFamily(
        name="context_encoder",
        arch="context_encoder",
        config_cls=ContextEncoderConfig,
        networks={"G": ContextEncoder, "D": ContextDiscriminator},
        exported=("G",),
        method="context_encoder",
        default_domain="natural128_center",
        aliases=("context-encoder",),
        recipes=("context_encoder",),
    )
)


@register_model("context_encoder")
def build_context_encoder(
    cfg: ContextEncoderConfig | None = None,
) -> tuple[ContextEncoder, ContextDiscriminator]:
    """The Context Encoder and its discriminator for ``cfg`` (default: the paper's 128 px)."""
    nets = CONTEXT_ENCODER.build(cfg or ContextEncoderConfig())
    return nets["G"], nets["D"]
