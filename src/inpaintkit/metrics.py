"""Pixel metrics for inpainting: MSE, PSNR, SSIM, l1 %, l2 % and TV %.

Every metric takes ``pred`` and ``target`` (B, 3, H, W) float in [-1, 1] and an optional
``mask`` (B, 1, H, W) float, 1 = hole (a mask of batch size 1 is used for every image). It
returns a (B,) float64 tensor, one value per image; averaging over a data set is the caller's
job (papers average the per-image values).

- ``mask=None``: the metric is over the whole image.
- With a mask: the metric is over the hole only. Mask values are weights, so a binary mask gives
  the plain mean over hole pixels. An image whose mask has no hole gives ``nan`` for that image
  (not an error), so one empty mask does not stop an evaluation run.

Papers differ on whole-image versus hole-only numbers; the caller must always say which it
reports. Bad input shapes raise :class:`~inpaintkit.errors.InpaintError`.

LPIPS and FID live in :mod:`inpaintkit.perceptual` (they need optional pretrained weights).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from inpaintkit.errors import InpaintError

Tensor = torch.Tensor

_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5  # int(3.5 * 1.5 + 0.5): skimage's truncate=3.5 -> an 11-tap Gaussian
_SSIM_K1 = 0.01
_SSIM_K2 = 0.03
_SSIM_DATA_RANGE = 2.0  # images in [-1, 1]


def check_metric_inputs(pred: Tensor, target: Tensor | None, mask: Tensor | None) -> Tensor | None:
    """Validate metric inputs; return the mask expanded to (B, 1, H, W) float64 (or None).

    Args:
        pred: (B, 3, H, W) float image in [-1, 1].
        target: (B, 3, H, W), same shape as ``pred``, or None for one-image metrics (TV).
        mask: (B, 1, H, W) or (1, 1, H, W), 1 = hole, or None.

    Raises:
        InpaintError: on a wrong number of dimensions or channels, or mismatched shapes.
    """
    if pred.dim() != 4 or pred.shape[1] != 3:
        raise InpaintError(
            f"metric input must be an image batch (B, 3, H, W), got shape {tuple(pred.shape)}"
        )
    if target is not None and target.shape != pred.shape:
        raise InpaintError(
            f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape; "
            "compare images of the same size"
        )
    if mask is None:
        return None
    B, _, H, W = pred.shape
    if (
        mask.dim() != 4
        or mask.shape[1] != 1
        or mask.shape[2:] != (H, W)
        or mask.shape[0] not in (1, B)
    ):
        raise InpaintError(
            f"mask shape {tuple(mask.shape)} does not fit images {tuple(pred.shape)}; "
            f"expected ({B}, 1, {H}, {W})"
        )
    return mask.to(torch.float64).expand(B, 1, H, W)


def _weighted_mean(values: Tensor, weight: Tensor | None) -> Tensor:
    """Per-image mean of ``values`` (B, C, h, w), weighted by ``weight`` (B, 1, h, w) or None.

    Returns (B,) float64; an image whose weights sum to 0 gives nan.
    """
    values = values.to(torch.float64)
    if weight is None:
        return values.flatten(1).mean(dim=1)
    w = weight.expand_as(values)
    num = (values * w).flatten(1).sum(dim=1)
    den = w.flatten(1).sum(dim=1)
    return torch.where(den > 0, num / den.clamp_min(1e-300), torch.full_like(num, math.nan))


def _diff(pred: Tensor, target: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
    """Validated float64 difference ``pred - target`` on the [-1, 1] scale, and the mask."""
    m = check_metric_inputs(pred, target, mask)
    return pred.to(torch.float64) - target.to(torch.float64), m


def mse(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean squared error in 0..255 units squared (Vitoria et al.'s tables, e.g. 785.3).

    ``mse = mean_c,p ((pred - target) * 127.5)^2`` over all channels and pixels (or hole pixels
    weighted by ``mask``), i.e. the images are mapped from [-1, 1] to [0, 255] first.

    Args:
        pred: (B, 3, H, W) float in [-1, 1].
        target: (B, 3, H, W) float in [-1, 1].
        mask: optional (B, 1, H, W), 1 = hole; None = whole image.

    Returns:
        (B,) float64; nan for an image whose mask has no hole.

    >>> x = torch.zeros(1, 3, 4, 4)
    >>> round(mse(x + 0.1, x).item(), 4)  # 0.1 * 127.5 = 12.75 grey levels, squared
    162.5625
    """
    d, m = _diff(pred, target, mask)
    return _weighted_mean((d * 127.5) ** 2, m)


