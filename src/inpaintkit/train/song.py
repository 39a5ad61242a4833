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

``preset=efficient`` (:mod:`inpaintkit.train.song_config`; docs/efficient_training.md) adds a
weight average of G (``G_ema``, checkpointed, sampled and exported instead of G) and VGG16
perceptual and style losses (relu1_2/2_2/3_3 of a second frozen VGG16, of kind ``vgg``): on
G1's output and composite, on G2's whole output.

    inpaintkit train song-i2f --data /data/imagenet/train --out runs/i2f   # then song-f2i
    combine_song_models("runs/i2f/export/song-i2f.safetensors", "runs/f2i/export/song-f2i...")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

import torch
from torch import nn

from inpaintkit.composite import paste as compose
from inpaintkit.errors import InpaintError
from inpaintkit.losses.adversarial import gan_d_loss
from inpaintkit.losses.masked import masked_l1
from inpaintkit.losses.perceptual import DEFAULT_LAYERS
from inpaintkit.losses.song import f2i_objective, i2f_objective, patch_logits
from inpaintkit.models.song import D_FIELDS, SONG2018, ImageToFeature, SongConfig, g1_input
from inpaintkit.models.song_vgg import build_song_vgg, relu3_1
from inpaintkit.nn.patch_swap import patch_swap
from inpaintkit.train.config import to_dict
from inpaintkit.train.ema import ema_copy, update_g_ema
from inpaintkit.train.grow import grow_unet_state
from inpaintkit.train.recipes import Ctx, Models, Phase, Recipe, random_hflip, register_recipe
from inpaintkit.train.song_config import (
    SongF2ITrainConfig,
    SongI2FTrainConfig,
    SongTrainConfig,
    draw_masks,
)
from inpaintkit.weights import load_model
from inpaintkit.weights.read import load_export
from inpaintkit.weights.write import combine_song_models  # noqa: F401 (its older home)

Features = Callable[[torch.Tensor], torch.Tensor]


#: the older name of :func:`inpaintkit.losses.masked.masked_l1` (G1's image and feature losses)
weighted_l1 = masked_l1


def i2f_losses(
    G: Callable[..., torch.Tensor], D: Callable[..., torch.Tensor], features: Features,
    real: torch.Tensor, mask: torch.Tensor, cfg: SongI2FTrainConfig, vgg: nn.Module | None = None,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """G1's objective (:func:`inpaintkit.losses.song.i2f_objective`) with ``cfg``'s weights
    (the perceptual and style terms need ``vgg``, VGG16 up to relu3_3)."""
    cond = None
    if cfg.adv_weight > 0:
        cond = g1_input(real, mask, mask_channel=cfg.model.mask_channel)
    return i2f_objective(
        G, D, features, real, mask, condition=cond, overlap=cfg.overlap,
        overlap_weight=cfg.overlap_weight, img_weight=cfg.img_weight,
        feat_weight=cfg.feat_weight, adv_weight=cfg.adv_weight, vgg=vgg,
        perceptual_weight=cfg.perceptual_weight, style_weight=cfg.style_weight,
    )  # fmt: skip


def f2i_losses(
    G: Callable[..., torch.Tensor], D: Callable[..., torch.Tensor], swapped: torch.Tensor,
    real: torch.Tensor, cfg: SongF2ITrainConfig, vgg: nn.Module | None = None,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """G2's objective (:func:`inpaintkit.losses.song.f2i_objective`) with ``cfg``'s weights
    (the perceptual and style terms need ``vgg``, VGG16 up to relu3_3)."""
    return f2i_objective(
        G, D, swapped, real, l1_weight=cfg.l1_weight, adv_weight=cfg.adv_weight, vgg=vgg,
        perceptual_weight=cfg.perceptual_weight, style_weight=cfg.style_weight,
    )  # fmt: skip


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
        self._loss_vgg: nn.Module | None = None

    def features(self, cfg: SongTrainConfig, device: torch.device) -> Features:
        """relu3_1 of images on ``device``; the VGG is built on the first call."""
        if self._vgg is None:
            self._vgg = build_song_vgg(cfg.vgg)
        self._vgg.to(device)
        return lambda x: relu3_1(self._vgg, x).float()

    def loss_vgg(self, cfg: SongTrainConfig, device: torch.device) -> nn.Module | None:
        """The frozen VGG16 (to relu3_3, of kind ``cfg.vgg``) of the perceptual and style
        losses, built on the first call; None when both weights are 0."""
        if not (cfg.perceptual_weight or cfg.style_weight):
            return None
        if self._loss_vgg is None:
            self._loss_vgg = build_song_vgg(cfg.vgg, upto=DEFAULT_LAYERS[-1])
        return self._loss_vgg.to(device)

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
        """G with Adam(lr_g), D with Adam(cfg.lr), betas (beta1, beta2); the weight average
        ``G_ema`` (a copy of G as it starts) when ``ema_decay`` > 0."""
        betas = (cfg.beta1, cfg.beta2)
        opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas)
        opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=betas)
        nets = {"G": G, "D": D}
        if cfg.ema_decay > 0:
            nets["G_ema"] = ema_copy(G)
        return Models(nets=nets, optimizers={"G": opt_g, "D": opt_d})

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
        """D then G, once each (and the EMA update after G); G alone when ``adv_weight`` is 0."""
        after = update_g_ema if cfg.ema_decay > 0 else None
        g = Phase("G", optimizer="G", step=self.g_step, after=after)
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

        Uses the first training batch (fixed for the run), holes drawn from ``generator`` and
        the exported G (the average when there is one).
        """
        S = cfg.model.image_size
        if self._preview is None:
            return torch.zeros(3, 3, S, S)
        G = nets.get("G_ema", nets["G"])
        device = next(G.parameters()).device
        real = self._preview[: max(1, n // 3)].to(device)
        mask = draw_masks(cfg.mask_kinds, real.shape[0], S, generator).to(device)
        rows = [real * (1 - mask) + mask, self.generate(G, real, mask, cfg, generator)]
        return torch.stack([*rows, real], dim=1).flatten(0, 1).clamp(-1, 1)  # (3 n, 3, S, S)

    def export(self, nets: dict[str, nn.Module], cfg: SongTrainConfig) -> dict[str, nn.Module]:
        """The generator alone (``G.``; the average ``G_ema`` when there is one)."""
        return {"G": nets.get("G_ema", nets["G"])}


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
        vgg = self.loss_vgg(ctx.cfg, ctx.device)
        return i2f_losses(ctx.nets["G"], ctx.nets["D"], feats, real, mask, ctx.cfg, vgg)


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
        vgg = self.loss_vgg(ctx.cfg, ctx.device)
        return f2i_losses(ctx.nets["G"], ctx.nets["D"], swapped, real, ctx.cfg, vgg)
