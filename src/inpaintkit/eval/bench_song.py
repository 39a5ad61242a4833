"""``inpaintkit bench song-d2``: how well a fresh D2 tells G2's images from real ones.

D2 judges (relu3_1 map, image) pairs. relu3_1 values reach ~100 (std ~3) while the image lies
in [-1, 1], so unscaled the condition dominates D2's first layer (docs/song.md, "D2's
condition"). This probe freezes a G2 (default: the bundled ``natural128``), builds
patch-swapped features and G2's images for ``images`` photos at the G2's size (centre holes),
and trains a fresh D2 (the recipe's: PatchGAN, Adam 2e-4, beta1 0.5, BCE) for ``steps``
batches of 8, once per ``cond_scales`` value and ``seeds`` seed. Each row gives D2's training
loss (mean of the last 50 steps) and its patch accuracy on the last ``held_out`` images (in
batches of 8 real or 8 fake pairs in train mode, as D2 runs in training; real logits > 0, fake
< 0): how much D2 learned about the images rather than the conditions::

    inpaintkit bench song-d2 --opt data=DIR/imagenet/train          # scales 1, 0.05; seeds 0-3
    inpaintkit bench song-d2 --opt data=DIR/imagenet/train --opt cond_scales=1,0.1,0.05 \\
        --opt seeds=0

About 20 s per (scale, seed) at 1,000 steps on a 2-core CPU.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from inpaintkit.errors import InpaintError
from inpaintkit.eval.bench import benchmark


def _square(path: Path, size: int) -> torch.Tensor:
    """The centre square of an image file, bicubic-resized: (3, size, size) in [-1, 1]."""
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = min(w, h)
        box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
        arr = np.array(im.crop(box).resize((size, size), Image.BICUBIC), dtype=np.float32)
    return torch.from_numpy(arr).permute(2, 0, 1) / 127.5 - 1


def probe_d2(
    feats: torch.Tensor,
    real: torch.Tensor,
    fake: torch.Tensor,
    cfg,
    *,
    scale: float,
    seed: int,
    steps: int,
    held_out: int,
) -> tuple[float, float]:
    """Train a fresh D2 on (feats, real) vs (feats, fake); (last-50 loss, held-out accuracy).

    Args:
        feats: (N, 256, h, w) patch-swapped relu3_1 maps.
        real, fake: (N, 3, 4h, 4w) images in [-1, 1]; the last ``held_out`` are held out.
        cfg: the G2's config (D2 is built from it with ``d2_cond_scale=scale``).
    """
    from torch import nn

    from inpaintkit.models.song import build_d2

    torch.manual_seed(seed)
    D = build_d2(type(cfg)(**{**cfg.to_dict(), "d2_cond_scale": scale}))
    opt = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce, n, losses = nn.BCEWithLogitsLoss(), len(real) - held_out, []
    for _ in range(steps):
        i = torch.randint(0, n, (8,))
        lr, lf = D(feats[i], real[i]), D(feats[i], fake[i])
        loss = bce(lr, torch.ones_like(lr)) + bce(lf, torch.zeros_like(lf))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    hits = []
    with torch.no_grad():  # train mode, batches of 8 real or 8 fake: as D2 runs in training
        for j in range(n, len(real) - 7, 8):
            lr, lf = D(feats[j : j + 8], real[j : j + 8]), D(feats[j : j + 8], fake[j : j + 8])
            hits.append(((lr > 0).float().mean() + (lf < 0).float().mean()).item() / 2)
    return float(np.mean(losses[-50:])), float(np.mean(hits))


@benchmark("song-d2")
def bench_song_d2(
    *,
    data: str = "",
    model: str = "natural128",
    images: int = 400,
    held_out: int = 100,
    steps: int = 1000,
    cond_scales: tuple[float, ...] = (1.0, 0.05),
    seeds: tuple[int, ...] = (0, 1, 2, 3),
) -> list[dict]:
    """D2 probe: a fresh D2's held-out accuracy on G2's images per condition scale and seed."""
    from inpaintkit.io import list_images
    from inpaintkit.nn.patch_swap import patch_swap
    from inpaintkit.train.song import draw_masks
    from inpaintkit.weights.song import (
        build_song_vgg,
        load_song_model,
        relu3_1,
        resolve_song_model,
    )

    if not data or not Path(data).is_dir():
        raise InpaintError("song-d2 needs --opt data=FOLDER of photos (e.g. ImageNet train)")
    G2 = next(iter(load_song_model(resolve_song_model(model)).g2.values()))
    size = G2.cfg.image_size
    files = list_images(Path(data), limit=images)
    if len(files) < held_out + 8:
        raise InpaintError(f"{data}: need at least {held_out + 8} images, found {len(files)}")
    real = torch.stack([_square(f, size) for f in files])  # (N, 3, S, S)
    vgg, g = build_song_vgg("imagenet").eval(), torch.Generator().manual_seed(0)
    feats, fake = [], []
    with torch.no_grad():
        for x in real.split(16):
            mask = draw_masks(("center",), x.shape[0], size, g)
            f = patch_swap(relu3_1(vgg, x), mask)[0]  # (b, 256, S/4, S/4)
            feats.append(f)
            fake.append(G2(f))
    feats_t, fake_t = torch.cat(feats), torch.cat(fake)
    rows = []
    for scale in cond_scales:
        for seed in seeds:
            t = time.perf_counter()
            loss, acc = probe_d2(feats_t, real, fake_t, G2.cfg, scale=scale, seed=seed,
                                 steps=steps, held_out=held_out)  # fmt: skip
            rows.append({
                "d2_cond_scale": scale, "seed": seed, "images": len(files), "size": size,
                "relu3_1_std": float(feats_t.std()), "d2_loss_last50": loss,
                "held_out_accuracy": acc, "seconds": time.perf_counter() - t,
            })  # fmt: skip
    return rows
