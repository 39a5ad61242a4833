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

The penalty rho grows by ``rho_growth`` per inner step up to ``1e4 * rho`` (the usual
inexact-ALM schedule; the paper keeps it fixed, which needs many more steps). Values are in
[0, 1]; the hole starts at the mean of each channel's known pixels. All B x 3 matrices go
through one batched ``torch.linalg.svd`` per step, on the input's device.
"""

from __future__ import annotations

import torch
from torch import Tensor

from inpaintkit.errors import InpaintError
from inpaintkit.registry import register_method


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
    """A^T B = U_r V_r^T for the ``rank`` largest singular values of each (N, H, W) matrix."""
    u, _, vh = torch.linalg.svd(x, full_matrices=False)
    return u[..., :rank] @ vh[..., :rank, :]


def tnnr_complete(
    m: Tensor,
    known: Tensor,
    *,
    rank: int = 10,
    iterations: int = 100,
    outer: int = 5,
    rho: float = 1e-2,
    rho_growth: float = 1.1,
    tol: float = 1e-4,
) -> Tensor:
    """Complete a batch of matrices with TNNR-ADMM.

    Args:
        m: (N, H, W) matrices, used where ``known``.
        known: (N, H, W) bool.
        rank: number r of largest singular values left free (the truncation).
        iterations: maximum ADMM steps per outer step.
        outer: maximum outer steps (re-estimations of the top-r subspace).
        rho: initial ADMM penalty (threshold 1/rho); grows by ``rho_growth`` per step.
        rho_growth: factor applied to rho after every ADMM step (1.0 keeps it fixed).
        tol: stop the inner loop when ||X_k+1 - X_k||_F / ||M_Omega||_F < tol for every
            matrix, and the outer loop when the same holds between outer steps.

    Returns:
        (N, H, W) completed matrices, equal to ``m`` where ``known``.
    """
    count = known.sum(dim=(-2, -1), keepdim=True).clamp_min(1)
    mean = (m * known).sum(dim=(-2, -1), keepdim=True) / count
    x = torch.where(known, m, mean.expand_as(m))
    # Work on matrices of spectral norm 1 so that rho means the same at every size and range.
    norm = torch.linalg.matrix_norm(x, ord=2).clamp_min(1e-12)[:, None, None]  # (N, 1, 1)
    m, x = m / norm, x / norm
    rho_max = rho * 1e4
    for _ in range(outer):
        atb = _top_subspace(x, rank) if rank > 0 else torch.zeros_like(x)
        w, y, beta = x, torch.zeros_like(x), rho
        for _ in range(iterations):
            x_new = singular_value_threshold(w - y / beta, 1.0 / beta)
            w_new = torch.where(known, m, x_new + (atb + y) / beta)
            y = y + beta * (x_new - w_new)
            beta = min(beta * rho_growth, rho_max)
            residual = torch.linalg.matrix_norm(x_new - w_new) + torch.linalg.matrix_norm(w_new - w)
            w = w_new
            if bool(residual.max() < tol):
                break
        step = torch.linalg.matrix_norm(w - x)
        x = w
        if bool(step.max() < tol):
            break
    return x * norm
    return x


@register_method(
    "lowrank",
    kind="classical",
    summary="Low-rank matrix completion (TNNR, Hu 2013; Yeh 2017 'LR' baseline): good for "
    "scattered missing pixels in regular images; streaks in block holes",
    needs="nothing",
    paper="Y. Hu, D. Zhang, J. Ye, X. Li, X. He, Fast and Accurate Matrix Completion via "
    "Truncated Nuclear Norm Regularization, TPAMI 2013",
    max_pixels=1024 * 1024,
)
def lowrank(
    image: Tensor,
    mask: Tensor,
    *,
    rank: int = 10,
    iterations: int = 100,
    outer: int = 5,
    rho: float = 1e-2,
    tol: float = 1e-4,
) -> Tensor:
    """Fill the hole by completing each colour channel as a low-rank H x W matrix.

    Args:
        image: (B, 3, H, W) float in [-1, 1], RGB.
        mask: (B, 1, H, W) float, 1 = hole.
        rank: truncation r: the r largest singular values are not penalised.
        iterations: maximum ADMM steps per outer step.
        outer: maximum outer steps (SVD re-estimations of the top-r subspace).
        rho: initial ADMM penalty on [0, 1] values; it grows 10% per step.
        tol: relative change below which the loops stop early.

    Returns:
        (B, 3, H, W) float32 in [-1, 1], known pixels equal to ``image``.
    """
    for name, value, low in (("rank", rank, 0), ("iterations", iterations, 0), ("outer", outer, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InpaintError(f"lowrank: {name} must be an integer >= {low}, got {value!r}")
    if not rho > 0 or not tol >= 0:
        raise InpaintError(f"lowrank: need rho > 0 and tol >= 0, got rho={rho!r}, tol={tol!r}")
    image = image.detach()
    hole = mask.detach() >= 0.5  # (B, 1, H, W)
    if not bool(hole.any()):
        return image.clone()
    B, C, H, W = image.shape
    m = ((image.float() + 1.0) / 2.0).reshape(B * C, H, W)
    known = (~hole).expand(B, C, H, W).reshape(B * C, H, W)
    x = tnnr_complete(m, known, rank=rank, iterations=iterations, outer=outer, rho=rho, tol=tol)
    out = x.clamp(0.0, 1.0).reshape(B, C, H, W) * 2.0 - 1.0
    return torch.where(hole, out, image.float())
