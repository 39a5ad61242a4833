"""Latent-search inpainting: Yeh et al. 2017 (DCGAN) and Vitoria et al. 2019 (ResNet WGAN-GP).

Both papers fill a hole by searching the latent space of a GAN trained on the image domain:
``z_hat = argmin_z  alpha * L_context + beta * L_gradient + L_prior`` over z clipped to
[-1, 1] after every Adam step, then paste G(z_hat) into the hole and Poisson-blend it
(Yeh Eq. 6). :func:`latent_search` is that search for ANY generator ``G: (N, z_dim) ->
(N, 3, S, S)`` and discriminator/critic ``D: (N, 3, S, S) -> (N,)``; the two registered methods
load a trained model from ``inpaintkit.weights`` and set the papers' hyperparameters:

- ``yeh2017``: DCGAN, z ~ U[-1, 1] (100 dims), L = L_context + 0.003 * log(1 - D(G(z))),
  Adam, 1500 steps (lr 0.01: the paper gives none; 0.01 is the usual reproduction value).
- ``vitoria2019``: ResNet WGAN-GP, z ~ N(0, 1) (128 dims),
  L = 0.1 * L_context + 0.9 * L_gradient - 0.5 * D(G(z)), Adam lr 0.03, betas (0.9, 0.999),
  1000 steps.

The search loop is :mod:`inpaintkit.methods.latent_loop`, the presets
:mod:`inpaintkit.methods.latent_presets` (their names are re-exported here); the loss terms
live in :mod:`inpaintkit.losses.latent` (sums per image, see there).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from inpaintkit.composite import fill_hole as compose
from inpaintkit.methods.latent_loop import Callback, SearchResult, eval_mode, latent_search
from inpaintkit.methods.latent_presets import PRESETS, preset_steps, resolve_preset
from inpaintkit.registry import MethodResult, register_method
from inpaintkit.weights import list_installed, load_gan, resolve_model

__all__ = [
    "PRESETS",
    "Callback",
    "SearchResult",
    "compose",
    "inpaint_with_model",
    "latent_search",
    "resolve_preset",
    "vitoria2019",
    "yeh2017",
]


def _resize_known(
    image: torch.Tensor, mask: torch.Tensor, size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Resize image and mask to (size, size) without letting hole content leak into known pixels.

    Known pixels are averaged with the antialiased bilinear filter normalised by the known
    weight (normalised convolution); a model pixel is a hole where less than half of its filter
    weight falls on known input pixels (for plain scaling this is nearest/majority voting).
    """

    def resize(t: torch.Tensor) -> torch.Tensor:
        return F.interpolate(
            t, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )

    known = 1.0 - mask
    weight = resize(known)  # (B, 1, S, S): fraction of the filter on known pixels
    small = resize(image * known) / weight.clamp_min(1e-6)
    hole = (weight < 0.5).to(mask.dtype)
    return small.clamp(-1, 1) * (1 - hole), hole


def inpaint_with_model(
    method: str,
    image: torch.Tensor,
    mask: torch.Tensor,
    *,
    model: str | None,
    seed: int,
    device: str,
    blend: bool,
    **search: Any,
) -> MethodResult:
    """Load ``method``'s model, fit the input to its size, run :func:`latent_search`, fit back.

    The search runs at the model's size S; the fill G(z) is resized back to the input size and
    composed there (so known pixels stay the input's and blending sees full resolution).
    """
    path = resolve_model(method, model)
    G, D, cfg = load_gan(method, path, device)
    if search.get("precision") == "bf16":  # oneDNN's bf16 convolutions prefer NHWC
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    dev = torch.device(device)
    x, m = image.to(dev), mask.to(dev)
    H, W = x.shape[-2:]
    S = cfg.image_size
    notes = []
    if (H, W) != (S, S):
        x_s, m_s = _resize_known(x, m, S)
        name = path.stem.removeprefix(f"{method}_")
        notes.append(f"resized {W}x{H} -> {S}x{S} for the {name} model")
    else:
        x_s, m_s = x, m
    gen = torch.Generator(device=dev).manual_seed(seed)
    found = latent_search(G, D, x_s, m_s, z_dim=cfg.z_dim, generator=gen, blend=False, **search)
    with torch.no_grad(), eval_mode(G):
        fill = G(found.z)  # (B, 3, S, S)
    if (H, W) != (S, S):
        fill = F.interpolate(
            fill, size=(H, W), mode="bilinear", antialias=True, align_corners=False
        )
    out = compose(x, m, fill, blend=blend)
    extras = {"loss": found.loss.cpu(), "z": found.z.cpu(), "model": str(path)}
    return MethodResult(image=out.to(image.device), extras=extras, notes=notes)


