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
    from inpaintkit.models.dcgan import build_dcgan

    cfg = config or DCGANConfig()
    images, mask = _centre_batch(n, cfg.image_size, seed)
    rows: list[dict] = []
    base: float | None = None
    for name in settings:
        precision, channels_last = LATENT_SETTINGS[name]
        torch.manual_seed(seed)
        G, D = build_dcgan(cfg)
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
