"""Patch-swap of Song et al. 2018 (arXiv:1711.08590) and the style swap it reuses.

Every p x p neural patch of a feature map that overlaps the hole is replaced by the fully known
patch of the same map with the highest normalised cross-correlation; where pasted patches
overlap, they are averaged::

    features (B, C, H, W), mask (B, 1, H', W') 1 = hole
      -> hole (B, 1, H, W): a cell is hole if ANY mask pixel it covers is    (adaptive max-pool)
      -> queries: the windows centred at every location whose window touches the hole
         sources: the windows lying fully inside the map and fully known (every stride-th)
      -> score[q, s] = <window q, window s / ||window s||>    (one convolution, sources as filters)
      -> best[q] = argmax_s score[q, s]                        (argmax over the filter channels)
      -> swapped = sum_q raw window best[q] pasted at q / overlap count
                                              (one transposed convolution, / overlap count)
      -> out = swapped inside ``region``, the input features outside (bit-exact)

Choices, where the paper leaves room:

- Which locations change (``region``). The paper replaces the patches that overlap the hole and
  averages overlaps; a pasted window also covers up to ``2 (p // 2)`` known cells beyond the
  hole. ``"window"`` (default) writes the swapped value at every location whose own window
  touches the hole (the centres of the replaced patches: the hole dilated by ``p // 2``) and
  keeps every location whose window lies in the known region bit for bit, so the known region
  at patch level is untouched. ``"touched"`` writes wherever any replaced patch lands (the
  hole dilated by ``2 (p // 2)``); ``"hole"`` writes the hole only. At a written location the
  value is the mean of the replaced patches covering it (each one touches the hole), in all
  three modes; the hole's own values are the same in all three.
- Query windows at the map border are zero-padded, so every hole cell is the centre of one
  replaced patch (the parts of a pasted window outside the map are dropped). Source windows lie
  fully inside the map and fully outside the hole, so a pasted window never holds padding.
- Only the sources are L2-normalised (the query's norm does not change the argmax); the norm is
  floored at 1e-4, so an all-zero source scores 0. Ties go to the first source in row-major
  order. ``stride`` thins the source grid only; every query location is matched.
- The convolution is evaluated only where it is needed, as a pixel Gram matrix (every query
  pixel against every source pixel, one matrix product over channels) followed by p^2 shifted
  "diagonal" sums and the division by the source norms: the same sums as the convolution with
  the normalised source windows as filters, regrouped, with p^2 times fewer multiplications.
  The transposed convolution of the one-hot argmax map with the raw source windows as filters
  is a gather + scatter-add of the chosen windows (the one-hot map has one 1 per query): the
  same sums, without multiplying by zeros. tests/test_patch_swap.py checks both against the
  literal ``conv2d`` / ``argmax`` / ``conv_transpose2d`` and against a python loop.
- Memory: the Gram matrix and the score volume are built in bands of query rows of about
  ``max_bytes`` (bands give the same result as one pass); per band row that is
  ``(w + 2 (p // 2)) H W + w n_src`` floats for a query box w wide. The paste holds one
  map-sized accumulator and one (queries, C) gather at a time. Under autograd the output is
  differentiable through the pasted values (the argmax is piecewise constant and runs without
  a graph); the paper uses patch-swap without gradients.
- The loop over the batch is in python: masks (and so sources) differ per sample.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.rand(1, 8, 16, 16, generator=g)
    >>> hole = torch.zeros(1, 1, 64, 64)
    >>> hole[..., 16:32, 16:32] = 1  # image resolution: 4 x 4 cells of the 16 x 16 map
    >>> out, offsets = patch_swap(x, hole)
    >>> tuple(out.shape), tuple(offsets.shape), bool((out == x)[..., :2, :].all())
    ((1, 8, 16, 16), (1, 2, 16, 16), True)
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from inpaintkit.errors import InpaintError

DEFAULT_MAX_BYTES = 64 * 2**20
NORM_FLOOR = 1e-4
REGIONS = ("window", "touched", "hole")


def hole_at(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, 1, H', W') mask, nonzero = hole -> (B, 1, H, W) bool: cells covering any hole pixel.

    Downscaling is an adaptive max-pool (a cell is hole if any pixel of its bin is); upscaling
    repeats pixels. The same size is returned as is.
    """
    m = (mask != 0).float()
    if tuple(m.shape[-2:]) != tuple(size):
        m = F.adaptive_max_pool2d(m, size)
    return m > 0


