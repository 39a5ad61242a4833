"""What a training run writes besides its log: run files, sample grids, checkpoints, the export.

:class:`RunOutputs` is the part of :class:`inpaintkit.train.loop.Trainer` that writes into the
run folder (see the loop's module docstring for the layout); the trainer holds the state it
reads (``recipe``, ``cfg``, ``loop``, ``nets``, ``models``, ``step``, ``dist``, ``out``, ...).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from inpaintkit.train import checkpoint as ckpt
from inpaintkit.train import distributed as D
from inpaintkit.train.config import to_dict
from inpaintkit.weights.write import export_model, model_card

if TYPE_CHECKING:
    from inpaintkit.train.config import LoopConfig
    from inpaintkit.train.recipes import Models, Recipe


class RunOutputs:
    """The trainer's writers (a base class of ``Trainer``; not used alone)."""

    recipe: Recipe
    cfg: Any
    loop: LoopConfig
    nets: dict[str, torch.nn.Module]
    models: Models
    dist: Any
    out: Path
    step: int
    batches: int
    images_seen: int
    saved_step: int
    last_ckpt: Path | None
    data_spec: str
    command: str

    def cpu_seconds(self) -> float:  # defined by the trainer
        raise NotImplementedError

    def _write_run_files(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        config = {"loop": to_dict(self.loop), "recipe": to_dict(self.cfg)}
        (self.out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        with (self.out / "command.txt").open("a") as f:
            f.write((self.command or "(called from Python)") + "\n")

    def write_samples(self) -> Path:
        """Write ``samples/step_NNNNNN.png`` from fixed noise (seeded by ``loop.seed``)."""
        modes = {name: net.training for name, net in self.nets.items()}
        for net in self.nets.values():
            net.eval()
        try:
            with torch.no_grad():
                g = torch.Generator().manual_seed(self.loop.seed)
                images = self.recipe.sample(self.nets, self.cfg, self.loop.n_samples, g)
        finally:
            for name, net in self.nets.items():
                net.train(modes[name])
        from inpaintkit.data.grid import save_grid  # lazy: the data layer is heavy to import

        return save_grid(images, self.out / "samples" / f"{ckpt.step_dir_name(self.step)}.png")

    def save(self) -> Path | None:
        """Checkpoint the current step (a collective: rank 0 writes) and prune old checkpoints."""
        rng = D.gather_objects(ckpt.capture_rng())
        self.saved_step = self.step
        if not self.dist.is_main:
            return None
        state = {
            "recipe": self.recipe.name,
            "config": {"loop": to_dict(self.loop), "recipe": to_dict(self.cfg)},
            "batches": self.batches,
            "images_seen": self.images_seen,
            "seed": self.loop.seed,
            "world_size": self.dist.world_size,
            "data": self.data_spec,
            "cpu_seconds": self.cpu_seconds(),
        }
        root = self.out / "checkpoints"
        self.last_ckpt = ckpt.save_checkpoint(
            root, self.step, nets=self.nets, optimizers=self.models.optimizers, state=state, rng=rng
        )
        ckpt.prune_checkpoints(root, self.loop.keep_last)
        return self.last_ckpt

    def export(self) -> Path:
        """Write the recipe's inference networks (fp16) and the model card to ``export/``."""
        card = model_card(
            model=self.recipe.name,
            architecture=self.recipe.architecture(self.cfg),
            data=self.data_spec,
            steps=self.step,
            images_seen=self.images_seen,
            command=self.command,
            precision=self.loop.precision,
            world_size=self.dist.world_size,
            seed=self.loop.seed,
            extra=self.recipe.card_extra(self.cfg),
        )
        nets = self.recipe.export(self.nets, self.cfg)
        weights, _ = export_model(self.out / "export", self.recipe.name, nets, card=card)
        return weights
