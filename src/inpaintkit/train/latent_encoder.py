"""Recipe ``latent_encoder``: an encoder E that starts the latent search of a FROZEN generator.

Self-supervised on the generator's own samples (ours; "amortised search"): each step draws
z from the generator's prior (``yeh2017``: U[-1, 1]; ``vitoria2019``: N(0, 1) clipped to the
search's box [-1, 1]), makes x = G(z), cuts holes of the latent-search papers' kinds (centre,
Yeh's pattern, 80 % random pixels, halves, three squares, ...) and trains E on

    z_weight * ||E(x * (1 - m), m) - z||^2  +  image_weight * |G(E(x * (1 - m), m)) - x|

(mean squared error over z; mean absolute error over the image, hole pixels weighted
``hole_weight`` and known pixels 1). A ``real_fraction`` of each batch can be real training
images (image loss only: they have no z). G and its D stay frozen (eval mode, no gradients
into their weights); only E is trained (Adam). ::

    inpaintkit train latent_encoder --set recipe.generator=yeh2017_celeba64 \\
        --data celeba:DIR/celeba/align_178x218/train --max-cpu-minutes 40 --out runs/encoder
    inpaintkit weights install runs/encoder/export/latent_encoder.safetensors

The export's card names its generator and the sha256 of the generator's file; installed, the
encoder lands beside that model as ``<model>.encoder.safetensors`` and starts its searches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.masks import MASK_KINDS
from inpaintkit.models.latent_encoder import LATENT_ENCODER, LatentEncoderConfig
from inpaintkit.registry import ModelFamily
from inpaintkit.train.recipes import (
    Ctx,
    Models,
    Phase,
    Recipe,
    draw_holes,
    random_hflip,
    register_recipe,
)

#: each latent-search family's latent prior.
PRIORS = {"yeh2017": "uniform", "vitoria2019": "normal"}


@dataclass
class LatentEncoderTrainConfig:
    """Training config of the ``latent_encoder`` recipe.

    Attributes:
        generator: the frozen generator: an installed model ``<family>_<domain>``
            (``yeh2017_celeba64``) or a ``.safetensors`` file (a ``dcgan`` or ``wgan_resnet``
            export).
        width: the encoder's first-layer channels (:class:`LatentEncoderConfig`).
        batch_size: images per batch and per process.
        lr: Adam learning rate (betas 0.9, 0.999).
        z_weight: weight of the squared error on z (generated images only).
        image_weight: weight of the absolute error of G(E(.)) against the image.
        hole_weight: weight of hole pixels in the image error (known pixels: 1).
        real_fraction: fraction of each batch that is real training images (image loss only).
        mask_kinds: hole kinds (:data:`inpaintkit.masks.MASK_KINDS`), one drawn per image.
        flip: random horizontal flips of the real images.
    """

    generator: str = "yeh2017_celeba64"
    width: int = 32
    batch_size: int = 64
    lr: float = 1e-3
    z_weight: float = 1.0
    image_weight: float = 1.0
    hole_weight: float = 1.0
    real_fraction: float = 0.25
    mask_kinds: tuple[str, ...] = ("center", "pattern", "random80", "half", "three_squares")
    flip: bool = True

    def validate(self) -> None:
        """Raise InpaintError for values out of range."""
        if self.batch_size < 1 or self.lr <= 0 or self.width < 1:
            raise InpaintError("recipe.batch_size and recipe.width must be >= 1, recipe.lr > 0")
        if min(self.z_weight, self.image_weight, self.hole_weight) < 0:
            raise InpaintError("recipe.z_weight, image_weight and hole_weight must be >= 0")
        if not 0 <= self.real_fraction < 1:
            raise InpaintError("recipe.real_fraction must be in [0, 1)")
        bad = [k for k in self.mask_kinds if k not in MASK_KINDS]
        if not self.mask_kinds or bad:
            raise InpaintError(f"recipe.mask_kinds must name kinds from {sorted(MASK_KINDS)}")


def sample_prior(n: int, z_dim: int, prior: str, generator: torch.Generator) -> torch.Tensor:
    """(n, z_dim) latents of the generator's prior, inside the search's box [-1, 1]."""
    dev = generator.device
    if prior == "uniform":
        return torch.rand(n, z_dim, generator=generator, device=dev) * 2 - 1
    return torch.randn(n, z_dim, generator=generator, device=dev).clamp(-1, 1)


@register_recipe
class LatentEncoderRecipe(Recipe):
    """One phase: E's update on generated (and optionally real) images with holes."""

    name: ClassVar[str] = "latent_encoder"
    config_cls: ClassVar[type] = LatentEncoderTrainConfig
    loop_defaults: ClassVar[dict[str, Any]] = {"steps": 20_000}
    family: ClassVar[ModelFamily] = LATENT_ENCODER

    def __init__(self) -> None:
        self._gen: tuple[str, Any] | None = None  # (spec, LoadedModel) of the generator
        self._G: nn.Module | None = None  # the frozen generator on the training device

    # --- the generator -------------------------------------------------------------------------

    def generator_model(self, cfg: LatentEncoderTrainConfig) -> Any:
        """The generator's :class:`~inpaintkit.weights.read.LoadedModel` (cached per spec)."""
        from inpaintkit.weights import load_model
        from inpaintkit.weights.encoders import resolve_generator

        if self._gen is None or self._gen[0] != cfg.generator:
            family, path = resolve_generator(cfg.generator)
            self._gen = (cfg.generator, load_model(family.name, path, only=("G",)))
        return self._gen[1]

    def encoder_config(self, cfg: LatentEncoderTrainConfig) -> LatentEncoderConfig:
        """E's architecture: the generator's z_dim, image size and prior; ``cfg.width``."""
        gen = self.generator_model(cfg)
        g_cfg = gen.configs["G"]
        return LatentEncoderConfig(
            z_dim=g_cfg.z_dim,
            image_size=g_cfg.image_size,
            prior=PRIORS[gen.family.name],
            width=cfg.width,
        )

    def image_size(self, cfg: LatentEncoderTrainConfig) -> int:
        """The generator's image size."""
        return self.encoder_config(cfg).image_size

    def architecture(self, cfg: LatentEncoderTrainConfig) -> dict[str, Any]:
        """The encoder's config for the model card."""
        from dataclasses import asdict

        return asdict(self.encoder_config(cfg))

    def card_extra(self, cfg: LatentEncoderTrainConfig) -> dict[str, Any]:
        """The generator's name, family and sha256 (the encoder is used only with that file)."""
        from inpaintkit.weights.encoders import model_sha256

        gen = self.generator_model(cfg)
        return {
            "generator": gen.path.stem,
            "generator_family": gen.family.name,
            "generator_sha256": model_sha256(gen.path),
            "training": {
                "mask_kinds": list(cfg.mask_kinds),
                "real_fraction": cfg.real_fraction,
                "z_weight": cfg.z_weight,
                "image_weight": cfg.image_weight,
                "hole_weight": cfg.hole_weight,
            },
        }

    # --- training ------------------------------------------------------------------------------

    def build(self, cfg: LatentEncoderTrainConfig, device: torch.device) -> Models:
        """E (seeded by the loop) with Adam; the frozen G copied onto ``device``."""
        import copy

        enc_cfg = self.encoder_config(cfg)
        G = copy.deepcopy(self.generator_model(cfg).nets["G"])  # the cached one stays untouched
        self._G = G.to(device).eval().requires_grad_(False)
        E = LATENT_ENCODER.build(enc_cfg)["E"].to(device)
        return Models(nets={"E": E}, optimizers={"E": torch.optim.Adam(E.parameters(), cfg.lr)})

    def phases(self, cfg: LatentEncoderTrainConfig) -> list[Phase]:
        """One update of E per step (reading real images only when ``real_fraction`` > 0)."""
        return [Phase("E", optimizer="E", step=self.step, needs_data=cfg.real_fraction > 0)]

    def _frozen_g(self) -> nn.Module:
        if self._G is None:
            raise ValueError("build() must run before the latent_encoder recipe's steps")
        return self._G

    def batch(
        self, ctx: Ctx, real: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(images (B, 3, S, S), holes (B, 1, S, S), z (B_gen, z_dim)) of one step: the first
        B_gen images are G(z), the rest real."""
        cfg: LatentEncoderTrainConfig = ctx.cfg
        enc_cfg = self.encoder_config(cfg)
        n_real = 0 if real is None else round(cfg.real_fraction * ctx.batch_size)
        z = sample_prior(ctx.batch_size - n_real, enc_cfg.z_dim, enc_cfg.prior, ctx.generator)
        with torch.no_grad():
            images = self._frozen_g()(z).float()  # (B_gen, 3, S, S)
        if n_real:
            assert real is not None
            extra = real[:n_real].float()
            extra = random_hflip(extra, ctx.generator) if cfg.flip else extra
            images = torch.cat([images, extra.contiguous()])
        holes = draw_holes(cfg.mask_kinds, images.shape[0], enc_cfg.image_size, ctx.generator)
        return images, holes, z

    def step(self, ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """E's loss on one batch (see the module docstring)."""
        cfg: LatentEncoderTrainConfig = ctx.cfg
        images, holes, z = self.batch(ctx, real)
        z_hat = ctx.nets["E"](images * (1 - holes), holes)  # (B, z_dim)
        recon = self._frozen_g()(z_hat).float()  # (B, 3, S, S): gradients flow into E only
        z_loss = (z_hat[: z.shape[0]].float() - z).pow(2).mean()
        weight = 1 + (cfg.hole_weight - 1) * holes  # (B, 1, S, S)
        image_loss = ((recon - images).abs() * weight).mean()
        loss = cfg.z_weight * z_loss + cfg.image_weight * image_loss
        return {"loss": loss, "z_mse": z_loss.detach(), "image_l1": image_loss.detach()}

    def sample(
        self, nets: dict[str, nn.Module], cfg: LatentEncoderTrainConfig, n: int,
        generator: torch.Generator,
    ) -> torch.Tensor:  # fmt: skip
        """Triplets of fixed generated images: the input (centre hole), G(E(input)), the truth:
        (3 * (n // 3), 3, S, S)."""
        from inpaintkit.masks import center_mask

        enc_cfg = self.encoder_config(cfg)
        k, S = max(1, n // 3), enc_cfg.image_size
        E = nets["E"]
        dev = next(E.parameters()).device
        z = sample_prior(k, enc_cfg.z_dim, enc_cfg.prior, generator).to(dev)
        G = self._frozen_g()
        truth = G(z)
        hole = torch.from_numpy(center_mask((S, S))).float().to(dev).expand(k, 1, S, S)
        recon = G(E(truth * (1 - hole), hole))
        return torch.stack([truth * (1 - hole), recon, truth], 1).flatten(0, 1)

    def export(self, nets: dict[str, nn.Module], cfg: Any) -> dict[str, nn.Module]:
        """The encoder."""
        return {"E": nets["E"]}
