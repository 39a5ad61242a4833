"""Recipe ``dcgan``: the DCGAN that Yeh et al. 2017 search for inpainting (Radford et al.).

Adam lr 2e-4, beta1 0.5; non-saturating GAN loss (BCE with logits); z ~ U[-1, 1]; random
horizontal flips of the real images; one D update then one G update per step; batch 64.
Each phase draws its own noise from the step's generator (the G phase does not reuse the D
phase's fakes), and only the D phase reads real images.

    inpaintkit train dcgan --data /path/to/celeba/train --out runs/dcgan-celeba64
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from inpaintkit.losses.adversarial import gan_d_loss, gan_g_loss
from inpaintkit.models.dcgan import YEH2017, DCGANConfig, sample_z
from inpaintkit.registry import ModelFamily
from inpaintkit.train.recipes import (
    Ctx,
    GANRecipe,
    Phase,
    random_hflip,
    register_recipe,
)


@dataclass
class DCGANTrainConfig:
    """Training config of the ``dcgan`` recipe; defaults are Yeh et al.'s / DCGAN's.

    Attributes:
        model: the architecture.
        batch_size: images per batch and per process.
        lr: Adam learning rate of both networks.
        beta1, beta2: Adam betas (DCGAN's beta1 0.5).
        flip: random horizontal flips of the real images.
        ema_decay: decay of the exported weight average of G (``G_ema``; 0 = none, the paper).
        init_from: an export of this recipe (``.safetensors``) to start G and D from, or None.
    """

    model: DCGANConfig = field(default_factory=DCGANConfig)
    batch_size: int = 64
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    flip: bool = True
    ema_decay: float = 0.0
    init_from: str | None = None

    def validate(self) -> None:
        """Raise InpaintError for values out of range."""
        from inpaintkit.errors import InpaintError

        self.model.validate()
        if self.batch_size < 1 or self.lr <= 0:
            raise InpaintError("recipe.batch_size must be >= 1 and recipe.lr > 0")
        if not 0 <= self.ema_decay < 1:
            raise InpaintError(f"recipe.ema_decay must be in [0, 1), got {self.ema_decay}")


def d_step(ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """One discriminator update: real batch vs fresh fakes (G frozen by no_grad)."""
    assert real is not None
    cfg: DCGANTrainConfig = ctx.cfg
    G, D = ctx.nets["G"], ctx.nets["D"]
    if cfg.flip:
        real = random_hflip(real, ctx.generator)
    z = sample_z(real.shape[0], cfg.model.z_dim, generator=ctx.generator)
    with torch.no_grad():
        fake = G(z)  # (B, 3, S, S)
    real_logits, fake_logits = D(real), D(fake)  # (B,), (B,)
    loss = gan_d_loss(real_logits, fake_logits)
    d_real = torch.sigmoid(real_logits.float()).mean()
    d_fake = torch.sigmoid(fake_logits.float()).mean()
    return {"loss": loss, "real": d_real, "fake": d_fake}


def g_step(ctx: Ctx, _: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """One generator update with the non-saturating loss -log D(G(z))."""
    cfg: DCGANTrainConfig = ctx.cfg
    G, D = ctx.nets["G"], ctx.nets["D"]
    z = sample_z(ctx.batch_size, cfg.model.z_dim, generator=ctx.generator)
    return {"loss": gan_g_loss(D(G(z)))}


@register_recipe
class DCGANRecipe(GANRecipe):
    """Yeh et al.'s DCGAN: D x1, G x1 per step."""

    name: ClassVar[str] = "dcgan"
    config_cls: ClassVar[type] = DCGANTrainConfig
    # About 20 epochs of CelebA's 162,770 training images at batch 64 (2,543 steps an epoch).
    loop_defaults: ClassVar[dict[str, Any]] = {"steps": 50_000}

    family: ClassVar[ModelFamily] = YEH2017

    def phases(self, cfg: DCGANTrainConfig) -> list[Phase]:
        """D then G, once each."""
        return [
            Phase("D", optimizer="D", step=d_step),
            Phase(
                "G", optimizer="G", step=g_step, needs_data=False, after=self.generator_after(cfg)
            ),
        ]

    def latents(self, n: int, cfg: Any, generator: torch.Generator) -> torch.Tensor:
        """(n, z_dim) latents from the paper's prior."""
        return sample_z(n, cfg.model.z_dim, generator=generator)
