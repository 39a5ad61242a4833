"""Song et al. 2018 networks (METHODS.md section 4): Image2Feature G1, Feature2Image G2 and
their PatchGAN discriminators D1, D2.

G1 (:class:`ImageToFeature`) is pix2pix's U-Net. It is called "image to feature" because its
output image is composed into the hole and passed through VGG up to relu3_1; it returns the
image, the caller composes and extracts. At ``image_size=256``, ``ngf=64`` (k4 s2 = 4x4 conv,
stride 2, padding 1; every down block ends in leaky ReLU 0.2, every up block in ReLU)::

    input (B, 4, 256, 256) = [image with the hole zeroed, mask]        (mask_channel=True)
    d1  k4 s2 -> (B,  64, 128, 128)      no BN (first block)             skip -> u7
    d2  k4 s2 -> (B, 128,  64,  64)      BN                               skip -> u6
    d3  k4 s2 -> (B, 256,  32,  32)      BN                               skip -> u5
    d4  k4 s2 -> (B, 512,  16,  16)      BN                               skip -> u4
    d5, d6, d7 -> (B, 512, 8/4/2, 8/4/2) BN                               skips -> u3, u2, u1
    d8  k4 s2 -> (B, 512,   1,   1)      no BN (innermost, as pix2pix: BN of a 1x1 map is
                                         undefined for batch 1)
    u1  k4 s2 transposed -> (B, 512, 2, 2)    BN, dropout, ReLU; cat d7 -> 1024 channels
    u2, u3 -> (B, 512, 4, 4), (B, 512, 8, 8)  BN, dropout, ReLU; cat d6, d5 -> 1024
    u4 -> (B, 512, 16, 16); u5 -> (B, 256, 32, 32); u6 -> (B, 128, 64, 64);
    u7 -> (B, 64, 128, 128)                   BN, ReLU; each cat its skip -> 2x channels
    out k4 s2 transposed -> (B, 3, 256, 256)  tanh

That is 8 conv + 7 deconv blocks and the output layer, the paper's count. Dropout 0.5 sits on
the first three decoder blocks as the pix2pix paper's decoder (CD512-CD1024-CD1024-C1024...;
the pix2pix code puts it one block later). Channels at resolution r: ``ngf * min(S / 2r, 8)``.
At other sizes S = 2^n the U-Net has n conv and n - 1 deconv blocks (pix2pix's unet_128 at
128, the size the paper's multi-scale inference runs G1 at).

G2 (:class:`FeatureToImage`) translates the patch-swapped relu3_1 map back to an image. From a
64x64 map, seven stride-2 blocks would reach 0.5 px: six halvings reach 1x1, so of the paper's
seven conv blocks exactly one keeps the resolution. We put it first, where it mixes the 256 VGG
channels at full feature resolution and gives the sixth skip; eight doublings then lead from
1x1 to 256x256, the first six landing on an encoder resolution (and taking its skip: "skips on
the first six"), the last two beyond the input's resolution (no encoder map to join). Every up
block is a resize-convolution (nearest x2 upsample + 3x3 conv, Odena et al.: no checkerboard)
instead of a transposed convolution. At ``image_size=256``, ``ngf=64``::

    input (B, 256, 64, 64) relu3_1 features (patch-swapped)
    e1  k3 s1 -> (B, 256, 64, 64)  no BN                                  skip -> u6
    e2  k4 s2 -> (B, 512, 32, 32)  BN                                     skip -> u5
    e3 .. e6  -> (B, 512, 16/8/4/2, ..)  BN                               skips -> u4 .. u1
    e7  k4 s2 -> (B, 512, 1, 1)    no BN (innermost)
    u1  up + k3 -> (B, 512, 2, 2)  BN, dropout, ReLU; cat e6 -> 1024
    u2, u3 -> 4x4, 8x8             BN, dropout, ReLU; cat e5, e4 -> 1024
    u4, u5 -> (B, 512, 16 / 32, ..) BN, ReLU; cat e3, e2 -> 1024
    u6  -> (B, 256, 64, 64)        BN, ReLU; cat e1 -> 512
    u7  -> (B, 128, 128, 128)      BN, ReLU (no skip)
    u8  -> (B, 64, 256, 256)       BN, ReLU (no skip)
    out k3 -> (B, 3, 256, 256)     tanh

Channels at image resolution r: ``ngf * min(S / r, 8)``. At other sizes S = 4 * 2^m (feature
map 2^m): 1 + m conv blocks, m + 2 up blocks, m skips.

D1 and D2 are pix2pix's 70x70 PatchGAN (:class:`PatchDiscriminator`, ``n_layers=3``: five k4
conv blocks, strides 2, 2, 2, 1, 1, BN on all but the first and last, leaky ReLU 0.2; 30x30
logits at 256 px, no sigmoid: train with BCE with logits). Each judges a pair concatenated on
channels: D1 (condition = G1's 4-channel input, target = the 3-channel image), D2 (condition =
the relu3_1 map, target = the image pixel-unshuffled by 4 to the map's grid: (B, 48, 64, 64),
lossless, every pixel seen, unlike average pooling; the map scaled by ``d2_cond_scale``, 0.05,
so that relu3_1's values, up to ~100, do not drown the image's [-1, 1]). D2 defaults to
``n_layers=1`` (three conv blocks): on the 4x coarser grid its 16-cell receptive field is 64x64
image pixels, the 70x70 PatchGAN's footprint, and it gives 30x30 logits at 256 px like D1;
``n_layers=3`` there would see 280 px, the whole image. Layers followed by BN have no bias;
weights are N(0, 0.02), BN scales N(1, 0.02), as pix2pix.

Example:
    >>> cfg = SongConfig(ngf=4, ndf=4, image_size=32, feature_channels=8)
    >>> (G1, D1), (G2, D2) = build_song_i2f(cfg), build_song_f2i(cfg)
    >>> x, mask = torch.zeros(2, 3, 32, 32), torch.ones(2, 1, 32, 32)
    >>> y = G1(x, mask)
    >>> tuple(y.shape), tuple(D1(g1_input(x, mask), y).shape)
    ((2, 3, 32, 32), (2, 1, 2, 2))
    >>> f = torch.zeros(2, 8, 8, 8)
    >>> tuple(G2(f).shape), tuple(D2(f, G2(f)).shape)
    ((2, 3, 32, 32), (2, 1, 2, 2))
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.models.dcgan import init_weights
from inpaintkit.registry import ModelFamily, register_family, register_model

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


def _down(cin: int, cout: int, *, bn: bool, k: int = 4, stride: int = 2) -> nn.Sequential:
    """Conv (4x4 stride 2 halves H and W; 3x3 stride 1 keeps them), [BN], leaky ReLU 0.2."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, 1, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    return nn.Sequential(*layers, nn.LeakyReLU(LEAKY_SLOPE, inplace=True))


