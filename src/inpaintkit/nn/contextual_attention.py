"""Contextual attention of DeepFill v1 (Yu et al., CVPR 2018, section 3.2).

Every foreground location borrows features from background patches that lie entirely in the
known region, weighted by how well its surrounding patch matches theirs::

    fg, bg (B, C, H, W), mask (B, 1, *, *) 1 = hole
      -> f, b, m = fg, bg, mask at (h, w) = (H / rate, W / rate), nearest      (matching grid)
      -> s[i, j] = <f patch i, b patch j> / max(||b patch j||, 1e-4)          (ksize x ksize)
      -> fuse: s[i, j] summed over k diagonal neighbours, left-right then top-down
      -> a[i, :] = softmax(softmax_scale * s[i, :]) over VALID background patches only
      -> out = sum_j a[i, j] * (2 rate x 2 rate raw bg patch j), pasted at stride rate, / 4

Choices, where the reference code and the paper leave room:

- The mask is per sample (the reference code uses the first sample's mask for the batch).
  It may come at any resolution (the image's or the features'): it is resized to (h, w) with
  nearest neighbour (the top-left pixel of each cell). Any nonzero value counts as hole.
  A background patch is valid iff its whole ksize x ksize window (clipped to the map) is known.
- Only background patches are L2-normalised (as the reference code): the score is the
  foreground patch's projection on the background patch, i.e. cosine similarity times the
  foreground norm; the argmax is that of cosine similarity.
- Fuse follows the paper's formula ``s'[x, y, x', y'] = sum_d s[x + d, y, x' + d, y']`` with
  zeros outside the map. The reference implements it as a convolution over the flattened
  (h w) x (h w) score matrix, which also wraps a row's last column onto the next row's first;
  that wrap is not reproduced (it only changes border columns).
- Softmax is over valid patches only: invalid patches get weight exactly 0 and the weights of a
  location sum to 1 (the reference multiplies invalid scores by 0 before its softmax, which
  gives them weight in the denominator). A sample with no valid patch gets all-zero weights,
  an all-zero output and zero offsets.
- The layer returns values for EVERY location, known ones included (a known location whose
  own patch is valid mostly attends to itself and so returns ~its own features); the network
  composes. Reconstruction divides by 4 everywhere, as the reference: pixels within
  ``rate // 2`` of the map border are covered by fewer than 4 pasted patches and come out at
  1/2 (edges) or 1/4 (corners) of the overlap average.
- Memory: the score volume has (h w) x (h_b w_b) entries per sample. It is built in bands of
  foreground rows sized so that about ``max_bytes`` are live at once (fuse needs one halo row
  above and below each band; bands give the same result as one pass). On top of that come the
  patch matrices, about (ksize^2 + 4 rate^2) / rate^2 times the size of ``bg``. Under autograd
  every band's intermediates are kept for backward, so the budget only bounds inference.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(1, 8, 16, 16, generator=g)
    >>> hole = torch.zeros(1, 1, 16, 16)
    >>> hole[..., 4:12, 4:12] = 1
    >>> out, offsets = contextual_attention(x, x, hole)
    >>> tuple(out.shape), tuple(offsets.shape)
    ((1, 8, 16, 16), (1, 2, 8, 8))
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from inpaintkit.nn.flow_color import flow_to_color  # noqa: F401 (drawn from the offsets here)

DEFAULT_MAX_BYTES = 256 * 2**20
NORM_FLOOR = 1e-4
# Score-sized tensors alive at once in a band (fuse input and output, or logits and weights).
_LIVE_COPIES = 2


def _check(fg: torch.Tensor, bg: torch.Tensor, mask: torch.Tensor, **hp: int) -> None:
    """Raise ValueError (TypeError: a non-float dtype) for inputs the layer cannot use."""
    if fg.dim() != 4 or fg.shape != bg.shape:
        raise ValueError(
            f"contextual attention needs fg and bg of one shape (B, C, H, W), got "
            f"{tuple(fg.shape)} and {tuple(bg.shape)}"
        )
    if not fg.is_floating_point():
        raise TypeError(f"contextual attention needs float features, got {fg.dtype}")
    if mask.dim() != 4 or mask.shape[:2] != (fg.shape[0], 1):
        raise ValueError(
            f"mask must be (B, 1, H, W) with B = {fg.shape[0]}, got {tuple(mask.shape)}"
        )
    for name in ("ksize", "fuse_k"):
        if hp[name] < 1 or hp[name] % 2 == 0:
            raise ValueError(f"contextual attention {name} must be odd and >= 1")
    if hp["stride"] < 1 or hp["rate"] < 1:
        raise ValueError("contextual attention stride and rate must be >= 1")
    H, W = fg.shape[-2:]
    if H % hp["rate"] or W % hp["rate"]:
        raise ValueError(
            f"feature size {H}x{W} is not divisible by rate {hp['rate']}; pad the image to a "
            f"multiple of 8 (DeepFill) before calling"
        )


def _downscale(x: torch.Tensor, rate: int) -> torch.Tensor:
    """Nearest downscale by an integer factor: (B, C, H, W) -> (B, C, H/rate, W/rate)."""
    return x[..., ::rate, ::rate]


def _hole_at(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, 1, *, *) mask -> (B, 1, h, w) bool hole at ``size`` (nearest, nonzero = hole)."""
    if tuple(mask.shape[-2:]) != size:
        mask = F.interpolate(mask.float(), size=size, mode="nearest")
    return mask != 0


