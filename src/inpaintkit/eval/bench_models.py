"""Benchmarks of the model-based methods (``inpaintkit bench latent``); never asserted in tests.

``latent``: Yeh et al.'s latent search (:func:`inpaintkit.methods.latent_search.latent_search`)
for a batch of 64x64 images with the paper-size DCGAN (random weights: the speed does not
depend on them), centre mask, in four settings: fp32, bf16 autocast, channels-last, both.
A full search is 1500 Adam steps; the benchmark times a few steps after a warm-up and
extrapolates, so a row reads "seconds per step" and "1500 steps (extrapolated)".
"""

from __future__ import annotations

import time

import numpy as np
import torch

from inpaintkit.eval.bench import benchmark
from inpaintkit.models.dcgan import DCGANConfig

#: the settings of the ``latent`` benchmark: name -> (precision, channels_last)
LATENT_SETTINGS: dict[str, tuple[str, bool]] = {
    "fp32": ("fp32", False),
    "bf16": ("bf16", False),
    "channels_last": ("fp32", True),
    "bf16+channels_last": ("bf16", True),
}


def _centre_batch(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random images (n, 3, size, size) in [-1, 1] and the centre mask (n, 1, size, size)."""
    from inpaintkit.masks import center_mask

    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    hole = torch.from_numpy(center_mask((size, size)).astype(np.float32))
    mask = hole.expand(n, 1, size, size).contiguous()
    return images * (1 - mask), mask


def time_latent_search(
    G: torch.nn.Module,
    D: torch.nn.Module,
    images: torch.Tensor,
    mask: torch.Tensor,
    *,
    z_dim: int,
    precision: str,
    iterations: int,
    warmup: int,
) -> float:
    """Seconds per Adam step of the latent search, over ``iterations`` steps after ``warmup``.

    One search of ``warmup + iterations`` steps; the clock reads at the end of each step (the
    search's callback syncs on the loss), so setup, the final loss and the fill are excluded.
    """
    from inpaintkit.methods.latent_search import latent_search

    stamps: list[float] = []
    latent_search(
        G, D, images, mask, z_dim=z_dim, iterations=warmup + iterations, precision=precision,
        blend=False, progress=False, callback=lambda step, loss: stamps.append(time.perf_counter()),
    )  # fmt: skip
    if warmup == 0:  # the clock starts at the first step's end: one step fewer is measured
        return (stamps[-1] - stamps[0]) / max(iterations - 1, 1)
    return (stamps[-1] - stamps[warmup - 1]) / iterations


@benchmark("latent")
def bench_latent(
    *,
    n: int = 64,
    iterations: int = 10,
    warmup: int = 2,
    total: int = 1500,
    config: DCGANConfig | None = None,
    settings: tuple[str, ...] = tuple(LATENT_SETTINGS),
    seed: int = 0,
) -> list[dict]:
    """Latent search (yeh2017) of 64 images with the paper DCGAN: fp32/bf16/channels-last.

    Args:
        n: images searched at once (one batch).
        iterations: Adam steps timed per setting (after ``warmup`` untimed ones).
        warmup: untimed steps first (allocations, oneDNN kernel selection).
        total: the steps of a full search, to extrapolate to (Yeh et al.: 1500).
        config: the DCGAN (default: the paper's 64x64, z 100, ngf = ndf = 64).
        settings: names from :data:`LATENT_SETTINGS`.
        seed: weights and images.

    Returns:
        One row per setting: seconds per step, the extrapolated seconds of ``total`` steps and
        the speed-up over fp32 (fp32 seconds / this setting's seconds).
    """
    from inpaintkit.models.dcgan import YEH2017

    cfg = config or DCGANConfig()
    images, mask = _centre_batch(n, cfg.image_size, seed)
    rows: list[dict] = []
    base: float | None = None
    for name in settings:
        precision, channels_last = LATENT_SETTINGS[name]
        torch.manual_seed(seed)
        nets = YEH2017.build(cfg)
        G, D = nets["G"], nets["D"]
        x = images
        if channels_last:
            G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
            x = images.contiguous(memory_format=torch.channels_last)
        sec = time_latent_search(
            G, D, x, mask, z_dim=cfg.z_dim, precision=precision, iterations=iterations,
            warmup=warmup,
        )  # fmt: skip
        base = sec if name == "fp32" else base
        rows.append(
            {
                "what": f"latent search, DCGAN ngf={cfg.ngf} ndf={cfg.ndf}",
                "setting": name,
                "batch": f"{n} x {cfg.image_size}x{cfg.image_size}",
                "timed_steps": iterations,
                "s_per_step": sec,
                f"s_{total}_steps_extrapolated": sec * total,
                "speedup_vs_fp32": base / sec if base is not None else float("nan"),
                "threads": torch.get_num_threads(),
            }
        )
    return rows


@benchmark("latent-quality")
def bench_latent_quality(
    *,
    method: str = "yeh2017",
    model: str = "celeba64",
    data: str = "",
    split: str = "val",
    n: int = 64,
    mask: str = "center",
    presets: tuple[str, ...] = ("paper", "fast"),
    starts: tuple[str, ...] = ("auto",),
    iterations: int | None = None,
    seed: int = 0,
) -> list[dict]:
    """Speed AND quality of the latent-search presets on real images with a trained model.

    The same ``n`` images (the first of ``data``'s ``split``, at the model's size) and the same
    seeded masks are searched once per preset, as one batch; each row gives the wall time, the
    whole-image and hole PSNR against the ground truth, and the speed-up and PSNR change
    relative to the first preset (``paper``).

    Args:
        method: ``yeh2017`` or ``vitoria2019``.
        model: an installed model of that method (``inpaintkit methods``).
        data: a ``--data`` spec, e.g. ``celeba:/data/celeba/align_178x218/val``.
        split: which split of ``data`` (``val`` for held-out images).
        n: images (one batch).
        mask: a mask kind of :mod:`inpaintkit.masks`; image i gets seed ``seed + i``.
        presets: names from :data:`inpaintkit.methods.latent_search.PRESETS`.
        starts: the methods' ``start`` values to run each preset with (``auto``: the model's
            latent encoder when one is installed, ``random``, ``encoder``).
        iterations: override the presets' step counts (None: theirs).
        seed: masks and the search's initial latents.
    """
    from inpaintkit.data.sources import open_dataset
    from inpaintkit.errors import InpaintError
    from inpaintkit.masks import make_mask
    from inpaintkit.metrics import psnr
    from inpaintkit.registry import get_method
    from inpaintkit.weights import load_gan, resolve_model

    if not data:
        raise InpaintError("latent-quality needs --opt data=SPEC (held-out images of the domain)")
    _, _, cfg = load_gan(method, resolve_model(method, model), "cpu")
    S = cfg.image_size
    ds = open_dataset(data, size=S, split=split, seed=seed)
    n = min(n, len(ds))
    truth = torch.stack([ds[i] for i in range(n)])  # (n, 3, S, S) in [-1, 1]
    holes = np.stack([make_mask(mask, (S, S), seed=seed + i) for i in range(n)])
    m = torch.from_numpy(holes[:, None].astype(np.float32))  # (n, 1, S, S)
    fn = get_method(method).fn
    rows: list[dict] = []
    for preset, start in ((p, s) for p in presets for s in starts):
        t, cpu = time.perf_counter(), time.process_time()
        out = fn(
            truth * (1 - m), m, model=model, preset=preset, start=start, iterations=iterations,
            seed=seed, progress=False,
        )  # fmt: skip
        sec, cpu = time.perf_counter() - t, time.process_time() - cpu
        p_all, p_hole = psnr(out.image, truth).mean().item(), psnr(out.image, truth, m)
        rows.append(
            {
                "what": f"{method} {model}, {n} x {S}x{S}, mask {mask}",
                "preset": preset,
                "start": out.extras.get("start", start),
                "seconds": sec,
                "cpu_seconds": cpu,
                "psnr": p_all,
                "psnr_hole": p_hole.mean().item(),
                "speedup": rows[0]["seconds"] / sec if rows else 1.0,
                "d_psnr": p_all - rows[0]["psnr"] if rows else 0.0,
                "threads": torch.get_num_threads(),
            }
        )
    return rows