def _up(cin: int, cout: int, *, resize: bool, dropout: float) -> nn.Sequential:
    """Doubling block: (4x4 transposed conv | nearest x2 + 3x3 conv), BN, [dropout], ReLU."""
    if resize:
        layers: list[nn.Module] = [
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        ]
    else:
        layers = [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)]
    layers.append(nn.BatchNorm2d(cout))
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.ReLU(inplace=True))


class _UNet(nn.Module):
    """Encoder blocks, decoder blocks joined to the encoder by concatenation, output layer.

    ``downs[i]``'s output is concatenated to the output of decoder block ``len(downs) - 2 - i``
    (the last down block is the bottleneck, no skip); decoder blocks past the skips have none.
    """

    def __init__(self, downs: list[nn.Module], ups: list[nn.Module], out: nn.Module) -> None:
        super().__init__()
        self.downs, self.ups, self.out = nn.ModuleList(downs), nn.ModuleList(ups), out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        skips.pop()  # the bottleneck (1x1 at the nominal size)
        for up in self.ups:
            x = up(x)
            if skips:
                x = torch.cat([x, skips.pop()], dim=1)  # (B, 2 c, r, r)
        return self.out(x)


def g1_input(image: torch.Tensor, mask: torch.Tensor, *, mask_channel: bool = True) -> torch.Tensor:
    """G1's input and D1's condition: [image with the hole zeroed, mask] (B, 4, H, W).

    Args:
        image: (B, 3, H, W) in [-1, 1].
        mask: (B, 1, H, W) float, 1 = hole.
        mask_channel: append the mask (``SongConfig.mask_channel``); False: (B, 3, H, W).
    """
    mask = mask.to(image.dtype)
    x = image * (1 - mask)
    return torch.cat([x, mask], dim=1) if mask_channel else x


def _check_size(x: torch.Tensor, channels: int, multiple: int, what: str) -> None:
    """Raise InpaintError unless x is (B, channels, H, W) with H, W multiples of ``multiple``."""
    if x.dim() != 4 or x.shape[1] != channels:
        raise ValueError(f"{what} must be (B, {channels}, H, W), got {tuple(x.shape)}")
    if x.shape[-2] % multiple or x.shape[-1] % multiple:
        raise ValueError(
            f"{what} of {x.shape[-2]}x{x.shape[-1]} do not fit this model: H and W must be "
            f"multiples of {multiple}; resize or pad first"
        )


