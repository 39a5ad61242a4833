"""Song et al. 2018 networks (ECCV 2018): Image2Feature G1, Feature2Image G2 and
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
    >>> nets = SONG2018.build(cfg)
    >>> G1, D1, G2, D2 = (nets[k] for k in ("G1", "D1", "G2", "D2"))
    >>> x, mask = torch.zeros(2, 3, 32, 32), torch.ones(2, 1, 32, 32)
    >>> y = G1(x, mask)
    >>> tuple(y.shape), tuple(D1(g1_input(x, mask), y).shape)
    ((2, 3, 32, 32), (2, 1, 2, 2))
    >>> f = torch.zeros(2, 8, 8, 8)
    >>> tuple(G2(f).shape), tuple(D2(f, G2(f)).shape)
    ((2, 3, 32, 32), (2, 1, 2, 2))
"""

from __future__ import annotations

import torch
from torch import nn

from inpaintkit.models.dcgan import init_weights
from inpaintkit.models.song_config import (  # noqa: F401 (re-exported: the model's names)
    D_FIELDS,
    FEATURE_SCALE,
    LEAKY_SLOPE,
    SongConfig,
)
from inpaintkit.models.song_patchgan import PatchDiscriminator, build_d1, build_d2
from inpaintkit.registry import ModelFamily, register_family, register_model


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
    """Raise ValueError unless x is (B, channels, H, W) with H, W multiples of ``multiple``."""
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
