"""Training: one loop (:mod:`.loop`) for every model, one short recipe per model.

Example:
    >>> from inpaintkit.train import get_recipe, list_recipes
    >>> "dcgan" in list_recipes()
    True
"""

from inpaintkit.train.config import LoopConfig
from inpaintkit.train.loop import Trainer, TrainResult, train
from inpaintkit.train.recipes import (
    Ctx,
    Models,
    Phase,
    Recipe,
    get_recipe,
    list_recipes,
    register_recipe,
)

__all__ = [
    "Ctx",
    "LoopConfig",
    "Models",
    "Phase",
    "Recipe",
    "TrainResult",
    "Trainer",
    "get_recipe",
    "list_recipes",
    "register_recipe",
    "train",
]
