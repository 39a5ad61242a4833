"""``inpaintkit bench deepfill`` (DeepFill v1 speed, memory, PatchMatch) and ``bench patch-swap``.

The paper reports 1.5 s per 512x512 image on a 14-core Xeon E5-2697 v3 CPU (0.2 s on a GTX
1080 Ti) for the full model run on the whole image. We time the same thing (``strategy=full``)
at 512 in fp32 and bf16 (+ channels-last), PatchMatch on the same image and hole, and the peak
resident memory of full-image runs at 512, 1024 and 2048 px (the contextual attention's score
volume is built in bands, so memory grows with the image, not with its square).

Speed does not depend on the weights: without an installed model the benchmark uses an
untrained generator of the paper's size (cnum 32) and says so.
"""

from __future__ import annotations

import numpy as np
import torch

from inpaintkit.errors import InpaintError
from inpaintkit.eval.bench import _test_image, benchmark, timed

PAPER_CPU_SECONDS_512 = 1.5  # Yu et al. 2018, Xeon E5-2697 v3, 512x512


def _generator(model: str | None) -> tuple[torch.nn.Module, str]:
    """The installed model's generator, or an untrained paper-size one (speed is the same)."""
    from inpaintkit.models.deepfill import DeepFillConfig, DeepFillGenerator
    from inpaintkit.weights import list_installed, load_network, resolve_model

    if model is not None or list_installed("deepfill"):
        path = resolve_model("deepfill", model)
        G, cfg = load_network("deepfill", path)
        return G, f"{path.stem} (cnum {cfg.cnum})"
    torch.manual_seed(0)
    return DeepFillGenerator(DeepFillConfig()).eval(), "untrained, cnum 32 (speed only)"


def _case(size: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    """The astronaut at ``size`` with a centred square hole of 1/4 of the area."""
    img = _test_image(size)
    hole = np.zeros((size, size), bool)
    hole[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = True
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 127.5 - 1
    m = torch.from_numpy(hole)[None, None].float()
    return x, m, img, hole


@benchmark("deepfill")
def bench_deepfill(
    *,
    model: str | None = None,
    sizes: tuple[int, ...] = (512, 1024, 2048),
    repeat: int = 3,
    patchmatch: bool = True,
) -> list[dict]:
    """Full-image DeepFill at each size (fp32; bf16 too at 512), PatchMatch at 512."""
    from inpaintkit.methods.deepfill import deepfill_fill

    G, what = _generator(model)
    rows = []
    for s in sizes:
        x, m, img, hole = _case(s)
        precisions = ("fp32", "bf16") if s == min(sizes) else ("fp32",)
        for precision in precisions:
            net = G.to(memory_format=torch.channels_last) if precision == "bf16" else G

            def run(net=net, x=x, m=m, p=precision, s=s) -> None:
                deepfill_fill(net, x, m, train_size=s, strategy="full", precision=p,
                              max_pixels=s * s)  # fmt: skip

            reps = repeat if s <= 1024 else 1
            sec, mib = timed(run, repeat=reps, warmup=1 if s <= 1024 else 0)
            rows.append({
                "what": f"deepfill full {precision}", "size": f"{s}x{s}", "seconds": sec,
                "peak_mib": mib, "vs_paper_cpu": PAPER_CPU_SECONDS_512 / sec if s == 512 else "",
                "model": what,
            })  # fmt: skip
        if patchmatch and s == min(sizes):
            from inpaintkit.api import inpaint

            sec, mib = timed(lambda img=img, hole=hole: inpaint(img, hole, "patchmatch"),
                             repeat=repeat, warmup=0)  # fmt: skip
            rows.append({"what": "patchmatch", "size": f"{s}x{s}", "seconds": sec,
                         "peak_mib": mib, "vs_paper_cpu": "", "model": ""})  # fmt: skip
    G.to(memory_format=torch.contiguous_format)
    return rows


@benchmark("patch-swap")
def bench_patch_swap_rows(
    *, sizes: tuple[int, ...] = (64, 128), channels: int = 256, threads: int | None = None
) -> list[dict]:
    """Song et al.'s patch-swap on a (1, 256, s, s) relu3_1-sized map with a centre hole of
    half the side (the paper: ~0.1 s at 64x64x256 on a GPU)."""
    from inpaintkit.nn.patch_swap import bench_patch_swap

    return [
        {"what": "patch_swap", "size": f"{s}x{s}x{channels}", "hole": f"{s // 2}x{s // 2}",
         "seconds": bench_patch_swap(s, channels, threads=threads),
         "goal_s": 0.1 if s == 64 else ""}
        for s in sizes
    ]  # fmt: skip


#: (crop, cnum, batch, bf16, channels-last): the settings of docs/training.md's speed table
TRAIN_SETTINGS = ((256, 32, 4, False, False), (256, 32, 4, True, False),
                  (128, 32, 8, False, False), (128, 32, 8, True, False),
                  (128, 32, 8, True, True))  # fmt: skip


@benchmark("deepfill-train")
def bench_deepfill_train(
    *,
    crops: tuple[int, ...] = (),
    cnum: int = 32,
    batch: int = 0,
    modes: tuple[str, ...] = ("fp32", "bf16", "bf16-cl"),
    repeat: int = 2,
) -> list[dict]:
    """Seconds of one DeepFill generator and one critic update (the training speed table).

    Default: the five settings of docs/training.md; ``crops`` (with ``cnum``, ``batch``) runs
    those crops instead in each of ``modes`` (fp32, bf16, bf16-cl: bf16 + channels-last). Each
    setting: one warm-up call of each step, then the best of ``repeat`` timed calls.
    """
    import time

    from inpaintkit.models.deepfill import DeepFillConfig
    from inpaintkit.train.deepfill import (
        DeepFillRecipe,
        DeepFillTrainConfig,
        critic_step,
        generator_step,
    )
    from inpaintkit.train.recipes import Ctx

    settings = TRAIN_SETTINGS
    if crops:
        b = batch or 4
        known = {"fp32": (False, False), "bf16": (True, False), "bf16-cl": (True, True)}
        if set(modes) - set(known):
            raise InpaintError(f"modes: choose from {', '.join(known)}, got {modes}")
        settings = tuple((c, cnum, b, *known[m]) for c in crops for m in modes)
    rows = []
    for size, width, b, bf16, cl in settings:
        cfg = DeepFillTrainConfig(model=DeepFillConfig(cnum=width), image_size=size, batch_size=b)
        models = DeepFillRecipe().build(cfg, torch.device("cpu"))
        fmt = torch.channels_last if cl else torch.contiguous_format
        for net in models.nets.values():
            net.to(memory_format=fmt)
        ctx = Ctx(nets=models.nets, cfg=cfg, device=torch.device("cpu"),
                  generator=torch.Generator().manual_seed(0), batch_size=b)  # fmt: skip
        x = (torch.rand(b, 3, size, size) * 2 - 1).contiguous(memory_format=fmt)

        def run(step, opt: str, ctx=ctx, x=x, models=models, bf16=bf16) -> float:
            t = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                out = step(ctx, x)
            models.optimizers[opt].zero_grad()
            out["loss"].backward()
            models.optimizers[opt].step()
            return time.perf_counter() - t

        run(generator_step, "G"), run(critic_step, "D")
        g = min(run(generator_step, "G") for _ in range(max(1, repeat)))
        d = min(run(critic_step, "D") for _ in range(max(1, repeat)))
        rows.append({"crop": size, "cnum": width, "batch": b, "bf16": bf16,
                     "channels_last": cl, "generator_s": g, "critic_s": d})  # fmt: skip
    return rows
