"""Recipes ``song-i2f`` and ``song-f2i``: Song et al. 2018's two translation networks
(ECCV 2018), trained separately, then joined by
:func:`inpaintkit.weights.write.combine_song_models`.

``song-i2f`` trains Image2Feature G1 with PatchGAN D1 on (G1's input, image) pairs::

    L_G1 = 1000 L_img + 0.001 L_feat + 1 L_adv
    L_img  = l1 of G1's output over the hole (weight 1) and a band of ``overlap`` known pixels
             around it (weight ``overlap_weight``), normalised by the total weight (the overlap
             band of :func:`inpaintkit.losses.masked.overlap_weights`)
    L_feat = l1 between VGG relu3_1 of the composite (G1's output in the hole) and of the ground
             truth, over the feature cells that cover any hole pixel
    L_adv  = BCE with logits of D1(G1 input, composite) against "real"

Adam lr 2e-3 for G1 and 2e-4 for D1, betas (0.5, 0.999). Holes: one per image, its kind drawn
from ``mask_kinds`` (default the paper's centre square, half the side: 128 at 256; ``box``,
``thick`` etc. for arbitrary holes).

``song-f2i`` trains Feature2Image G2 with D2 on (feature map, image) pairs, from
``patch_swap(VGG(ground truth), hole)`` (not from G1), ``100 l1 (whole image) + 1 adv``, Adam
2e-4, betas (0.5, 0.999). ``mix_g1`` (a ``song-i2f`` export) fine-tunes on a mixture: a
``mix_fraction`` of the images take their features from G1's composite instead.

Both: one step = one D update then one G update, each on its own batch and holes (drawn from
the step's generator); random horizontal flips. The VGG (relu3_1, frozen, eval mode) is built
once per recipe instance on first use and is neither checkpointed nor exported;
``vgg="random"`` (a seeded random VGG16 prefix) exists for tests only: real models use
``"imagenet"``, and the card records the choice. The exports hold the generator alone (``G.``).

    inpaintkit train song-i2f --data /data/imagenet/train --out runs/i2f   # then song-f2i
    combine_song_models("runs/i2f/export/song-i2f.safetensors", "runs/f2i/export/song-f2i...")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from inpaintkit.composite import paste as compose
from inpaintkit.errors import InpaintError
from inpaintkit.losses.adversarial import gan_d_loss
from inpaintkit.losses.masked import masked_l1
from inpaintkit.losses.song import f2i_objective, i2f_objective, patch_logits
from inpaintkit.masks import MASK_KINDS, make_mask
from inpaintkit.models.song import (
    D_FIELDS,
    SONG2018,
    ImageToFeature,
    SongConfig,
    g1_input,
)
from inpaintkit.models.song_vgg import VGG_KINDS, build_song_vgg, relu3_1
from inpaintkit.nn.patch_swap import patch_swap
from inpaintkit.train.config import to_dict
from inpaintkit.train.grow import grow_unet_state
from inpaintkit.train.recipes import Ctx, Models, Phase, Recipe, random_hflip, register_recipe
from inpaintkit.weights import load_model
from inpaintkit.weights.read import load_export
from inpaintkit.weights.write import combine_song_models  # noqa: F401 (its older home)

Features = Callable[[torch.Tensor], torch.Tensor]


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
    """

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

    def validate(self) -> None:
        """Raise InpaintError for values out of range."""
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


