"""The latent search of Yeh et al. 2017 and Vitoria et al. 2019, for any GAN.

``z_hat = argmin_z  alpha * L_context + beta * L_gradient + L_prior`` over z clipped to
[-1, 1] after every Adam step, with restarts, early stopping and the best of several initial
latents; then G(z_hat) is pasted into the hole and Poisson-blended (Yeh Eq. 6). The methods
that use it (``yeh2017``, ``vitoria2019``) are in :mod:`inpaintkit.methods.latent_search`; the
loss terms in :mod:`inpaintkit.losses.latent`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import torch
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

Callback = Callable[[int, float], None]


class SearchResult(NamedTuple):
    """What :func:`latent_search` returns (unpacks as ``images, z, loss``)."""

    images: torch.Tensor  # (B, 3, S, S) in [-1, 1]: y with the hole filled (blended or pasted)
    z: torch.Tensor  # (B, z_dim): the best latent of each image, in [-clip, clip]
    loss: torch.Tensor  # (B,): the search loss at that latent


@contextlib.contextmanager
def eval_mode(*nets: nn.Module | None) -> Iterator[None]:
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


def _start(
    B: int, R: int, z_dim: int, prior: str, generator: torch.Generator, device: torch.device,
    z_init: torch.Tensor | None, clip: float | None,
) -> torch.Tensor:  # fmt: skip
    """(B * R, z_dim) starting latents: draws from the prior; with ``z_init`` (B, z_dim), row
    b * R (each image's first restart) is z_init[b], clipped to [-clip, clip]."""
    z = _initial_latents(B * R, z_dim, prior, generator, device)
    if z_init is not None:
        if z_init.shape != (B, z_dim):
            raise ValueError(f"z_init must be (B, z_dim) = {(B, z_dim)}, got {tuple(z_init.shape)}")
        first = z_init.detach().to(device, torch.float32)
        z.view(B, R, z_dim)[:, 0] = first.clamp(-clip, clip) if clip is not None else first
    return z


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
    draw: Callable[[], torch.Tensor],
) -> torch.Tensor:
    """For each row of ``z`` (N, z_dim), the lowest-``objective`` of it and k-1 ``draw()``s.

    The candidates are scored one batch of N at a time, so memory stays that of one step.
    """
    best, best_loss = z, objective(z)
    for _ in range(k - 1):
        cand = draw()
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
    blend: bool = True,
    **search: Any,
) -> SearchResult:
    """Inpaint ``y`` by searching G's latent space (defaults: Yeh et al. 2017).

    Runs :func:`search_latents` (every keyword but ``blend`` is its: see there for the loss,
    the restarts and the precision), keeps each image's lowest-loss restart, then composes
    G(z) into the hole.

    Args:
        G: generator, (N, z_dim) -> (N, 3, S, S) in [-1, 1].
        D: discriminator (logits) or critic, (N, 3, S, S) -> (N,); None for no prior term.
        y: (B, 3, S, S) in [-1, 1], the image with its hole (hole content is ignored).
        mask: (B, 1, S, S), 1 = hole.
        blend: Poisson-blend the fill (True) or paste it (False).
        **search: :func:`search_latents`' keywords (``z_dim`` is required).

    Returns:
        ``SearchResult(images (B, 3, S, S), z (B, z_dim), loss (B,))``, on ``y``'s device.
    """
    z, final = search_latents(G, D, y, mask, **search)  # (B, R, z_dim), (B, R)
    pick = final.argmin(1)  # (B,)
    rows = torch.arange(y.shape[0], device=y.device)
    z_best = z[rows, pick]
    with torch.no_grad(), eval_mode(G):
        fill = generate(G, z_best, search.get("precision", "fp32"))
    images = compose(y.detach(), mask, fill, blend=blend)
    return SearchResult(images, z_best, final[rows, pick])


def generate(G: nn.Module, z: torch.Tensor, precision: str = "fp32") -> torch.Tensor:
    """G(z) (N, 3, S, S) in float32, under bf16 autocast for ``precision="bf16"``."""
    with _autocast(precision, z.device):
        out = G(z)
    return out.float() if out.dtype == torch.bfloat16 else out


def search_latents(
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
    generator: torch.Generator | None = None,
    callback: Callback | None = None,
    early_stop_tol: float | None = None,
    progress: bool = True,
    precision: str = "fp32",
    init_candidates: int = 1,
    z_init: torch.Tensor | None = None,
    init_jitter: float = 0.0,
    on_latent: Callable[[int, torch.Tensor], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every restart's final latent and loss (the search of :func:`latent_search`).

    Minimises, for each of the B * restarts latents at once (they never interact: the nets
    run in eval mode and Adam is element-wise),
    ``alpha * context_loss + beta * gradient_loss + prior(D(G(z)))`` with Adam, clipping z to
    [-clip, clip] after every step; the loss is re-evaluated at the final z.

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
        restarts: random initialisations per image.
        clip: z is clamped to [-clip, clip] after every step (both papers: 1); None disables.
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
        z_init: (B, z_dim) a start for each image (e.g. a latent encoder's guess,
            :mod:`inpaintkit.models.latent_encoder`): the first restart of each image starts
            there (clipped), the others from the prior.
        init_jitter: with ``init_candidates`` > 1, draw the candidates as each start plus this
            much Gaussian noise (clipped) instead of from the prior (0).
        on_latent: ``on_latent(step, z)`` with the (B * restarts, z_dim) latents at the start
            (step 0) and after every step (measurements of quality against steps).

    Returns:
        ``z`` (B, restarts, z_dim) and ``loss`` (B, restarts), detached, on ``y``'s device.
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
        return generate(net, x, precision)

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
    z = _start(B, R, z_dim, prior, generator, y.device, z_init, clip)
    if init_candidates > 1:

        def draw() -> torch.Tensor:
            if init_jitter <= 0:
                return _initial_latents(B * R, z_dim, prior, generator, y.device)
            noise = torch.randn(z.shape, generator=generator, device=generator.device)
            cand = z + init_jitter * noise.to(y.device)
            return cand.clamp(-clip, clip) if clip is not None else cand

        with torch.no_grad(), eval_mode(G, D):
            z = _best_of(objective, z, init_candidates, draw)
    if on_latent is not None:
        on_latent(0, z.detach())
    z.requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr, betas=betas)
    previous: torch.Tensor | None = None
    with eval_mode(G, D), torch.enable_grad():
        bar = tqdm(range(iterations), desc="latent search", disable=not progress, leave=False)
        for step in bar:
            loss = objective(z)
            (z.grad,) = torch.autograd.grad(loss.sum(), z)  # no gradients into G's or D's weights
            opt.step()
            if clip is not None:
                with torch.no_grad():
                    z.clamp_(-clip, clip)
            loss = loss.detach()
            if on_latent is not None:
                on_latent(step + 1, z.detach())
            bar.set_postfix(loss=f"{loss.mean().item():.4g}")
            if callback is not None:
                callback(step + 1, loss.mean().item())
            if _converged(loss, previous, early_stop_tol):
                break
            previous = loss
        with torch.no_grad():
            final = objective(z)  # the loss of the z we return, after the last step and clip
    return z.detach().view(B, R, z_dim), final.view(B, R)


# ----- the two registered methods: load a model, fit the input to its size, search ------------

#: search settings per method and preset. ``paper``: the papers' search (fp32, one random
#: start, every iteration). ``fast``: bf16 + channels-last, the best of many random starts, far
#: fewer steps and early stopping (``inpaintkit bench latent-quality`` measures the trade).
