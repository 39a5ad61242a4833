"""Seconds of one DeepFill generator update and one critic update on random images.

    python scripts/deepfill_speed.py            # the table of docs/training.md

Each setting: two warm-up calls, then the best of two (generator) / two (critic) timed calls.
"""

from __future__ import annotations

import time

import torch

from inpaintkit.models.deepfill import DeepFillConfig
from inpaintkit.train.deepfill import (
    DeepFillRecipe,
    DeepFillTrainConfig,
    critic_step,
    generator_step,
)
from inpaintkit.train.recipes import Ctx

SETTINGS = (  # crop, cnum, batch, bf16, channels-last
    (256, 32, 4, False, False),
    (256, 32, 4, True, False),
    (128, 32, 8, False, False),
    (128, 32, 8, True, False),
    (128, 32, 8, True, True),
)


def main() -> None:
    for size, cnum, batch, bf16, cl in SETTINGS:
        cfg = DeepFillTrainConfig(
            model=DeepFillConfig(cnum=cnum), image_size=size, batch_size=batch
        )
        models = DeepFillRecipe().build(cfg, torch.device("cpu"))
        fmt = torch.channels_last if cl else torch.contiguous_format
        for net in models.nets.values():
            net.to(memory_format=fmt)
        ctx = Ctx(nets=models.nets, cfg=cfg, device=torch.device("cpu"),
                  generator=torch.Generator().manual_seed(0), batch_size=batch)  # fmt: skip
        x = (torch.rand(batch, 3, size, size) * 2 - 1).contiguous(memory_format=fmt)

        def run(step, opt: str, ctx=ctx, x=x, models=models, bf16=bf16) -> float:
            t = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                out = step(ctx, x)
            models.optimizers[opt].zero_grad()
            out["loss"].backward()
            models.optimizers[opt].step()
            return time.perf_counter() - t

        run(generator_step, "G"), run(critic_step, "D")
        g = min(run(generator_step, "G") for _ in range(2))
        d = min(run(critic_step, "D") for _ in range(2))
        print(f"crop {size} cnum {cnum} batch {batch} bf16 {bf16} channels-last {cl}: "
              f"generator {g:.2f} s, critic {d:.2f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
