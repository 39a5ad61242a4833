"""Configs of the Song et al. 2018 recipes (``song-i2f``, ``song-f2i``) and their hole sampler.

The defaults are the paper's recipe (``preset="paper"``). ``preset="efficient"`` keeps the
networks and changes how they are trained, as DeepFill's efficient preset does
(docs/efficient_training.md): the exported generator is an exponential moving average of the
trained one (``ema_decay``), and VGG16 perceptual and style losses are added
(``perceptual_weight``, ``style_weight``; G1: on its output and composite, G2: on its whole
output). A preset fills only the keys a config does not set itself
(:func:`inpaintkit.train.config.resolve`).

The efficient weights put the VGG terms on the scale of the paper's pixel term, measured on the
bundled ``natural128`` networks (8 ImageNet photos at 128 px, centre holes): G2's ``100 l1`` is
about 12, ``3 perceptual`` about 8 and ``300 style`` about 3.5; G1's ``1000 L_img`` is about 69,
``10 perceptual`` about 45 (output + composite) and ``1000 style`` about 18. The G2 weights were
trained with (docs/efficient_training.md); the G1 weights follow the same balance untried.

Example:
    >>> from inpaintkit.train.config import resolve
    >>> _, cfg = resolve(SongF2ITrainConfig, sets={"recipe": {"preset": "efficient"}})
    >>> cfg.ema_decay > 0 and cfg.perceptual_weight > 0
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from inpaintkit.errors import InpaintError
from inpaintkit.masks import MASK_KINDS
from inpaintkit.models.song import SongConfig
from inpaintkit.models.song_vgg import VGG_KINDS
from inpaintkit.train.recipes import draw_holes

__all__ = ["SongF2ITrainConfig", "SongI2FTrainConfig", "SongTrainConfig", "draw_masks"]


@dataclass
class SongTrainConfig:
    """What both Song recipes share (defaults: the paper's 256 px models).

    Attributes:
        model: G and D sizes (:class:`~inpaintkit.models.song.SongConfig`).
        batch_size: images per batch and per process (16; not given by the paper).
        lr: Adam learning rate of D (and of G2 in ``song-f2i``): 2e-4.
        beta1, beta2: Adam betas (0.5, 0.999).
        adv_weight: weight of the adversarial loss (1; 0 trains without D).
        mask_kinds: mask kinds of :mod:`inpaintkit.masks`, one drawn per image (``center``).
        vgg: ``"imagenet"`` (real use) or ``"random"`` (tests without the weight package).
        flip: random horizontal flips.
        init_from: an export of this recipe to start G from (None: fresh weights): the same
            G architecture, or the same at half the ``image_size``, grown one U-Net level
            (:func:`~inpaintkit.train.grow.grow_unet_state`). D and Adam start fresh, so the
            D fields (``models.song.D_FIELDS``) may differ from the export's.
        preset: ``"paper"`` (the defaults) or ``"efficient"`` (``PRESETS``: the values it
            fills in).
        ema_decay: decay of the exported weight average of G (``G_ema``; 0 = none, the paper).
        perceptual_weight: weight of the VGG16 relu1_2/2_2/3_3 perceptual loss (0 = off).
        style_weight: weight of the Gram-matrix style loss on the same features (0 = off).
    """

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"paper": {}}

    model: SongConfig = field(default_factory=SongConfig)
    batch_size: int = 16
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    adv_weight: float = 1.0
    mask_kinds: tuple[str, ...] = ("center",)
    vgg: str = "imagenet"
    flip: bool = True
    init_from: str | None = None
    preset: str = "paper"
    ema_decay: float = 0.0
    perceptual_weight: float = 0.0
    style_weight: float = 0.0

    def validate(self) -> None:
        """Raise InpaintError for values out of range."""
        if self.preset not in self.PRESETS:
            raise InpaintError(
                f"recipe.preset must be one of {', '.join(self.PRESETS)}, got {self.preset!r}"
            )
        if not 0 <= self.ema_decay < 1:
            raise InpaintError(f"recipe.ema_decay must be in [0, 1), got {self.ema_decay}")
        if min(self.perceptual_weight, self.style_weight) < 0:
            raise InpaintError("recipe.perceptual_weight and style_weight must be >= 0")
        if self.batch_size < 1 or self.lr <= 0 or self.adv_weight < 0:
            raise InpaintError("recipe.batch_size >= 1, lr > 0 and adv_weight >= 0 required")
        bad = [k for k in self.mask_kinds if k not in MASK_KINDS]
        if not self.mask_kinds or bad:
            raise InpaintError(f"recipe.mask_kinds must name kinds from {sorted(MASK_KINDS)}")
        if self.vgg not in VGG_KINDS:
            raise InpaintError(f"recipe.vgg must be one of {VGG_KINDS}, got {self.vgg!r}")
        need = 3 * 2**self.model.d1_layers  # one PatchGAN logit
        if self.model.image_size < need:
            raise InpaintError(f"recipe.model.image_size must be >= {need} for D1")


@dataclass
class SongI2FTrainConfig(SongTrainConfig):
    """``song-i2f``: also G1's learning rate and the loss weights (the paper's).

    Attributes:
        lr_g: G1's Adam learning rate (2e-3, ten times D1's ``lr``).
        img_weight, feat_weight: weights of L_img (1000) and L_feat (0.001).
        overlap, overlap_weight: the known band around the hole in L_img: width in pixels (7)
            and weight relative to the hole (10), as Context Encoder's overlap.
    """

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {},
        "efficient": {"ema_decay": 0.999, "perceptual_weight": 10.0, "style_weight": 1000.0},
    }

    lr_g: float = 2e-3
    img_weight: float = 1000.0
    feat_weight: float = 0.001
    overlap: int = 7
    overlap_weight: float = 10.0


@dataclass
class SongF2ITrainConfig(SongTrainConfig):
    """``song-f2i``: also the l1 weight, patch-swap and the G1 mixture.

    Attributes:
        l1_weight: weight of the whole-image l1 (100).
        patch, stride: patch-swap's patch size and source stride (3, 1).
        mix_g1: path of a ``song-i2f`` export: fine-tune on a mixture with its features
            (None: ground-truth features only, the paper's first stage).
        mix_fraction: fraction of images whose features come from G1's composite (0.5).
    """

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {},
        "efficient": {"ema_decay": 0.999, "perceptual_weight": 3.0, "style_weight": 300.0},
    }

    l1_weight: float = 100.0
    patch: int = 3
    stride: int = 1
    mix_g1: str | None = None
    mix_fraction: float = 0.5

    def validate(self) -> None:
        """Raise InpaintError for values out of range."""
        super().validate()
        if not 0 <= self.mix_fraction <= 1 or self.l1_weight < 0:
            raise InpaintError("recipe.mix_fraction must be in [0, 1] and l1_weight >= 0")


#: the older name of :func:`inpaintkit.train.recipes.draw_holes` (one hole per image, seeded)
draw_masks = draw_holes
