"""Perceptual and style losses on the features of a frozen, ImageNet-trained VGG16.

The losses of the inpainting work that followed DeepFill v1 and Song et al. (Johnson et al.
2016's perceptual loss; Gatys et al.'s Gram-matrix style loss as Liu et al. 2018 use it for
holes), applied to the raw output AND to the composite (known pixels pasted back), so the
network is pushed towards textures that match where they meet the known region. Pure
functions: the VGG network is passed in; nothing calls ``backward()``.

Example:
    >>> feats = {"relu1_2": torch.ones(2, 4, 8, 8)}
    >>> float(perceptual_distance(feats, feats))
    0.0
    >>> tuple(gram_matrix(torch.ones(2, 4, 8, 8)).shape)
    (2, 4, 4)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

#: The VGG16 layers both losses read by default: three scales, cheap enough for a CPU step
#: (relu4_3/relu5_3 would double the VGG cost for little gain at 128-256 px).
DEFAULT_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3")

Features = Mapping[str, torch.Tensor]
FeatureNet = Callable[..., dict[str, torch.Tensor]]


def _up(x: torch.Tensor) -> torch.Tensor:
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def gram_matrix(f: torch.Tensor) -> torch.Tensor:
    """Normalised Gram matrix of a feature map.

    Args:
        f: (B, C, H, W) features.

    Returns:
        (B, C, C): ``f f^T / (C H W)`` (float32 for half inputs).
    """
    if f.dim() != 4:
        raise ValueError(f"expected (B, C, H, W) features, got {tuple(f.shape)}")
    B, C, H, W = f.shape
    flat = _up(f).reshape(B, C, H * W)
    return flat @ flat.transpose(1, 2) / (C * H * W)


def perceptual_distance(
    a: Features, b: Features, layers: Sequence[str] | None = None
) -> torch.Tensor:
    """Sum over ``layers`` of the mean absolute feature difference (Johnson et al.).

    Args:
        a, b: feature maps by layer name, each (B, C_l, H_l, W_l).
        layers: which layers to sum (default: every key of ``a``).

    Returns:
        Scalar.
    """
    return _layer_sum(a, b, layers, _up, "perceptual_distance")


def style_distance(a: Features, b: Features, layers: Sequence[str] | None = None) -> torch.Tensor:
    """Sum over ``layers`` of the mean absolute difference of Gram matrices (Gatys et al.).

    Args:
        a, b: feature maps by layer name, each (B, C_l, H_l, W_l).
        layers: which layers to sum (default: every key of ``a``).

    Returns:
        Scalar.
    """
    return _layer_sum(a, b, layers, gram_matrix, "style_distance")


def _layer_sum(
    a: Features,
    b: Features,
    layers: Sequence[str] | None,
    transform: Callable[[torch.Tensor], torch.Tensor],
    what: str,
) -> torch.Tensor:
    """Sum over ``layers`` (default: every key of ``a``) of ``mean |t(a_l) - t(b_l)|``."""
    names = list(layers or a.keys())
    if not names:
        raise ValueError(f"{what} needs at least one layer")
    terms = [(transform(a[n]) - transform(b[n])).abs().mean() for n in names]
    return torch.stack(terms).sum()


def perceptual_style_loss(
    vgg: FeatureNet,
    output: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor | None,
    *,
    layers: Sequence[str] = DEFAULT_LAYERS,
    perceptual_weight: float = 1.0,
    style_weight: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Perceptual and style losses of the output and of the composite against the target.

    One VGG forward on the batch ``[output, composite, target]`` (the target's features carry
    no gradient). Terms whose weight is 0 are skipped. With ``mask=None`` only the whole
    output is compared (for a network that outputs the whole image, like Song's G2).

    Args:
        vgg: ``vgg(x, layers=...) -> {layer: (B, C, h, w)}`` on images in [-1, 1]
            (:class:`inpaintkit.nn.vgg.VGG16Features`), frozen.
        output: (B, 3, H, W) the network's raw output in [-1, 1].
        target: (B, 3, H, W) the real images.
        mask: (B, 1, H, W), 1 = hole; None: no composite term.
        layers: VGG ReLU names.
        perceptual_weight, style_weight: each term's weight.

    Returns:
        ``(perceptual, style)`` unweighted scalars, each the sum of the output's and the
        composite's distances (the output's alone without a mask; a skipped term is 0).
    """
    if output.shape != target.shape or (mask is not None and mask.shape[0] != output.shape[0]):
        raise ValueError(
            f"output {tuple(output.shape)}, target {tuple(target.shape)} and mask "
            f"{None if mask is None else tuple(mask.shape)} must agree"
        )
    zero = output.new_zeros(())
    if perceptual_weight == 0 and style_weight == 0:
        return zero, zero
    B = output.shape[0]
    with torch.no_grad():
        real = vgg(target, layers=tuple(layers))
    if mask is None:
        fake = vgg(output, layers=tuple(layers))  # (B, C, h, w) each
        outputs = [fake]
    else:
        composite = output * mask + target * (1 - mask)  # (B, 3, H, W)
        fake = vgg(torch.cat([output, composite]), layers=tuple(layers))  # (2B, C, h, w) each
        outputs = [{n: f[:B] for n, f in fake.items()}, {n: f[B:] for n, f in fake.items()}]
    perceptual = style = zero
    if perceptual_weight:
        perceptual = sum((perceptual_distance(f, real) for f in outputs), zero)
    if style_weight:
        style = sum((style_distance(f, real) for f in outputs), zero)
    return perceptual, style
