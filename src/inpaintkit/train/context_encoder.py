"""Recipe ``context_encoder``: Pathak et al. 2016's Context Encoder, one model per mask kind.

Joint loss ``l2_weight * L_rec + adv_weight * L_adv`` (the paper's 0.999 and 0.001), Adam
(lr 2e-4, betas (0.5, 0.999)) with the encoder-decoder's learning rate ``g_lr_scale`` (10)
times the discriminator's, as the authors' code does whenever both losses are on; batch 64,
random horizontal flips. One step = one D update (real vs completed images, BCE with logits)
then one G update, each on its own batch with its own holes: one mask per image from
:func:`inpaintkit.masks.make_mask` of ``model.mask_kind``, seeded from the step's generator.

``L_rec`` is the l2 over the hole and a band of ``overlap`` px of known pixels around it,
the band weighted ``overlap_weight`` (10) times more (the paper's overlap trick, there a 7 px
border of the central square; here the band is any pixel within ``overlap`` px of the hole,
found by max-pool dilation, so it works for every mask shape), normalised by the total weight.

    inpaintkit train context_encoder --data /data/paris/train --out runs/ce-paris-center \\
        --set recipe.model.mask_kind=center
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from inpaintkit.composite import paste as compose
from inpaintkit.errors import InpaintError
from inpaintkit.losses.adversarial import gan_d_loss
from inpaintkit.losses.context_encoder import generator_objective
from inpaintkit.losses.masked import masked_l2, overlap_weights  # noqa: F401 (older home)
from inpaintkit.masks import make_mask
from inpaintkit.models.context_encoder import (
    CONTEXT_ENCODER,
    ContextEncoderConfig,
)
from inpaintkit.train.recipes import Ctx, Models, Phase, Recipe, random_hflip, register_recipe


@dataclass
class ContextEncoderTrainConfig:
    """Training config of the ``context_encoder`` recipe; defaults are the paper's.

    Attributes:
        model: the architecture; ``model.image_size`` is the training size and
            ``model.mask_kind`` the holes it is trained on.
        batch_size: images per batch and per process (64; at least 2 for the batch norm of the
            1x1 bottleneck).
        lr: Adam learning rate of the discriminator (2e-4).
        beta1, beta2: Adam betas (0.5, 0.999).
        g_lr_scale: the encoder-decoder's learning rate is ``lr * g_lr_scale`` (the authors'
            code: 10 when both losses are on; 1 gives both networks ``lr``).
        l2_weight: weight of the reconstruction loss (0.999).
        adv_weight: weight of the adversarial loss (0.001; 0 trains l2 only, without D).
        overlap: width in px of the band of known pixels around the hole that the
            reconstruction loss also covers (the paper: 7).
        overlap_weight: weight of the band relative to the hole (10).
        flip: random horizontal flips of the real images.
    """

    model: ContextEncoderConfig = field(default_factory=ContextEncoderConfig)
    batch_size: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    g_lr_scale: float = 10.0
    l2_weight: float = 0.999
    adv_weight: float = 0.001
    overlap: int = 7
    overlap_weight: float = 10.0
    flip: bool = True

    def validate(self) -> None:
        """Raise InpaintError for values out of range."""
        self.model.validate()
        if self.batch_size < 2:
            raise InpaintError(
                f"recipe.batch_size must be >= 2 (batch norm at the 1x1 bottleneck needs two "
                f"images), got {self.batch_size}"
            )
        if self.lr <= 0 or self.g_lr_scale <= 0:
            raise InpaintError("recipe.lr and recipe.g_lr_scale must be > 0")
        if self.l2_weight < 0 or self.adv_weight < 0 or self.l2_weight + self.adv_weight == 0:
            raise InpaintError("recipe.l2_weight and adv_weight must be >= 0, not both 0")
        if self.overlap < 0 or self.overlap_weight < 0:
            raise InpaintError("recipe.overlap and recipe.overlap_weight must be >= 0")


#: the older name of :func:`inpaintkit.losses.masked.masked_l2` (the recipe's reconstruction loss)
weighted_l2 = masked_l2


def sample_masks(kind: str, n: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` holes of mask ``kind`` (n, 1, size, size) float, 1 = hole, on the generator's device.

    Each mask is ``make_mask(kind, (size, size), seed=s)`` with its own seed ``s`` drawn from
    ``generator``, so a step's masks are fixed by the step's seed.
    """
    seeds = torch.randint(0, 2**31 - 1, (n,), generator=generator, device=generator.device)
    masks = [make_mask(kind, (size, size), seed=int(s)) for s in seeds.tolist()]
    return torch.from_numpy(np.stack(masks)[:, None].astype(np.float32)).to(generator.device)


