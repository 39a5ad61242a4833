"""Losses of latent-search inpainting (Yeh et al. 2017; Vitoria et al. 2019). Pure functions.

Every loss returns one value PER IMAGE, shape (B,), a SUM over channels and pixels (not a mean),
because both papers write their terms as unnormalised norms (``||W * (G(z) - y)||_1``) and their
weights (Yeh: lambda = 0.003; Vitoria: alpha = 0.1, beta = 0.9, eta = 0.5) balance those sums
against a prior that is one number per image. Keeping the papers' definitions keeps their
weights meaningful; the batch is never reduced here (the search sums over independent latents).

Mask convention: ``mask`` is (B, 1, H, W) float, 1 = HOLE (the library's), while both papers
write ``M`` = 1 for KNOWN pixels; ``known = 1 - mask`` is their ``M``.

Paper vs authors' code (both selectable, paper by default):
- importance window: paper 7x7; Yeh's code 15x15 with symmetric boundary handling
  (``padding="symmetric"``); we default to zeros outside the image (pixels outside count as
  known, ``|N(i)|`` stays window^2).
- Yeh's prior: paper ``lam * log(1 - D(G(z)))`` with lam = 0.003 and Adam; code the
  non-saturating ``-lam * log D(G(z))`` (``mode="nonsaturating"``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "context_loss",
    "gradient_loss",
    "image_gradients",
    "importance_weights",
    "prior_loss_gan",
    "prior_loss_wgan",
]


def _check_mask(mask: torch.Tensor, name: str = "mask") -> None:
    if mask.dim() != 4 or mask.shape[1] != 1:
        raise ValueError(f"{name} must be (B, 1, H, W), got {tuple(mask.shape)}")


def _check_pair(a: torch.Tensor, b: torch.Tensor) -> None:
    if a.dim() != 4 or a.shape != b.shape:
        raise ValueError(
            f"images must be (B, C, H, W) of equal shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def _symmetric_pad(x: torch.Tensor, p: int) -> torch.Tensor:
    """Pad the last two dims by ``p`` mirroring WITH the edge pixel (numpy's "symmetric")."""

    def index(n: int) -> torch.Tensor:
        i = torch.arange(-p, n + p, device=x.device) % (2 * n)
        return torch.where(i < n, i, 2 * n - 1 - i)

    return x[..., index(x.shape[-2]), :][..., index(x.shape[-1])]


def importance_weights(
    mask: torch.Tensor, *, window: int = 7, padding: str = "zeros"
) -> torch.Tensor:
    """Yeh et al. Eq. 3: how much each known pixel tells about the hole.

    ``W_i = (number of hole pixels in the window x window neighbourhood of i) / window^2`` for
    known pixels i, and 0 for hole pixels. (Paper: ``sum_{j in N(i)} (1 - M_j) / |N(i)|`` if
    ``M_i != 0`` with M = 1 known; our mask is 1 = hole, so the count is a sum of ``mask``.)

    Args:
        mask: (B, 1, H, W) float, 1 = hole, 0 = known.
        window: odd side of the neighbourhood (paper: 7; Yeh's code: 15).
        padding: outside the image, ``"zeros"`` counts pixels as known; ``"symmetric"`` mirrors
            the mask (edge pixel repeated), as Yeh's code does.

    Returns:
        (B, 1, H, W) weights in [0, 1], 0 inside the hole and far (> window // 2) from it.

    >>> m = torch.zeros(1, 1, 3, 3); m[0, 0, 1, 1] = 1
    >>> (importance_weights(m, window=3) * 9).flatten().tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    """
    _check_mask(mask)
    if window < 1 or window % 2 == 0:
        raise ValueError(f"the importance window must be an odd size >= 1, got {window}")
    p = window // 2
    if padding == "zeros":
        padded = F.pad(mask, (p, p, p, p))
    elif padding == "symmetric":
        padded = _symmetric_pad(mask, p)
    else:
        raise ValueError(f"padding must be 'zeros' or 'symmetric', got {padding!r}")
    holes_around = F.avg_pool2d(padded, window, stride=1)  # (B, 1, H, W) = count / window^2
    return holes_around * (1.0 - mask)


def context_loss(
    gen: torch.Tensor, y: torch.Tensor, weights: torch.Tensor, *, norm: str = "l1"
) -> torch.Tensor:
    """Context loss ``||W * (G(z) - y)||`` summed per image (Yeh Eq. 4; Vitoria's L_c).

    Args:
        gen: G(z), (B, 3, H, W) in [-1, 1].
        y: the corrupted image, (B, 3, H, W) in [-1, 1] (hole content is ignored: W = 0 there).
        weights: (B, 1, H, W) from :func:`importance_weights`, broadcast over channels.
        norm: ``"l1"`` (paper default, found slightly better) or ``"l2"`` (sum of squares).

    Returns:
        (B,) sum over channels and pixels.
    """
    _check_pair(gen, y)
    _check_mask(weights, "weights")
    diff = weights * (gen - y)
    if norm == "l1":
        return diff.abs().sum(dim=(1, 2, 3))
    if norm == "l2":
        return diff.square().sum(dim=(1, 2, 3))
    raise ValueError(f"context norm must be 'l1' or 'l2', got {norm!r}")


def _axis_gradient(x: torch.Tensor, known: torch.Tensor, dim: int) -> torch.Tensor:
    """Known-aware finite difference of ``x`` along ``dim`` (-1 = x, -2 = y)."""
    n = x.shape[dim]
    pad = (1, 1) if dim == -1 else (0, 0, 1, 1)
    xp = F.pad(x, pad)  # values outside the image are never used
    kp = F.pad((known > 0.5).to(x.dtype), pad)  # outside the image = unknown
    nxt, prv = xp.narrow(dim, 2, n), xp.narrow(dim, 0, n)
    k_nxt, k_prv = kp.narrow(dim, 2, n) > 0, kp.narrow(dim, 0, n) > 0
    central = (nxt - prv) / 2
    g = torch.where(k_nxt & k_prv, central, torch.where(k_nxt, nxt - x, x - prv))
    usable = (known > 0.5) & (k_nxt | k_prv)  # the pixel and at least one neighbour known
    return torch.where(usable, g, torch.zeros_like(g))


def image_gradients(
    x: torch.Tensor, known: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Finite-difference gradients that use only known pixels (Vitoria et al.).

    At a known pixel: central difference ``(x[i+1] - x[i-1]) / 2`` where both neighbours are
    known, forward ``x[i+1] - x[i]`` or backward ``x[i] - x[i-1]`` where only one is, 0 where
    neither is. Hole pixels get 0. Pixels outside the image count as unknown, so with
    ``known=None`` (everything known) this is the ordinary central difference with one-sided
    differences on the image border.

    Args:
        x: (B, C, H, W) image.
        known: (B, 1, H, W) float, 1 = KNOWN (i.e. ``1 - mask``), or None for all known.

    Returns:
        (gx, gy): each (B, C, H, W); gx along the width, gy along the height.

    >>> ramp = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 1, 2, 4)
    >>> image_gradients(ramp)[0].flatten().tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    """
    if x.dim() != 4:
        raise ValueError(f"image must be (B, C, H, W), got {tuple(x.shape)}")
    if known is None:
        known = torch.ones_like(x[:, :1])
    _check_mask(known, "known")
    return _axis_gradient(x, known, -1), _axis_gradient(x, known, -2)


def gradient_loss(
    gen: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Vitoria's gradient loss ``W * ||M (grad G(z) - grad y)||_1`` summed per image.

    ``grad y`` uses only known pixels (:func:`image_gradients` with ``known = 1 - mask``, so the
    hole never leaks in); ``grad G(z)`` is the ordinary central difference over the whole image.

    Args:
        gen: G(z), (B, 3, H, W). y: the corrupted image, (B, 3, H, W).
        mask: (B, 1, H, W) float, 1 = hole. weights: (B, 1, H, W) importance weights.

    Returns:
        (B,) sum over both gradient components, channels and pixels of
        ``W * (1 - mask) * (|gx_G - gx_y| + |gy_G - gy_y|)``.
    """
    _check_pair(gen, y)
    _check_mask(mask)
    _check_mask(weights, "weights")
    known = 1.0 - mask
    gx_g, gy_g = image_gradients(gen)
    gx_y, gy_y = image_gradients(y, known)
    per_pixel = (gx_g - gx_y).abs() + (gy_g - gy_y).abs()  # (B, 3, H, W)
    return (weights * known * per_pixel).sum(dim=(1, 2, 3))


def prior_loss_gan(
    d_logits: torch.Tensor, *, lam: float = 0.003, mode: str = "paper"
) -> torch.Tensor:
    """Yeh's perceptual (prior) loss from discriminator LOGITS, computed stably.

    ``mode="paper"``: ``lam * log(1 - D(G(z)))`` = ``lam * logsigmoid(-logit)`` (minimising it
    pushes D(G(z)) up; it saturates at 0 when D is sure the image is fake).
    ``mode="nonsaturating"``: ``-lam * log D(G(z))`` = ``-lam * logsigmoid(logit)``, as in the
    authors' code.

    Args:
        d_logits: (B,) raw discriminator outputs (before the sigmoid).
        lam: weight lambda (paper: 0.003).
        mode: ``"paper"`` or ``"nonsaturating"``.

    Returns:
        (B,) finite for any finite logit.

    >>> prior_loss_gan(torch.zeros(1), lam=1.0).item() == torch.log(torch.tensor(0.5)).item()
    True
    """
    if mode == "paper":
        return lam * F.logsigmoid(-d_logits)
    if mode == "nonsaturating":
        return -lam * F.logsigmoid(d_logits)
    raise ValueError(f"GAN prior mode must be 'paper' or 'nonsaturating', got {mode!r}")


def prior_loss_wgan(critic_out: torch.Tensor, *, eta: float = 0.5) -> torch.Tensor:
    """Vitoria's prior loss ``-eta * D(G(z))`` from the WGAN critic's score.

    Args:
        critic_out: (B,) critic scores (unbounded; higher = more real).
        eta: weight (paper: 0.5).

    Returns:
        (B,).
    """
    return -eta * critic_out
