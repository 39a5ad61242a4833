"""Recipes: what a model's training needs besides the loop, and the registry of recipes by name.

A recipe supplies its config dataclass (defaults = the paper's), its networks and optimisers,
named phases, a sampler for the progress grid and the networks to export. The loop
(:mod:`inpaintkit.train.loop`) owns everything else. A phase is one optimiser update::

    Phase("D", optimizer="D", step=d_step)              # d_step(ctx, batch) -> {"loss": ..., ...}
    Phase("critic", optimizer="D", step=c_step, repeat=5)
    Phase("G", optimizer="G", step=g_step, needs_data=False)

The loop calls ``step`` under autocast, then does ``zero_grad``, ``backward()`` on the
returned ``"loss"`` and ``optimizer.step()``; the other returned scalars are only logged. Each
phase repetition that ``needs_data`` consumes its own batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.registry import ModelFamily, find_family, load_plugins


@dataclass
class Ctx:
    """What a phase step sees.

    Attributes:
        nets: the networks by name, wrapped for training (DDP, compile): call them for forward.
        cfg: the recipe's config.
        device: this rank's device.
        generator: this step's random generator on ``device``, seeded from (seed, rank, step), so
            a resumed run draws the same noise; draw all randomness from it.
        step: the step being run (0-based).
        batch_size: images per batch on this rank.
        channels_last: whether batches and weights are channels-last.
    """

    nets: dict[str, nn.Module]
    cfg: Any
    device: torch.device
    generator: torch.Generator
    step: int = 0
    batch_size: int = 1
    channels_last: bool = False


StepFn = Callable[[Ctx, torch.Tensor | None], dict[str, torch.Tensor]]


@dataclass
class Phase:
    """One named optimiser update, repeated ``repeat`` times per training step.

    Attributes:
        name: shown in logs (``D_loss``), unique within a recipe.
        optimizer: name of the optimiser that ``step``'s ``"loss"`` updates.
        step: ``step(ctx, batch) -> {"loss": scalar tensor, other scalars...}``; ``batch`` is
            (B, 3, H, W) in [-1, 1] on the device, or None when ``needs_data`` is False.
        repeat: updates per training step (e.g. 5 critic updates for WGAN-GP).
        needs_data: whether the step takes a batch of real images.
        after: called with the context after each optimiser update of this phase (e.g. the
            generator's weight average), or None.
    """

    name: str
    optimizer: str
    step: StepFn
    repeat: int = 1
    needs_data: bool = True
    after: Callable[[Ctx], None] | None = None


@dataclass
class Models:
    """A recipe's networks and optimisers, by name (plain modules, not wrapped)."""

    nets: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer] = field(default_factory=dict)


class Recipe:
    """Base class of training recipes; subclass, fill the class attributes, register.

    Class attributes:
        name: registry name (``inpaintkit train <name>``).
        config_cls: the recipe's config dataclass; it must have ``batch_size``.
        loop_defaults: the recipe's values for loop keys, e.g. ``{"steps": 50_000}``.
        hidden: leave it out of listings (test recipes).
    """

    name: ClassVar[str] = ""
    config_cls: ClassVar[type] = object
    loop_defaults: ClassVar[dict[str, Any]] = {}
    hidden: ClassVar[bool] = False

    def image_size(self, cfg: Any) -> int:
        """Side of the square training images."""
        return int(cfg.model.image_size)

    def batch_size(self, cfg: Any) -> int:
        """Images per batch on each rank."""
        return int(cfg.batch_size)

    def architecture(self, cfg: Any) -> dict[str, Any]:
        """The architecture config written to the model card."""
        from inpaintkit.train.config import to_dict

        return to_dict(cfg.model)

    def build(self, cfg: Any, device: torch.device) -> Models:
        """Networks (on ``device``, in train mode) and their optimisers."""
        raise NotImplementedError

    def phases(self, cfg: Any) -> list[Phase]:
        """The phases of one training step, in order."""
        raise NotImplementedError

    def sample(
        self, nets: dict[str, nn.Module], cfg: Any, n: int, generator: torch.Generator
    ) -> torch.Tensor:
        """``n`` images (n, 3, H, W) in [-1, 1] for the progress grid; no side effects.

        Called under ``torch.no_grad()`` with the networks in eval mode.
        """
        raise NotImplementedError

    def export(self, nets: dict[str, nn.Module], cfg: Any) -> dict[str, nn.Module]:
        """The networks an inference method needs, by the prefix they get in the export file."""
        raise NotImplementedError

    def card_extra(self, cfg: Any) -> dict[str, Any]:
        """Keys the export's model card gains besides the loop's (none by default)."""
        return {}


_RECIPES: dict[str, type[Recipe]] = {}


