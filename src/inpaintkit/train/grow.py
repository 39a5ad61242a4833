"""Grow trained networks to twice their crop size (progressive training).

**DeepFill checkpoints** (:func:`grow_deepfill_checkpoint`).

The generator is fully convolutional and carries over unchanged. Each WGAN critic ends in a
dense layer over its last (C, S/16, S/16) feature map, which doubles in side: every weight is
spread over the 2x2 cells that now cover its old cell and divided by 4, so a critic whose last
feature map is the nearest-upsampled old one gives the same score (:func:`spread_head`). Adam's
moments of those weights are spread the same way (``exp_avg`` / 4, ``exp_avg_sq`` / 16).
Everything else (the other weights and Adam states, the RNG, the step counts) is copied.

    python scripts/grow_deepfill.py runs/a/checkpoints/step_006655 runs/b/checkpoints/step_006655
    inpaintkit train deepfill --resume runs/b --out runs/b --set recipe.image_size=256 ...

**Song et al.'s U-Nets** (:func:`grow_unet_state`). G1 and G2 at side 2S have one more
encoder and one more decoder block than at S, both innermost (every width there is already
``8 * ngf``). The old blocks keep their weights; the old bottleneck block gains the BN that
non-innermost blocks have (scale 1, shift = its old conv bias, fresh running statistics); the
first old decoder block, which now also receives the new innermost block's output, gets zero
weights for it. In eval mode the grown network then computes what the old one computes on a
2S input, and training starts from there (``song-i2f`` / ``song-f2i`` with
``--set recipe.init_from=<export at S>``: new D and Adam states).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.train.checkpoint import read_state, read_tensors, resolve_resume, write_edited

CRITICS = ("global", "local")  # the deepfill recipe's critic networks in a checkpoint


def spread_head(w: torch.Tensor, channels: int, divide: float = 4.0) -> torch.Tensor:
    """(1, C * s * s) dense weights -> (1, C * 2s * 2s): each over its 2x2 cells, / ``divide``."""
    s = round((w.shape[1] // channels) ** 0.5)
    if w.dim() != 2 or channels * s * s != w.shape[1]:
        raise InpaintError(
            f"a critic head of shape {tuple(w.shape)} is not (1, {channels} x s x s)"
        )
    g = w.reshape(w.shape[0], channels, s, s)
    g = g.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    return (g / divide).reshape(w.shape[0], -1).contiguous()


def grow_deepfill_checkpoint(src: str | Path, dst: str | Path) -> dict[str, tuple[int, int]]:
    """Write ``dst``, the checkpoint ``src`` with critics for twice the crop size.

    Args:
        src: a ``deepfill`` checkpoint folder (``step_NNNNNN``), or a run folder (its latest).
        dst: the new checkpoint folder (must not exist).

    Returns:
        {critic head: (old inputs, new inputs)}.

    Raises:
        InpaintError: ``dst`` exists, or ``src`` is not a (deepfill) checkpoint folder.
    """
    src, dst = resolve_resume(src), Path(dst)
    if dst.exists():
        raise InpaintError(f"{str(dst)!r} already exists")
    state = read_state(src)
    if state.get("recipe") != "deepfill":
        raise InpaintError(f"{str(src)!r} is a {state.get('recipe')!r} checkpoint, not deepfill")
    models, optim = read_tensors(src)
    widths: dict[int, int] = {}  # old head inputs -> channels
    grown: dict[str, tuple[int, int]] = {}
    for net in CRITICS:
        convs = [k for k in models if k.startswith(f"{net}.features.") and k.endswith(".weight")]
        last = max(convs, key=lambda k: int(k.split(".")[2]))
        channels = int(models[last].shape[0])
        head = f"{net}.head.weight"
        old = int(models[head].shape[1])
        models[head] = spread_head(models[head], channels)
        widths[old] = channels
        grown[head] = (old, int(models[head].shape[1]))
    if len(widths) != len(CRITICS):
        raise InpaintError("the critic heads have the same width: cannot tell their Adam states")
    for key, t in list(optim.items()):  # the heads' Adam moments: (1, old inputs)
        if key.startswith("D.") and t.dim() == 2 and t.shape[0] == 1 and t.shape[1] in widths:
            divide = 16.0 if key.endswith("exp_avg_sq") else 4.0
            optim[key] = spread_head(t, widths[t.shape[1]], divide)
    state["grown_from"] = str(src)
    write_edited(src, dst, models=models, optim=optim, state=state)
    return grown


def _depth(state: dict[str, torch.Tensor], part: str) -> int:
    """Number of ``net.<part>.<i>`` blocks of a U-Net state dict (0 if none)."""
    idx = {int(k.split(".")[2]) for k in state if k.startswith(f"net.{part}.")}
    return 1 + max(idx) if idx else 0


def grow_unet_state(old: dict[str, torch.Tensor], new: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict for ``new``, a Song U-Net one level deeper, from ``old``'s (module doc).

    Args:
        old: the state dict of an ``ImageToFeature`` / ``FeatureToImage`` at side S.
        new: the same network class and config at side 2S (its own fresh weights fill what
            ``old`` lacks: the new innermost encoder and decoder blocks).

    Returns:
        A state dict that ``new.load_state_dict`` accepts (strict).

    Raises:
        InpaintError: ``new`` is not one level deeper, or a shape does not match.
    """
    target = {k: v.detach().clone() for k, v in new.state_dict().items()}
    downs, ups = _depth(old, "downs"), _depth(old, "ups")
    if not downs or (_depth(target, "downs"), _depth(target, "ups")) != (downs + 1, ups + 1):
        raise InpaintError(
            f"cannot grow a U-Net of {downs} encoder blocks into one of "
            f"{_depth(target, 'downs')}: the new one must be exactly one level deeper"
        )
    inner = downs - 1  # the old bottleneck block, no BN, conv with a bias
    out = dict(target)
    bn = f"net.downs.{inner}.1"
    out[f"{bn}.weight"] = torch.ones_like(target[f"{bn}.weight"])
    out[f"{bn}.bias"] = torch.zeros_like(target[f"{bn}.bias"])
    for key, value in old.items():
        parts = key.split(".")
        if parts[1] == "downs" and int(parts[2]) == inner:
            if parts[3:] == ["0", "bias"]:
                out[f"{bn}.bias"] = value.clone()  # BN in eval at fresh statistics: + bias
                continue
            new_key = key
        elif parts[1] == "ups":
            new_key = ".".join([parts[0], parts[1], str(int(parts[2]) + 1), *parts[3:]])
        else:
            new_key = key
        want = target.get(new_key)
        if want is None:
            raise InpaintError(f"{key!r} has no place in the grown network ({new_key!r})")
        if want.shape == value.shape:
            out[new_key] = value.clone()
            continue
        diff = [d for d, (a, b) in enumerate(zip(want.shape, value.shape, strict=True)) if a != b]
        if (
            parts[1] != "ups"
            or parts[2] != "0"
            or len(diff) != 1
            or (want.shape[diff[0]] != 2 * value.shape[diff[0]])
        ):
            raise InpaintError(f"{key}: shape {tuple(value.shape)} vs {tuple(want.shape)}")
        d, n = diff[0], value.shape[diff[0]]
        grown = torch.zeros_like(want)  # input channels: [new innermost output, old bottleneck]
        grown.narrow(d, n, n).copy_(value)
        out[new_key] = grown
    return out