def _check(features: torch.Tensor, mask: torch.Tensor, patch: int, stride: int) -> None:
    """Raise ValueError for inputs or hyperparameters patch-swap cannot use."""
    if features.dim() != 4 or not features.is_floating_point():
        raise ValueError(
            f"patch-swap needs float features (B, C, H, W), got {features.dtype} "
            f"{tuple(features.shape)}"
        )
    if mask.dim() != 4 or tuple(mask.shape[:2]) != (features.shape[0], 1):
        raise ValueError(
            f"mask must be (B, 1, H, W) with B = {features.shape[0]}, got {tuple(mask.shape)}"
        )
    _check_patch(features, patch, stride)


def _check_patch(x: torch.Tensor, patch: int, stride: int) -> None:
    """Raise ValueError unless ``patch`` is odd, ``stride`` >= 1 and x holds one window."""
    if patch < 1 or patch % 2 == 0:
        raise ValueError(f"patch-swap patch size must be odd and >= 1, got {patch}")
    if stride < 1:
        raise ValueError(f"patch-swap stride must be >= 1, got {stride}")
    if min(x.shape[-2:]) < patch:
        raise ValueError(
            f"feature map {x.shape[-2]}x{x.shape[-1]} is smaller than one {patch}x{patch} patch"
        )


