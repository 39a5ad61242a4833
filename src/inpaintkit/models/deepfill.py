"""DeepFill v1 networks (Yu et al., CVPR 2018): coarse-to-fine generator with
contextual attention, and the local and global WGAN-GP critics.

Every generator conv has a bias, zero "same" padding and ELU, no normalisation; "up" is a
nearest x2 upsample followed by a 3x3 conv; the outputs are clipped to [-1, 1] (no tanh).
Widths for ``cnum = c`` (all 3x3 unless marked, s2 = stride 2, d = dilation)::

    coarse  (B, 5, H, W) = [x, ones, mask]
            5x5 c -> s2 2c -> 2c -> s2 4c -> 4c -> 4c -> d2, d4, d8, d16 4c -> 4c -> 4c
            -> up 2c -> 2c -> up c -> c/2 -> 3 (linear)                     -> clip
    fine    (B, 5, H, W) = [coarse in the hole + x outside, ones, mask]
      conv branch       5x5 c -> s2 c -> 2c -> s2 2c -> 4c -> 4c -> d2, d4, d8, d16 4c
      attention branch  5x5 c -> s2 c -> 2c -> s2 4c -> 4c -> 4c (ReLU)
                        -> contextual attention (rate 2) -> 4c -> 4c
      concat (8c; 4c for the baseline without attention) -> 4c -> 4c -> up 2c -> 2c
            -> up c -> c/2 -> 3 (linear)                                    -> clip

Critics (WGAN: unbounded scores): 5x5 stride-2 convs, leaky ReLU 0.2, no normalisation, then a
dense layer to 1: local critic on the (128 x 128) hole patch 64-128-256-512, global critic on
the (256 x 256) image 64-128-256-256 (widths scale with ``critic_cnum``).

Choices: weights are Glorot-uniform with zero biases (TensorFlow's defaults, which the reference
trains with); PyTorch's symmetric "same" padding of the stride-2 convs samples the centre pixel
2i where TensorFlow's samples 2i + 1 (it pads the bottom/right only) -- this matters only when
porting the reference's weights, which we do not. Inputs must be multiples of 8 (the attention
branch works at H / 4 and matches at H / 8): the inpainting method pads and crops.

Example:
    >>> G = DeepFillGenerator(DeepFillConfig(cnum=4))
    >>> x, mask = torch.zeros(1, 3, 32, 48), torch.zeros(1, 1, 32, 48)
    >>> mask[..., 8:24, 16:32] = 1
    >>> coarse, fine, offsets = G(x, mask)
    >>> tuple(fine.shape), tuple(offsets.shape)
    ((1, 3, 32, 48), (1, 2, 4, 6))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.nn.contextual_attention import DEFAULT_MAX_BYTES, ContextualAttention
from inpaintkit.registry import ModelFamily, register_family, register_model

MULTIPLE = 8  # input H and W must be multiples of this


@dataclass
class DeepFillConfig:
    """DeepFill v1 sizes and options; the defaults are the paper's.

    Attributes:
        cnum: base width c of the generator (32: 3,601,542 parameters).
        image_channels: channels of the images (3, RGB).
        attention: False is the paper's "baseline" ablation: the refinement network without
            its attention branch (the conv branch alone feeds the decoder).
        padding_mode: "zeros" (the reference code) or "reflect" (the paper's text says mirror
            padding; needs feature maps larger than 16, i.e. inputs of 72 px or more).
        softmax_scale: temperature of the attention softmax (10).
        fuse: attention propagation (True in the paper).
        attention_max_bytes: memory budget of the attention's score bands (run-time only, no
            effect on the result; None = one band).
        critic_cnum: base width of the critics (64: local 64-128-256-512, global 64-128-256-256).
        local_size: side of the square hole patch the local critic sees (128).
        global_size: side of the square image the global critic sees (256).
    """

    cnum: int = 32
    image_channels: int = 3
    attention: bool = True
    padding_mode: str = "zeros"
    softmax_scale: float = 10.0
    fuse: bool = True
    attention_max_bytes: int | None = DEFAULT_MAX_BYTES
    critic_cnum: int = 64
    local_size: int = 128
    global_size: int = 256

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InpaintError for values the architecture does not support (also run when the
        config is made)."""
        if self.cnum < 2 or self.cnum % 2:
            raise InpaintError(f"deepfill cnum must be even and >= 2, got {self.cnum}")
        if self.image_channels < 1 or self.critic_cnum < 1:
            raise InpaintError("deepfill image_channels and critic_cnum must be >= 1")
        if self.padding_mode not in ("zeros", "reflect"):
            raise InpaintError(
                f"deepfill padding_mode must be 'zeros' or 'reflect', got {self.padding_mode!r}"
            )
        for name in ("local_size", "global_size"):
            size = getattr(self, name)
            if size < 16 or size % 16:
                raise InpaintError(f"deepfill {name} must be a multiple of 16, got {size}")

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict (for model cards)."""
        return asdict(self)


def _conv(
    cin: int, cout: int, k: int = 3, *, stride: int = 1, dilation: int = 1, pad: str = "zeros"
) -> nn.Conv2d:
    """k x k conv with "same" padding (halving H and W at stride 2)."""
    p = dilation * (k - 1) // 2
    return nn.Conv2d(cin, cout, k, stride, p, dilation=dilation, padding_mode=pad)


class _Up(nn.Module):
    """Nearest x2 upsample, then a 3x3 conv: (B, cin, h, w) -> (B, cout, 2h, 2w)."""

    def __init__(self, cin: int, cout: int, pad: str) -> None:
        super().__init__()
        self.conv = _conv(cin, cout, pad=pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


def _elu_stack(layers: list[nn.Module]) -> nn.Sequential:
    """Each layer followed by ELU."""
    return nn.Sequential(*[m for layer in layers for m in (layer, nn.ELU())])


def _encoder(cin: int, widths: tuple[int, int, int, int], pad: str) -> list[nn.Module]:
    """5x5 w0 -> s2 w1 -> w2 -> s2 w3: (B, cin, H, W) -> (B, w3, H/4, W/4), no activations."""
    w0, w1, w2, w3 = widths
    return [
        _conv(cin, w0, 5, pad=pad),
        _conv(w0, w1, stride=2, pad=pad),
        _conv(w1, w2, pad=pad),
        _conv(w2, w3, stride=2, pad=pad),
    ]


def _dilated(c: int, pad: str) -> list[nn.Module]:
    """Four 3x3 c -> c convs at dilations 2, 4, 8, 16."""
    return [_conv(c, c, dilation=d, pad=pad) for d in (2, 4, 8, 16)]


def _decoder(cin: int, c: int, out: int, pad: str) -> tuple[nn.Sequential, nn.Conv2d]:
    """cin -> 4c -> 4c -> up 2c -> 2c -> up c -> c/2 (ELU each), then the linear 3x3 to out."""
    body = _elu_stack(
        [
            _conv(cin, 4 * c, pad=pad),
            _conv(4 * c, 4 * c, pad=pad),
            _Up(4 * c, 2 * c, pad),
            _conv(2 * c, 2 * c, pad=pad),
            _Up(2 * c, c, pad),
            _conv(c, c // 2, pad=pad),
        ]
    )
    return body, _conv(c // 2, out, pad=pad)


def _with_mask(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The networks' input: [x, ones, mask] (B, C + 2, H, W)."""
    return torch.cat([x, torch.ones_like(mask), mask], dim=1)


