"""How well can a fresh D2 tell G2's image from the real one? A probe of D2's input scaling.

D2 judges (relu3_1 map, image) pairs. relu3_1 values reach ~100 (std ~3) while the image lies
in [-1, 1], so unscaled the condition dominates D2's first layer. This script freezes a G2
(default: the bundled ``song2018_natural128``), builds patch-swapped features and G2's images
for ``--images`` ImageNet train photos at the G2's size (centre holes), and trains a fresh D2
(the recipe's: PatchGAN ``d2_layers``, ``ndf``, Adam 2e-4, beta1 0.5, BCE) for ``--steps``
batches of 8 on the first images, once per ``--cond-scales`` value and ``--seeds`` seed. It
prints D2's training loss (mean of the last 50 steps) and its patch accuracy on held-out images
(the last ``--held-out``, in batches of 8 real or 8 fake pairs in train mode, as D2 runs in
training; real logits > 0, fake < 0, averaged): how much D2 learned about the images rather
than the training conditions::

    python scripts/song_d2_probe.py                     # scales 1 and 0.05, seeds 0-3
    python scripts/song_d2_probe.py --cond-scales 1,0.1,0.05,0.025 --seeds 0

About 20 s per (scale, seed) at 1,000 steps on the 2-core CPU. docs/song.md, "D2's condition".
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from inpaintkit.models.song import build_d2
from inpaintkit.nn.patch_swap import patch_swap
from inpaintkit.train.song import draw_masks
from inpaintkit.weights.song import build_song_vgg, load_song_model, relu3_1, resolve_song_model


def load_square(path: Path, size: int) -> torch.Tensor:
    """The centre square of an image, bicubic-resized: (3, size, size) in [-1, 1]."""
    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = min(w, h)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    arr = np.array(im.crop(box).resize((size, size), Image.BICUBIC), dtype=np.float32)
    return torch.from_numpy(arr).permute(2, 0, 1) / 127.5 - 1


def probe(feats, real, fake, cfg, scale: float, seed: int, steps: int, held: int) -> tuple:
    """Train a fresh D2 on (feats, real) vs (feats, fake); (last-50 loss, held-out accuracy).

    feats (N, 256, h, w), real and fake (N, 3, 4h, 4w); the last ``held`` are held out.
    """
    torch.manual_seed(seed)
    D = build_d2(type(cfg)(**{**cfg.to_dict(), "d2_cond_scale": scale}))
    opt = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce, n, losses = nn.BCEWithLogitsLoss(), len(real) - held, []
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="../shared/datasets/imagenet/train")
    ap.add_argument("--model", default="natural128", help="song2018 model holding a G2")
    ap.add_argument("--images", type=int, default=400)
    ap.add_argument("--held-out", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--cond-scales", default="1,0.05")
    ap.add_argument("--seeds", default="0,1,2,3")
    args = ap.parse_args()
    torch.set_num_threads(2)
    G2 = next(iter(load_song_model(resolve_song_model(args.model)).g2.values()))
    size = G2.cfg.image_size
    files = sorted(Path(args.data).glob("*.jpg"))[: args.images]
    if len(files) < args.held_out + 8:
        raise SystemExit(f"{args.data}: need at least {args.held_out + 8} .jpg images, "
                         f"found {len(files)}")  # fmt: skip
    real = torch.stack([load_square(f, size) for f in files])  # (N, 3, S, S)
    vgg, g = build_song_vgg("imagenet").eval(), torch.Generator().manual_seed(0)
    feats, fake = [], []
    with torch.no_grad():
        for x in real.split(16):
            mask = draw_masks(("center",), x.shape[0], size, g)
            f = patch_swap(relu3_1(vgg, x), mask)[0]  # (b, 256, S/4, S/4)
            feats.append(f)
            fake.append(G2(f))
    feats, fake = torch.cat(feats), torch.cat(fake)
    print(f"{len(files)} images at {size} px; relu3_1 mean {feats.mean():.2f}, "
          f"std {feats.std():.2f}, max {feats.max():.1f}")  # fmt: skip
    print("| d2_cond_scale | seed | D2 loss, last 50 steps | held-out patch accuracy |")
    print("|---|---|---|---|")
    for scale in (float(s) for s in args.cond_scales.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            t = time.time()
            loss, acc = probe(feats, real, fake, G2.cfg, scale, seed, args.steps, args.held_out)
            print(f"| {scale:g} | {seed} | {loss:.3f} | {acc:.3f} |  ({time.time() - t:.0f} s)",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
