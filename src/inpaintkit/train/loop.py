"""The one training loop: a recipe's phases over seeded data; checkpoints, resume, logs, DDP.

A recipe (:mod:`inpaintkit.train.recipes`) says what one step does; the loop owns the rest:
seeding, device, data order, bf16 autocast, channels-last, ``torch.compile``, DDP, checkpoints
every N steps + at the end + on Ctrl-C, keep-last-K, bit-exact ``resume``, the CSV log, sample
grids, the progress bar and the final export. A run writes everything into its folder::

    <out>/config.json        resolved config {"loop": ..., "recipe": ...}
    <out>/command.txt        the exact command line(s) (one per start or resume)
    <out>/log.csv            step, epoch, images_seen, images_per_s, seconds, lr_*, <phase>_<value>
    <out>/samples/step_NNNNNN.png
    <out>/checkpoints/step_NNNNNN/   (see inpaintkit.train.checkpoint)
    <out>/export/<model>.safetensors + <model>.json

Determinism: model init is seeded by ``loop.seed``; the data order by (seed, epoch); every
step's noise by (seed, rank, step) -- so a resumed run continues bit-exactly (on CPU; on GPU
add ``loop.deterministic``).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from inpaintkit.errors import InpaintError
from inpaintkit.train import checkpoint as ckpt
from inpaintkit.train import distributed as D
from inpaintkit.train.config import LoopConfig
from inpaintkit.train.logger import RunLogger
from inpaintkit.train.recipes import Ctx, Phase, Recipe
from inpaintkit.train.run_outputs import RunOutputs
from inpaintkit.train.sampler import ShardedBatchSampler, check_dataset, make_loader


@dataclass
class TrainResult:
    """How a run ended.

    Attributes:
        out_dir: the run folder.
        step: steps done in total (including those before a resume).
        stopped: True when stopped early by Ctrl-C/SIGTERM, :meth:`Trainer.request_stop` or
            ``loop.max_minutes``.
        checkpoint: the last checkpoint written.
        export: the exported weights (None unless the run finished or ran out of
            ``loop.max_minutes``).
        images_per_s: mean training speed of this process's steps (all ranks' images).
    """

    out_dir: Path
    step: int
    stopped: bool
    checkpoint: Path | None
    export: Path | None
    images_per_s: float


def step_seed(seed: int, rank: int, step: int) -> int:
    """The 63-bit seed of the noise of ``step`` on ``rank``."""
    a, b = np.random.SeedSequence([seed, rank, step]).generate_state(2, dtype=np.uint32)
    return (int(a) << 31) ^ int(b)


class Trainer(RunOutputs):
    """Runs ``recipe`` on ``dataset``; construct, then :meth:`run`.

    Args:
        recipe: what a step does (see :class:`~inpaintkit.train.recipes.Recipe`).
        dataset: items (3, S, S) float in [-1, 1] (or tuples starting with one), a pure
            function of the index; S = ``recipe.image_size(cfg)``.
        loop: the loop config.
        cfg: the recipe's config.
        out_dir: the run folder (only rank 0 writes to it).
        resume: a run folder, checkpoint folder or file to continue from, or None.
        data_spec: how the data was named (``--data``), for the model card.
        command: the exact command line, for the model card.
        on_step: called with the trainer after every step (tests use it to stop a run).

    Raises:
        InpaintError: empty or mis-shaped data, a folder that already holds a run (without
            ``resume``), a checkpoint of another recipe or config.
    """

    def __init__(
        self,
        recipe: Recipe,
        dataset: Dataset,
        *,
        loop: LoopConfig,
        cfg: Any,
        out_dir: str | Path,
        resume: str | Path | None = None,
        data_spec: str = "",
        command: str = "",
        on_step: Callable[[Trainer], None] | None = None,
    ) -> None:
        self.recipe, self.loop, self.cfg = recipe, loop, cfg
        self.out, self.data_spec, self.command, self.on_step = (
            Path(out_dir),
            data_spec,
            command,
            on_step,
        )
        self.device = D.pick_device(loop.device, D.dist_info())
        self.dist = D.init_distributed(self.device)
        self._set_determinism()
        check_dataset(dataset, image_size=recipe.image_size(cfg), what=repr(data_spec or "dataset"))
        torch.manual_seed(loop.seed)
        self.models = recipe.build(cfg, self.device)
        self.nets = self.models.nets
        if loop.channels_last:
            for net in self.nets.values():
                net.to(memory_format=torch.channels_last)
        self.step = self.batches = self.images_seen = 0
        self.cpu_before = 0.0  # CPU seconds of earlier invocations (from the checkpoint)
        self._cpu_start = time.process_time()
        self.last_ckpt: Path | None = None
        self.saved_step = -1
        self._check_out_dir(resume)
        if resume is not None:
            self._resume(resume)
        self.phases: list[Phase] = recipe.phases(cfg)
        self.batch_size = recipe.batch_size(cfg)
        self.sampler = ShardedBatchSampler(
            len(dataset),
            batch_size=self.batch_size,
            seed=loop.seed,
            rank=self.dist.rank,  # type: ignore[arg-type]
            world_size=self.dist.world_size,
            start=self.batches,
        )
        self.dataset = dataset
        self.ctx = Ctx(
            nets={n: self._wrap(net) for n, net in self.nets.items()},
            cfg=cfg,
            device=self.device,
            generator=torch.Generator(device=self.device),
            batch_size=self.batch_size,
            channels_last=loop.channels_last,
        )
        self._stop = False
        self._time_up = False  # stopped by loop.max_minutes: export anyway
        self._t_start = 0.0
        self.log: RunLogger | None = None
        self._t_row, self._images_row = 0.0, 0  # speed since the last CSV row

    # --- setup -------------------------------------------------------------------------------

    def _set_determinism(self) -> None:
        if self.loop.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        elif self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

    def _check_out_dir(self, resume: str | Path | None) -> None:
        if resume is None and ckpt.list_checkpoints(self.out / "checkpoints"):
            raise InpaintError(
                f"{str(self.out)!r} already holds a training run; continue it with --resume "
                "or choose another --out"
            )

    def _resume(self, resume: str | Path) -> None:
        quiet = None if self.dist.is_main else (lambda message: None)  # rank 0 warns
        path = ckpt.resolve_resume(resume, warn=quiet)
        state = ckpt.load_checkpoint(
            path,
            nets=self.nets,
            optimizers=self.models.optimizers,
            recipe=self.recipe.name,
            rank=self.dist.rank,
        )
        self.step, self.batches = int(state["step"]), int(state["batches"])
        self.images_seen = int(state["images_seen"])
        self.cpu_before = float(state.get("cpu_seconds", 0.0))
        self.last_ckpt, self.saved_step = path, self.step
        if int(state.get("world_size", 1)) != self.dist.world_size and self.dist.is_main:
            print(
                f"note: checkpoint was written by {state.get('world_size')} processes, resuming "
                f"with {self.dist.world_size}: the data order continues but not bit-exactly"
            )

    def _wrap(self, net: torch.nn.Module) -> torch.nn.Module:
        if not any(p.requires_grad for p in net.parameters()):
            return net  # a frozen copy (an EMA): nothing to synchronise or compile
        wrapped = D.wrap_ddp(net, self.device)
        return torch.compile(wrapped) if self.loop.compile else wrapped

    # --- one step ----------------------------------------------------------------------------

    def _autocast(self) -> AbstractContextManager[Any]:
        bf16 = self.loop.precision == "bf16"
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=bf16)

    def _next_batch(self, data: Any) -> torch.Tensor:
        batch = next(data).to(self.device, non_blocking=True)
        if self.loop.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        self.batches += 1
        self.images_seen += batch.shape[0] * self.dist.world_size
        return batch

    def _run_phase(self, phase: Phase, batch: torch.Tensor | None) -> dict[str, torch.Tensor]:
        opt = self.models.optimizers[phase.optimizer]
        opt.zero_grad(set_to_none=True)
        with self._autocast():
            out = phase.step(self.ctx, batch)
        out["loss"].backward()
        opt.step()
        if phase.after is not None:
            phase.after(self.ctx)
        return {k: v.detach().float() for k, v in out.items()}

    def _train_step(self, data: Any) -> dict[str, torch.Tensor]:
        seed = step_seed(self.loop.seed, self.dist.rank, self.step)
        self.ctx.generator.manual_seed(seed)
        # anything drawing from the global RNGs (dropout) is seeded per step too
        torch.default_generator.manual_seed(seed)
        if self.device.type == "cuda":
            torch.cuda.manual_seed(seed)
        self.ctx.step = self.step
        sums: dict[str, torch.Tensor] = {}
        for phase in self.phases:
            for _ in range(phase.repeat):
                batch = self._next_batch(data) if phase.needs_data else None
                for k, v in self._run_phase(phase, batch).items():
                    key = f"{phase.name}_{k}"
                    sums[key] = sums.get(key, 0) + v / phase.repeat
        return sums

    # --- outputs -----------------------------------------------------------------------------

    def cpu_seconds(self) -> float:
        """CPU seconds this run has trained for, earlier invocations included (this process's
        threads; data-loader workers not counted)."""
        return self.cpu_before + time.process_time() - self._cpu_start

    def _row(self, values: dict[str, torch.Tensor], images: int, seconds: float) -> dict[str, Any]:
        row: dict[str, Any] = {
            "step": self.step,
            "epoch": round(self.batches / self.sampler.per_epoch, 4),
            "images_seen": self.images_seen,
            "images_per_s": images / max(seconds, 1e-9),
            "seconds": round(seconds, 4),
            "cpu_seconds": round(self.cpu_seconds(), 2),
        }
        for name, opt in self.models.optimizers.items():
            row[f"lr_{name}"] = float(opt.param_groups[0]["lr"])
        row.update({k: float(v) for k, v in values.items()})
        return row

    # --- stopping ----------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Finish the current step, write a checkpoint and return from :meth:`run`."""
        self._stop = True

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self._stop and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: give up at once
        self._stop = True
        if self.dist.is_main:
            name = signal.Signals(signum).name
            msg = f"{name}: finishing step {self.step + 1}, then saving a checkpoint"
            print(f"\n{msg} (Ctrl-C again to quit without saving)", file=sys.stderr, flush=True)

    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> TrainResult:
        """Train up to ``loop.steps`` steps (or until stopped); see the module docstring."""
        start_step, t_start = self.step, time.perf_counter()
        self._t_start, self._cpu_start = t_start, time.process_time()
        if self.dist.is_main:
            self._write_run_files()
            self.log = RunLogger(
                self.out,
                total_steps=self.loop.steps,
                start_step=self.step,
                progress=self.loop.progress,
                tensorboard=self.loop.tensorboard,
            )
        old_handlers = self._install_signals()
        pin = self.device.type == "cuda"
        data = make_loader(self.dataset, self.sampler, workers=self.loop.workers, pin_memory=pin)
        try:
            self._t_row, self._images_row = time.perf_counter(), 0
            while self.step < self.loop.steps and not self._stop:
                seen = self.images_seen
                values = self._train_step(data)
                self.step += 1
                self._images_row += self.images_seen - seen
                self._after_step(values)
            export_path = self._finish()
        finally:
            for s, h in old_handlers.items():
                signal.signal(s, h)
            if self.log is not None:
                self.log.close()
            del data
        if self.dist.is_main:
            done = "finished" if self.step >= self.loop.steps else "stopped"
            print(f"{done} at step {self.step}; checkpoint {self.last_ckpt}", file=sys.stderr)
        batches = sum(p.repeat for p in self.phases if p.needs_data)
        images = (self.step - start_step) * batches * self.batch_size * self.dist.world_size
        return TrainResult(
            out_dir=self.out,
            step=self.step,
            stopped=self.step < self.loop.steps,
            checkpoint=self.last_ckpt,
            export=export_path,
            images_per_s=images / max(time.perf_counter() - t_start, 1e-9),
        )

    def _after_step(self, values: dict[str, torch.Tensor]) -> None:
        """Log, sample, checkpoint, call ``on_step``; agree with all ranks on stopping."""
        loop = self.loop
        if self.log is not None:
            if self.step % loop.log_every == 0 or self.step == loop.steps:
                now = time.perf_counter()
                self.log.step(self._row(values, self._images_row, now - self._t_row))
                self._t_row, self._images_row = now, 0
            else:
                self.log.bar.update(1)
        if self.dist.is_main and loop.sample_every and self.step % loop.sample_every == 0:
            self.write_samples()
        if self.step % loop.ckpt_every == 0:
            self.save()
        if self.on_step is not None:
            self.on_step(self)
        budget = loop.max_minutes * 60
        if budget and not self._stop and time.perf_counter() - self._t_start >= budget:
            self._time_up = self._stop = True
        cpu_budget = loop.max_cpu_minutes * 60
        if cpu_budget and not self._stop and time.process_time() - self._cpu_start >= cpu_budget:
            self._time_up = self._stop = True
        budget = budget or cpu_budget
        if self.dist.distributed:
            self._stop = D.any_rank(self._stop)
            if budget:  # the same on every rank, so every rank joins this collective
                self._time_up = D.any_rank(self._time_up)
        if self._time_up and self.dist.is_main and self.step < loop.steps:
            limit = (
                f"max_minutes ({loop.max_minutes:g})"
                if loop.max_minutes
                else (f"max_cpu_minutes ({loop.max_cpu_minutes:g})")
            )
            print(
                f"\n{limit} reached at step {self.step}: saving a checkpoint and exporting",
                file=sys.stderr,
                flush=True,
            )

    def _finish(self) -> Path | None:
        """Sync buffers, write the last checkpoint and, if the run is complete or out of
        ``loop.max_minutes``, the export."""
        for net in self.nets.values():
            D.sync_buffers(net)
        if self.saved_step != self.step:
            self.save()
        export_path = None
        if (self.step >= self.loop.steps or self._time_up) and self.dist.is_main:
            if not (self.loop.sample_every and self.step % self.loop.sample_every == 0):
                self.write_samples()
            export_path = self.export()
        D.barrier()
        return export_path


def train(recipe: Recipe, dataset: Dataset, **kwargs: Any) -> TrainResult:
    """``Trainer(recipe, dataset, **kwargs).run()``: train in one call (see :class:`Trainer`)."""
    return Trainer(recipe, dataset, **kwargs).run()
