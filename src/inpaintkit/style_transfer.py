"""Song et al.'s arbitrary style transfer with a trained Feature2Image.

The content image's VGG relu3_1 map has every 3x3 patch replaced by its best-matching style
patch (:func:`~inpaintkit.nn.patch_swap.style_swap`, normalised cross-correlation, overlaps
averaged), and G2, trained for inpainting, translates the swapped map back to an image::

    inpaintkit stylize --content photo.jpg --style painting.png -o out.png [--size 256]

The content is resized so its longer side is ``--size`` (sides rounded to multiples of 4, the
relu3_1 grid), the style so its longer side is ``--style-size`` (default ``--size``); the
result has the resized content's size. The model is a ``song2018`` model (its G2) or a bare
``song-f2i`` export (``--model``: a domain, a name or a path, like ``--opt model=``).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from inpaintkit.errors import InpaintError

__all__ = ["fit_long_side", "style_transfer", "stylize_pixels"]


def fit_long_side(image: torch.Tensor, size: int) -> torch.Tensor:
    """Resize (B, 3, H, W) so its longer side is about ``size``, sides multiples of 4 (>= 4).

    Antialiased bilinear; the aspect ratio is kept up to the rounding.
    """
    H, W = image.shape[-2:]
    scale = size / max(H, W)
    h, w = (max(4, round(d * scale / 4) * 4) for d in (H, W))
    if (h, w) == (H, W):
        return image
    return F.interpolate(image, size=(h, w), mode="bilinear", antialias=True).clamp(-1, 1)


def style_transfer(
    content: torch.Tensor, style: torch.Tensor, g2: torch.nn.Module, vgg: torch.nn.Module, *,
    patch: int = 3, stride: int = 1,
) -> torch.Tensor:  # fmt: skip
    """G2(style_swap(relu3_1(content), relu3_1(style))): Song et al.'s style transfer.

    Args:
        content: (B, 3, H, W) in [-1, 1], H and W multiples of 4 (reflect-padded inside to
            G2's size multiple and cropped back).
        style: (1 or B, 3, Hs, Ws) in [-1, 1].
        g2: a :class:`~inpaintkit.models.song.FeatureToImage` in eval mode.
        vgg: the VGG relu3_1 extractor G2 was trained with.
        patch, stride: style-swap patch size and style stride.

    Returns:
        (B, 3, H, W) in [-1, 1].
    """
    from inpaintkit.methods.song import run_padded
    from inpaintkit.nn.patch_swap import style_swap
    from inpaintkit.weights.song import relu3_1

    if content.shape[-2] % 4 or content.shape[-1] % 4:
        raise InpaintError(f"content sides must be multiples of 4, got {tuple(content.shape)}")
    target = relu3_1(vgg, style)

    def translate(c: torch.Tensor) -> torch.Tensor:
        return g2(style_swap(relu3_1(vgg, c), target, patch=patch, stride=stride))

    with torch.no_grad():
        return run_padded(translate, g2.cfg.image_size, content).clamp(-1, 1)


def stylize_pixels(
    content: np.ndarray, style: np.ndarray, *, model: str | None = None, size: int = 256,
    style_size: int | None = None, patch: int = 3, stride: int = 1, device: str = "cpu",
) -> np.ndarray:  # fmt: skip
    """Style transfer on edge arrays: (H, W, 3) uint8/uint16 RGB in, (h, w, 3) uint8 out.

    Args:
        content, style: the images (any sizes).
        model: a song2018 model (domain, name, path) or a song-f2i export; None: the default.
        size: longer side of the result (>= 16); style_size: of the style (default ``size``).
        patch, stride, device: as :func:`style_transfer`.

    Raises:
        InpaintError: no model, a model without G2, sizes too small.
    """
    from inpaintkit.convert import from_tensor, to_tensor
    from inpaintkit.methods.checks import check_patch
    from inpaintkit.weights.song import cached_song_vgg, load_song_model, resolve_song_model

    style_size = size if style_size is None else style_size
    if min(size, style_size) < 16:
        raise InpaintError(f"--size and --style-size must be >= 16, got {size}, {style_size}")
    check_patch("stylize", patch, stride, side=min(size, style_size) // 4)
    net = load_song_model(resolve_song_model(model), device)
    if not net.g2:
        raise InpaintError(f"{net.path} holds no Feature2Image (G2): stylize needs a song2018 G2")
    vgg = cached_song_vgg(net.vgg, str(device))
    c = fit_long_side(to_tensor(content).to(device), size)
    s = fit_long_side(to_tensor(style).to(device), style_size)
    out = style_transfer(c, s, net.g2_for(size), vgg, patch=patch, stride=stride)
    return from_tensor(out.cpu(), dtype=np.uint8)
