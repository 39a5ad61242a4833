"""Recipe ``wgan_resnet``: the ResNet WGAN-GP that Vitoria et al. 2019 search for inpainting.

Gulrajani et al.'s 64x64 ResNet, as Vitoria et al. use it: z (128) ~ N(0, 1); Adam lr 1e-4,
betas (0.0, 0.9) for both networks; WGAN loss with a gradient penalty of weight 10 on random
interpolates of real and fake images; 5 critic updates per generator update, each on its own
batch of real images; random horizontal flips; batch 64; 50,000 generator iterations.

    inpaintkit train wgan_resnet --data celeba:/path/to/celeba/train --out runs/wgan-celeba64

One loop step = 5 critic updates + 1 generator update (one generator iteration, as the papers
count), so a step reads 5 batches of real images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from inpaintkit.losses.adversarial import gradient_penalty, wgan_d_loss, wgan_g_loss
from inpaintkit.models.wgan_resnet import VITORIA2019, WGANResNetConfig
from inpaintkit.registry import ModelFamily
from inpaintkit.train.recipes import (
    Ctx,
    GANRecipe,
    Phase,
    random_hflip,
    register_recipe,
)


@dataclass
class WGANTrainConfig:
    """Training config of the ``wgan_resnet`` recipe; defaults are Vitoria et al.'s (Gulrajani's).

    Attributes:
        model: the architecture (z 128, 64x64, d 64).
        batch_size: images per batch and per process.
        lr: Adam learning rate of both networks.
        beta1, beta2: Adam betas (WGAN-GP: 0.0, 0.9).
        gp_weight: weight of the gradient penalty (lambda = 10).
        critic_steps: critic updates per generator update (5).
        flip: random horizontal flips of the real images.
        ema_decay: decay of the exported weight average of G (``G_ema``; 0 = none, the paper).
        init_from: an export of this recipe (``.safetensors``) to start G and D from, or None.
    """

    model: WGANResNetConfig = field(default_factory=WGANResNetConfig)
    batch_size: int = 64
    lr: float = 1e-4
    beta1: float = 0.0
    beta2: float = 0.9
    gp_weight: float = 10.0
    critic_steps: int = 5
    flip: bool = True
    ema_decay: float = 0.0
    init_from: str | None = None

    def validate(self) -> None:
        """Raise InpaintError for values out of range (the model validates itself)."""
        from inpaintkit.errors import InpaintError

        if self.batch_size < 1 or self.lr <= 0:
            raise InpaintError("recipe.batch_size must be >= 1 and recipe.lr > 0")
        if self.critic_steps < 1 or self.gp_weight < 0:
            raise InpaintError("recipe.critic_steps must be >= 1 and recipe.gp_weight >= 0")
        if not 0 <= self.ema_decay < 1:
            raise InpaintError(f"recipe.ema_decay must be in [0, 1), got {self.ema_decay}")


def sample_normal_z(n: int, z_dim: int, *, generator: torch.Generator) -> torch.Tensor:
    """``n`` latents (n, z_dim) ~ N(0, 1) drawn from ``generator`` (on its device)."""
    return torch.randn(n, z_dim, generator=generator, device=generator.device)


def critic_step(ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """One critic update: WGAN loss on a real batch vs fresh fakes, plus the gradient penalty."""
    assert real is not None
    cfg: WGANTrainConfig = ctx.cfg
    G, D = ctx.nets["G"], ctx.nets["D"]
    if cfg.flip:
        real = random_hflip(real, ctx.generator)
    z = sample_normal_z(real.shape[0], cfg.model.z_dim, generator=ctx.generator)
    with torch.no_grad():
        fake = G(z)  # (B, 3, S, S)
    real_scores, fake_scores = D(real), D(fake)  # (B,), (B,)
    wasserstein = wgan_d_loss(real_scores, fake_scores)  # E[D(fake)] - E[D(real)]
    gp = gradient_penalty(D, real, fake, generator=ctx.generator)
    return {"loss": wasserstein + cfg.gp_weight * gp, "wdist": -wasserstein.detach(), "gp": gp}


def generator_step(ctx: Ctx, _: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """One generator update with the WGAN loss -E[D(G(z))]."""
    cfg: WGANTrainConfig = ctx.cfg
    G, D = ctx.nets["G"], ctx.nets["D"]
    z = sample_normal_z(ctx.batch_size, cfg.model.z_dim, generator=ctx.generator)
    return {"loss": wgan_g_loss(D(G(z)))}


@register_recipe
class WGANResNetRecipe(GANRecipe):
    """Vitoria et al.'s ResNet WGAN-GP: critic x5, generator x1 per step."""

    name: ClassVar[str] = "wgan_resnet"
    config_cls: ClassVar[type] = WGANTrainConfig
    # The paper's 50,000 generator iterations (each reads 5 batches of 64 real images).
    loop_defaults: ClassVar[dict[str, Any]] = {"steps": 50_000}

    family: ClassVar[ModelFamily] = VITORIA2019

    def phases(self, cfg: WGANTrainConfig) -> list[Phase]:
        """``critic_steps`` critic updates (each on its own batch), then one generator update."""
        return [
            Phase("D", optimizer="D", step=critic_step, repeat=cfg.critic_steps),
            Phase(
                "G",
                optimizer="G",
                step=generator_step,
                needs_data=False,
                after=self.generator_after(cfg),
            ),
        ]

    def latents(self, n: int, cfg: Any, generator: torch.Generator) -> torch.Tensor:
        """(n, z_dim) latents from the paper's prior."""
        return sample_normal_z(n, cfg.model.z_dim, generator=generator)
