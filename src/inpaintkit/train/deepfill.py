"""Recipe ``deepfill``: DeepFill v1 (Yu et al., CVPR 2018).

``preset=paper`` (the default) is the paper's recipe. One training step = ``critic_steps``
critic updates (local + global WGAN-GP, gradient penalty on the hole pixels only, each update
on its own batch) + one generator update (spatially discounted l1 + ae + 0.001 adversarial).
Adam lr 1e-4, betas (0.5, 0.9), batch 16, 256x256 random crops, one 128x128 box per image
shrunk by up to ``max_delta`` (32) in total per axis; ``free_form`` > 0 mixes in free-form
strokes (not in the paper: our default for photos).

    inpaintkit train deepfill --data /data/imagenet/train+dtd:/data/dtd/train --out runs/df

``preset=efficient`` keeps the architecture and changes how it is trained, for quality per
CPU-hour (docs/training.md has the controlled study behind each choice): the exported
generator is an exponential moving average of the trained one (``ema_decay``); perceptual and
style losses on an ImageNet VGG16's relu1_2/2_2/3_3 features of the output and the composite
(``perceptual_weight``, ``style_weight``); one spectral-norm PatchGAN critic on (image, mask)
with the hinge loss and one critic step (DeepFill v2's SN-PatchGAN: ``critic="sn-patchgan"``)
plus feature matching on its features (``fm_weight``); and holes that include object
silhouettes and thin scratches (``objects``, ``thin``). Any key can still be set on top of a
preset (``--set recipe.preset=efficient --set recipe.style_weight=0``).

The local WGAN critic sees the ``local_size`` square around each hole (the paper's 128x128 box
before shrinking; around a stroke mask's bounding box, clamped to the image).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import torch
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.losses.adversarial import (
    feature_matching_loss,
    gradient_penalty,
    hinge_d_loss,
    hinge_g_loss,
    wgan_d_loss,
    wgan_g_loss,
)
from inpaintkit.losses.deepfill import MODES, generator_loss, spatial_discount
from inpaintkit.losses.perceptual import DEFAULT_LAYERS, perceptual_style_loss
from inpaintkit.models.deepfill import (
    DEEPFILL,
    DeepFillConfig,
)
from inpaintkit.models.sn_patchgan import SNPatchGANCritic
from inpaintkit.train.deepfill_masks import TrainMasks, crop_local, sample_masks
from inpaintkit.train.ema import ema_copy, update_g_ema
from inpaintkit.train.recipes import Ctx, Models, Phase, Recipe, random_hflip, register_recipe

__all__ = ["DeepFillRecipe", "DeepFillTrainConfig", "TrainMasks", "crop_local", "sample_masks"]

CRITICS = ("wgan-gp", "sn-patchgan")


@dataclass
class DeepFillTrainConfig:
    """Training config of the ``deepfill`` recipe; defaults are the paper's.

    Attributes:
        preset: "paper" (these defaults) or "efficient" (see :attr:`PRESETS`): a preset
            fills every key it names unless the config sets that key itself.
        model: the generator (cnum 32, attention on); critics' sizes follow ``image_size``.
        image_size: side of the square training crops (256).
        batch_size: images per batch and per process (16).
        lr: Adam learning rate of all networks (1e-4).
        beta1, beta2: Adam betas (0.5, 0.9).
        critic: "wgan-gp" (the paper's local + global WGAN-GP critics) or "sn-patchgan"
            (one spectral-norm PatchGAN critic on (image, mask), hinge loss; DeepFill v2).
        critic_steps: critic updates per generator update (5).
        gp_weight: weight of each gradient penalty (10; wgan-gp only).
        max_delta: largest total shrink of the box per axis in pixels (32 at 256; None =
            image_size / 8).
        free_form: fraction of masks that are free-form strokes (medium or thick) instead of
            boxes (0 = the paper).
        objects: fraction of masks that are object silhouettes (drawn first; 0 = the paper).
        thin: fraction of the remaining masks that are thin scratches (0 = the paper).
        gamma: spatial discount per pixel (0.99 paper; the authors' code 0.9 with "bbox").
        discount: "distance" (paper) or "bbox" (authors' code).
        adv_weight, l1_weight, ae_weight, coarse_weight: the generator loss weights.
        perceptual_weight: weight of the VGG16 perceptual loss of the fine output and its
            composite (0 = off, the paper).
        style_weight: weight of the VGG16 Gram-matrix style loss (0 = off, the paper).
        fm_weight: weight of feature matching on the SN-PatchGAN critic's features (0 = off).
        ema_decay: decay of the exported weight average of G (0 = no average, the paper).
        init_from: an export of this recipe (a ``.safetensors`` file) to start G from, or None.
        flip: random horizontal flips.
    """

    #: named presets: key -> value overrides applied under the user's own keys.
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {},
        "efficient": {
            "critic": "sn-patchgan",
            "critic_steps": 1,
            "adv_weight": 0.01,
            "fm_weight": 0.1,
            "perceptual_weight": 0.1,
            "style_weight": 100.0,
            "ema_decay": 0.999,
            "objects": 0.4,
            "thin": 0.15,
            "free_form": 0.5,
        },
    }

    preset: str = "paper"
    model: DeepFillConfig = field(default_factory=DeepFillConfig)
    image_size: int = 256
    batch_size: int = 16
    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.9
    critic: str = "wgan-gp"
    critic_steps: int = 5
    gp_weight: float = 10.0
    max_delta: int | None = None
    free_form: float = 0.0
    objects: float = 0.0
    thin: float = 0.0
    gamma: float = 0.99
    discount: str = "distance"
    adv_weight: float = 0.001
    l1_weight: float = 1.2
    ae_weight: float = 1.2
    coarse_weight: float = 1.2
    perceptual_weight: float = 0.0
    style_weight: float = 0.0
    fm_weight: float = 0.0
    ema_decay: float = 0.0
    init_from: str | None = None
    flip: bool = True

    def validate(self) -> None:
        """Raise InpaintError for values out of range."""
        if self.preset not in self.PRESETS:
            raise InpaintError(
                f"recipe.preset must be one of {', '.join(self.PRESETS)}, got {self.preset!r}"
            )
        if self.image_size < 32 or self.image_size % 32:
            raise InpaintError(f"recipe.image_size must be a multiple of 32, got {self.image_size}")
        if self.batch_size < 1 or self.lr <= 0 or self.critic_steps < 0 or self.gp_weight < 0:
            raise InpaintError(
                "recipe.batch_size >= 1, lr > 0, critic_steps >= 0 and gp_weight >= 0 required"
            )
        for name in ("free_form", "objects", "thin"):
            if not 0 <= getattr(self, name) <= 1:
                raise InpaintError(f"recipe.{name} must be in [0, 1], got {getattr(self, name)}")
        if self.discount not in MODES:
            raise InpaintError(f"recipe.discount must be one of {MODES}, got {self.discount!r}")
        if not 0 < self.gamma <= 1:
            raise InpaintError(f"recipe.gamma must be in (0, 1], got {self.gamma}")
        if self.critic not in CRITICS:
            raise InpaintError(f"recipe.critic must be one of {CRITICS}, got {self.critic!r}")
        if min(self.perceptual_weight, self.style_weight, self.fm_weight) < 0:
            raise InpaintError("recipe.perceptual_weight, style_weight, fm_weight must be >= 0")
        if self.fm_weight and self.critic != "sn-patchgan":
            raise InpaintError("recipe.fm_weight needs recipe.critic=sn-patchgan")
        if not 0 <= self.ema_decay < 1:
            raise InpaintError(f"recipe.ema_decay must be in [0, 1), got {self.ema_decay}")
        # sizes the critics will see (checks them now rather than at the first step)
        DeepFillConfig(**{**self.model.to_dict(), **self.critic_sizes()})

    def critic_sizes(self) -> dict[str, int]:
        """The critics' input sizes: the local patch is half the image side."""
        return {"local_size": self.image_size // 2, "global_size": self.image_size}


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
    """The critics on real vs composed fakes.

    wgan-gp: both critics, WGAN loss + gp_weight * (gp_local + gp_global); sn-patchgan: the
    patch critic on (image, mask) pairs, hinge loss.
    """
    assert real is not None
    cfg: DeepFillTrainConfig = ctx.cfg
    G = ctx.nets["G"]
    b = _Batch(ctx, real)
    with torch.no_grad():
        fine = G(b.real, b.mask).fine
    fake = fine * b.mask + b.real * (1 - b.mask)  # (B, 3, S, S)
    if cfg.critic == "sn-patchgan":
        D = ctx.nets["D"]
        loss = hinge_d_loss(D(b.real, b.mask)[-1], D(fake, b.mask)[-1])
        return {"loss": loss}
    Dl, Dg = ctx.nets["local"], ctx.nets["global"]
    real_l, fake_l, hole_l = b.local_patch(b.real), b.local_patch(fake), b.local_patch(b.mask)
    w_local = wgan_d_loss(Dl(real_l), Dl(fake_l))
    w_global = wgan_d_loss(Dg(b.real), Dg(fake))
    gp_l = gradient_penalty(Dl, real_l, fake_l, mask=hole_l, generator=ctx.generator)
    gp_g = gradient_penalty(Dg, b.real, fake, mask=b.mask, generator=ctx.generator)
    loss = w_local + w_global + cfg.gp_weight * (gp_l + gp_g)
    return {"loss": loss, "wdist": -(w_local + w_global).detach(), "gp": (gp_l + gp_g).detach()}


def _adversarial(ctx: Ctx, b: _Batch, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(adversarial, feature matching) generator terms of the composed fakes, unweighted."""
    cfg: DeepFillTrainConfig = ctx.cfg
    zero = fake.new_zeros(())
    if cfg.adv_weight == 0 and cfg.fm_weight == 0:
        return zero, zero  # pure reconstruction (warm-up runs): no critic forward
    if cfg.critic == "sn-patchgan":
        fake_f = ctx.nets["D"](fake, b.mask)
        fm = zero
        if cfg.fm_weight:
            with torch.no_grad():
                real_f = ctx.nets["D"](b.real, b.mask)
            fm = feature_matching_loss(fake_f, real_f)
        return hinge_g_loss(fake_f[-1]), fm
    Dl, Dg = ctx.nets["local"], ctx.nets["global"]
    return wgan_g_loss(Dl(b.local_patch(fake))) + wgan_g_loss(Dg(fake)), zero


def generator_step(
    ctx: Ctx, real: torch.Tensor | None, vgg: nn.Module | None = None
) -> dict[str, torch.Tensor]:
    """The generator objective: :func:`inpaintkit.losses.deepfill.generator_loss`'s l1 + ae,
    the critic's adversarial term, and the efficient recipe's perceptual, style and feature
    matching terms when their weights are above 0 (``vgg`` given)."""
    assert real is not None
    cfg: DeepFillTrainConfig = ctx.cfg
    b = _Batch(ctx, real)
    out = ctx.nets["G"](b.real, b.mask)
    fake = out.fine * b.mask + b.real * (1 - b.mask)
    discount = spatial_discount(b.mask, gamma=cfg.gamma, mode=cfg.discount)
    adv, fm = _adversarial(ctx, b, fake)
    zero = fake.new_zeros(fake.shape[0])  # the adversarial term is added below, per critic
    parts = generator_loss(
        out.coarse, out.fine, b.real, b.mask, discount=discount,
        fake_local_scores=zero, fake_global_scores=zero, adv_weight=0.0,
        l1_weight=cfg.l1_weight, ae_weight=cfg.ae_weight, coarse_weight=cfg.coarse_weight,
    )  # fmt: skip
    total = parts.total + cfg.adv_weight * adv + cfg.fm_weight * fm
    values = {"l1": parts.l1.detach(), "ae": parts.ae.detach(), "adv": adv.detach()}
    if cfg.fm_weight:
        values["fm"] = fm.detach()
    if vgg is not None and (cfg.perceptual_weight or cfg.style_weight):
        perc, style = perceptual_style_loss(
            vgg, out.fine, b.real, b.mask, layers=DEFAULT_LAYERS,
            perceptual_weight=cfg.perceptual_weight, style_weight=cfg.style_weight,
        )  # fmt: skip
        total = total + cfg.perceptual_weight * perc + cfg.style_weight * style
        values.update(perceptual=perc.detach(), style=style.detach())
    return {"loss": total, **values}


@register_recipe
class DeepFillRecipe(Recipe):
    """DeepFill v1: the critics x ``critic_steps``, then the generator (+ its weight average)."""

    name: ClassVar[str] = "deepfill"
    config_cls: ClassVar[type] = DeepFillTrainConfig
    # The authors' code trains for about 1M generator iterations; set --steps to your budget.
    loop_defaults: ClassVar[dict[str, Any]] = {"steps": 100_000}

    def __init__(self) -> None:
        self._preview: torch.Tensor | None = None
        self._vgg: nn.Module | None = None

    def image_size(self, cfg: DeepFillTrainConfig) -> int:
        """Side of the training crops."""
        return int(cfg.image_size)

    def build(self, cfg: DeepFillTrainConfig, device: torch.device) -> Models:
        """The generator (from ``init_from`` if given), its critics and their Adams, the EMA
        copy ``G_ema`` when ``ema_decay`` > 0, and the frozen VGG16 of the perceptual losses."""
        G = DEEPFILL.build(cfg.model, only=("G",))["G"].to(device)
        if cfg.init_from is not None:
            G.load_state_dict(self._initial_state(cfg))
        nets: dict[str, nn.Module] = {"G": G}
        if cfg.critic == "sn-patchgan":
            kw = {"image_channels": cfg.model.image_channels, "cnum": cfg.model.critic_cnum}
            layers = min(6, (cfg.image_size // 2).bit_length() - 1)  # stop at a 2x2 map
            nets["D"] = SNPatchGANCritic(**kw, layers=layers).to(device)
        else:  # the family's local and global critics, sized for the training crops
            sized = replace(cfg.model, **cfg.critic_sizes())
            critics = DEEPFILL.build(sized, only=("local", "global"))
            nets.update({name: net.to(device) for name, net in critics.items()})
        betas = (cfg.beta1, cfg.beta2)
        critics = [p for n, net in nets.items() if n != "G" for p in net.parameters()]
        optimizers = {
            "G": torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=betas),
            "D": torch.optim.Adam(critics, lr=cfg.lr, betas=betas),
        }
        if cfg.ema_decay > 0:
            nets["G_ema"] = ema_copy(G)
        if cfg.perceptual_weight or cfg.style_weight:
            from inpaintkit.nn.vgg import load_vgg16  # lazy: converts the weights on first use

            self._vgg = load_vgg16(upto=DEFAULT_LAYERS[-1]).to(device)
        return Models(nets=nets, optimizers=optimizers)

    def _initial_state(self, cfg: DeepFillTrainConfig) -> dict[str, torch.Tensor]:
        """G's weights from the export ``cfg.init_from`` (same architecture)."""
        from inpaintkit.train.export import load_export

        assert cfg.init_from is not None
        nets, card = load_export(cfg.init_from)
        critic_keys = {"critic_cnum", *cfg.critic_sizes()}  # the generator ignores these
        mine = {k: v for k, v in cfg.model.to_dict().items() if k not in critic_keys}
        arch = {k: v for k, v in card.get("architecture", {}).items() if k in mine}
        if card.get("model") != self.name or "G" not in nets or arch != mine:
            raise InpaintError(
                f"recipe.init_from {cfg.init_from} is not a {self.name} export with this "
                f"generator's architecture ({mine})"
            )
        return nets["G"]

    def architecture(self, cfg: DeepFillTrainConfig) -> dict[str, Any]:
        """The generator's config (the critics are not exported)."""
        return {**cfg.model.to_dict(), **cfg.critic_sizes()}

    def phases(self, cfg: DeepFillTrainConfig) -> list[Phase]:
        """``critic_steps`` critic updates (skipped when 0), then the generator update (and the
        EMA update after it)."""
        after = update_g_ema if cfg.ema_decay > 0 else None
        g = Phase("G", optimizer="G", step=self._g_step, after=after)
        if cfg.critic_steps == 0 or (cfg.adv_weight == 0 and cfg.fm_weight == 0):
            return [g]
        return [Phase("D", optimizer="D", step=critic_step, repeat=cfg.critic_steps), g]

    def _g_step(self, ctx: Ctx, real: torch.Tensor | None) -> dict[str, torch.Tensor]:
        if self._preview is None and real is not None:  # the first real batch: sample grids
            self._preview = real[:8].detach().float().cpu()
        return generator_step(ctx, real, self._vgg)

    def sample(
        self, nets: dict[str, nn.Module], cfg: DeepFillTrainConfig, n: int,
        generator: torch.Generator,
    ) -> torch.Tensor:  # fmt: skip
        """Rows of (input with hole, coarse, fine composed, original) for up to ``n`` images.

        Uses the first training batch (fixed for the run), holes drawn from ``generator`` and
        the exported generator (the EMA when there is one).
        """
        G = nets.get("G_ema", nets["G"])
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
        """The generator alone (the EMA copy when there is one): inference needs nothing else."""
        return {"G": nets.get("G_ema", nets["G"])}
