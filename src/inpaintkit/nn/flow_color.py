"""A colour picture of an offset field: where each attention or patch-swap cell copied from."""

from __future__ import annotations

import math

import torch

__all__ = ["flow_to_color"]


def flow_to_color(offsets: torch.Tensor, *, max_norm: float | None = None) -> torch.Tensor:
    """Colour wheel picture of an offset field (Middlebury-style; our own HSV wheel).

    Hue is the direction of (dx, dy) measured from +x towards +y (image rows grow downwards):
    right = red, down = yellow-green, left = cyan, up = violet. Saturation is the length divided
    by ``max_norm`` (clipped to 1); value is 1, so a zero offset is white.

    Args:
        offsets: (B, 2, h, w) (dy, dx), any real or integer dtype.
        max_norm: the length drawn fully saturated; None: each sample's longest offset.

    Returns:
        (B, 3, h, w) uint8 RGB.
    """
    if offsets.dim() != 4 or offsets.shape[1] != 2:
        raise ValueError(f"offsets must be (B, 2, h, w), got {tuple(offsets.shape)}")
    dy, dx = offsets.double().unbind(dim=1)  # (B, h, w) each
    length = torch.hypot(dy, dx)
    if max_norm is None:
        top = length.flatten(1).amax(dim=1).clamp_min(1e-12).view(-1, 1, 1)
    else:
        top = torch.as_tensor(float(max_norm), dtype=torch.float64).clamp_min(1e-12)
    sat = (length / top).clamp(max=1.0)
    hue6 = torch.atan2(dy, dx).remainder(2 * math.pi) * (3 / math.pi)  # in [0, 6)
    # HSV -> RGB with V = 1: channel n is 1 - S * clamp(min(q, 4 - q), 0, 1), q = (n + H) mod 6
    rgb = []
    for n in (5, 3, 1):
        q = (n + hue6).remainder(6)
        rgb.append(1 - sat * torch.minimum(q, 4 - q).clamp(0, 1))
    return torch.round(torch.stack(rgb, dim=1) * 255).to(torch.uint8)