class CoarseNet(nn.Module):
    """Stage 1: (x with the hole zeroed, mask) -> (B, C, H, W) coarse fill in [-1, 1]."""

    def __init__(self, cfg: DeepFillConfig) -> None:
        super().__init__()
        c, pad = cfg.cnum, cfg.padding_mode
        self.body = _elu_stack(
            [
                *_encoder(cfg.image_channels + 2, (c, 2 * c, 2 * c, 4 * c), pad),
                _conv(4 * c, 4 * c, pad=pad),
                _conv(4 * c, 4 * c, pad=pad),
                *_dilated(4 * c, pad),
            ]
        )
        self.decoder, self.to_image = _decoder(4 * c, c, cfg.image_channels, pad)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [-1, 1] hole zeroed, (B, 1, H, W) 1 = hole -> (B, C, H, W) clipped."""
        h = self.body(_with_mask(x, mask))  # (B, 4c, H/4, W/4)
        return self.to_image(self.decoder(h)).clamp(-1.0, 1.0)  # (B, C, H, W)


class RefineNet(nn.Module):
    """Stage 2: (coarse composed into the hole, mask) -> fine fill and attention offsets."""

    def __init__(self, cfg: DeepFillConfig) -> None:
        super().__init__()
        c, pad, cin = cfg.cnum, cfg.padding_mode, cfg.image_channels + 2
        self.conv_branch = _elu_stack(
            [
                *_encoder(cin, (c, c, 2 * c, 2 * c), pad),
                _conv(2 * c, 4 * c, pad=pad),
                _conv(4 * c, 4 * c, pad=pad),
                *_dilated(4 * c, pad),
            ]
        )
        self.attention = None
        if cfg.attention:
            enc = _elu_stack(
                [*_encoder(cin, (c, c, 2 * c, 4 * c), pad), _conv(4 * c, 4 * c, pad=pad)]
            )
            self.attention_in = nn.Sequential(*enc, _conv(4 * c, 4 * c, pad=pad), nn.ReLU())
            self.attention = ContextualAttention(
                rate=2,
                softmax_scale=cfg.softmax_scale,
                fuse=cfg.fuse,
                max_bytes=cfg.attention_max_bytes,
            )
            self.attention_out = _elu_stack(
                [_conv(4 * c, 4 * c, pad=pad), _conv(4 * c, 4 * c, pad=pad)]
            )
        width = 8 * c if cfg.attention else 4 * c
        self.decoder, self.to_image = _decoder(width, c, cfg.image_channels, pad)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, C, H, W) composed input, (B, 1, H, W) -> fine (B, C, H, W) clipped, offsets.

        Offsets are (B, 2, H/8, W/8) int64 attention offsets, None without attention.
        """
        xin = _with_mask(x, mask)
        h = self.conv_branch(xin)  # (B, 4c, H/4, W/4)
        offsets = None
        if self.attention is not None:
            a = self.attention_in(xin)  # (B, 4c, H/4, W/4)
            a, offsets = self.attention(a, a, mask)  # mask resized inside (nearest)
            h = torch.cat([h, self.attention_out(a)], dim=1)  # (B, 8c, H/4, W/4)
        return self.to_image(self.decoder(h)).clamp(-1.0, 1.0), offsets


