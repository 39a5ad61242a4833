"""Putting a fill back into its image: exact paste-back and Poisson blending.

``paste_back`` works at the edges on the user's own pixels (uint8 or uint16) and keeps every
known pixel bit-exact. ``poisson_blend`` is Yeh et al. 2017, Eq. 6: inside the hole it keeps the
*gradients* of the generated image and matches the known pixels around it,

    x = argmin_x  sum over pixel pairs (p, q) touching the hole of
                  ((x_p - x_q) - (source_p - source_q))^2,   x = target on known pixels,

solved exactly as one sparse linear system (5-point Laplacian over the hole pixels, Dirichlet
values from the known 4-neighbours, Neumann at the image border: a border pixel just has fewer
neighbours). One LU factorisation serves all channels; the torch entry point is differentiable
with respect to both images (the adjoint reuses the same factorisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage, sparse
from scipy.sparse import linalg as sparse_linalg

from inpaintkit.errors import InpaintError

_PIXEL_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))


# ----------------------------------------------------------------------------- paste-back
def paste_back(
    original: np.ndarray, fill: np.ndarray, mask: np.ndarray, *, feather: int = 0
) -> np.ndarray:
    """Known pixels from ``original``, hole pixels from ``fill``.

    Args:
        original: (H, W, C) or (H, W) uint8/uint16, the user's image.
        fill: same shape and dtype, the method's output.
        mask: (H, W) bool, True = hole.
        feather: width in pixels of a soft edge INSIDE the hole: a hole pixel at distance
            ``d`` from the nearest known pixel takes ``alpha = min(d / feather, 1)`` of
            ``fill`` and the rest of ``original``. 0 = hard paste.

    Returns:
        New array of the dtype of ``original``; pixels where ``mask`` is False are bit-exact
        copies of ``original``.

    >>> o = np.zeros((1, 3, 1), np.uint8); f = np.full((1, 3, 1), 9, np.uint8)
    >>> paste_back(o, f, np.array([[False, True, True]])).ravel().tolist()
    [0, 9, 9]
    """
    if not isinstance(original, np.ndarray) or not isinstance(fill, np.ndarray):
        raise InpaintError("paste_back needs numpy arrays for original and fill")
    if original.dtype not in _PIXEL_DTYPES or fill.dtype != original.dtype:
        raise InpaintError(
            f"paste_back needs uint8 or uint16 pixels of one dtype, got {original.dtype} and "
            f"{fill.dtype}; convert the fill to the original's dtype first"
        )
    if original.ndim not in (2, 3) or fill.shape != original.shape:
        raise InpaintError(
            f"original {original.shape} and fill {fill.shape} must be the same (H, W, C) shape"
        )
    hole = _check_numpy_mask(mask, original.shape[:2])
    if isinstance(feather, bool) or not isinstance(feather, int | np.integer) or feather < 0:
        raise InpaintError(f"feather must be a non-negative integer, got {feather!r}")
    out = original.copy()
    if feather == 0 or hole.all():
        out[hole] = fill[hole]
        return out
    alpha = np.minimum(ndimage.distance_transform_edt(hole) / feather, 1.0)  # (H, W)
    if original.ndim == 3:
        alpha = alpha[..., None]
    mixed = alpha * fill.astype(np.float64) + (1.0 - alpha) * original.astype(np.float64)
    out[hole] = np.rint(mixed[hole]).astype(original.dtype)
    return out


def _check_numpy_mask(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``mask`` as an (H, W) bool array of ``shape``, or InpaintError."""
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        kind = getattr(mask, "dtype", type(mask).__name__)
        raise InpaintError(
            f"mask must be a numpy bool array (True = hole), got {kind}; use e.g. mask >= 128"
        )
    if mask.shape != tuple(shape):
        raise InpaintError(f"mask shape {mask.shape} does not match the image's {tuple(shape)}")
    return mask


