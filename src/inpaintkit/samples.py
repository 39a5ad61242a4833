"""Several fills of one hole (``samples=K``): which methods give them, where they are written.

Only the latent searches (``yeh2017``, ``vitoria2019``) offer them: their random starts are a
seedable source of variation (:mod:`inpaintkit.methods.latent_samples`). Any other method gives
one fill per image, and :func:`check_samples_option` refuses ``samples`` > 1 for it in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from inpaintkit.blend import paste_back
from inpaintkit.convert import from_tensor
from inpaintkit.errors import InpaintError
from inpaintkit.registry import MethodInfo

__all__ = ["check_samples_option", "paste_samples", "sample_paths", "samples_methods"]


def sample_paths(path: str | Path, k: int) -> list[Path]:
    """``out.png`` -> ``[out_1.png, .., out_k.png]``: where :meth:`Inpainted.save_samples` writes.

    >>> [p.name for p in sample_paths("dir/out.png", 2)]
    ['out_1.png', 'out_2.png']
    """
    path = Path(path)
    return [path.with_name(f"{path.stem}_{i}{path.suffix}") for i in range(1, k + 1)]


def samples_methods() -> list[str]:
    """Names of the methods that can give several distinct fills (a ``samples`` option)."""
    from inpaintkit.registry import list_methods

    return [m.name for m in list_methods() if any(o.name == "samples" for o in m.options)]


def check_samples_option(info: MethodInfo, options: dict[str, Any]) -> None:
    """Drop ``samples=1`` (or None) for a method that gives one fill; refuse ``samples`` > 1.

    Only the latent searches offer one (their random starts); the feed-forward networks
    (``deepfill``, ``song2018``, ``context_encoder``) are deterministic at inference, and the
    classical methods give one answer (docs/latent_search.md, "Several fills").

    Raises:
        InpaintError: ``samples`` > 1 for such a method, naming the methods that support it.
    """
    if "samples" not in options or any(o.name == "samples" for o in info.options):
        return
    k = options.pop("samples")
    if k is None or (isinstance(k, int) and not isinstance(k, bool) and k == 1):
        return
    raise InpaintError(
        f"{info.name} gives one fill per image, so samples={k!r} is not possible with it; "
        f"several distinct fills come from {', '.join(samples_methods())} (their random starts)"
    )


def paste_samples(
    every: torch.Tensor | None,
    i: int,
    pixels: np.ndarray,
    known: np.ndarray,
    hole: np.ndarray,
    feather: int = 0,
) -> list[np.ndarray]:
    """Image ``i``'s fills from a method's ``samples`` extra (N, K, 3, H, W), pasted back like
    the first (which is ``pixels``, the method's image); ``[pixels]`` when there is none."""
    if every is None:
        return [pixels]
    out = [pixels]
    for k in range(1, every.shape[1]):
        fill = from_tensor(every[i : i + 1, k], dtype=known.dtype)
        out.append(paste_back(known, fill, hole, feather=feather))
    return out