class ImageToFeature(nn.Module):
    """G1: (image, mask) -> (B, 3, H, W) tanh prediction of the whole image (see module doc)."""

    def __init__(self, cfg: SongConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or SongConfig()
        n = cfg.g1_depth
        widths = [cfg.ngf * min(2**i, 8) for i in range(n)]  # d1 .. dn
        downs = [
            _down(cin, cout, bn=0 < i < n - 1)
            for i, (cin, cout) in enumerate(
                zip([cfg.g1_in_channels, *widths[:-1]], widths, strict=True)
            )
        ]
        ups = []
        for j in range(n - 1):  # u(j+1) doubles to d(n-1-j)'s size, whose width it takes
            cin = widths[n - 1] if j == 0 else 2 * widths[n - 1 - j]  # after the previous skip
            drop = cfg.dropout if j < cfg.dropout_blocks else 0.0
            ups.append(_up(cin, widths[n - 2 - j], resize=False, dropout=drop))
        out = nn.Sequential(
            nn.ConvTranspose2d(2 * widths[0], cfg.image_channels, 4, 2, 1), nn.Tanh()
        )
        self.net = _UNet(downs, ups, out)
        init_weights(self)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Predict the image from its known part.

        Args:
            image: (B, 3, H, W) in [-1, 1], H and W multiples of ``image_size`` (the hole is
                zeroed here).
            mask: (B, 1, H, W) float, 1 = hole.

        Returns:
            (B, 3, H, W) in [-1, 1] over the whole image; the caller composes it into the hole.
        """
        _check_size(image, self.cfg.image_channels, self.cfg.image_size, "G1 images")
        if tuple(mask.shape) != (image.shape[0], 1, *image.shape[-2:]):
            raise ValueError(f"mask must be (B, 1, H, W) like the images, got {tuple(mask.shape)}")
        return self.net(g1_input(image, mask, mask_channel=self.cfg.mask_channel))


class FeatureToImage(nn.Module):
    """G2: (B, feature_channels, h, w) relu3_1 map -> (B, 3, 4h, 4w) tanh image (module doc)."""

    def __init__(self, cfg: SongConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or SongConfig()
        m = cfg.g2_depth
        # channels at image resolution r: ngf * min(S / r, 8); the map is at S / 4
        enc = [cfg.ngf * min(FEATURE_SCALE * 2**i, 8) for i in range(m + 1)]  # e1 .. e(m+1)
        downs = [_down(cfg.feature_channels, enc[0], bn=False, k=3, stride=1)]
        downs += [_down(enc[i], enc[i + 1], bn=i + 1 < m) for i in range(m)]
        dec = [*enc[m - 1 :: -1], 2 * cfg.ngf, cfg.ngf]  # u1 .. u(m+2): e(m) .. e1, S/2, S
        ups = []
        for j, cout in enumerate(dec):
            cin = enc[m] if j == 0 else dec[j - 1] * (2 if j <= m else 1)  # skips: u1 .. um
            drop = cfg.dropout if j < cfg.dropout_blocks else 0.0
            ups.append(_up(cin, cout, resize=True, dropout=drop))
        out = nn.Sequential(nn.Conv2d(cfg.ngf, cfg.image_channels, 3, padding=1), nn.Tanh())
        self.net = _UNet(downs, ups, out)
        init_weights(self)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Translate a feature map to an image.

        Args:
            features: (B, feature_channels, h, w), h and w multiples of ``image_size / 4``
                (relu3_1 of the image, usually patch-swapped).

        Returns:
            (B, 3, 4 h, 4 w) in [-1, 1].
        """
        _check_size(features, self.cfg.feature_channels, 2**self.cfg.g2_depth, "G2 features")
        return self.net(features)


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


#: the ``song2018`` family: G1 (Image2Feature) and G2 (Feature2Image) with their PatchGAN
#: discriminators D1 and D2, trained apart by the ``song-i2f`` and ``song-f2i`` recipes; a model
#: file holds G1 and one G2 per training size (``G2_<size>``), each with its own config.
SONG2018 = register_family(
    ModelFamily(
        name="song2018",
        arch="song",
        config_cls=SongConfig,
        networks={"G1": ImageToFeature, "D1": build_d1, "G2": FeatureToImage, "D2": build_d2},
        exported=("G1", "G2"),
        method="song2018",
        default_domain="natural128",  # the 128 px model beats natural256 on l1, PSNR and SSIM
        aliases=("song", "song_i2f", "song_f2i", "song-i2f", "song-f2i"),
        recipes=("song-i2f", "song-f2i"),
        install_hint=(
            "train G1 with `inpaintkit train song-i2f` and G2 with `inpaintkit train song-f2i`, "
            "join the two exports with `inpaintkit weights combine-song` (or "
            "inpaintkit.weights.combine_song_models) into {dir}/song2018_<domain>.safetensors "
            "(+ .json)"
        ),
        recipe_parts={"song-i2f": {"G": "G1"}, "song-f2i": {"G": "G2"}},
        card_extras=("vgg",),
    )
)


@register_model("song_i2f")
def build_song_i2f(cfg: SongConfig | None = None) -> tuple[ImageToFeature, PatchDiscriminator]:
    """Song et al.'s Image2Feature G1 and its PatchGAN D1 for ``cfg`` (default: 256 px)."""
    nets = SONG2018.build(cfg or SongConfig(), only=("G1", "D1"))
    return nets["G1"], nets["D1"]


@register_model("song_f2i")
def build_song_f2i(cfg: SongConfig | None = None) -> tuple[FeatureToImage, PatchDiscriminator]:
    """Song et al.'s Feature2Image G2 and its PatchGAN D2 for ``cfg`` (default: 256 px)."""
    nets = SONG2018.build(cfg or SongConfig(), only=("G2", "D2"))
    return nets["G2"], nets["D2"]
