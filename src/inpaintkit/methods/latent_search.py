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

The loss terms live in :mod:`inpaintkit.losses.latent` (sums per image, see there).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from inpaintkit.composite import fill_hole as compose
from inpaintkit.errors import InpaintError
from inpaintkit.losses.latent import (
    context_loss,
    gradient_loss,
    importance_weights,
    prior_loss_gan,
    prior_loss_wgan,
)
from inpaintkit.methods.checks import check_choice
from inpaintkit.registry import MethodResult, register_method
from inpaintkit.weights import list_installed, load_gan, resolve_model

Callback = Callable[[int, float], None]


class SearchResult(NamedTuple):
    """What :func:`latent_search` returns (unpacks as ``images, z, loss``)."""

    images: torch.Tensor  # (B, 3, S, S) in [-1, 1]: y with the hole filled (blended or pasted)
    z: torch.Tensor  # (B, z_dim): the best latent of each image, in [-clip, clip]
    loss: torch.Tensor  # (B,): the search loss at that latent


@contextlib.contextmanager
def _eval_mode(*nets: nn.Module | None) -> Iterator[None]:
    """Run ``nets`` in eval mode (BatchNorm on running statistics), then restore their modes."""
    modes = [(n, n.training) for n in nets if n is not None]
    for n, _ in modes:
        n.eval()
    try:
        yield
    finally:
        for n, was_training in modes:
            n.train(was_training)