def _batch(ctx: Ctx, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The step's (flipped) real images and one fresh hole per image."""
    cfg: ContextEncoderTrainConfig = ctx.cfg
    if cfg.flip:
        real = random_hflip(real, ctx.generator)
    mask = sample_masks(cfg.model.mask_kind, real.shape[0], real.shape[-1], ctx.generator)
    return real, mask.to(real.dtype)


def d_step(ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """One discriminator update: real images vs images completed by G (G frozen by no_grad)."""
    assert real is not None
    G, D = ctx.nets["G"], ctx.nets["D"]
    real, mask = _batch(ctx, real)
    with torch.no_grad():
        fake = compose(G(real, mask), real, mask)  # (B, 3, S, S)
    real_logits, fake_logits = D(real), D(fake)  # (B,), (B,)
    loss = gan_d_loss(real_logits, fake_logits)
    d_real = torch.sigmoid(real_logits.float()).mean()
    d_fake = torch.sigmoid(fake_logits.float()).mean()
    return {"loss": loss, "real": d_real, "fake": d_fake}


def g_step(ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """One encoder-decoder update: l2_weight * weighted l2 + adv_weight * (-log D(completed))."""
    assert real is not None
    cfg: ContextEncoderTrainConfig = ctx.cfg
    G, D = ctx.nets["G"], ctx.nets["D"]
    real, mask = _batch(ctx, real)
    pred = G(real, mask)  # (B, 3, S, S)
    return generator_objective(
        pred, real, mask, D, overlap=cfg.overlap, overlap_weight=cfg.overlap_weight,
        l2_weight=cfg.l2_weight, adv_weight=cfg.adv_weight,
    )  # fmt: skip


@register_recipe
class ContextEncoderRecipe(Recipe):
    """Context Encoder: D x1 (skipped when adv_weight is 0), then G x1 per step."""

    name: ClassVar[str] = "context_encoder"
    config_cls: ClassVar[type] = ContextEncoderTrainConfig
    # The authors' code runs 25 epochs (Paris StreetView: ~15k images, ~235 steps an epoch at
    # batch 64; ImageNet: ~20k steps an epoch); set --steps to your data and budget.
    loop_defaults: ClassVar[dict[str, Any]] = {"steps": 50_000}

    def __init__(self) -> None:
        self._preview: torch.Tensor | None = None

    def build(self, cfg: ContextEncoderTrainConfig, device: torch.device) -> Models:
        """G and D on ``device``; Adam(lr * g_lr_scale) for G, Adam(lr) for D."""
        nets = CONTEXT_ENCODER.build(cfg.model)
        G, D = nets["G"].to(device), nets["D"].to(device)
        betas = (cfg.beta1, cfg.beta2)
        return Models(
            nets={"G": G, "D": D},
            optimizers={
                "G": torch.optim.Adam(G.parameters(), lr=cfg.lr * cfg.g_lr_scale, betas=betas),
                "D": torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=betas),
            },
        )

    def phases(self, cfg: ContextEncoderTrainConfig) -> list[Phase]:
        """D then G, once each; G alone when ``adv_weight`` is 0."""
        g = Phase("G", optimizer="G", step=self._g_step)
        if cfg.adv_weight == 0:
            return [g]
        return [Phase("D", optimizer="D", step=d_step), g]

    def _g_step(self, ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
        if self._preview is None and real is not None:  # the first real batch: sample grids
            self._preview = real[:8].detach().float().cpu()
        return g_step(ctx, real)

    def sample(
        self, nets: dict[str, nn.Module], cfg: ContextEncoderTrainConfig, n: int,
        generator: torch.Generator,
    ) -> torch.Tensor:  # fmt: skip
        """Rows of (input with the hole in white, completed output, original), up to ``n``.

        Uses the first training batch (fixed for the run) and holes drawn from ``generator``.
        """
        S = cfg.model.image_size
        if self._preview is None:
            return torch.zeros(3, cfg.model.image_channels, S, S)
        G = nets["G"]
        device = next(G.parameters()).device
        real = self._preview[: max(1, n // 3)].to(device)
        mask = sample_masks(cfg.model.mask_kind, real.shape[0], S, generator).to(device)
        keep = real * (1 - mask)
        rows = [keep + mask, compose(G(real, mask), real, mask), real]
        return torch.stack(rows, dim=1).flatten(0, 1).clamp(-1, 1)  # (3 n, 3, S, S)

    def export(
        self, nets: dict[str, nn.Module], cfg: ContextEncoderTrainConfig
    ) -> dict[str, nn.Module]:
        """The encoder-decoder alone (inference needs nothing else)."""
        return {"G": nets["G"]}
