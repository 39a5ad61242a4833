"""Exponential moving average (EMA) of a network's weights, for GAN-trained generators.

The EMA copy is what gets sampled and exported (Karras et al.'s "G_ema"): it averages out the
step-to-step oscillation of adversarial training at no cost in steps. A recipe keeps the copy
as one more named network (``"G_ema"``, so checkpoints and resume carry it) and updates it
after each generator step (:class:`inpaintkit.train.recipes.Phase` ``after``).

Example:
    >>> net = torch.nn.Linear(2, 2)
    >>> avg = ema_copy(net)
    >>> ema_update(avg, net, decay=0.5)
    >>> all(not p.requires_grad for p in avg.parameters())
    True
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


def unwrap(net: nn.Module) -> nn.Module:
    """The plain module inside a DDP and/or ``torch.compile`` wrapper."""
    while True:
        inner = getattr(net, "module", None) or getattr(net, "_orig_mod", None)
        if not isinstance(inner, nn.Module):
            return net
        net = inner


def ema_copy(net: nn.Module) -> nn.Module:
    """A frozen deep copy of ``net`` to average into (eval mode, no gradients)."""
    avg = copy.deepcopy(unwrap(net))
    return avg.eval().requires_grad_(False)


def ema_decay_at(step: int, decay: float) -> float:
    """The decay used at ``step``: ``min(decay, (1 + step) / (10 + step))``.

    The warm-up keeps the average from being dominated by the random initial weights of a run
    that starts from scratch (it reaches 0.999 after ~9,000 steps).
    """
    if not 0 <= decay < 1:
        raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
    return min(decay, (1 + step) / (10 + step))


@torch.no_grad()
def ema_update(avg: nn.Module, net: nn.Module, *, decay: float) -> None:
    """``avg = decay * avg + (1 - decay) * net`` for parameters; buffers (BN statistics) copied.

    Args:
        avg: the EMA copy (same architecture as ``net``).
        net: the trained network (DDP/compiled wrappers are looked through).
        decay: in [0, 1); 0 copies ``net``.
    """
    src = unwrap(net)
    for a, p in zip(avg.parameters(), src.parameters(), strict=True):
        a.lerp_(p.detach().to(a.dtype), 1 - decay)
    for a, b in zip(avg.buffers(), src.buffers(), strict=True):
        a.copy_(b)


def update_g_ema(ctx: Any) -> None:
    """A phase's ``after`` hook: average ``ctx.nets["G"]`` into ``ctx.nets["G_ema"]``.

    The decay is the recipe config's ``ema_decay`` with the warm-up of :func:`ema_decay_at`
    at the loop's step ``ctx.step`` (``ctx`` is the loop's :class:`~inpaintkit.train.recipes.Ctx`).
    """
    decay = ema_decay_at(ctx.step, ctx.cfg.ema_decay)
    ema_update(ctx.nets["G_ema"], ctx.nets["G"], decay=decay)
