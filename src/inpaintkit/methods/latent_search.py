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

from typing import Any, Literal

import torch
import torch.nn.functional as F

from inpaintkit.composite import fill_hole as compose
from inpaintkit.errors import InpaintError
from inpaintkit.methods.checks import check_choice
from inpaintkit.methods.latent_loop import Callback, SearchResult, eval_mode, latent_search
from inpaintkit.methods.latent_presets import PRESETS, preset_steps, resolve_preset
from inpaintkit.methods.latent_samples import latent_search_samples
from inpaintkit.methods.latent_start import STARTS, encoder_start
from inpaintkit.methods.windows import crop_note, paste_squares, square_crops
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


#: most fills one call may ask for (each costs two more searches per image).
MAX_SAMPLES = 16
#: the least RMS difference in the hole (0..1 scale) between two of the ``samples`` fills.
SAMPLE_DISTANCE = 0.05


def _check_samples(samples: Any, distance: Any) -> None:
    if isinstance(samples, bool) or not isinstance(samples, int):
        raise InpaintError(f"samples must be a whole number, got {samples!r}")
    if not 1 <= samples <= MAX_SAMPLES:
        raise InpaintError(f"samples must be 1 to {MAX_SAMPLES}, got {samples}")
    if not isinstance(distance, int | float) or not 0 <= distance <= 1:
        raise InpaintError(f"sample_distance must be in [0, 1], got {distance!r}")


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
    samples: int = 1,
    sample_distance: float = SAMPLE_DISTANCE,
    start: str = "auto",
    given_candidates: bool = False,
    **search: Any,
) -> MethodResult:
    """Load ``method``'s model, crop the input around its holes, run :func:`latent_search`.

    The model fills S x S images. Each image's holes get a square crop around them (at least
    S, twice their extent: :func:`~inpaintkit.methods.windows.square_window`), so the aspect
    ratio is kept and a small hole in a big photo is filled at the model's own scale. A crop
    that is not S x S is resized to S for the search and its fill G(z) resized back; the fill
    is composed at full resolution (known pixels stay the input's). Holes that no square crop
    inside the image can hold are refused before any search runs. ``samples`` > 1: the
    ``samples`` best distinct fills (extras ``samples`` (B, K, 3, H, W), ``sample_losses``
    (B, K)); ``image`` is the first of them.

    ``start``: ``auto`` starts from the model's latent encoder when one is installed for it
    (:func:`~inpaintkit.weights.encoders.find_encoder`; each image's first restart, the others
    random), else from random latents; ``encoder`` requires one; ``random`` ignores it. An
    encoder's start is the only candidate unless the caller gave ``init_candidates``
    (``given_candidates``): the presets' random candidates beside it made no better fills
    (docs/latent_search.md, "Amortised search").
    """
    _check_samples(samples, sample_distance)
    check_choice(method, "start", start, STARTS)
    path = resolve_model(method, model)
    G, D, cfg = load_gan(method, path, device)
    S = cfg.image_size
    if search.get("precision") == "bf16":  # oneDNN's bf16 convolutions prefer NHWC
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    dev = torch.device(device)
    x, m = image.to(dev), mask.to(dev)
    try:
        x_s, m_s, boxes = square_crops(x, m, S, fit=_resize_known)
    except InpaintError as e:
        raise InpaintError(f"{method} fills a square crop around the holes: {e}") from None
    notes = crop_note(boxes, S, tuple(x.shape[-2:]), path.stem.removeprefix(f"{method}_"))
    search["z_init"], used = encoder_start(path, start, x_s, m_s, cfg, device)
    amortised = search.pop("amortised", None)
    if used and amortised:  # preset auto from an encoder: its settings, where not given
        search |= amortised
        notes.append(f"preset auto: {search['iterations']} {search['precision']} steps")
    if used:
        notes.append(f"the search started from the latent encoder {used.name}")
        if not given_candidates:  # measured: random candidates beside E's z do not help
            search["init_candidates"] = 1
    gen = torch.Generator(device=dev).manual_seed(seed)
    if samples > 1:
        search |= {"z_dim": cfg.z_dim, "generator": gen, "sample_distance": sample_distance}
        res = _several_fills(G, D, x, m, x_s, m_s, boxes, blend, samples, search)
        res.extras["model"] = str(path)
        res.extras["start"] = "encoder" if used else "random"
        res.notes[:0] = notes
        return MethodResult(res.image.to(image.device), res.extras, res.notes)
    found = latent_search(G, D, x_s, m_s, z_dim=cfg.z_dim, generator=gen, blend=False, **search)
    with torch.no_grad(), eval_mode(G):
        fill = paste_squares(x, G(found.z), boxes)  # G(z): (B, 3, S, S)
    out = compose(x, m, fill, blend=blend)
    extras = {"loss": found.loss.cpu(), "z": found.z.cpu(), "model": str(path),
              "start": "encoder" if used else "random"}  # fmt: skip
    return MethodResult(image=out.to(image.device), extras=extras, notes=notes)


