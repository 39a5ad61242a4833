"""Recipe ``deepfill``: DeepFill v1 (Yu et al. 2018; METHODS.md section 3).

One training step = ``critic_steps`` critic updates (local + global WGAN-GP, gradient penalty
on the hole pixels only, each update on its own batch) + one generator update (spatially
discounted l1 + ae + 0.001 adversarial). Adam lr 1e-4, betas (0.5, 0.9), batch 16, 256x256
random crops, one 128x128 box per image shrunk by up to ``max_delta`` (32) in total per axis;
``free_form`` > 0 mixes in free-form strokes (not in the paper: our default for photos).

    inpaintkit train deepfill --data /data/imagenet/train+dtd:/data/dtd/train --out runs/df

The local critic sees the ``local_size`` square around each hole (the paper's 128x128 box
before shrinking; around a stroke mask's bounding box, clamped to the image).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from inpaintkit.losses.adversarial import gradient_penalty, wgan_d_loss
from inpaintkit.losses.deepfill import MODES, generator_loss, spatial_discount
from inpaintkit.masks import box_mask, medium_mask, thick_mask
from inpaintkit.models.deepfill import (
    DEEPFILL,
    DeepFillConfig,
)
from inpaintkit.train.recipes import Ctx, Models, Phase, Recipe, random_hflip, register_recipe


@dataclass
class DeepFillTrainConfig:
    """Training config of the ``deepfill`` recipe; defaults are the paper's.

    Attributes:
        model: the generator (cnum 32, attention on); critics' sizes follow ``image_size``.
        image_size: side of the square training crops (256).
        batch_size: images per batch and per process (16).
        lr: Adam learning rate of all networks (1e-4).
        beta1, beta2: Adam betas (0.5, 0.9).
        critic_steps: critic updates per generator update (5).
        gp_weight: weight of each gradient penalty (10).
        max_delta: largest total shrink of the box per axis in pixels (32 at 256; None =
            image_size / 8).
        free_form: fraction of masks that are free-form strokes (medium or thick) instead of
            boxes (0 = the paper).
        gamma: spatial discount per pixel (0.99 paper; the authors' code 0.9 with "bbox").
        discount: "distance" (paper) or "bbox" (authors' code).
        adv_weight, l1_weight, ae_weight, coarse_weight: the generator loss weights.
        flip: random horizontal flips.
    """

    model: DeepFillConfig = field(default_factory=DeepFillConfig)
    image_size: int = 256
    batch_size: int = 16
    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.9
    critic_steps: int = 5
    gp_weight: float = 10.0
    max_delta: int | None = None
    free_form: float = 0.0
    gamma: float = 0.99
    discount: str = "distance"
    adv_weight: float = 0.001
    l1_weight: float = 1.2
    ae_weight: float = 1.2
    coarse_weight: float = 1.2
    flip: bool = True

    def validate(self) -> None:
        """Raise InpaintError for values out of range."""
        from inpaintkit.errors import InpaintError

        if self.image_size < 32 or self.image_size % 32:
            raise InpaintError(f"recipe.image_size must be a multiple of 32, got {self.image_size}")
        if self.batch_size < 1 or self.lr <= 0 or self.critic_steps < 0 or self.gp_weight < 0:
            raise InpaintError(
                "recipe.batch_size >= 1, lr > 0, critic_steps >= 0 and gp_weight >= 0 required"
            )
        if not 0 <= self.free_form <= 1:
            raise InpaintError(f"recipe.free_form must be in [0, 1], got {self.free_form}")
        if self.discount not in MODES:
            raise InpaintError(f"recipe.discount must be one of {MODES}, got {self.discount!r}")
        if not 0 < self.gamma <= 1:
            raise InpaintError(f"recipe.gamma must be in (0, 1], got {self.gamma}")
        # sizes the critics will see (checks them now rather than at the first step)
        DeepFillConfig(**{**self.model.to_dict(), **self.critic_sizes()})

    def critic_sizes(self) -> dict[str, int]:
        """The critics' input sizes: the local patch is half the image side."""
        return {"local_size": self.image_size // 2, "global_size": self.image_size}


@dataclass
class TrainMasks:
    """A batch of training holes and the square each local critic looks at.

    Attributes:
        mask: (B, 1, S, S) float, 1 = hole.
        boxes: (B, 2) int top-left corners (y, x) of the local_size squares.
    """

    mask: torch.Tensor
    boxes: np.ndarray


def sample_masks(cfg: DeepFillTrainConfig, n: int, generator: torch.Generator) -> TrainMasks:
    """``n`` training holes of ``cfg`` drawn from ``generator`` (reproducible per step).

    Boxes: :func:`inpaintkit.masks.box_mask` (half the side, shrunk by up to ``max_delta``);
    its local square is the box before shrinking (the shrink is symmetric, so it is the
    local_size square centred on the hole). Strokes (``free_form``): medium or thick strokes,
    local square centred on their bounding box and clamped to the image.
    """
    S, L = cfg.image_size, cfg.image_size // 2
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator, device=generator.device))
    rng = np.random.default_rng(seed)
    masks, boxes = [], []
    for _ in range(n):
        if rng.random() < cfg.free_form:
            kind = medium_mask if rng.random() < 0.5 else thick_mask
            m = kind((S, S), rng=rng)
        else:
            m = box_mask((S, S), rng=rng, max_delta=cfg.max_delta)
        ys, xs = np.nonzero(m)
        cy, cx = (ys.min() + ys.max() + 1) // 2, (xs.min() + xs.max() + 1) // 2
        boxes.append((int(np.clip(cy - L // 2, 0, S - L)), int(np.clip(cx - L // 2, 0, S - L))))
        masks.append(m)
    mask = torch.from_numpy(np.stack(masks)[:, None].astype(np.float32))
    return TrainMasks(mask=mask.to(generator.device), boxes=np.asarray(boxes))


def crop_local(x: torch.Tensor, boxes: np.ndarray, size: int) -> torch.Tensor:
    """The ``size`` squares at ``boxes`` (B, 2) (y, x) of x (B, C, S, S) -> (B, C, size, size)."""
    return torch.stack([x[i, :, y : y + size, c : c + size] for i, (y, c) in enumerate(boxes)])


class _Batch:
    """One batch's inputs: real images, holes, discount weights (built once per phase step)."""

    def __init__(self, ctx: Ctx, real: torch.Tensor) -> None:
        cfg: DeepFillTrainConfig = ctx.cfg
        if cfg.flip:
            real = random_hflip(real, ctx.generator)
        self.real = real
        m = sample_masks(cfg, real.shape[0], ctx.generator)
        self.mask, self.boxes, self.local = m.mask.to(real.dtype), m.boxes, cfg.image_size // 2

    def local_patch(self, x: torch.Tensor) -> torch.Tensor:
        return crop_local(x, self.boxes, self.local)


def critic_step(ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """Both critics on real vs composed fakes: WGAN loss + gp_weight * (gp_local + gp_global)."""
    assert real is not None
    cfg: DeepFillTrainConfig = ctx.cfg
    G, Dl, Dg = ctx.nets["G"], ctx.nets["local"], ctx.nets["global"]
    b = _Batch(ctx, real)
    with torch.no_grad():
        fine = G(b.real, b.mask).fine
    fake = fine * b.mask + b.real * (1 - b.mask)  # (B, 3, S, S)
    real_l, fake_l, hole_l = b.local_patch(b.real), b.local_patch(fake), b.local_patch(b.mask)
    w_local = wgan_d_loss(Dl(real_l), Dl(fake_l))
    w_global = wgan_d_loss(Dg(b.real), Dg(fake))
    gp_l = gradient_penalty(Dl, real_l, fake_l, mask=hole_l, generator=ctx.generator)
    gp_g = gradient_penalty(Dg, b.real, fake, mask=b.mask, generator=ctx.generator)
    loss = w_local + w_global + cfg.gp_weight * (gp_l + gp_g)
    return {"loss": loss, "wdist": -(w_local + w_global).detach(), "gp": (gp_l + gp_g).detach()}


def generator_step(ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """The generator objective of :func:`inpaintkit.losses.deepfill.generator_loss`."""
    assert real is not None
    cfg: DeepFillTrainConfig = ctx.cfg
    G, Dl, Dg = ctx.nets["G"], ctx.nets["local"], ctx.nets["global"]
    b = _Batch(ctx, real)
    out = G(b.real, b.mask)
    fake = out.fine * b.mask + b.real * (1 - b.mask)
    discount = spatial_discount(b.mask, gamma=cfg.gamma, mode=cfg.discount)
    if cfg.adv_weight > 0:
        scores_l, scores_g = Dl(b.local_patch(fake)), Dg(fake)
    else:  # pure reconstruction (warm-up runs): no critic forward
        scores_l = scores_g = fake.new_zeros(fake.shape[0])
    parts = generator_loss(
        out.coarse, out.fine, b.real, b.mask, discount=discount,
        fake_local_scores=scores_l, fake_global_scores=scores_g, adv_weight=cfg.adv_weight,
        l1_weight=cfg.l1_weight, ae_weight=cfg.ae_weight, coarse_weight=cfg.coarse_weight,
    )  # fmt: skip
    return {"loss": parts.total, "l1": parts.l1.detach(), "ae": parts.ae.detach(),
            "adv": parts.adversarial.detach()}  # fmt: skip


@register_recipe
class DeepFillRecipe(Recipe):
    """DeepFill v1: local + global critics x ``critic_steps``, then the generator."""

    name: ClassVar[str] = "deepfill"
    config_cls: ClassVar[type] = DeepFillTrainConfig
    # The authors' code trains for about 1M generator iterations; set --steps to your budget.
    loop_defaults: ClassVar[dict[str, Any]] = {"steps": 100_000}

    def __init__(self) -> None:
        self._preview: torch.Tensor | None = None

    def image_size(self, cfg: DeepFillTrainConfig) -> int:
        """Side of the training crops."""
        return int(cfg.image_size)

    def build(self, cfg: DeepFillTrainConfig, device: torch.device) -> Models:
        """The generator and both critics with Adam(lr, (beta1, beta2)) each."""
        nets = DEEPFILL.build(replace(cfg.model, **cfg.critic_sizes()))
        G, Dl, Dg = (nets[n].to(device) for n in ("G", "local", "global"))
        betas = (cfg.beta1, cfg.beta2)
        critics = [*Dl.parameters(), *Dg.parameters()]
        return Models(
            nets={"G": G, "local": Dl, "global": Dg},
            optimizers={
                "G": torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=betas),
                "D": torch.optim.Adam(critics, lr=cfg.lr, betas=betas),
            },
        )

    def architecture(self, cfg: DeepFillTrainConfig) -> dict[str, Any]:
        """The generator's config (the critics are not exported)."""
        return {**cfg.model.to_dict(), **cfg.critic_sizes()}

    def phases(self, cfg: DeepFillTrainConfig) -> list[Phase]:
        """``critic_steps`` critic updates (skipped when 0), then the generator update."""
        g = Phase("G", optimizer="G", step=self._g_step)
        if cfg.critic_steps == 0 or cfg.adv_weight == 0:
            return [g]
        return [Phase("D", optimizer="D", step=critic_step, repeat=cfg.critic_steps), g]

    def _g_step(self, ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
        if self._preview is None and real is not None:  # the first real batch: sample grids
            self._preview = real[:8].detach().float().cpu()
        return generator_step(ctx, real)

    def sample(
        self, nets: dict[str, nn.Module], cfg: DeepFillTrainConfig, n: int,
        generator: torch.Generator,
    ) -> torch.Tensor:  # fmt: skip
        """Rows of (input with hole, coarse, fine composed, original) for up to ``n`` images.

        Uses the first training batch (fixed for the run) and holes drawn from ``generator``.
        """
        G = nets["G"]
        device = next(G.parameters()).device
        if self._preview is None:
            return torch.zeros(4, 3, cfg.image_size, cfg.image_size)
        real = self._preview[: max(1, n // 4)].to(device)
        mask = sample_masks(cfg, real.shape[0], generator).mask.to(device)
        out = G(real, mask)
        keep = real * (1 - mask)
        rows = [keep + mask, out.coarse * mask + keep, out.fine * mask + keep, real]
        return torch.stack(rows, dim=1).flatten(0, 1).clamp(-1, 1)  # (4 n, 3, S, S)

    def export(self, nets: dict[str, nn.Module], cfg: DeepFillTrainConfig) -> dict[str, nn.Module]:
        """The generator alone (inference needs nothing else)."""
        return {"G": nets["G"]}