class DeepFillOutput(NamedTuple):
    """What the generator returns: both stages (B, C, H, W) in [-1, 1] and the offsets."""

    coarse: torch.Tensor
    fine: torch.Tensor
    offsets: torch.Tensor | None


class DeepFillGenerator(nn.Module):
    """Coarse-to-fine DeepFill v1 generator. The caller composes ``fine`` into the hole."""

    def __init__(self, cfg: DeepFillConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or DeepFillConfig()
        self.coarse = CoarseNet(self.cfg)
        self.refine = RefineNet(self.cfg)
        init_weights(self)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> DeepFillOutput:
        """Fill the hole twice, coarse then fine.

        Args:
            x: (B, C, H, W) in [-1, 1], H and W multiples of 8; the hole is zeroed here too.
            mask: (B, 1, H, W) float, 1 = hole.

        Returns:
            ``coarse`` and ``fine`` (B, C, H, W) in [-1, 1] over the whole image, and
            ``offsets`` (B, 2, H/8, W/8) int64 (None for the baseline without attention).
        """
        _check_inputs(x, mask, self.cfg.image_channels)
        mask = mask.to(x.dtype)
        x = x * (1 - mask)
        coarse = self.coarse(x, mask)
        composed = coarse * mask + x  # (B, C, H, W): coarse in the hole, x outside
        fine, offsets = self.refine(composed, mask)
        return DeepFillOutput(coarse, fine, offsets)


def _check_inputs(x: torch.Tensor, mask: torch.Tensor, channels: int) -> None:
    if x.dim() != 4 or x.shape[1] != channels:
        raise ValueError(f"deepfill needs images (B, {channels}, H, W), got {tuple(x.shape)}")
    B, _, H, W = x.shape
    if tuple(mask.shape) != (B, 1, H, W):
        raise ValueError(f"mask must be {(B, 1, H, W)} to fit the images, got {tuple(mask.shape)}")
    if H % MULTIPLE or W % MULTIPLE:
        raise ValueError(
            f"deepfill needs H and W multiples of {MULTIPLE}, got {H}x{W}; pad the image first"
        )


class _Critic(nn.Module):
    """5x5 stride-2 convs with leaky ReLU 0.2, then dense to 1: (B, C, S, S) -> (B,) scores."""

    def __init__(self, widths: tuple[int, ...], *, image_channels: int, input_size: int) -> None:
        super().__init__()
        if input_size < 16 or input_size % 16:
            raise ValueError(f"critic input_size must be a multiple of 16, got {input_size}")
        self.input_size = input_size
        layers: list[nn.Module] = []
        for cin, cout in zip((image_channels, *widths[:-1]), widths, strict=True):
            layers += [nn.Conv2d(cin, cout, 5, stride=2, padding=2), nn.LeakyReLU(0.2)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1] * (input_size // 16) ** 2, 1)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, S, S) in [-1, 1] -> (B,) unbounded WGAN scores."""
        s = self.input_size
        if x.dim() != 4 or tuple(x.shape[-2:]) != (s, s):
            raise ValueError(f"{type(self).__name__} needs (B, C, {s}, {s}), got {tuple(x.shape)}")
        h = self.features(x)  # (B, widths[-1], S/16, S/16)
        return self.head(h.flatten(1)).squeeze(1)  # (B,)


class LocalCritic(_Critic):
    """WGAN critic of the hole patch: widths (1, 2, 4, 8) x cnum, input ``input_size`` square."""

    def __init__(self, *, image_channels: int = 3, cnum: int = 64, input_size: int = 128) -> None:
        widths = (cnum, 2 * cnum, 4 * cnum, 8 * cnum)
        super().__init__(widths, image_channels=image_channels, input_size=input_size)


class GlobalCritic(_Critic):
    """WGAN critic of the whole image: widths (1, 2, 4, 4) x cnum, input ``input_size`` square."""

    def __init__(self, *, image_channels: int = 3, cnum: int = 64, input_size: int = 256) -> None:
        widths = (cnum, 2 * cnum, 4 * cnum, 4 * cnum)
        super().__init__(widths, image_channels=image_channels, input_size=input_size)


def init_weights(module: nn.Module) -> None:
    """Glorot-uniform weights and zero biases for every conv and linear (TensorFlow defaults)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def _local_critic(cfg: DeepFillConfig) -> LocalCritic:
    return LocalCritic(
        input_size=cfg.local_size, image_channels=cfg.image_channels, cnum=cfg.critic_cnum
    )


def _global_critic(cfg: DeepFillConfig) -> GlobalCritic:
    return GlobalCritic(
        input_size=cfg.global_size, image_channels=cfg.image_channels, cnum=cfg.critic_cnum
    )


#: the ``deepfill`` family: the generator ``G`` (the only network in the model file) and its
#: ``local`` and ``global`` WGAN-GP critics; trained by the ``deepfill`` recipe.
DEEPFILL = register_family(
    ModelFamily(
        name="deepfill",
        arch="deepfill",
        config_cls=DeepFillConfig,
        networks={"G": DeepFillGenerator, "local": _local_critic, "global": _global_critic},
        exported=("G",),
        method="deepfill",
        default_domain="natural256",  # natural photos at 256 px; see its card (efficient recipe)
        recipes=("deepfill",),
    )
)


@register_model("deepfill")
def build_deepfill(
    cfg: DeepFillConfig | None = None,
) -> tuple[DeepFillGenerator, LocalCritic, GlobalCritic]:
    """The DeepFill v1 generator and its local and global critics for ``cfg``."""
    nets = DEEPFILL.build(cfg or DeepFillConfig())
    return nets["G"], nets["local"], nets["global"]