def psnr(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Peak signal-to-noise ratio in dB, peak 255 on the 0..255 scale.

    ``psnr = 10 * log10(255^2 / mse)`` with :func:`mse` above, per image (equal to a peak of 2
    on the [-1, 1] scale). Identical images give ``+inf``.

    Args:
        pred: (B, 3, H, W) float in [-1, 1].
        target: (B, 3, H, W) float in [-1, 1].
        mask: optional (B, 1, H, W), 1 = hole; None = whole image.

    Returns:
        (B,) float64 dB; +inf where the images are equal, nan where the mask has no hole.

    >>> x = torch.zeros(1, 3, 4, 4)
    >>> round(psnr(x + 0.1, x).item(), 4)  # 10 * log10(255^2 / 12.75^2) = 10 * log10(400)
    26.0206
    """
    err = mse(pred, target, mask)
    return 10.0 * torch.log10(255.0**2 / err)  # err 0 -> +inf, err nan -> nan


def _gaussian_taps() -> Tensor:
    """The normalised 11-tap Gaussian (sigma 1.5) of Wang et al. / scipy.ndimage, float64."""
    x = torch.arange(-_SSIM_RADIUS, _SSIM_RADIUS + 1, dtype=torch.float64)
    g = torch.exp(-0.5 * (x / _SSIM_SIGMA) ** 2)
    return g / g.sum()


def _symmetric_pad(x: Tensor, p: int) -> Tensor:
    """Pad the last two dims by ``p`` with edge-including mirroring (scipy's "reflect")."""
    x = torch.cat([x[..., :p, :].flip(-2), x, x[..., -p:, :].flip(-2)], dim=-2)
    return torch.cat([x[..., :p].flip(-1), x, x[..., -p:].flip(-1)], dim=-1)


def _gaussian_filter(x: Tensor) -> Tensor:
    """Separable Gaussian filter of (N, C, H, W) float64, same size, symmetric borders."""
    C = x.shape[1]
    g = _gaussian_taps().to(x.device)
    x = _symmetric_pad(x, _SSIM_RADIUS)
    x = F.conv2d(x, g.view(1, 1, -1, 1).repeat(C, 1, 1, 1), groups=C)  # along H
    return F.conv2d(x, g.view(1, 1, 1, -1).repeat(C, 1, 1, 1), groups=C)  # along W


def ssim_map(pred: Tensor, target: Tensor) -> Tensor:
    """Per-pixel SSIM map of Wang et al. 2004, per RGB channel, borders mirrored.

    Gaussian window of 11 taps, sigma 1.5, K1 = 0.01, K2 = 0.03, data range 2 (images in
    [-1, 1]), population (co)variances. Equal to ``skimage.metrics.structural_similarity(...,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=2,
    channel_axis=-1, full=True)[1]`` (scipy's "reflect" borders).

    Args:
        pred: (B, 3, H, W) float in [-1, 1], H and W at least 11.
        target: (B, 3, H, W) float in [-1, 1].

    Returns:
        (B, 3, H, W) float64 SSIM values (1 where the images agree).
    """
    check_metric_inputs(pred, target, None)
    H, W = pred.shape[-2:]
    if min(H, W) < 2 * _SSIM_RADIUS + 1:
        raise InpaintError(f"SSIM needs images of at least 11x11 pixels, got {H}x{W}")
    x = pred.to(torch.float64)
    y = target.to(torch.float64)
    # One filter call for the five local moments: (B, 5*3, H, W).
    moments = _gaussian_filter(torch.cat([x, y, x * x, y * y, x * y], dim=1))
    ux, uy, uxx, uyy, uxy = moments.chunk(5, dim=1)
    vx, vy, vxy = uxx - ux * ux, uyy - uy * uy, uxy - ux * uy
    c1 = (_SSIM_K1 * _SSIM_DATA_RANGE) ** 2
    c2 = (_SSIM_K2 * _SSIM_DATA_RANGE) ** 2
    num = (2 * ux * uy + c1) * (2 * vxy + c2)
    den = (ux * ux + uy * uy + c1) * (vx + vy + c2)
    return num / den


def ssim(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Structural similarity (Wang et al. 2004), mean over RGB channels.

    The map is :func:`ssim_map`. Without a mask the result is the mean of the map over all
    channels, leaving out the 5-pixel border strip (skimage's convention; it equals
    ``structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=2, channel_axis=-1)`` on (H, W, 3) arrays). With a mask, ``pred``'s known
    pixels are first replaced by ``target``'s (``m * pred + (1 - m) * target``, what an
    inpainting output is anyway), so changes of ``pred`` outside the hole never change the
    score; the result is the mean of the full map (border included, mirrored edges) over the
    hole pixels, weighted by the mask. Windows at the hole's edge still see the known pixels
    around it (SSIM is a windowed measure), and an all-ones mask differs slightly from
    ``mask=None`` (border strip).

    Args:
        pred: (B, 3, H, W) float in [-1, 1], H and W at least 11.
        target: (B, 3, H, W) float in [-1, 1].
        mask: optional (B, 1, H, W), 1 = hole; None = whole image.

    Returns:
        (B,) float64 in [-1, 1], 1 for identical images; nan where the mask has no hole.
    """
    m = check_metric_inputs(pred, target, mask)
    if m is None:
        r = _SSIM_RADIUS
        return _weighted_mean(ssim_map(pred, target)[..., r:-r, r:-r], None)
    pred = m * pred.to(torch.float64) + (1 - m) * target.to(torch.float64)
    return _weighted_mean(ssim_map(pred, target), m)


def l1(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean absolute error on the [0, 1] scale, in percent (DeepFill's and Song's "l1 %").

    ``l1 = 100 * mean_c,p |pred01 - target01|`` with ``x01 = (x + 1) / 2``. DeepFill calls its
    l1/l2 columns "mean l1/l2 error" and Song et al. "mean l1 loss", both in percent; we
    compute exactly this plain mean of pixel differences on [0, 1] times 100 (it is not divided
    by the target's magnitude).

    Args:
        pred: (B, 3, H, W) float in [-1, 1].
        target: (B, 3, H, W) float in [-1, 1].
        mask: optional (B, 1, H, W), 1 = hole; None = whole image.

    Returns:
        (B,) float64 percent in [0, 100]; nan where the mask has no hole.

    >>> x = torch.zeros(1, 3, 4, 4)
    >>> round(l1(x + 0.1, x).item(), 6)  # 0.1 on [-1, 1] is 0.05 on [0, 1]
    5.0
    """
    d, m = _diff(pred, target, mask)
    return 100.0 * _weighted_mean((d / 2).abs(), m)


def l2(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean squared error on the [0, 1] scale, in percent (DeepFill's "l2 %").

    ``l2 = 100 * mean_c,p (pred01 - target01)^2`` with ``x01 = (x + 1) / 2`` (see :func:`l1`
    on the paper's wording).

    Args:
        pred: (B, 3, H, W) float in [-1, 1].
        target: (B, 3, H, W) float in [-1, 1].
        mask: optional (B, 1, H, W), 1 = hole; None = whole image.

    Returns:
        (B,) float64 percent in [0, 100]; nan where the mask has no hole.
    """
    d, m = _diff(pred, target, mask)
    return 100.0 * _weighted_mean((d / 2) ** 2, m)


def tv(image: Tensor, mask: Tensor | None = None) -> Tensor:
    """Total variation of one image in percent (DeepFill's "TV loss" column).

    ``tv = 100 * (mean |dx| + mean |dy|)`` on the [0, 1] scale, with ``dx`` the differences of
    horizontally adjacent pixels (B, 3, H, W-1) and ``dy`` of vertically adjacent ones
    (B, 3, H-1, W), each direction averaged over its own differences and channels. With a mask,
    a difference counts when it touches the hole (weight ``max`` of the two pixels' mask values).

    Args:
        image: (B, 3, H, W) float in [-1, 1], H and W at least 2.
        mask: optional (B, 1, H, W), 1 = hole; None = whole image.

    Returns:
        (B,) float64 percent; 0 for a constant image, 200 for a black/white checkerboard;
        nan where the mask has no hole.
    """
    m = check_metric_inputs(image, None, mask)
    H, W = image.shape[-2:]
    if min(H, W) < 2:
        raise InpaintError(f"total variation needs images of at least 2x2 pixels, got {H}x{W}")
    x = image.to(torch.float64) / 2  # differences on the [0, 1] scale
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs()
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs()
    wx = wy = None
    if m is not None:
        wx = torch.maximum(m[..., :, 1:], m[..., :, :-1])
        wy = torch.maximum(m[..., 1:, :], m[..., :-1, :])
    return 100.0 * (_weighted_mean(dx, wx) + _weighted_mean(dy, wy))


def tv_metric(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """:func:`tv` of ``pred`` with the common metric signature (``target`` is only checked)."""
    check_metric_inputs(pred, target, mask)
    return tv(pred, mask)


METRICS: dict[str, Callable[..., Tensor]] = {
    "psnr": psnr,
    "ssim": ssim,
    "mse": mse,
    "l1": l1,
    "l2": l2,
    "tv": tv_metric,
}
"""Every pixel metric by name, each ``fn(pred, target, mask=None) -> (B,) float64``."""

HIGHER_IS_BETTER: dict[str, bool] = {
    "psnr": True,
    "ssim": True,
    "mse": False,
    "l1": False,
    "l2": False,
    "tv": False,
}
"""Direction of each metric in :data:`METRICS`.

TV has no "better" direction of its own (lower is smoother; DeepFill lists it beside the
errors); it is marked lower-is-better only so tables sort consistently.
"""