def _several_fills(
    G: torch.nn.Module,
    D: torch.nn.Module,
    x: torch.Tensor,
    m: torch.Tensor,
    x_s: torch.Tensor,
    m_s: torch.Tensor,
    boxes: list[tuple[int, int, int, int]],
    blend: bool,
    k: int,
    search: dict[str, Any],
) -> MethodResult:
    """``samples=k``: the k best distinct fills of max(restarts, 2k) searches, each composed
    into the full image like the single fill (:mod:`~inpaintkit.methods.latent_samples`)."""
    min_distance = search.pop("sample_distance")
    restarts = max(search.pop("restarts"), 2 * k)
    found = latent_search_samples(
        G, D, x_s, m_s, samples=k, min_distance=min_distance, blend=blend, restarts=restarts,
        **search,
    )  # fmt: skip
    B = x.shape[0]
    x_k, m_k = x.repeat_interleave(k, 0), m.repeat_interleave(k, 0)  # (B*k, ...)
    fill = paste_squares(x_k, found.fills.flatten(0, 1), [b for b in boxes for _ in range(k)])
    out = compose(x_k, m_k, fill, blend=blend).view(B, k, *x.shape[1:])  # (B, k, 3, H, W)
    fewest = int(found.distinct.min())
    note = (
        f"{k} fills from {restarts} searches, lowest search loss first; any two differ by at "
        f"least {min_distance:g} (RMS in the hole, 0..1)"
    )
    if fewest < k:
        note = (
            f"{k} fills from {restarts} searches, lowest search loss first; only {fewest} "
            f"differ by at least {min_distance:g} (RMS in the hole, 0..1): the others are the "
            "most different of the rest (more restarts find more)"
        )
    extras = {
        "loss": found.loss[:, 0].cpu(),
        "z": found.z[:, 0].cpu(),
        "samples": out.cpu(),
        "sample_losses": found.loss.cpu(),
        "sample_z": found.z.cpu(),
        "sample_distinct": found.distinct.cpu(),
    }
    return MethodResult(image=out[:, 0], extras=extras, notes=[note])


