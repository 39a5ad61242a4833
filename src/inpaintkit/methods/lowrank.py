"""Low-rank matrix completion by truncated nuclear norm regularisation (the "LR" baseline).

Hu, Zhang, Ye, Li, He (TPAMI 2013), TNNR-ADMM. Every colour channel of every image is an
H x W matrix M known on the set Omega of known pixels. TNNR minimises the sum of all but the
``rank`` largest singular values,

    min_X ||X||_* - sum_{i <= r} sigma_i(X)   s.t.  X = M on Omega,

by alternating (outer loop) the SVD X_l = U S V^T, A = U_r^T, B = V_r^T, with (inner loop)
ADMM on min ||X||_* - tr(A W B^T) s.t. X = W, W = M on Omega:

    X <- D_{1/rho}(W - Y / rho)              (singular value thresholding)
    W <- X + (A^T B + Y) / rho,  W = M on Omega
    Y <- Y + rho (X - W)

Deviations from the paper, each measured to matter:
- The first outer step uses r = 0, i.e. plain nuclear-norm completion, which is convex; the
  top-r subspace is then taken from a completion, not from the start fill, whose errors TNNR
  would reward and keep (a missing corner pixel of a smooth image came back 0.9 off without
  it). The paper starts from zeros in the hole.
- Directions with a singular value below 1% of the largest are never rewarded: past the
  matrix's effective rank they are noise, the objective turns flat along them and the fill
  drifts to the clipping limits. Photos keep 20+ directions above 1%, so r = 10 is untouched.
- rho grows by ``rho_growth`` per inner step up to ``1e4 * rho`` (the usual inexact-ALM
  schedule; a fixed rho needs many more steps), on matrices scaled to spectral norm 1 so that
  rho means the same at every size: the threshold 1/rho starts at the largest singular value.

Values are in [0, 1]; the hole starts at the mean of each channel's known pixels. All B x 3
matrices go through one batched ``torch.linalg.svd`` per step, on the input's device. TNNR is
a baseline for scattered missing pixels: across a large block hole nothing ties the fill to
the image, and it comes back as smeared rows and columns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from inpaintkit.errors import InpaintError
from inpaintkit.methods.big_images import fill_in_windows
from inpaintkit.methods.checks import check_known_pixels
from inpaintkit.methods.progress import Callback, Progress
from inpaintkit.registry import MethodResult, register_method

_NOISE = 1e-2  # singular values below this fraction of the largest are never rewarded
# Measured on 2 busy CPU cores (up to 5 x 100 SVDs of every channel, whatever the hole):
# 256x256 8 s, 512x512 46 s; an SVD costs ~n^3, so 1024x1024 would take several minutes.
_MAX_PIXELS = 512 * 512


@contextlib.contextmanager
def _one_cpu_thread(device: torch.device) -> Iterator[None]:
    """Run MKL's SVD single-threaded on CPU, restoring the thread count afterwards.

    Threaded LAPACK gains little on one image's matrices, and on a busy machine its spinning
    threads made each SVD 100-300x slower (measured: 256x256, 0.02 s vs 4.8 s).
    """
    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def singular_value_threshold(z: Tensor, threshold: float) -> Tensor:
    """Proximal operator of ``threshold * ||.||_*`` on a batch of matrices.

    Args:
        z: (N, H, W) matrices.
        threshold: amount subtracted from every singular value (clamped at 0).

    Returns:
        (N, H, W) ``U diag(max(s - threshold, 0)) V^T``.
    """
    u, s, vh = torch.linalg.svd(z, full_matrices=False)
    return (u * (s - threshold).clamp_min(0.0).unsqueeze(-2)) @ vh


def _top_subspace(x: Tensor, rank: int) -> Tensor:
    """A^T B = U_r V_r^T for the ``rank`` largest singular values of each (N, H, W) matrix.

    Directions whose singular value is below ``_NOISE`` times the largest are left out: when r
    exceeds the matrix's effective rank they are noise (8-bit rounding, or arbitrary vectors of
    zero singular values), and rewarding them (the -tr(A W B^T) term) makes the objective flat
    so the fill drifts to the clipping limits. A flat image keeps one direction whatever
    ``rank`` says; photos keep 20+ directions above 1% (measured), so r = 10 is untouched.
    """
    u, s, vh = torch.linalg.svd(x, full_matrices=False)
    keep = (s[..., :rank] > _NOISE * s[..., :1]).to(x.dtype)  # (N, r)
    return (u[..., :rank] * keep.unsqueeze(-2)) @ vh[..., :rank, :]


def tnnr_complete(
    m: Tensor,
    known: Tensor,
    *,
    rank: int = 10,
    iterations: int = 100,
    outer: int = 5,
    rho: float = 1.0,
    rho_growth: float = 1.1,
    tol: float = 1e-4,
    report: Callable[[int, float], None] | None = None,
) -> Tensor:
    """Complete a batch of matrices with TNNR-ADMM.

    Args:
        m: (N, H, W) matrices, used where ``known``.
        known: (N, H, W) bool.
        rank: number r of largest singular values left free (the truncation).
        iterations: maximum ADMM steps per outer step.
        outer: maximum outer steps; the first is plain nuclear-norm completion, each later
            one re-estimates the top-r subspace (``outer=1``: no truncation at all).
        rho: initial ADMM penalty on matrices of spectral norm 1 (first threshold 1/rho);
            grows by ``rho_growth`` per step.
        rho_growth: factor applied to rho after every ADMM step (1.0 keeps it fixed).
        tol: stop the inner loop when ||X - W||_F + ||W_k+1 - W_k||_F < tol for every
            matrix, the outer loop when ||X_l+1 - X_l||_F < tol (on spectral norm 1).
        report: ``report(step, residual)`` after every ADMM step, ``step`` counted over all
            outer steps (at most ``outer * iterations``; skipped steps of an early stop count).

    Returns:
        (N, H, W) completed matrices, equal to ``m`` where ``known``.
    """
    count = known.sum(dim=(-2, -1), keepdim=True).clamp_min(1)
    mean = (m * known).sum(dim=(-2, -1), keepdim=True) / count
    x = torch.where(known, m, mean.expand_as(m))
    # Work on matrices of spectral norm 1 so that rho means the same at every size and range.
    norm = torch.linalg.matrix_norm(x, ord=2).clamp_min(1e-12)[:, None, None]  # (N, 1, 1)
    m_orig, m, x = m, m / norm, x / norm
    rho_max = rho * 1e4
    for outer_step in range(outer):
        # the first step is plain nuclear-norm completion (convex): see the module docstring
        atb = _top_subspace(x, rank) if rank > 0 and outer_step > 0 else torch.zeros_like(x)
        w, y, beta = x, torch.zeros_like(x), rho
        for inner in range(iterations):
            x_new = singular_value_threshold(w - y / beta, 1.0 / beta)
            w_new = torch.where(known, m, x_new + (atb + y) / beta)
            y = y + beta * (x_new - w_new)
            beta = min(beta * rho_growth, rho_max)
            residual = torch.linalg.matrix_norm(x_new - w_new) + torch.linalg.matrix_norm(w_new - w)
            w = w_new
            if report is not None:
                report(outer_step * iterations + inner + 1, float(residual.max()))
            if bool(residual.max() < tol):
                break
        change = torch.linalg.matrix_norm(w - x)
        x = w
        if outer_step > 0 and bool(change.max() < tol):
            break
    return torch.where(known, m_orig, x * norm)


@register_method(
    "lowrank",
    kind="classical",
    summary="Low-rank matrix completion (TNNR, Hu 2013; Yeh 2017 'LR' baseline): good for "
    "scattered missing pixels in regular images; streaks in block holes",
    needs="nothing",
    paper="Y. Hu, D. Zhang, J. Ye, X. Li, X. He, Fast and Accurate Matrix Completion via "
    "Truncated Nuclear Norm Regularization, TPAMI 2013",
)
def lowrank(
    image: Tensor,
    mask: Tensor,
    *,
    rank: int = 10,
    iterations: int = 100,
    outer: int = 5,
    rho: float = 1.0,
    tol: float = 1e-4,
    progress: bool = True,
    callback: Callback | None = None,
) -> Tensor | MethodResult:
    """Fill the hole by completing each colour channel as a low-rank H x W matrix.

    Args:
        image: (B, 3, H, W) float in [-1, 1], RGB.
        mask: (B, 1, H, W) float, 1 = hole.
        rank: truncation r: the r largest singular values are not penalised.
        iterations: maximum ADMM steps per outer step.
        outer: maximum outer steps: one nuclear-norm completion, then re-estimations of the
            top-r subspace.
        rho: initial ADMM penalty, relative to each channel's largest singular value (the
            first threshold is 1/rho of it); it grows 10% per step up to 1e4 * rho.
        tol: change (relative to the largest singular value) below which the loops stop.
        progress: show a progress bar on stderr.
        callback: ``callback(step, residual, total=outer * iterations)`` after every ADMM step.

    Returns:
        (B, 3, H, W) float32 in [-1, 1], known pixels equal to ``image``; for a photo of more
        than 512x512 pixels a :class:`MethodResult` whose notes name the windows solved
        (windows around the holes, :mod:`inpaintkit.methods.big_images`).
    """
    for name, value, low in (("rank", rank, 0), ("iterations", iterations, 0), ("outer", outer, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InpaintError(f"lowrank: {name} must be an integer >= {low}, got {value!r}")
    if not rho > 0 or not tol >= 0:
        raise InpaintError(f"lowrank: need rho > 0 and tol >= 0, got rho={rho!r}, tol={tol!r}")
    image = image.detach()
    hole = mask.detach() >= 0.5  # (B, 1, H, W)
    check_known_pixels(mask, "lowrank")
    if not bool(hole.any()):
        return image.clone()

    def solve(x: Tensor, mk: Tensor) -> Tensor:
        B, C, H, W = x.shape
        hole = mk >= 0.5
        m = ((x.float() + 1.0) / 2.0).reshape(B * C, H, W)
        known = (~hole).expand(B, C, H, W).reshape(B * C, H, W)
        bar = Progress(outer * iterations, desc="lowrank", enabled=progress, callback=callback)
        try:
            with _one_cpu_thread(m.device):
                done = tnnr_complete(
                    m, known, rank=rank, iterations=iterations, outer=outer, rho=rho, tol=tol,
                    report=bar.update,
                )  # fmt: skip
        finally:
            bar.close()
        out = done.clamp(0.0, 1.0).reshape(B, C, H, W) * 2.0 - 1.0
        return torch.where(hole, out, x.float())

    if image.shape[-2] * image.shape[-1] <= _MAX_PIXELS:
        return solve(image, mask)
    out, notes = fill_in_windows(image, mask, solve, max_pixels=_MAX_PIXELS, method="lowrank")
    return MethodResult(image=out, notes=notes)
