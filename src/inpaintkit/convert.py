"""Exact conversions between edge arrays (numpy) and the library's tensors.

Edge arrays: pixels (H, W, 3) uint8 or uint16 RGB; masks (H, W) bool, True = hole.
Tensors: image (B, 3, H, W) float32 in [-1, 1]; mask (B, 1, H, W) float32, 1 = hole.
Round trips ``from_tensor(to_tensor(x), dtype=x.dtype) == x`` are exact for both dtypes.
"""

from __future__ import annotations

import numpy as np
import torch

_MAX = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def _max_value(dtype: np.dtype) -> float:
    try:
        return _MAX[np.dtype(dtype)]
    except KeyError:
        raise TypeError(f"expected uint8 or uint16 pixels, got {np.dtype(dtype)}") from None


def to_tensor(pixels: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8/uint16 RGB -> (1, 3, H, W) float32 in [-1, 1].

    >>> to_tensor(np.full((1, 1, 3), 255, np.uint8)).flatten().tolist()
    [1.0, 1.0, 1.0]
    """
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) pixels, got shape {pixels.shape}")
    peak = _max_value(pixels.dtype)
    x = torch.from_numpy(np.ascontiguousarray(pixels).astype(np.float64) / peak)
    return (x.permute(2, 0, 1).unsqueeze(0) * 2.0 - 1.0).float()


def from_tensor(t: torch.Tensor, *, dtype: type | np.dtype = np.uint8) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) in [-1, 1] -> (H, W, 3) ``dtype``, rounded and clipped."""
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise ValueError(f"expected a batch of one image, got {tuple(t.shape)}")
        t = t[0]
    if t.dim() != 3 or t.shape[0] != 3:
        raise ValueError(f"expected (3, H, W), got {tuple(t.shape)}")
    peak = _max_value(np.dtype(dtype))
    x = (t.detach().to("cpu", torch.float64).permute(1, 2, 0).numpy() + 1.0) * (peak / 2.0)
    return np.clip(np.rint(x), 0, peak).astype(dtype)


def mask_to_tensor(mask: np.ndarray) -> torch.Tensor:
    """(H, W) bool, True = hole -> (1, 1, H, W) float32, 1 = hole."""
    if mask.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got shape {mask.shape}")
    return torch.from_numpy(mask.astype(np.float32))[None, None]


def tensor_to_mask(m: torch.Tensor) -> np.ndarray:
    """(1, 1, H, W) or (H, W) float mask, 1 = hole -> (H, W) bool (hole where >= 0.5)."""
    m = m.detach().to("cpu")
    while m.dim() > 2:
        m = m[0]
    return m.numpy() >= 0.5