@register_method(
    "yeh2017",
    kind="latent-search",
    summary="search a DCGAN's latent space for the face/scene closest to the known pixels, then "
    "Poisson-blend (small images of one domain)",
    needs="a trained DCGAN for the image domain (bundled: celeba64, the default; cars64, "
    "housenumbers64)",
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
    preset: Literal["auto", "paper", "fast", "amortised"] = "auto",
    start: Literal["auto", "encoder", "random"] = "auto",
    iterations: int | None = None,
    restarts: int = 1,
    samples: int = 1,
    sample_distance: float = SAMPLE_DISTANCE,
    lr: float = 0.01,
    lam: float = 0.003,
    prior_loss: Literal["gan", "nonsaturating", "wgan"] = "gan",
    context_norm: Literal["l1", "l2"] = "l1",
    window: int = 7,
    padding: Literal["zeros", "symmetric"] = "zeros",
    blend: bool = True,
    precision: Literal["fp32", "bf16"] | None = None,
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
    ``preset="fast"`` (see :data:`PRESETS`) is several times faster; the default ``auto`` runs
    150 bf16 steps from the latent encoder's guess where one is installed (``amortised``) and
    the paper's search elsewhere; ``iterations``,
    ``precision``, ``init_candidates`` and ``early_stop_tol`` (0 = off) override the preset.

    Args:
        model: an installed domain (``celeba64``), a full name or a ``.safetensors`` path;
            None: the method's default model.
        preset: ``auto`` (``amortised`` when the search starts from an installed latent
            encoder, else ``paper``), ``paper`` (the paper's search), ``fast`` (bf16, many
            starts, fewer steps) or ``amortised`` (150 bf16 steps from one start).
        start: ``auto`` (the model's latent encoder if installed, else random), ``encoder`` or
            ``random`` (the best of ``init_candidates`` random latents).
        iterations: search steps (None: the preset's).
        restarts: independent searches per image; the lowest loss wins.
        samples: return this many distinct fills (extras ``samples``), the best first, from
            max(restarts, 2 * samples) searches; 1 = one fill (see ``latent_samples``).
        sample_distance: least RMS difference (0..1) in the hole between two of the fills.
        lr: Adam learning rate of the latent search.
        lam: weight of the prior (GAN) loss against the context loss (paper: 0.003).
        prior_loss: ``gan`` lam*log(1 - D), ``nonsaturating`` -lam*log D, or ``wgan``.
        context_norm: ``l1`` (the paper) or ``l2`` norm of the weighted context loss.
        window: side of the importance-weight window around the hole (paper: 7).
        padding: ``zeros`` counts pixels outside the image as known, ``symmetric`` mirrors.
        blend: Poisson-blend the fill into the image (the paper's); False pastes it.
        precision: ``fp32`` or ``bf16`` search (None: the preset's).
        init_candidates: latents tried before the search; the best starts it (None: the
            preset's for a random start, 1 for an encoder's: its z only).
        early_stop_tol: stop when the loss improves less than this (0 = off; None: preset's).
        seed: seed of the random starts; the same seed gives the same fill.
        device: torch device to run on.
        progress: show a progress bar on stderr.
        callback: ``callback(step, loss)`` after each step (the web app's progress).
    """
    search = resolve_preset(
        "yeh2017", preset, iterations=iterations, precision=precision,
        init_candidates=init_candidates, early_stop_tol=early_stop_tol,
    )  # fmt: skip
    # fmt: off
    return inpaint_with_model(
        "yeh2017", image, mask, model=model, seed=seed, device=device, blend=blend,
        start=start, given_candidates=init_candidates is not None, samples=samples,
        sample_distance=sample_distance, prior="uniform", restarts=restarts,
        lr=lr, alpha=1.0, beta=0.0, **search,
        prior_loss=prior_loss, prior_weight=lam, context_norm=context_norm, window=window,
        padding=padding, progress=progress, callback=callback,
    )
    # fmt: on


@register_method(
    "vitoria2019",
    kind="latent-search",
    summary="search a ResNet WGAN-GP's latent space matching known pixels and their gradients, "
    "then Poisson-blend (small images of one domain)",
    needs="a trained ResNet WGAN-GP for the image domain (bundled: celeba64, the default; "
    "cars64, housenumbers64)",
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
    preset: Literal["auto", "paper", "fast", "amortised"] = "auto",
    start: Literal["auto", "encoder", "random"] = "auto",
    iterations: int | None = None,
    restarts: int = 1,
    samples: int = 1,
    sample_distance: float = SAMPLE_DISTANCE,
    lr: float = 0.03,
    alpha: float = 0.1,
    beta: float = 0.9,
    eta: float = 0.5,
    window: int = 7,
    padding: Literal["zeros", "symmetric"] = "zeros",
    blend: bool = True,
    precision: Literal["fp32", "bf16"] | None = None,
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

    Args:
        model: an installed domain (``celeba64``), a full name or a ``.safetensors`` path;
            None: the method's default model.
        preset: ``auto`` (``amortised`` when the search starts from an installed latent
            encoder, else ``paper``), ``paper`` (the paper's search), ``fast`` (bf16, many
            starts, fewer steps) or ``amortised`` (150 bf16 steps from one start).
        start: ``auto`` (the model's latent encoder if installed, else random), ``encoder`` or
            ``random`` (the best of ``init_candidates`` random latents).
        iterations: search steps (None: the preset's).
        restarts: independent searches per image; the lowest loss wins.
        samples: return this many distinct fills (extras ``samples``), the best first, from
            max(restarts, 2 * samples) searches; 1 = one fill (see ``latent_samples``).
        sample_distance: least RMS difference (0..1) in the hole between two of the fills.
        lr: Adam learning rate of the latent search.
        alpha: weight of the pixel context term (paper: 0.1).
        beta: weight of the gradient context term (paper: 0.9).
        eta: weight of the WGAN prior term (paper: 0.5).
        window: side of the importance-weight window around the hole (paper: 7).
        padding: ``zeros`` counts pixels outside the image as known, ``symmetric`` mirrors.
        blend: Poisson-blend the fill into the image (the paper's); False pastes it.
        precision: ``fp32`` or ``bf16`` search (None: the preset's).
        init_candidates: latents tried before the search; the best starts it (None: the
            preset's for a random start, 1 for an encoder's: its z only).
        early_stop_tol: stop when the loss improves less than this (0 = off; None: preset's).
        seed: seed of the random starts; the same seed gives the same fill.
        device: torch device to run on.
        progress: show a progress bar on stderr.
        callback: ``callback(step, loss)`` after each step (the web app's progress).
    """
    search = resolve_preset(
        "vitoria2019", preset, iterations=iterations, precision=precision,
        init_candidates=init_candidates, early_stop_tol=early_stop_tol,
    )  # fmt: skip
    # fmt: off
    return inpaint_with_model(
        "vitoria2019", image, mask, model=model, seed=seed, device=device, blend=blend,
        start=start, given_candidates=init_candidates is not None, samples=samples,
        sample_distance=sample_distance, prior="normal", restarts=restarts,
        lr=lr, betas=(0.9, 0.999), **search,
        alpha=alpha, beta=beta, prior_loss="wgan", prior_weight=eta, window=window,
        padding=padding, progress=progress, callback=callback,
    )
    # fmt: on