def _valid_patches(hole: torch.Tensor, ksize: int, stride: int) -> torch.Tensor:
    """(B, 1, h, w) bool hole -> (B, Lb) bool: background patch window entirely known."""
    touched = F.max_pool2d(hole.float(), ksize, stride=stride, padding=ksize // 2)
    return (touched == 0).flatten(1)


def _match_patches(b: torch.Tensor, ksize: int, stride: int, scale: float) -> torch.Tensor:
    """Background patches L2-normalised, times ``scale``: (B, C, h, w) -> (B, C ksize^2, Lb)."""
    w = F.unfold(b, ksize, padding=ksize // 2, stride=stride)
    norm = w.norm(dim=1, keepdim=True).clamp_min(NORM_FLOOR) / scale  # (B, 1, Lb)
    if torch.is_grad_enabled() and w.requires_grad:
        return w / norm
    return w.div_(norm)  # inference: no second copy


def propagate_scores(scores: torch.Tensor, *, k: int = 3) -> torch.Tensor:
    """Attention propagation ("fuse"): left-right, then top-down, over k diagonal neighbours.

    ``out[y, x, y', x'] = sum_{|dy|, |dx| <= k // 2} s[y + dy, x + dx, y' + dy, x' + dx]``,
    done as two passes (the paper's two identity-kernel convolutions), zeros outside the map.

    Args:
        scores: (B, h, w, hb, wb) scores of foreground (h, w) against background (hb, wb).
        k: odd neighbourhood size (3 in the paper).

    Returns:
        (B, h, w, hb, wb) fused scores.
    """
    return _diagonal_sum(_diagonal_sum(scores, 2, 4, k), 1, 3, k)


def _diagonal_sum(s: torch.Tensor, dim_f: int, dim_b: int, k: int) -> torch.Tensor:
    """``out[.., i, .., j] = sum_{|d| <= k // 2} s[.., i + d, .., j + d]`` along two dims."""
    out = s.clone()
    n_f, n_b = s.shape[dim_f], s.shape[dim_b]
    for d in range(1, min(k // 2, n_f - 1, n_b - 1) + 1):
        lo_f, hi_f = s.narrow(dim_f, 0, n_f - d), s.narrow(dim_f, d, n_f - d)
        lo, hi = lo_f.narrow(dim_b, 0, n_b - d), hi_f.narrow(dim_b, d, n_b - d)
        out.narrow(dim_f, d, n_f - d).narrow(dim_b, d, n_b - d).add_(lo)  # out[i] += s[i - d]
        out.narrow(dim_f, 0, n_f - d).narrow(dim_b, 0, n_b - d).add_(hi)  # out[i] += s[i + d]
    return out


class _Matcher:
    """Everything one call shares across bands: patches, validity, sizes, hyperparameters."""

    def __init__(
        self, fg: torch.Tensor, bg: torch.Tensor, mask: torch.Tensor, hp: dict[str, Any]
    ) -> None:
        self.hp = hp
        rate, ksize, stride = hp["rate"], hp["ksize"], hp["stride"]
        f, b = _downscale(fg, rate), _downscale(bg, rate)
        self.h, self.w = f.shape[-2:]
        p = ksize // 2
        self.f_padded = F.pad(f, (p, p, p, p))  # (B, C, h + 2p, w + 2p)
        # the softmax scale is folded in here: fuse is linear, so it commutes
        self.wn = _match_patches(b, ksize, stride, hp["softmax_scale"])  # (B, C k^2, Lb)
        top = rate // 2  # raw patches sit like TensorFlow's "SAME" ones: rate // 2 before
        self.bg_padded = F.pad(bg, (top, rate - top, top, rate - top))
        valid = _valid_patches(_hole_at(mask, (self.h, self.w)), ksize, stride)  # (B, Lb)
        self.has_valid = valid.any(dim=1)  # (B,)
        self.invalid = ~valid[:, None, None, :]  # (B, 1, 1, Lb)
        self.hb, self.wb = (self.h - 1) // stride + 1, (self.w - 1) // stride + 1
        self.halo = hp["fuse_k"] // 2 if hp["fuse"] else 0

    def scores(self, a: int, b: int) -> torch.Tensor:
        """Scaled scores of foreground rows [a, b): (B, b - a, w, hb, wb)."""
        k = self.hp["ksize"]
        fp = F.unfold(self.f_padded[:, :, a : b + k - 1], k)  # (B, C k^2, (b - a) w)
        s = torch.bmm(fp.transpose(1, 2), self.wn)  # (B, (b - a) w, Lb)
        return s.view(s.shape[0], b - a, self.w, self.hb, self.wb)

    def weights(self, r0: int, r1: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention of foreground rows [r0, r1) (n locations): (B, n, Lb) and argmax (B, n)."""
        a, b = max(r0 - self.halo, 0), min(r1 + self.halo, self.h)
        s = self.scores(a, b)
        if self.hp["fuse"]:  # propagate_scores, one pass at a time: two score copies, not 3
            s = _diagonal_sum(s, 2, 4, self.hp["fuse_k"])
            s = _diagonal_sum(s, 1, 3, self.hp["fuse_k"])
        logits = s[:, r0 - a : r1 - a].flatten(3)  # (B, r1 - r0, w, Lb), a view
        del s
        # the lowest finite logit: exp underflows to exactly 0, and a row with no valid patch
        # stays finite (uniform, zeroed below); in place: one score-sized copy fewer
        logits.masked_fill_(self.invalid, torch.finfo(logits.dtype).min)
        best = logits.argmax(dim=-1).flatten(1)  # a valid patch whenever one exists
        attn = torch.softmax(logits, dim=-1).flatten(1, 2)  # (B, n, Lb)
        if not bool(self.has_valid.all()):  # a uniform softmax over nothing valid -> 0
            attn = attn * self.has_valid.view(-1, 1, 1)
        return attn, best

    def paste(self, attn: torch.Tensor, r0: int, r1: int) -> torch.Tensor:
        """Weighted sums of raw patches, overlapped: (B, C, (r1 - r0 + 1) rate, W + rate).

        Raw patch j is the (2 rate)^2 window of full-resolution bg around matching location j
        (``rate // 2`` pixels beyond its cell on each side), so a patch pasted at its own
        location lands on itself. Built one window position at a time, never all at once.
        """
        B, C = self.bg_padded.shape[:2]
        rate, step = self.hp["rate"], self.hp["rate"] * self.hp["stride"]
        cols = []
        for ky in range(2 * rate):
            for kx in range(2 * rate):
                src = self.bg_padded[:, :, ky::step, kx::step][:, :, : self.hb, : self.wb]
                cols.append(torch.bmm(src.reshape(B, C, -1), attn.transpose(1, 2)))  # (B, C, n)
        cols_t = torch.stack(cols, dim=2).flatten(1, 2)  # (B, C (2 rate)^2, n), unfold's order
        size = ((r1 - r0 + 1) * rate, self.bg_padded.shape[-1])
        return F.fold(cols_t, size, 2 * rate, stride=rate)

    def offsets(self, best: torch.Tensor, r0: int, r1: int) -> torch.Tensor:
        """(dy, dx) from each foreground location to its argmax patch: (B, 2, r1 - r0, w)."""
        stride = self.hp["stride"]
        ys = torch.arange(r0, r1, device=best.device).view(-1, 1).expand(-1, self.w)
        xs = torch.arange(self.w, device=best.device).view(1, -1).expand(r1 - r0, -1)
        by = torch.div(best, self.wb, rounding_mode="floor") * stride
        bx = (best % self.wb) * stride
        off = torch.stack([by - ys.flatten(), bx - xs.flatten()], dim=1)  # (B, 2, n)
        off = off * self.has_valid.view(-1, 1, 1)  # no valid patch: zero offsets
        return off.view(-1, 2, r1 - r0, self.w)


def _prepare(
    fg: torch.Tensor,
    bg: torch.Tensor,
    mask: torch.Tensor,
    hp: dict[str, int],
    *,
    softmax_scale: float,
    fuse: bool,
) -> _Matcher:
    """Check the inputs and set up the shared state of one call."""
    _check(fg, bg, mask, **hp)
    return _Matcher(fg, bg, mask, {**hp, "softmax_scale": softmax_scale, "fuse": fuse})


def _rows_per_band(m: _Matcher, fg: torch.Tensor, max_bytes: int | None) -> int:
    """How many foreground rows keep a band's live tensors near ``max_bytes`` (at least 1).

    Per row: two score-sized tensors (fuse input and output, or softmax input and output), the
    foreground patches (C ksize^2 per location) and the pasted columns (C (2 rate)^2 per
    location, twice: the per-position pieces and their stack).
    """
    if max_bytes is None:
        return m.h
    B, C = fg.shape[:2]
    k2, r2 = m.hp["ksize"] ** 2, 4 * m.hp["rate"] ** 2
    per_row = B * m.w * fg.element_size() * (_LIVE_COPIES * m.hb * m.wb + C * (k2 + 2 * r2))
    return max(1, min(m.h, max_bytes // per_row - 2 * m.halo))


def contextual_attention(
    fg: torch.Tensor,
    bg: torch.Tensor,
    mask: torch.Tensor,
    *,
    ksize: int = 3,
    stride: int = 1,
    rate: int = 2,
    fuse_k: int = 3,
    softmax_scale: float = 10.0,
    fuse: bool = True,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Contextual attention: fill every location from matching known background patches.

    Args:
        fg: (B, C, H, W) foreground features (the ones to fill); H, W divisible by ``rate``.
        bg: (B, C, H, W) background features (the ones to borrow from; DeepFill passes
            the same map as ``fg``).
        mask: (B, 1, H', W') float, 1 = hole, per sample, at the features' resolution or at
            any other (e.g. the image's): resized to (H / rate, W / rate) by nearest neighbour.
        ksize: matching patch size on the downscaled maps (odd).
        stride: step between background patches (1 in the paper; 2 quarters the memory and
            time, fuse then runs on the strided background grid).
        rate: downscale factor of the matching; raw patches are 2 rate wide.
        fuse_k: neighbourhood of attention propagation (odd).
        softmax_scale: softmax temperature on the scores (10 in the paper).
        fuse: propagate attention (the paper does).
        max_bytes: about how many bytes of score volume to hold at once; the foreground is
            processed in bands of rows to stay under it (at least one row per band). None:
            one band.

    Returns:
        ``out``: (B, C, H, W) reconstruction for every location (see the module docstring on
        known locations and borders). ``offsets``: (B, 2, H / rate, W / rate) int64, the
        (dy, dx) in downscaled cells from each location to its argmax background patch
        (0 where a sample has no valid patch); :func:`flow_to_color` draws them.
    """
    hp = dict(ksize=ksize, stride=stride, rate=rate, fuse_k=fuse_k)
    m = _prepare(fg, bg, mask, hp, softmax_scale=softmax_scale, fuse=fuse)
    B, C, H, W = bg.shape
    acc = bg.new_zeros(B, C, H + rate, W + rate)  # padded by rate // 2 at the top/left
    offsets = []
    rows = _rows_per_band(m, fg, max_bytes)
    for r0 in range(0, m.h, rows):
        r1 = min(r0 + rows, m.h)
        attn, best = m.weights(r0, r1)  # (B, n, Lb)
        acc[:, :, r0 * rate : (r1 + 1) * rate] += m.paste(attn, r0, r1)
        offsets.append(m.offsets(best, r0, r1))
    top = rate // 2
    out = acc[:, :, top : top + H, top : top + W] / 4.0
    return out, torch.cat(offsets, dim=2)


def attention_weights(
    fg: torch.Tensor,
    bg: torch.Tensor,
    mask: torch.Tensor,
    *,
    ksize: int = 3,
    stride: int = 1,
    rate: int = 2,
    fuse_k: int = 3,
    softmax_scale: float = 10.0,
    fuse: bool = True,
) -> torch.Tensor:
    """The whole attention matrix of :func:`contextual_attention` (small inputs: inspection).

    Args: as :func:`contextual_attention`.

    Returns:
        (B, h w, hb wb) weights, rows = foreground locations of the (H / rate, W / rate) map in
        row-major order, columns = background patches (row-major on the strided grid). Each
        row sums to 1 over valid patches; invalid patches have weight 0.
    """
    hp = dict(ksize=ksize, stride=stride, rate=rate, fuse_k=fuse_k)
    m = _prepare(fg, bg, mask, hp, softmax_scale=softmax_scale, fuse=fuse)
    return m.weights(0, m.h)[0]


class ContextualAttention(nn.Module):
    """Module form of :func:`contextual_attention` (no parameters).

    ``max_bytes`` is a plain attribute: set it at run time to trade speed for memory.
    """

    def __init__(
        self,
        *,
        ksize: int = 3,
        stride: int = 1,
        rate: int = 2,
        fuse_k: int = 3,
        softmax_scale: float = 10.0,
        fuse: bool = True,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
    ) -> None:
        super().__init__()
        self.ksize, self.stride, self.rate, self.fuse_k = ksize, stride, rate, fuse_k
        self.softmax_scale, self.fuse, self.max_bytes = softmax_scale, fuse, max_bytes

    def forward(
        self, fg: torch.Tensor, bg: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, H, W) x2, (B, 1, H', W') -> out (B, C, H, W), offsets (B, 2, H/r, W/r)."""
        return contextual_attention(
            fg,
            bg,
            mask,
            ksize=self.ksize,
            stride=self.stride,
            rate=self.rate,
            fuse_k=self.fuse_k,
            softmax_scale=self.softmax_scale,
            fuse=self.fuse,
            max_bytes=self.max_bytes,
        )