@register_method(
    "yeh2017",
    kind="latent-search",
    summary="search a DCGAN's latent space for the face/scene closest to the known pixels, then "
    "Poisson-blend (small images of one domain)",
    needs="a trained DCGAN for the image domain (--opt model=celeba64)",
    paper="Yeh, Chen, Lim, Schwing, Hasegawa-Johnson, Do: Semantic Image Inpainting with Deep "
    "Generative Models, CVPR 2017",
    models=lambda: tuple(list_installed("yeh2017")),
    family="yeh2017",
    total_steps=preset_steps("yeh2017"),
)
def yeh2017(
    image: torch.Tensor,
    mask: torch.Tensor,
    *,
    model: str | None = None,
    preset: str = "paper",
    iterations: int | None = None,
    restarts: int = 1,
    lr: float = 0.01,
    lam: float = 0.003,
    prior_loss: str = "gan",
    context_norm: str = "l1",
    window: int = 7,
    padding: str = "zeros",
    blend: bool = True,
    precision: str | None = None,
    init_candidates: int | None = None,
    early_stop_tol: float | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
    callback: Callback | None = None,
) -> MethodResult:
    """Yeh et al. 2017 with the paper's defaults (authors' code: prior_loss="nonsaturating",
    window=15, padding="symmetric"). image (B, 3, H, W) in [-1, 1]; mask (B, 1, H, W), 1 = hole.

    ``preset="paper"`` searches as the paper does (1500 fp32 steps from one random z);
    ``preset="fast"`` (see :data:`PRESETS`) is several times faster; ``iterations``,
    ``precision``, ``init_candidates`` and ``early_stop_tol`` (0 = off) override the preset.
    """
    search = resolve_preset(
        "yeh2017", preset, iterations=iterations, precision=precision,
        init_candidates=init_candidates, early_stop_tol=early_stop_tol,
    )  # fmt: skip
    # fmt: off
    return inpaint_with_model(
        "yeh2017", image, mask, model=model, seed=seed, device=device, blend=blend,
        prior="uniform", restarts=restarts, lr=lr, alpha=1.0, beta=0.0, **search,
        prior_loss=prior_loss, prior_weight=lam, context_norm=context_norm, window=window,
        padding=padding, progress=progress, callback=callback,
    )
    # fmt: on


@register_method(
    "vitoria2019",
    kind="latent-search",
    summary="search a ResNet WGAN-GP's latent space matching known pixels and their gradients, "
    "then Poisson-blend (small images of one domain)",
    needs="a trained ResNet WGAN-GP for the image domain (--opt model=celeba64)",
    paper="Vitoria, Sintes, Ballester: Semantic Image Inpainting Through Improved Wasserstein "
    "Generative Adversarial Networks, VISAPP 2019",
    models=lambda: tuple(list_installed("vitoria2019")),
    family="vitoria2019",
    total_steps=preset_steps("vitoria2019"),
)
def vitoria2019(
    image: torch.Tensor,
    mask: torch.Tensor,
    *,
    model: str | None = None,
    preset: str = "paper",
    iterations: int | None = None,
    restarts: int = 1,
    lr: float = 0.03,
    alpha: float = 0.1,
    beta: float = 0.9,
    eta: float = 0.5,
    window: int = 7,
    padding: str = "zeros",
    blend: bool = True,
    precision: str | None = None,
    init_candidates: int | None = None,
    early_stop_tol: float | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
    callback: Callback | None = None,
) -> MethodResult:
    """Vitoria et al. 2019 with the paper's defaults. image (B, 3, H, W) in [-1, 1]; mask
    (B, 1, H, W), 1 = hole. Presets and their overrides as for :func:`yeh2017` (paper: 1000
    fp32 steps).
    """
    search = resolve_preset(
        "vitoria2019", preset, iterations=iterations, precision=precision,
        init_candidates=init_candidates, early_stop_tol=early_stop_tol,
    )  # fmt: skip
    # fmt: off
    return inpaint_with_model(
        "vitoria2019", image, mask, model=model, seed=seed, device=device, blend=blend,
        prior="normal", restarts=restarts, lr=lr, betas=(0.9, 0.999), **search,
        alpha=alpha, beta=beta, prior_loss="wgan", prior_weight=eta, window=window,
        padding=padding, progress=progress, callback=callback,
    )
    # fmt: on