def _band_rows(
    wq: int, p: int, src: torch.Tensor, n_src: int, max_bytes: int | None, total: int
) -> int:
    """Query rows per band so that its Gram matrix and scores hold about ``max_bytes``."""
    if max_bytes is None:
        return total
    per_row = src.element_size() * ((wq + p - 1) * src.shape[-2] * src.shape[-1] + wq * n_src)
    return max(1, min(total, max_bytes // per_row - (p - 1)))


def _best_sources(
    queries: torch.Tensor,
    wanted: torch.Tensor,
    sources: torch.Tensor,
    valid: torch.Tensor,
    *,
    p: int,
    stride: int,
    max_bytes: int | None,
) -> torch.Tensor:
    """Argmax of the normalised cross-correlation of every wanted query window.

    Args:
        queries: (C, hq + p - 1, wq + p - 1); query window (i, j) is ``[:, i:i+p, j:j+p]``.
        wanted: (hq, wq) bool, the query windows to match.
        sources: (C, Hs, Ws); source window (u, v) is ``[:, s u : s u + p, s v : s v + p]``.
        valid: (nu, nv) bool, the source windows allowed (at least one).

    Returns:
        (n_wanted,) int64 flat source index ``u nv + v``, wanted windows in row-major order.
    """
    with torch.no_grad():  # an argmax: nothing to differentiate, no graph to keep
        return _best_sources_nograd(queries, wanted, sources, valid, p, stride, max_bytes)


def _best_sources_nograd(
    queries: torch.Tensor,
    wanted: torch.Tensor,
    sources: torch.Tensor,
    valid: torch.Tensor,
    p: int,
    stride: int,
    max_bytes: int | None,
) -> torch.Tensor:
    """:func:`_best_sources` without autograd: Gram matrix in bands, p^2 diagonal sums."""
    C, Hs, Ws = sources.shape
    hq, wq = wanted.shape
    nu, nv = valid.shape
    span_u, span_v = stride * (nu - 1) + 1, stride * (nv - 1) + 1
    sq = F.avg_pool2d(sources.pow(2).sum(0, keepdim=True)[None], p, stride=stride) * (p * p)
    norm = sq[0, 0].sqrt().clamp_min(NORM_FLOOR)  # (nu, nv) source window norms
    fs = sources.reshape(C, Hs * Ws)
    rows = _band_rows(wq, p, sources, nu * nv, max_bytes, hq)
    best = []
    for a in range(0, hq, rows):
        b = min(a + rows, hq)
        if not bool(wanted[a:b].any()):
            continue
        band = queries[:, a : b + p - 1]  # (C, b - a + p - 1, wq + p - 1)
        gram = (band.reshape(C, -1).T @ fs).view(*band.shape[1:], Hs, Ws)  # pixel pairs
        scores = None
        for dy in range(p):
            for dx in range(p):
                d = gram[dy : dy + b - a, dx : dx + wq]
                d = d[..., dy : dy + span_u : stride, dx : dx + span_v : stride]
                scores = d.clone() if scores is None else scores.add_(d)  # (b - a, wq, nu, nv)
        del gram
        scores = scores.div_(norm).masked_fill_(~valid, float("-inf"))
        best.append(scores.flatten(2).argmax(dim=2)[wanted[a:b]])
    return torch.cat(best)


def _paste(
    sources: torch.Tensor,
    src_yx: tuple[torch.Tensor, torch.Tensor],
    canvas: tuple[int, int],
    tgt_yx: tuple[torch.Tensor, torch.Tensor],
    p: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum of the p x p windows of ``sources`` at top-left ``src_yx`` pasted at ``tgt_yx``.

    The transposed convolution of a one-hot map with the raw windows as filters, done sparsely.

    Returns:
        (C, Hc, Wc) sum and (Hc, Wc) overlap count on a canvas of size ``canvas``.
    """
    C, _, Ws = sources.shape
    Hc, Wc = canvas
    pixels = sources.permute(1, 2, 0).reshape(-1, C)  # (Hs Ws, C): rows gather contiguously
    acc = sources.new_zeros(Hc * Wc, C)
    count = torch.zeros(Hc * Wc, dtype=sources.dtype, device=sources.device)
    ones = torch.ones_like(tgt_yx[0], dtype=sources.dtype)
    for dy in range(p):
        for dx in range(p):  # one window pixel at a time: no index repeats within a call
            src = (src_yx[0] + dy) * Ws + src_yx[1] + dx
            tgt = (tgt_yx[0] + dy) * Wc + tgt_yx[1] + dx
            acc.index_add_(0, tgt, pixels.index_select(0, src))
            count.index_add_(0, tgt, ones)
    return acc.T.reshape(C, Hc, Wc), count.view(Hc, Wc)


def _swap_one(
    f: torch.Tensor, hole: torch.Tensor, *, p: int, stride: int, region: str, max_bytes: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Patch-swap of one sample: (C, H, W), (H, W) bool -> (C, H, W), (2, H, W) int64."""
    H, W = f.shape[-2:]
    r = p // 2
    offsets = torch.zeros(2, H, W, dtype=torch.int64, device=f.device)
    if not bool(hole.any()):
        return f.clone(), offsets
    touch = F.max_pool2d(hole[None, None].float(), p, stride=1, padding=r)[0, 0] > 0
    valid = ~touch[r : H - r : stride, r : W - r : stride]  # (nu, nv) source centres
    if not bool(valid.any()):
        raise InpaintError(
            f"patch-swap found no fully known {p}x{p} patch on a {H}x{W} feature map: the hole "
            f"covers too much of it; use a smaller hole or a larger image"
        )
    ys, xs = touch.nonzero(as_tuple=True)
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    f_pad = F.pad(f, (r, r, r, r))  # window centred at (y, x) = f_pad[:, y : y + p, x : x + p]
    queries = f_pad[:, y0 : y1 + 2 * r, x0 : x1 + 2 * r]
    best = _best_sources(
        queries, touch[y0:y1, x0:x1], f, valid, p=p, stride=stride, max_bytes=max_bytes
    )
    su = torch.div(best, valid.shape[1], rounding_mode="floor") * stride  # source top-left
    sv = (best % valid.shape[1]) * stride
    acc, count = _paste(f, (su, sv), (H + 2 * r, W + 2 * r), (ys, xs), p)
    acc, count = acc[:, r : r + H, r : r + W], count[r : r + H, r : r + W]
    swapped = acc / count.clamp_min(1)
    cover = {"window": touch, "touched": count > 0, "hole": hole}[region]
    offsets[0, ys, xs] = su + r - ys
    offsets[1, ys, xs] = sv + r - xs
    return torch.where(cover, swapped, f), offsets


def patch_swap(
    features: torch.Tensor,
    mask: torch.Tensor,
    *,
    patch: int = 3,
    stride: int = 1,
    region: str = "window",
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace every patch overlapping the hole by its best-matching known patch (Song et al.).

    Args:
        features: (B, C, H, W) float feature map (Song et al.: VGG relu3_1, (B, 256, 64, 64)).
        mask: (B, 1, H', W') float or bool, nonzero = hole, one per sample, at any resolution
            (e.g. the image's): a feature cell is hole if any mask pixel it covers is.
        patch: odd patch size p (3 in the paper).
        stride: step of the source-patch grid (1 in the paper; 2 quarters the score volume).
        region: which locations take the swapped values: ``"window"`` (every location whose
            p x p window touches the hole), ``"touched"`` (every location a replaced patch
            covers) or ``"hole"`` (see the module docstring). All others keep their input
            values bit for bit.
        max_bytes: about how many bytes of Gram matrix and scores to hold at once; the queries
            are processed in bands of rows to stay under it (same result). None: one band.

    Returns:
        ``swapped``: (B, C, H, W), the input with the hole's patches replaced. ``offsets``:
        (B, 2, H, W) int64, the (dy, dx) from each location whose window touches the hole to the
        centre of the known patch that replaced it; 0 elsewhere (and for samples without a
        hole). :func:`~inpaintkit.nn.contextual_attention.flow_to_color` draws them.

    Raises:
        ValueError: bad shapes or hyperparameters.
        InpaintError: a sample with a hole but no fully known patch (the user's hole is too
            large).
    """
    _check(features, mask, patch, stride)
    if region not in REGIONS:
        raise ValueError(f"patch-swap region must be one of {REGIONS}, got {region!r}")
    holes = hole_at(mask, tuple(features.shape[-2:]))[:, 0]  # (B, H, W) bool
    outs = [
        _swap_one(f, h, p=patch, stride=stride, region=region, max_bytes=max_bytes)
        for f, h in zip(features, holes, strict=True)
    ]
    return torch.stack([o[0] for o in outs]), torch.stack([o[1] for o in outs])


def style_swap(
    content: torch.Tensor,
    style: torch.Tensor,
    *,
    patch: int = 3,
    stride: int = 1,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> torch.Tensor:
    """Replace every content patch by its best style patch (Song et al.'s style transfer).

    The same matching and paste as :func:`patch_swap` (normalised cross-correlation against
    the L2-normalised style windows, overlaps averaged), with every p x p window lying inside
    the content map as a query, every window inside the style map as a source, and no mask.
    Each content location takes the mean of the pasted windows covering it.

    Args:
        content: (B, C, H, W) float features of the content image.
        style: (B, C, Hs, Ws) or (1, C, Hs, Ws) float features of the style image (any size
            of at least one patch).
        patch: odd patch size p.
        stride: step of the style-patch grid.
        max_bytes: as :func:`patch_swap`.

    Returns:
        (B, C, H, W) content features rebuilt from style patches.
    """
    for name, x in (("content", content), ("style", style)):
        if x.dim() != 4 or not x.is_floating_point():
            raise ValueError(f"style swap needs float {name} (B, C, H, W), got {tuple(x.shape)}")
        _check_patch(x, patch, stride)
    if style.shape[1] != content.shape[1] or style.shape[0] not in (1, content.shape[0]):
        raise ValueError(
            f"style features {tuple(style.shape)} do not fit content {tuple(content.shape)}: "
            f"same channels, and batch 1 or the content's"
        )
    style = style.expand(content.shape[0], -1, -1, -1)
    return torch.stack(
        [
            _style_one(c, s, p=patch, stride=stride, max_bytes=max_bytes)
            for c, s in zip(content, style, strict=True)
        ]
    )


def _style_one(
    c: torch.Tensor, s: torch.Tensor, *, p: int, stride: int, max_bytes: int | None
) -> torch.Tensor:
    """Style swap of one sample: (C, H, W), (C, Hs, Ws) -> (C, H, W)."""
    H, W = c.shape[-2:]
    hq, wq = H - p + 1, W - p + 1  # every window inside the content map
    nu, nv = (s.shape[1] - p) // stride + 1, (s.shape[2] - p) // stride + 1
    wanted = torch.ones(hq, wq, dtype=torch.bool, device=c.device)
    valid = torch.ones(nu, nv, dtype=torch.bool, device=c.device)
    best = _best_sources(c, wanted, s, valid, p=p, stride=stride, max_bytes=max_bytes)
    ys, xs = wanted.nonzero(as_tuple=True)
    src = (torch.div(best, nv, rounding_mode="floor") * stride, (best % nv) * stride)
    acc, count = _paste(s, src, (H, W), (ys, xs), p)
    return acc / count


def bench_patch_swap(
    size: int = 64,
    channels: int = 256,
    *,
    hole: int | None = None,
    threads: int | None = None,
    seed: int = 0,
) -> float:
    """Seconds of one :func:`patch_swap` of a (1, channels, size, size) map, centre square hole.

    Args:
        size: side of the square feature map (64: Song et al.'s relu3_1 at 256 px).
        channels: feature channels (256 for relu3_1).
        hole: side of the centre hole in cells (default ``size // 2``, the paper's setting).
        threads: torch CPU threads during the measurement (restored after); None: as set.
            On a CPU shared with other work, 1 thread can be much faster than 2.
        seed: seed of the random non-negative (ReLU-like) features.

    Returns:
        Wall-clock seconds of one call, timed after one identical warm-up call.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, channels, size, size, generator=g)
    mask = _centre_hole(size, size // 2 if hole is None else hole)
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        patch_swap(x, mask)  # warm-up: thread pools, allocator
        t = time.perf_counter()
        patch_swap(x, mask)
        return time.perf_counter() - t
    finally:
        torch.set_num_threads(before)


def _centre_hole(size: int, side: int) -> torch.Tensor:
    """(1, 1, size, size) mask with a centred side x side hole."""
    mask = torch.zeros(1, 1, size, size)
    top = (size - side) // 2
    mask[..., top : top + side, top : top + side] = 1
    return mask
