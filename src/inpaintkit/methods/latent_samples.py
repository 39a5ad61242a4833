"""Several distinct fills from one latent search: the K best restarts that differ in the hole.

A latent search from R random starts ends in up to R different latents, and so in R different
fills: several plausible faces for one hole. :func:`latent_search_samples` keeps the K best
*distinct* ones, never K copies of one basin. The rule (:func:`pick_distinct`):

1. sort each image's R restarts by their final search loss, lowest first;
2. take the best; walk down the list and take a restart only if its fill differs from every
   fill taken so far by at least ``min_distance`` (:func:`hole_distance`: the RMS difference
   inside the hole, on a 0..1 intensity scale, of the fills as composed into the image, i.e.
   Poisson-blended when blending is on), until K are taken;
3. if fewer than K pass, the rest are the most different of the remaining restarts (the one
   farthest from all taken fills first), and the result says how many passed.

The fills keep the order they were taken in: fill 1 is always the search's single answer
(lowest loss), so ``samples=1`` is the plain search.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

from inpaintkit.composite import fill_hole as compose
from inpaintkit.methods.latent_loop import eval_mode, generate, search_latents

__all__ = ["Samples", "hole_distance", "latent_search_samples", "pick_distinct"]


class Samples(NamedTuple):
    """What :func:`latent_search_samples` returns."""

    images: torch.Tensor  # (B, K, 3, S, S) in [-1, 1]: y with each fill composed in
    fills: torch.Tensor  # (B, K, 3, S, S): the raw G(z) of each fill
    z: torch.Tensor  # (B, K, z_dim): their latents
    loss: torch.Tensor  # (B, K): their search losses, ascending within the distinct ones
    distinct: torch.Tensor  # (B,) long: how many of the K passed the distance rule


def hole_distance(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """RMS difference of ``a`` and ``b`` inside the hole, on a 0..1 scale (images in [-1, 1]).

    Args:
        a: (N, 3, H, W) or (N, M, 3, H, W); b: broadcastable to ``a``.
        mask: (N, 1, H, W) (or broadcastable), 1 = hole; a hole of at least one pixel.

    Returns:
        (N,) or (N, M): sqrt(sum over hole pixels and channels of ((a - b) / 2)^2 / (3 * hole)).

    >>> m = torch.ones(1, 1, 2, 2)
    >>> hole_distance(torch.ones(1, 3, 2, 2), -torch.ones(1, 3, 2, 2), m)
    tensor([1.])
    """
    sq = ((a - b) / 2).pow(2) * mask  # (..., 3, H, W)
    area = mask.expand_as(sq).sum((-3, -2, -1)).clamp_min(1)  # hole pixels x 3 channels
    return (sq.sum((-3, -2, -1)) / area).sqrt()


def pick_distinct(
    fills: torch.Tensor, loss: torch.Tensor, mask: torch.Tensor, k: int, min_distance: float
) -> tuple[list[int], int]:
    """The indices of ``k`` fills of ONE image by the module's rule, and how many passed it.

    Args:
        fills: (R, 3, S, S) the restarts' fills; loss: (R,) their search losses.
        mask: (1, 1, S, S), 1 = hole. k: 1 <= k <= R. min_distance: see :func:`hole_distance`.

    Returns:
        (indices in the order taken, the number taken by the distance rule (<= k)).
    """
    if not 1 <= k <= len(fills):
        raise ValueError(f"need 1 <= k <= {len(fills)} restarts, got k={k}")
    order = loss.argsort().tolist()
    dist = torch.stack([hole_distance(fills, fills[i : i + 1], mask) for i in range(len(fills))])
    taken = [order[0]]
    for i in order[1:]:
        if len(taken) == k:
            break
        if dist[i, taken].min() >= min_distance:
            taken.append(i)
    passed = len(taken)
    while len(taken) < k:  # too few distinct: the farthest of the rest (ties: lower loss)
        rest = [i for i in order if i not in taken]
        taken.append(max(rest, key=lambda i: float(dist[i, taken].min())))
    return taken, passed


def latent_search_samples(
    G: nn.Module,
    D: nn.Module | None,
    y: torch.Tensor,
    mask: torch.Tensor,
    *,
    samples: int,
    min_distance: float,
    blend: bool = True,
    **search: Any,
) -> Samples:
    """The ``samples`` best distinct fills of a latent search (the module's rule).

    Args:
        G, D, y, mask: as :func:`~inpaintkit.methods.latent_loop.latent_search`
            (y (B, 3, S, S), mask (B, 1, S, S)).
        samples: K, fills per image (<= ``search["restarts"]``).
        min_distance: the least :func:`hole_distance` between two chosen fills.
        blend: Poisson-blend each fill (True) or paste it (False).
        **search: :func:`~inpaintkit.methods.latent_loop.search_latents`' keywords.

    Returns:
        :class:`Samples` with K fills per image, the search's best first.
    """
    z, loss = search_latents(G, D, y, mask, **search)  # (B, R, z_dim), (B, R)
    B, R, _ = z.shape
    with torch.no_grad(), eval_mode(G):
        every = generate(G, z.flatten(0, 1), search.get("precision", "fp32"))
    # compared as the user sees them: blending keeps a fill's gradients, not its mean colour
    y_r, m_r = y.detach().repeat_interleave(R, 0), mask.repeat_interleave(R, 0)
    shown = compose(y_r, m_r, every, blend=blend).view(B, R, *y.shape[1:])  # (B, R, 3, S, S)
    every = every.view(B, R, *every.shape[1:])
    picks, passed = [], []
    for b in range(B):
        taken, n = pick_distinct(shown[b], loss[b], mask[b : b + 1], samples, min_distance)
        picks.append(taken)
        passed.append(n)
    idx = torch.tensor(picks, device=z.device)  # (B, K)
    rows = torch.arange(B, device=z.device)[:, None]
    distinct = torch.tensor(passed, device=z.device)
    return Samples(shown[rows, idx], every[rows, idx], z[rows, idx], loss[rows, idx], distinct)