# ----------------------------------------------------------------------------- the system
@dataclass
class _PoissonSystem:
    """The linear system of one hole mask: ``A x_hole = Rt @ target + Rs @ source``.

    ``A`` (n, n) is the 5-point Laplacian restricted to the n hole pixels (diagonal = number of
    in-image neighbours); ``Rt`` (n, H*W) sums each hole pixel's known neighbours of the target;
    ``Rs`` (n, H*W) is the same Laplacian applied to the source (its guidance field).
    """

    hole_idx: np.ndarray  # (n,) flat indices of the hole pixels, row-major
    lu: sparse_linalg.SuperLU
    rt: sparse.csr_matrix
    rs: sparse.csr_matrix

    @classmethod
    def build(cls, hole: np.ndarray) -> _PoissonSystem:
        """Assemble and factorise the system for an (H, W) bool ``hole`` (not all True)."""
        h, w = hole.shape
        hole_idx = np.flatnonzero(hole)
        n = hole_idx.size
        index = np.full(h * w, -1, np.int64)
        index[hole_idx] = np.arange(n)
        ys, xs = np.divmod(hole_idx, w)
        rows = np.arange(n)
        deg = np.zeros(n)
        a_rows, a_cols, t_rows, t_cols, s_rows, s_cols = [rows], [rows], [], [], [rows], [hole_idx]
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            ny, nx = ys + dy, xs + dx
            inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
            deg += inside
            p, q = rows[inside], (ny * w + nx)[inside]
            q_hole = index[q] >= 0
            a_rows.append(p[q_hole])
            a_cols.append(index[q[q_hole]])
            t_rows.append(p[~q_hole])
            t_cols.append(q[~q_hole])
            s_rows.append(p)
            s_cols.append(q)
        off_a = sum(r.size for r in a_rows[1:])
        a_vals = np.concatenate([deg, -np.ones(off_a)])
        A = sparse.csc_matrix(
            (a_vals, (np.concatenate(a_rows), np.concatenate(a_cols))), shape=(n, n)
        )
        t_r = np.concatenate(t_rows)
        rt = sparse.csr_matrix((np.ones(t_r.size), (t_r, np.concatenate(t_cols))), (n, h * w))
        s_vals = np.concatenate([deg, -np.ones(sum(r.size for r in s_rows[1:]))])
        rs = sparse.csr_matrix(
            (s_vals, (np.concatenate(s_rows), np.concatenate(s_cols))), shape=(n, h * w)
        )
        lu = sparse_linalg.splu(A, permc_spec="MMD_AT_PLUS_A")
        return cls(hole_idx=hole_idx, lu=lu, rt=rt, rs=rs)

    def solve(self, target: np.ndarray, source: np.ndarray) -> np.ndarray:
        """Hole values (n, C) from flat (H*W, C) float64 ``target`` and ``source``."""
        return self.lu.solve(self.rt @ target + self.rs @ source)

    def adjoint(self, grad_hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradients (H*W, C) w.r.t. flat target and source, from (n, C) hole gradients."""
        g = self.lu.solve(np.ascontiguousarray(grad_hole), trans="T")
        return self.rt.T @ g, self.rs.T @ g


# ----------------------------------------------------------------------------- numpy path
def _blend_numpy(target: np.ndarray, source: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Poisson blend of (H, W[, C]) float arrays with an (H, W) bool mask."""
    if not np.issubdtype(target.dtype, np.floating) or not np.issubdtype(source.dtype, np.floating):
        raise InpaintError(
            f"poisson_blend needs float images, got {target.dtype} and {source.dtype}; "
            "convert with .astype(np.float64)"
        )
    if target.ndim not in (2, 3) or source.shape != target.shape:
        raise InpaintError(
            f"target {target.shape} and source {source.shape} must be the same (H, W, C) shape"
        )
    hole = _check_numpy_mask(mask, target.shape[:2])
    out = target.copy()
    if not hole.any():
        return out
    _check_finite(target[~hole], source)
    system = _system_for(hole)
    h, w = hole.shape
    t = target.reshape(h * w, -1).astype(np.float64)
    s = source.reshape(h * w, -1).astype(np.float64)
    flat = out.reshape(h * w, -1)
    flat[system.hole_idx] = system.solve(t, s)
    return out


def _system_for(hole: np.ndarray) -> _PoissonSystem:
    if hole.all():
        raise InpaintError(
            "the mask covers the whole image: Poisson blending needs known pixels around the hole"
        )
    return _PoissonSystem.build(hole)


def _check_finite(
    known_target: np.ndarray | torch.Tensor, source: np.ndarray | torch.Tensor
) -> None:
    finite = (
        torch.isfinite(known_target).all() and torch.isfinite(source).all()
        if isinstance(source, torch.Tensor)
        else np.isfinite(known_target).all() and np.isfinite(source).all()
    )
    if not finite:
        raise InpaintError(
            "poisson_blend got NaN or infinite values in the source or the target's known pixels"
        )


# ----------------------------------------------------------------------------- torch path
class _PoissonBlendFn(torch.autograd.Function):
    """Differentiable Poisson blend of (B, C, H, W) tensors, one system per mask."""

    @staticmethod
    def forward(ctx, target, source, systems):  # type: ignore[override]
        ctx.systems = systems
        b, c, h, w = target.shape
        out = target.detach().clone()
        t = target.detach().to("cpu", torch.float64).reshape(b, c, h * w).numpy()
        s = source.detach().to("cpu", torch.float64).reshape(b, c, h * w).numpy()
        flat = out.view(b, c, h * w)
        for i, system in enumerate(systems):
            if system is not None:
                x = system.solve(t[i].T, s[i].T)  # (n, C)
                idx = torch.from_numpy(system.hole_idx).to(out.device)
                flat[i][:, idx] = torch.from_numpy(x.T).to(out.device, out.dtype)
        return out

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        b, c, h, w = grad_out.shape
        g = grad_out.detach().to("cpu", torch.float64).reshape(b, c, h * w).numpy()
        grad_t, grad_s = g.copy(), np.zeros_like(g)
        for i, system in enumerate(ctx.systems):
            if system is not None:
                grad_t[i][:, system.hole_idx] = 0.0  # hole outputs do not copy the target
                gt, gs = system.adjoint(g[i][:, system.hole_idx].T)
                grad_t[i] += gt.T
                grad_s[i] += gs.T
        return _like(grad_t, grad_out, (b, c, h, w)), _like(grad_s, grad_out, (b, c, h, w)), None


def _like(a: np.ndarray, ref: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    return torch.from_numpy(a).reshape(shape).to(ref.device, ref.dtype)


def poisson_blend_tensor(
    target: torch.Tensor, source: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Poisson blend of image batches (differentiable w.r.t. ``target`` and ``source``).

    Args:
        target: (B, C, H, W) float, the known image (values in its hole are ignored).
        source: (B, C, H, W) float, the generated image whose gradients fill the hole.
        mask: (B, 1, H, W) or (1, 1, H, W) float or bool, 1 (>= 0.5) = hole.

    Returns:
        (B, C, H, W) tensor of ``target``'s dtype and device, not clipped; known pixels equal
        ``target`` exactly.
    """
    if not target.is_floating_point() or not source.is_floating_point():
        raise InpaintError(f"poisson_blend needs float tensors, got {target.dtype}, {source.dtype}")
    if target.dim() != 4 or source.shape != target.shape:
        raise InpaintError(
            f"target {tuple(target.shape)} and source {tuple(source.shape)} must be the same "
            "(B, C, H, W) shape"
        )
    b, _, h, w = target.shape
    if mask.dim() != 4 or mask.shape[1] != 1 or mask.shape[0] not in (1, b):
        raise InpaintError(
            f"mask {tuple(mask.shape)} must be (B, 1, H, W) or (1, 1, H, W) for images "
            f"{tuple(target.shape)}"
        )
    if tuple(mask.shape[2:]) != (h, w):
        raise InpaintError(f"mask size {tuple(mask.shape[2:])} does not match image's {(h, w)}")
    holes = (mask.detach().to("cpu") >= 0.5)[:, 0].numpy()  # (B or 1, H, W) bool
    known = ~torch.from_numpy(holes).to(target.device)[:, None].expand_as(target)
    _check_finite(target.detach()[known], source.detach())
    systems = [_system_for(m) if m.any() else None for m in holes]
    if len(systems) == 1:
        systems = systems * b  # one mask for the whole batch: factorise once
    return _PoissonBlendFn.apply(target, source, systems)


def poisson_blend(
    target: np.ndarray | torch.Tensor,
    source: np.ndarray | torch.Tensor,
    mask: np.ndarray | torch.Tensor,
) -> np.ndarray | torch.Tensor:
    """Yeh et al. 2017, Eq. 6: blend ``source`` into the hole of ``target`` by its gradients.

    Solves ``x = argmin ||grad x - grad source||^2`` over the hole with ``x = target`` on the
    known pixels (see the module docstring). A mask with no hole returns a copy of ``target``.

    Args:
        target: (H, W, C) or (H, W) float numpy array (any range), or a (B, C, H, W) float
            tensor; values in its hole are ignored.
        source: same type and shape as ``target``: the fill whose gradients are kept.
        mask: (H, W) bool numpy array for numpy images; for tensors (B, 1, H, W) float or bool
            (1 = hole, thresholded at 0.5).

    Returns:
        Same type, dtype (and device) as ``target``; known pixels exactly ``target``, hole
        pixels the solution, not clipped (the caller clips).

    Raises:
        InpaintError: mixed or non-float types, shape mismatch, mask of the wrong shape or
            dtype, NaN/inf inputs, or a mask that covers the whole image.

    >>> t = np.zeros((3, 3)); s = np.full((3, 3), 5.0); m = np.zeros((3, 3), bool)
    >>> m[1, 1] = True
    >>> float(poisson_blend(t, s, m)[1, 1])
    0.0
    """
    if isinstance(target, torch.Tensor) and isinstance(source, torch.Tensor):
        if not isinstance(mask, torch.Tensor):
            raise InpaintError("poisson_blend: give the mask as a (B, 1, H, W) tensor")
        return poisson_blend_tensor(target, source, mask)
    if isinstance(target, np.ndarray) and isinstance(source, np.ndarray):
        return _blend_numpy(target, source, mask)
    raise InpaintError(
        "poisson_blend needs target and source both numpy arrays or both torch tensors, got "
        f"{type(target).__name__} and {type(source).__name__}"
    )