class GANRecipe(Recipe):
    """A recipe for a GAN pair ``G``/``D`` with one Adam each (``cfg.lr``, ``cfg.beta1/2``).

    Subclasses name their model family (it builds ``G`` and ``D`` from ``cfg.model``) and say
    how to draw latents; sample grids and the export (both networks: the latent-search methods
    need G and D's prior loss) are shared.
    """

    family: ClassVar[ModelFamily]

    def latents(self, n: int, cfg: Any, generator: torch.Generator) -> torch.Tensor:
        """(n, z_dim) latents from the GAN's prior."""
        raise NotImplementedError

    def build(self, cfg: Any, device: torch.device) -> Models:
        """G and D on ``device`` with Adam(lr, (beta1, beta2)) each, and the weight average
        ``G_ema`` (a copy of G as it starts) when the config's ``ema_decay`` is > 0."""
        from inpaintkit.train.ema import ema_copy

        nets = self.family.build(cfg.model, only=("G", "D"))
        G, D = nets["G"].to(device), nets["D"].to(device)
        betas = (cfg.beta1, cfg.beta2)
        optimizers = {
            "G": torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=betas),
            "D": torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=betas),
        }
        if getattr(cfg, "init_from", None) is not None:
            states = self._initial_states(cfg)
            G.load_state_dict(states["G"])
            D.load_state_dict(states["D"])
        built = {"G": G, "D": D}
        if getattr(cfg, "ema_decay", 0) > 0:
            built["G_ema"] = ema_copy(G)
        return Models(nets=built, optimizers=optimizers)

    def _initial_states(self, cfg: Any) -> dict[str, dict[str, torch.Tensor]]:
        """G's and D's weights from the export ``cfg.init_from`` (this recipe, same model)."""
        from inpaintkit.train.config import to_dict
        from inpaintkit.weights.read import load_export

        nets, card = load_export(cfg.init_from)
        mine = to_dict(cfg.model)
        arch = {k: v for k, v in card.get("architecture", {}).items() if k in mine}
        if card.get("model") != self.name or not {"G", "D"} <= set(nets) or arch != mine:
            raise InpaintError(
                f"recipe.init_from {cfg.init_from} is not a {self.name} export of this "
                f"architecture ({mine}); it says {card.get('model')!r} {arch}"
            )
        return {"G": nets["G"], "D": nets["D"]}

    def generator_after(self, cfg: Any) -> Callable[[Ctx], None] | None:
        """The ``after`` hook of the generator phase: the EMA update, or None without one."""
        from inpaintkit.train.ema import update_g_ema

        return update_g_ema if getattr(cfg, "ema_decay", 0) > 0 else None

    def sample(
        self, nets: dict[str, nn.Module], cfg: Any, n: int, generator: torch.Generator
    ) -> torch.Tensor:
        """G of ``n`` fixed latents (the EMA copy when there is one): (n, 3, S, S) in [-1, 1]."""
        G = nets.get("G_ema", nets["G"])
        return G(self.latents(n, cfg, generator).to(next(G.parameters()).device))

    def export(self, nets: dict[str, nn.Module], cfg: Any) -> dict[str, nn.Module]:
        """Both networks; the generator exported is the EMA copy when there is one."""
        return {"G": nets.get("G_ema", nets["G"]), "D": nets["D"]}


def register_recipe(cls: type[Recipe]) -> type[Recipe]:
    """Class decorator: register recipe ``cls`` under ``cls.name``."""
    if not cls.name:
        raise ValueError(f"recipe {cls.__qualname__} has no name")
    if cls.name in _RECIPES and _RECIPES[cls.name] is not cls:
        raise ValueError(f"recipe {cls.name!r} registered twice")
    _RECIPES[cls.name] = cls
    return cls


def get_recipe(name: str) -> Recipe:
    """A fresh instance of recipe ``name`` (or of the one recipe of model family ``name``:
    ``yeh2017`` is ``dcgan``, ``vitoria2019`` is ``wgan_resnet``).

    Raises:
        InpaintError: unknown name; the message lists the known ones.
    """
    load_plugins("recipes")
    family = find_family(name) if name not in _RECIPES else None
    if family is not None and len(family.recipes) == 1:  # a family's name: its one recipe
        name = family.recipes[0]
    try:
        return _RECIPES[name]()
    except KeyError:
        known = ", ".join(list_recipes()) or "(none)"
        raise InpaintError(f"no training recipe {name!r}; known recipes: {known}") from None


def list_recipes() -> list[str]:
    """Names of the registered, non-hidden recipes."""
    load_plugins("recipes")
    return sorted(n for n, cls in _RECIPES.items() if not cls.hidden)


def random_hflip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip each image of ``images`` (B, C, H, W) left-right with probability 1/2.

    Args:
        images: the batch.
        generator: draws the B coin flips (on the batch's device).

    Returns:
        (B, C, H, W), the same values, some images mirrored.
    """
    flip = torch.rand(images.shape[0], generator=generator, device=images.device) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def draw_holes(
    kinds: tuple[str, ...] | list[str], n: int, size: int, generator: torch.Generator
) -> torch.Tensor:
    """``n`` holes (n, 1, size, size) float, 1 = hole, each of a kind drawn from ``kinds``.

    Kinds (:data:`inpaintkit.masks.MASK_KINDS`) and mask seeds are drawn from ``generator``, so
    a step's holes are fixed by its seed.
    """
    import numpy as np

    from inpaintkit.masks import make_mask

    dev = generator.device
    which = torch.randint(0, len(kinds), (n,), generator=generator, device=dev).tolist()
    seeds = torch.randint(0, 2**31 - 1, (n,), generator=generator, device=dev).tolist()
    masks = [make_mask(kinds[k], (size, size), seed=s) for k, s in zip(which, seeds, strict=True)]
    return torch.from_numpy(np.stack(masks)[:, None].astype(np.float32)).to(dev)