def _initial_latents(
    n: int, z_dim: int, prior: str, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """(n, z_dim) latents drawn from the model's prior with ``generator`` (on its device)."""
    if prior == "uniform":
        z = torch.rand(n, z_dim, generator=generator, device=generator.device) * 2 - 1
    elif prior == "normal":
        z = torch.randn(n, z_dim, generator=generator, device=generator.device)
    else:
        raise InpaintError(f"latent prior must be 'uniform' or 'normal', got {prior!r}")
    return z.to(device)


def _prior_term(d_out: torch.Tensor, kind: str, weight: float) -> torch.Tensor:
    if kind == "gan":
        return prior_loss_gan(d_out, lam=weight, mode="paper")
    if kind == "nonsaturating":
        return prior_loss_gan(d_out, lam=weight, mode="nonsaturating")
    if kind == "wgan":
        return prior_loss_wgan(d_out, eta=weight)
    raise InpaintError(f"prior_loss must be 'gan', 'nonsaturating' or 'wgan', got {kind!r}")


def _autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """bfloat16 autocast for ``precision="bf16"``, nothing for ``"fp32"``."""
    if precision not in ("fp32", "bf16"):
        raise InpaintError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def _converged(loss: torch.Tensor, previous: torch.Tensor | None, tol: float | None) -> bool:
    """True when no loss changed by more than ``tol`` times its previous value in one step."""
    if tol is None or previous is None:
        return False
    return bool(((loss - previous).abs() <= tol * previous.abs()).all())


def _best_of(
    objective: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    k: int,
    z_dim: int,
    prior: str,
    generator: torch.Generator,
) -> torch.Tensor:
    """For each row of ``z`` (N, z_dim), the lowest-``objective`` of it and k-1 fresh draws.

    The candidates are scored one batch of N at a time, so memory stays that of one step.
    """
    best, best_loss = z, objective(z)
    for _ in range(k - 1):
        cand = _initial_latents(z.shape[0], z_dim, prior, generator, z.device)
        loss = objective(cand)
        better = loss < best_loss
        best = torch.where(better[:, None], cand, best)
        best_loss = torch.where(better, loss, best_loss)
    return best


def _check_inputs(
    y: torch.Tensor,
    mask: torch.Tensor,
    iterations: int,
    restarts: int,
    callback: Any,
    init_candidates: int = 1,
) -> None:
    if y.dim() != 4 or y.shape[1] != 3:
        raise InpaintError(f"image must be (B, 3, H, W), got {tuple(y.shape)}")
    if mask.shape != (y.shape[0], 1, *y.shape[2:]):
        raise InpaintError(
            f"mask must be (B, 1, H, W) = {(y.shape[0], 1, *y.shape[2:])}, got {tuple(mask.shape)}"
        )
    if callback is not None and not callable(callback):
        raise InpaintError("callback must be a function callback(step, loss) or None")
    if iterations < 0 or restarts < 1:
        raise InpaintError(
            f"need iterations >= 0 and restarts >= 1, got {iterations} and {restarts}"
        )
    if init_candidates < 1:
        raise InpaintError(f"init_candidates must be >= 1, got {init_candidates}")


def latent_search(
    G: nn.Module,
    D: nn.Module | None,
    y: torch.Tensor,
    mask: torch.Tensor,
    *,
    z_dim: int,
    prior: str = "uniform",
    iterations: int = 1500,
    lr: float = 0.01,
    betas: tuple[float, float] = (0.9, 0.999),
    alpha: float = 1.0,
    beta: float = 0.0,
    prior_loss: str = "gan",
    prior_weight: float = 0.003,
    context_norm: str = "l1",
    window: int = 7,
    padding: str = "zeros",
    restarts: int = 1,
    clip: float | None = 1.0,
    blend: bool = True,
    generator: torch.Generator | None = None,
    callback: Callback | None = None,
    early_stop_tol: float | None = None,
    progress: bool = True,
    precision: str = "fp32",
    init_candidates: int = 1,
) -> SearchResult:
    """Inpaint ``y`` by searching G's latent space (defaults: Yeh et al. 2017).

    Minimises, for each of the B * restarts latents at once (they never interact: the nets
    run in eval mode and Adam is element-wise),
    ``alpha * context_loss + beta * gradient_loss + prior(D(G(z)))`` with Adam, clipping z to
    [-clip, clip] after every step; keeps each image's lowest-loss restart (loss re-evaluated
    at the final z); then composes G(z) into the hole.

    Args:
        G: generator, (N, z_dim) -> (N, 3, S, S) in [-1, 1].
        D: discriminator (logits) or critic, (N, 3, S, S) -> (N,); None for no prior term.
        y: (B, 3, S, S) in [-1, 1], the image with its hole (hole content is ignored).
        mask: (B, 1, S, S), 1 = hole.
        z_dim: latent size of G.
        prior: initial z distribution, ``"uniform"`` U[-1, 1] (DCGAN) or ``"normal"`` N(0, 1).
        iterations: Adam steps (Yeh: 1500; Vitoria: 1000).
        lr, betas: Adam settings (Vitoria: 0.03, (0.9, 0.999)).
        alpha, beta: weights of the context and gradient losses (Yeh: 1, 0; Vitoria: 0.1, 0.9).
        prior_loss: ``"gan"`` lam*log(1 - D), ``"nonsaturating"`` -lam*log D, or ``"wgan"`` -eta*D.
        prior_weight: lam or eta (Yeh: 0.003; Vitoria: 0.5).
        context_norm: ``"l1"`` or ``"l2"``.
        window, padding: importance-weight window (paper 7) and boundary handling.
        restarts: random initialisations per image; the best is kept.
        clip: z is clamped to [-clip, clip] after every step (both papers: 1); None disables.
        blend: Poisson-blend the fill (True) or paste it (False).
        generator: draws the initial latents; None means ``torch.Generator().manual_seed(0)``.
        callback: ``callback(step, mean_loss)`` after every step (step counts from 1); it may
            raise to cancel the search (the exception propagates).
        early_stop_tol: stop once no latent's loss changed by more than this fraction of its
            previous value in one step; None runs all iterations.
        progress: show a tqdm bar with the current mean loss.
        precision: ``"fp32"``, or ``"bf16"`` to run G and D under bfloat16 autocast (the
            losses, z and Adam stay float32; fast on CPUs with bf16 instructions and on GPUs).
            For channels-last, convert G, D and ``y`` yourself (``.to(memory_format=...)``).
        init_candidates: draw this many latents per search and start from the one with the
            lowest loss (one forward pass each, no gradients); 1 = the papers' single random
            start. A good start lets the search converge in far fewer steps.

    Returns:
        ``SearchResult(images (B, 3, S, S), z (B, z_dim), loss (B,))``, on ``y``'s device.
    """
    _check_inputs(y, mask, iterations, restarts, callback, init_candidates)
    check_choice("latent search", "context_norm", context_norm, ("l1", "l2"))
    check_choice("latent search", "padding", padding, ("zeros", "symmetric"))
    if window < 1 or window % 2 == 0:
        raise InpaintError(f"latent search: window must be odd and >= 1, got {window}")
    _autocast(precision, y.device)  # fail early on a bad precision
    B, R = y.shape[0], restarts
    y_r = y.detach().repeat_interleave(R, 0)  # (B*R, 3, S, S): image b owns rows b*R .. b*R+R-1
    m_r = mask.detach().repeat_interleave(R, 0)
    W = importance_weights(m_r, window=window, padding=padding)  # (B*R, 1, S, S)

    def run(net: nn.Module, x: torch.Tensor) -> torch.Tensor:  # bf16: back to float32 after
        with _autocast(precision, y.device):
            out = net(x)
        return out.float() if out.dtype == torch.bfloat16 else out

    def objective(z: torch.Tensor) -> torch.Tensor:  # (B*R, z_dim) -> (B*R,)
        gen = run(G, z)  # (B*R, 3, S, S)
        if gen.shape != y_r.shape:
            raise InpaintError(
                f"the generator makes {tuple(gen.shape[1:])} images but the input is "
                f"{tuple(y.shape[1:])}: resize the input to the model's size"
            )
        loss = alpha * context_loss(gen, y_r, W, norm=context_norm)
        if beta:
            loss = loss + beta * gradient_loss(gen, y_r, m_r, W)
        if D is not None and prior_weight:
            d_out = run(D, gen).reshape(-1)  # (B*R,)
            loss = loss + _prior_term(d_out, prior_loss, prior_weight)
        return loss

    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    z = _initial_latents(B * R, z_dim, prior, generator, y.device)
    if init_candidates > 1:
        with torch.no_grad(), _eval_mode(G, D):
            z = _best_of(objective, z, init_candidates, z_dim, prior, generator)
    z.requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr, betas=betas)
    previous: torch.Tensor | None = None
    with _eval_mode(G, D), torch.enable_grad():
        bar = tqdm(range(iterations), desc="latent search", disable=not progress, leave=False)
        for step in bar:
            loss = objective(z)
            (z.grad,) = torch.autograd.grad(loss.sum(), z)  # no gradients into G's or D's weights
            opt.step()
            if clip is not None:
                with torch.no_grad():
                    z.clamp_(-clip, clip)
            loss = loss.detach()
            bar.set_postfix(loss=f"{loss.mean().item():.4g}")
            if callback is not None:
                callback(step + 1, loss.mean().item())
            if _converged(loss, previous, early_stop_tol):
                break
            previous = loss
        with torch.no_grad():
            final = objective(z)  # the loss of the z we return, after the last step and clip
            best = torch.arange(B, device=y.device) * R + final.view(B, R).argmin(1)
            z_best = z.detach()[best]
            fill = run(G, z_best)
    images = compose(y.detach(), mask, fill, blend=blend)
    return SearchResult(images, z_best, final[best])


