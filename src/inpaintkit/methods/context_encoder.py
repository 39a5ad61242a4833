"""Context Encoder inpainting (Pathak et al. 2016): one forward pass of a trained model.

The model (``context_encoder_<domain>.safetensors`` + card, see :mod:`inpaintkit.weights`)
works at its own square size S and was trained on one mask kind (its card's
``architecture.mask_kind``, returned in ``extras["model_mask_kind"]``; it does best on holes of
that kind). Inputs of another size are resized to S x S and the prediction back:

- the image by antialiased bilinear filtering normalised by the known pixels (normalised
  convolution), so hole content never leaks into the model's known pixels;
- the mask by max-pooling over each model pixel's footprint, so no hole pixel is lost: a model
  pixel is a hole when any input pixel it covers is.

The method returns the whole prediction; the caller pastes the known pixels back.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from inpaintkit.errors import InpaintError
from inpaintkit.methods.windows import crop_note, paste_squares, square_crops
from inpaintkit.registry import MethodResult, register_method
from inpaintkit.weights import list_installed, load_network, resolve_model


def _resize(t: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Antialiased bilinear resize of (B, C, H, W) to ``size`` (H', W')."""
    return F.interpolate(t, size=size, mode="bilinear", antialias=True, align_corners=False)


def fit_to_model(
    image: torch.Tensor, mask: torch.Tensor, size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Resize an image and its hole to the model's ``size`` x ``size``.

    Args:
        image: (B, C, H, W) in [-1, 1]; hole content is ignored.
        mask: (B, 1, H, W), 1 = hole.
        size: the model's side S.

    Returns:
        ``(image, mask)``: (B, C, S, S) in [-1, 1], 0 in the hole; (B, 1, S, S) in {0, 1},
        1 wherever any covered input pixel is a hole.
    """
    hole = (mask >= 0.5).to(image.dtype)
    known = 1 - hole
    weight = _resize(known, (size, size))  # (B, 1, S, S): filter weight on known pixels
    small = _resize(image * known, (size, size)) / weight.clamp_min(1e-6)
    small_hole = F.adaptive_max_pool2d(hole, (size, size))  # (B, 1, S, S)
    return (small * (1 - small_hole)).clamp(-1, 1), small_hole


@register_method(
    "context_encoder",
    kind="feed-forward",
    summary="one pass of an encoder-decoder trained with l2 + adversarial loss on one mask kind "
    "and image domain (the learned baseline of Yeh's and Song's tables)",
    needs="a trained context encoder for the image domain and mask kind (bundled: "
    "natural128_center, the default; natural128_medium, natural128_thick)",
    paper="Pathak, Kraehenbuehl, Donahue, Darrell, Efros: Context Encoders: Feature Learning by "
    "Inpainting, CVPR 2016",
    models=lambda: tuple(list_installed("context_encoder")),
    family="context_encoder",
)
def context_encoder(
    image: torch.Tensor,
    mask: torch.Tensor,
    *,
    model: str | None = None,
    device: str = "cpu",
) -> MethodResult:
    """Fill the hole with a trained Context Encoder.

    Args:
        image: (B, 3, H, W) in [-1, 1]; hole content is ignored.
        mask: (B, 1, H, W), 1 = hole.
        model: an installed domain (``natural128_center``), a full name, a ``.safetensors``
            path, or None for the default model (natural128_center).
        device: torch device to run on.

    Returns:
        ``MethodResult`` with the prediction (B, 3, H, W) in [-1, 1] (known pixels not yet
        pasted back), ``extras`` ``model`` (the file) and ``model_mask_kind`` (the mask kind
        the model was trained on), and a note when the input was cropped or resized: like the
        latent searches, the model fills a square crop around each image's holes (twice their
        extent, at least its own size; the aspect ratio kept), refused at once when no square
        crop inside the image holds them.

    Raises:
        InpaintError: no model installed or a bad model name or file, or an image whose channel
            count the model does not take.
    """
    path = resolve_model("context_encoder", model)
    net, cfg = load_network("context_encoder", path, device)
    if image.shape[1] != cfg.image_channels:
        raise InpaintError(
            f"the context_encoder model {path.name} takes {cfg.image_channels}-channel images, "
            f"got {image.shape[1]}"
        )
    dev = torch.device(device)
    x, m = image.to(dev, torch.float32), mask.to(dev, torch.float32)
    S = cfg.image_size
    try:
        x_s, m_s, boxes = square_crops(x, m, S, fit=fit_to_model)
    except InpaintError as e:
        raise InpaintError(f"context_encoder fills a square crop around the holes: {e}") from None
    name = path.stem.removeprefix("context_encoder_")
    notes = crop_note(boxes, S, tuple(x.shape[-2:]), name)
    with torch.no_grad():
        out = paste_squares(x, net(x_s, m_s), boxes)  # net: (B, 3, S, S)
    extras = {"model": str(path), "model_mask_kind": cfg.mask_kind}
    return MethodResult(image=out.to(image.device, image.dtype), extras=extras, notes=notes)