def draw_masks(kinds: Sequence[str], n: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` holes (n, 1, size, size) float, 1 = hole, each of a kind drawn from ``kinds``.

    Kinds and mask seeds are drawn from ``generator``, so a step's holes are fixed by its seed.
    """
    dev = generator.device
    which = torch.randint(0, len(kinds), (n,), generator=generator, device=dev).tolist()
    seeds = torch.randint(0, 2**31 - 1, (n,), generator=generator, device=dev).tolist()
    masks = [make_mask(kinds[k], (size, size), seed=s) for k, s in zip(which, seeds, strict=True)]
    return torch.from_numpy(np.stack(masks)[:, None].astype(np.float32)).to(dev)


#: the older name of :func:`inpaintkit.losses.masked.masked_l1` (G1's image and feature losses)
weighted_l1 = masked_l1


def i2f_losses(
    G: Callable[..., torch.Tensor], D: Callable[..., torch.Tensor], features: Features,
    real: torch.Tensor, mask: torch.Tensor, cfg: SongI2FTrainConfig,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """G1's objective (:func:`inpaintkit.losses.song.i2f_objective`) with ``cfg``'s weights."""
    cond = None
    if cfg.adv_weight > 0:
        cond = g1_input(real, mask, mask_channel=cfg.model.mask_channel)
    return i2f_objective(
        G, D, features, real, mask, condition=cond, overlap=cfg.overlap,
        overlap_weight=cfg.overlap_weight, img_weight=cfg.img_weight,
        feat_weight=cfg.feat_weight, adv_weight=cfg.adv_weight,
    )  # fmt: skip


def f2i_losses(
    G: Callable[..., torch.Tensor], D: Callable[..., torch.Tensor], swapped: torch.Tensor,
    real: torch.Tensor, cfg: SongF2ITrainConfig,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """G2's objective (:func:`inpaintkit.losses.song.f2i_objective`) with ``cfg``'s weights."""
    return f2i_objective(G, D, swapped, real, l1_weight=cfg.l1_weight, adv_weight=cfg.adv_weight)


class _SongRecipe(Recipe):
    """What both recipes share: batches with holes, the lazy VGG, D step, previews, export.

    Subclasses define ``build``, ``g_step``, ``pairs(ctx, real) -> (condition, real image,
    G's image)`` for D (G without gradients) and ``generate(G, real, mask, cfg, generator)``,
    G's image for the preview grid.
    """

    loop_defaults: ClassVar[dict[str, Any]] = {"steps": 100_000}

    def __init__(self) -> None:
        self._preview: torch.Tensor | None = None
        self._vgg: nn.Module | None = None

    def features(self, cfg: SongTrainConfig, device: torch.device) -> Features:
        """relu3_1 of images on ``device``; the VGG is built on the first call."""
        if self._vgg is None:
            self._vgg = build_song_vgg(cfg.vgg)
        self._vgg.to(device)
        return lambda x: relu3_1(self._vgg, x).float()

    def architecture(self, cfg: SongTrainConfig) -> dict[str, Any]:
        """G's config and the VGG its features come from (the method reads both)."""
        return {**to_dict(cfg.model), "vgg": cfg.vgg}

    def batch(self, ctx: Ctx, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The step's (flipped) images and one hole per image; keeps the first for previews."""
        cfg: SongTrainConfig = ctx.cfg
        if self._preview is None:
            self._preview = real[:8].detach().float().cpu()
        if cfg.flip:
            real = random_hflip(real, ctx.generator)
        mask = draw_masks(cfg.mask_kinds, real.shape[0], real.shape[-1], ctx.generator)
        return real, mask.to(real.dtype)

    def adam(self, G: nn.Module, D: nn.Module, lr_g: float, cfg: SongTrainConfig) -> Models:
        """G with Adam(lr_g), D with Adam(cfg.lr), betas (beta1, beta2)."""
        betas = (cfg.beta1, cfg.beta2)
        opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas)
        opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=betas)
        return Models(nets={"G": G, "D": D}, optimizers={"G": opt_g, "D": opt_d})

    def initial_state(self, G: nn.Module, cfg: SongTrainConfig) -> dict[str, torch.Tensor]:
        """G's state from the export ``cfg.init_from``, grown if it is at half the size.

        Raises:
            InpaintError: not an export of this recipe, or another architecture or size.
        """
        assert cfg.init_from is not None
        nets, card = load_export(cfg.init_from)
        arch = {k: v for k, v in card.get("architecture", {}).items() if k != "vgg"}
        if card.get("model") != self.name or set(nets) != {"G"}:
            raise InpaintError(
                f"recipe.init_from {cfg.init_from} is not a {self.name} export "
                f"(card model {card.get('model')!r})"
            )
        old = SongConfig(**arch)
        same_d = {k: getattr(cfg.model, k) for k in D_FIELDS}  # G is loaded, D starts fresh
        if replace(old, image_size=cfg.model.image_size, **same_d) != cfg.model or (
            cfg.model.image_size not in (old.image_size, 2 * old.image_size)
        ):
            raise InpaintError(
                f"recipe.init_from {cfg.init_from} ({old}) must have this model's architecture "
                f"({cfg.model}) at image_size {cfg.model.image_size} or half of it"
            )
        if old.image_size == cfg.model.image_size:
            return nets["G"]
        return grow_unet_state(nets["G"], G)

    def phases(self, cfg: SongTrainConfig) -> list[Phase]:
        """D then G, once each; G alone when ``adv_weight`` is 0."""
        g = Phase("G", optimizer="G", step=self.g_step)
        return [g] if cfg.adv_weight == 0 else [Phase("D", optimizer="D", step=self.d_step), g]

    def d_step(self, ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """One D update: BCE of (condition, real image) vs (condition, G's image) pairs."""
        assert real is not None
        cond, real, fake = self.pairs(ctx, real)
        D = ctx.nets["D"]
        real_logits, fake_logits = patch_logits(D, cond, real), patch_logits(D, cond, fake)
        loss = gan_d_loss(real_logits, fake_logits)
        return {"loss": loss, "real": torch.sigmoid(real_logits.float()).mean(),
                "fake": torch.sigmoid(fake_logits.float()).mean()}  # fmt: skip

    def sample(
        self, nets: dict[str, nn.Module], cfg: SongTrainConfig, n: int, generator: torch.Generator
    ) -> torch.Tensor:
        """Rows of (input with the hole in white, G's image, original), up to ``n`` images.

        Uses the first training batch (fixed for the run) and holes drawn from ``generator``.
        """
        S = cfg.model.image_size
        if self._preview is None:
            return torch.zeros(3, 3, S, S)
        device = next(nets["G"].parameters()).device
        real = self._preview[: max(1, n // 3)].to(device)
        mask = draw_masks(cfg.mask_kinds, real.shape[0], S, generator).to(device)
        rows = [real * (1 - mask) + mask, self.generate(nets["G"], real, mask, cfg, generator)]
        return torch.stack([*rows, real], dim=1).flatten(0, 1).clamp(-1, 1)  # (3 n, 3, S, S)

    def export(self, nets: dict[str, nn.Module], cfg: SongTrainConfig) -> dict[str, nn.Module]:
        """The generator alone (``G.``)."""
        return {"G": nets["G"]}


@register_recipe
class SongI2FRecipe(_SongRecipe):
    """Image2Feature G1 + D1 (``inpaintkit train song-i2f``)."""

    name: ClassVar[str] = "song-i2f"
    config_cls: ClassVar[type] = SongI2FTrainConfig

    def build(self, cfg: SongI2FTrainConfig, device: torch.device) -> Models:
        """G1 (from ``init_from`` if given) with Adam(lr_g), D1 with Adam(lr)."""
        nets = SONG2018.build(cfg.model, only=("G1", "D1"))
        G, D = nets["G1"].to(device), nets["D1"].to(device)
        if cfg.init_from is not None:
            G.load_state_dict(self.initial_state(G, cfg))
        return self.adam(G, D, cfg.lr_g, cfg)

    def generate(
        self, G: nn.Module, real: torch.Tensor, mask: torch.Tensor, cfg: Any, g: torch.Generator
    ) -> torch.Tensor:
        """The composite: G1's image in the hole."""
        return compose(G(real, mask), real, mask)

    def pairs(self, ctx: Ctx, real: torch.Tensor) -> tuple[torch.Tensor, ...]:
        real, mask = self.batch(ctx, real)
        with torch.no_grad():
            fake = self.generate(ctx.nets["G"], real, mask, ctx.cfg, ctx.generator)
        return g1_input(real, mask, mask_channel=ctx.cfg.model.mask_channel), real, fake

    def g_step(self, ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """G1's objective (:func:`i2f_losses`)."""
        assert real is not None
        real, mask = self.batch(ctx, real)
        feats = self.features(ctx.cfg, ctx.device)
        return i2f_losses(ctx.nets["G"], ctx.nets["D"], feats, real, mask, ctx.cfg)


@register_recipe
class SongF2IRecipe(_SongRecipe):
    """Feature2Image G2 + D2 (``inpaintkit train song-f2i``)."""

    name: ClassVar[str] = "song-f2i"
    config_cls: ClassVar[type] = SongF2ITrainConfig

    def __init__(self) -> None:
        super().__init__()
        self._g1: nn.Module | None = None

    def build(self, cfg: SongF2ITrainConfig, device: torch.device) -> Models:
        """G2 (from ``init_from`` if given) and D2 with Adam(lr) each; the frozen G1 of
        ``mix_g1`` if given."""
        if cfg.mix_g1 is not None:
            g1 = load_model("song2018", cfg.mix_g1, only=("G1",)).nets.get("G1")
            if g1 is None or cfg.model.image_size % g1.cfg.image_size:
                raise InpaintError(
                    f"recipe.mix_g1 {cfg.mix_g1} must be a song-i2f export whose image_size "
                    f"divides {cfg.model.image_size}"
                )
            self._g1 = ImageToFeature(g1.cfg).to(device).eval().requires_grad_(False)
            self._g1.load_state_dict(g1.state_dict())
        nets = SONG2018.build(cfg.model, only=("G2", "D2"))
        G, D = nets["G2"].to(device), nets["D2"].to(device)
        if cfg.init_from is not None:
            G.load_state_dict(self.initial_state(G, cfg))
        return self.adam(G, D, cfg.lr, cfg)

    def swapped(
        self, real: torch.Tensor, mask: torch.Tensor, cfg: SongF2ITrainConfig, g: torch.Generator
    ) -> torch.Tensor:
        """patch_swap(relu3_1(source), hole): source = the image, or with ``mix_g1`` (for a
        ``mix_fraction`` of the images, drawn from ``g``) G1's composite."""
        src = real
        with torch.no_grad():
            if self._g1 is not None and cfg.mix_fraction > 0:
                use = torch.rand(real.shape[0], generator=g, device=g.device) < cfg.mix_fraction
                comp = compose(self._g1(real, mask), real, mask)
                src = torch.where(use.to(real.device)[:, None, None, None], comp, real)
            f = self.features(cfg, real.device)(src)
            return patch_swap(f, mask, patch=cfg.patch, stride=cfg.stride)[0]

    def generate(
        self, G: nn.Module, real: torch.Tensor, mask: torch.Tensor, cfg: Any, g: torch.Generator
    ) -> torch.Tensor:
        """G2 of the swapped features (the whole image)."""
        return G(self.swapped(real, mask, cfg, g))

    def pairs(self, ctx: Ctx, real: torch.Tensor) -> tuple[torch.Tensor, ...]:
        real, mask = self.batch(ctx, real)
        swapped = self.swapped(real, mask, ctx.cfg, ctx.generator)
        with torch.no_grad():
            fake = ctx.nets["G"](swapped)
        return swapped, real, fake

    def g_step(self, ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """G2's objective (:func:`f2i_losses`)."""
        assert real is not None
        real, mask = self.batch(ctx, real)
        swapped = self.swapped(real, mask, ctx.cfg, ctx.generator)
        return f2i_losses(ctx.nets["G"], ctx.nets["D"], swapped, real, ctx.cfg)