# ----- the two registered methods: load a model, fit the input to its size, search ------------

#: search settings per method and preset. ``paper``: the papers' search (fp32, one random
#: start, every iteration). ``fast``: bf16 + channels-last, the best of many random starts, far
#: fewer steps and early stopping (``inpaintkit bench latent-quality`` measures the trade).
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "yeh2017": {
        "paper": {"iterations": 1500, "precision": "fp32", "init_candidates": 1,
                  "early_stop_tol": 0.0},
        "fast": {"iterations": 250, "precision": "bf16", "init_candidates": 32,
                 "early_stop_tol": 1e-4},
    },
    "vitoria2019": {
        "paper": {"iterations": 1000, "precision": "fp32", "init_candidates": 1,
                  "early_stop_tol": 0.0},
        "fast": {"iterations": 200, "precision": "bf16", "init_candidates": 32,
                 "early_stop_tol": 1e-4},
    },
}  # fmt: skip


def preset_steps(method: str) -> Callable[[dict[str, Any]], int | None]:
    """The ``total_steps`` hook of ``method``: ``iterations`` if given, else its preset's.

    >>> preset_steps("yeh2017")({"preset": "fast"})
    250
    """

    def total_steps(options: dict[str, Any]) -> int | None:
        given = options.get("iterations")
        if isinstance(given, int) and not isinstance(given, bool):
            return given
        try:
            return int(PRESETS[method][options.get("preset") or "paper"]["iterations"])
        except (KeyError, TypeError, ValueError):
            return None

    return total_steps


def resolve_preset(method: str, preset: str, **given: Any) -> dict[str, Any]:
    """The search settings of ``preset`` for ``method``, with every non-None ``given`` value kept.

    >>> resolve_preset("yeh2017", "fast", iterations=None, precision="fp32")["precision"]
    'fp32'
    """
    table = PRESETS[method]
    if preset not in table:
        raise InpaintError(f"preset must be one of {', '.join(table)}, got {preset!r}")
    out = dict(table[preset])
    out.update({k: v for k, v in given.items() if v is not None})
    out["early_stop_tol"] = out["early_stop_tol"] or None  # 0 = run every iteration
    return out


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
    with torch.no_grad(), _eval_mode(G):
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
