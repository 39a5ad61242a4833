"""Where the latent search starts: random latents, or a latent encoder's guess (amortised search).

A model of ``yeh2017`` or ``vitoria2019`` can have a latent encoder installed beside it
(``<model>.encoder.safetensors``: :mod:`inpaintkit.weights.encoders`); the methods' ``start``
option chooses whether the search starts from it.
"""

from __future__ import annotations

from typing import Any

import torch

from inpaintkit.errors import InpaintError
from inpaintkit.methods.latent_loop import eval_mode

__all__ = ["STARTS", "encoder_start"]

#: the ``start`` option's choices (see :func:`inpaintkit.methods.latent_search.inpaint_with_model`).
STARTS = ("auto", "encoder", "random")


def encoder_start(
    path: Any, start: str, x: torch.Tensor, m: torch.Tensor, cfg: Any, device: str
) -> tuple[torch.Tensor | None, Any]:
    """(E(x, m) (B, z_dim), the encoder's file) when ``start`` uses the model's encoder, else
    (None, None). x (B, 3, S, S) with holes blanked, m (B, 1, S, S)."""
    from inpaintkit.weights import load_model
    from inpaintkit.weights.encoders import find_encoder

    found = find_encoder(path) if start != "random" else None
    if found is None:
        if start == "encoder":
            raise InpaintError(
                f"start='encoder' needs a latent encoder for {path.name} and none is "
                f"installed; train one with `inpaintkit train latent_encoder --set "
                f"recipe.generator={path.stem} --data DIR` and install its export with "
                f"`inpaintkit weights install RUN/export/latent_encoder.safetensors`"
            )
        return None, None
    E = load_model("latent_encoder", found, device, only=("E",)).nets["E"]
    if (E.cfg.z_dim, E.cfg.image_size) != (cfg.z_dim, cfg.image_size):
        raise InpaintError(
            f"{found.name} encodes {E.cfg.image_size} px into z {E.cfg.z_dim}, but "
            f"{path.name} has {cfg.image_size} px and z {cfg.z_dim}"
        )
    with torch.no_grad(), eval_mode(E):
        return E(x, m).float(), found
