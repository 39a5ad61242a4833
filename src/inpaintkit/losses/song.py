"""Song et al. 2018's generator objectives (G1: image, feature and adversarial terms; G2: l1 and
adversarial). Pure: they call the networks and return scalars, never ``backward()``.

G1 (Image2Feature)::

    L_G1 = img_weight L_img + feat_weight L_feat + adv_weight L_adv   (paper: 1000, 0.001, 1)
    L_img  = l1 of G1's output over the hole (weight 1) and a band of ``overlap`` known pixels
             around it (weight ``overlap_weight``), normalised by the total weight
             (:func:`inpaintkit.losses.masked.overlap_weights`)
    L_feat = l1 between VGG relu3_1 of the composite (G1's output in the hole) and of the ground
             truth, over the feature cells that cover any hole pixel
    L_adv  = BCE with logits of D1(G1 input, composite) against "real"

G2 (Feature2Image): ``l1_weight * mean |G2(swapped) - real| + adv_weight * L_adv``.

Not in the paper (the ``efficient`` recipes, docs/efficient_training.md): both objectives add
``perceptual_weight * L_perc + style_weight * L_style`` when a ``vgg`` is given, the VGG16
perceptual and Gram-matrix style distances of :mod:`inpaintkit.losses.perceptual` to the
ground truth: of G1's output and composite, and of G2's whole output.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from inpaintkit.composite import paste as compose
from inpaintkit.losses.adversarial import gan_g_loss
from inpaintkit.losses.masked import masked_l1, overlap_weights
from inpaintkit.losses.perceptual import DEFAULT_LAYERS, FeatureNet, perceptual_style_loss
from inpaintkit.nn.patch_swap import hole_at

__all__ = ["f2i_objective", "i2f_objective", "patch_logits"]

Features = Callable[[torch.Tensor], torch.Tensor]


def patch_logits(
    D: Callable[..., torch.Tensor], cond: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """PatchGAN logits flattened to one score per patch: (B h w,)."""
    return D(cond, target).flatten()


def _vgg_terms(
    vgg: FeatureNet | None, out: torch.Tensor, real: torch.Tensor, mask: torch.Tensor | None,
    perceptual_weight: float, style_weight: float,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """The weighted perceptual + style term (``vgg_loss``) and its unweighted parts, or {}."""
    if vgg is None or not (perceptual_weight or style_weight):
        return {}
    perc, style = perceptual_style_loss(
        vgg, out, real, mask, layers=DEFAULT_LAYERS, perceptual_weight=perceptual_weight,
        style_weight=style_weight,
    )  # fmt: skip
    total = perceptual_weight * perc + style_weight * style
    return {"vgg_loss": total, "perceptual": perc.detach(), "style": style.detach()}


def i2f_objective(
    G: Callable[..., torch.Tensor], D: Callable[..., torch.Tensor], features: Features,
    real: torch.Tensor, mask: torch.Tensor, *, condition: torch.Tensor | None, overlap: int,
    overlap_weight: float, img_weight: float, feat_weight: float, adv_weight: float,
    vgg: FeatureNet | None = None, perceptual_weight: float = 0.0, style_weight: float = 0.0,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """G1's objective on (real, mask): ``loss`` and its parts ``img``, ``feat``, ``adv`` (and
    ``perceptual``, ``style`` with a ``vgg``).

    Args:
        G: G1, ``G(image, mask) -> (B, 3, H, W)``. D: D1, ``D(condition, image) -> logits``.
        features: image (B, 3, H, W) -> relu3_1 map (B, C, h, w).
        real: (B, 3, H, W) in [-1, 1]. mask: (B, 1, H, W), 1 = hole.
        condition: D1's condition (G1's input), needed when ``adv_weight`` > 0.
        overlap, overlap_weight, img_weight, feat_weight, adv_weight: see the module doc.
        vgg, perceptual_weight, style_weight: the perceptual and style terms of G1's output
            and composite (:func:`~inpaintkit.losses.perceptual.perceptual_style_loss`);
            skipped without a ``vgg`` or when both weights are 0.
    """
    pred = G(real, mask)  # (B, 3, H, W)
    comp = compose(pred, real, mask)
    w = overlap_weights(mask, overlap=overlap, overlap_weight=overlap_weight)
    img = masked_l1(pred, real, w)
    f_fake = features(comp)  # (B, C, h, w)
    with torch.no_grad():
        f_real = features(real)
    cells = hole_at(mask, tuple(f_fake.shape[-2:])).to(f_fake.dtype)  # (B, 1, h, w)
    feat = masked_l1(f_fake, f_real, cells)
    adv = real.new_zeros((), dtype=torch.float32)
    if adv_weight > 0:
        if condition is None:
            raise ValueError("i2f_objective needs D1's condition when adv_weight > 0")
        adv = gan_g_loss(patch_logits(D, condition, comp))
    loss = img_weight * img + feat_weight * feat + adv_weight * adv
    extra = _vgg_terms(vgg, pred, real, mask, perceptual_weight, style_weight)
    if extra:
        loss = loss + extra.pop("vgg_loss")
    return {"loss": loss, "img": img.detach(), "feat": feat.detach(), "adv": adv.detach(),
            **extra}  # fmt: skip


def f2i_objective(
    G: Callable[..., torch.Tensor], D: Callable[..., torch.Tensor], swapped: torch.Tensor,
    real: torch.Tensor, *, l1_weight: float, adv_weight: float, vgg: FeatureNet | None = None,
    perceptual_weight: float = 0.0, style_weight: float = 0.0,
) -> dict[str, torch.Tensor]:  # fmt: skip
    """G2's objective: ``loss = l1_weight * l1 + adv_weight * adv`` and the parts ``l1``, ``adv``
    (+ ``perceptual_weight * perceptual + style_weight * style`` and those parts with a ``vgg``).

    Args:
        G: G2, (B, C, h, w) -> (B, 3, 4h, 4w). D: D2 on (features, image) pairs.
        swapped: (B, C, h, w) patch-swapped features. real: (B, 3, 4h, 4w) targets.
        vgg, perceptual_weight, style_weight: the perceptual and style terms of the whole
            output (:func:`~inpaintkit.losses.perceptual.perceptual_style_loss` without a mask);
            skipped without a ``vgg`` or when both weights are 0.
    """
    out = G(swapped)
    l1 = (out.float() - real.float()).abs().mean()
    adv = gan_g_loss(patch_logits(D, swapped, out)) if adv_weight > 0 else l1.new_zeros(())
    loss = l1_weight * l1 + adv_weight * adv
    extra = _vgg_terms(vgg, out, real, None, perceptual_weight, style_weight)
    if extra:
        loss = loss + extra.pop("vgg_loss")
    return {"loss": loss, "l1": l1.detach(), "adv": adv.detach(), **extra}
