"""What every inpaintkit dataset shares: seeded items, epochs, an optional RAM cache.

An item is built in two stages: ``prepared(i)``, a pure function of the source image (decode,
crop, resize; cached in RAM with ``cache=True``), then the recipe's random ``augment`` steps
(random crop, flip) drawn from ``numpy.random.default_rng([seed, stream, epoch, i])``. So item
``i`` of epoch ``e`` is the same in every run and in every DataLoader worker, whichever worker
loads it.

Reproducible loading with several DataLoader workers::

    ds = open_dataset("celeba:/data/celeba", size=64, seed=0, cache=True)
    ds.warm_cache()          # optional: decode once in the main process; forked workers share it
    loader = DataLoader(ds, batch_size=64, shuffle=True, num_workers=2,
                        generator=torch.Generator().manual_seed(0))  # persistent_workers=False
    for epoch in range(n):
        ds.set_epoch(epoch)  # before creating the epoch's iterator: workers copy the dataset then
        for batch in loader: ...

With ``persistent_workers=True`` the workers keep the epoch they started with (augmentations then
repeat every epoch); use ``DistributedSampler.set_epoch`` as usual for the order of items.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from inpaintkit.convert import to_tensor
from inpaintkit.data.transforms import Recipe
from inpaintkit.errors import InpaintError


def check_seed(seed: int) -> int:
    """Return ``seed`` if it is a non-negative int, else raise InpaintError."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise InpaintError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


class SeededDataset(Dataset):
    """Base class: (3, S, S) float32 items in [-1, 1], seeded per (seed, stream, epoch, index).

    Subclasses implement ``__len__`` and ``prepared(i)`` (a deterministic (H, W, 3) uint8 array)
    and set ``recipe`` (its ``augment`` steps run after the cache) or leave it None.

    Args:
        seed: non-negative run seed.
        stream: distinguishes datasets concatenated in one run (set by ``open_dataset``).
        cache: keep every ``prepared(i)`` in RAM after its first use.
    """

    recipe: Recipe | None = None
    name: str = "dataset"

    def __init__(self, *, seed: int = 0, stream: int = 0, cache: bool = False) -> None:
        self.seed = check_seed(seed)
        self.stream = int(stream)
        self.epoch = 0
        self.cache = bool(cache)
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        raise NotImplementedError

    def prepared(self, index: int) -> np.ndarray:
        """The deterministic stage of item ``index``: (H, W, 3) uint8 RGB."""
        raise NotImplementedError

    def set_epoch(self, epoch: int) -> None:
        """Select the random augmentations of ``epoch`` (call before iterating each epoch)."""
        self.epoch = int(epoch)

    def rng(self, index: int) -> np.random.Generator:
        """The generator of item ``index`` in the current epoch."""
        return np.random.default_rng([self.seed, self.stream, self.epoch, index])

    def _check_index(self, index: int) -> int:
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"index {index} out of range for a dataset of {n} items")
        return int(index)

    def _cached(self, index: int) -> np.ndarray:
        if not self.cache:
            return self.prepared(index)
        hit = self._cache.get(index)
        if hit is None:
            hit = self.prepared(index)
            self._cache[index] = hit
        return hit

    def pixels(self, index: int) -> np.ndarray:
        """Item ``index`` as (S, S, 3) uint8 RGB (prepared, then augmented)."""
        index = self._check_index(index)
        out = self._cached(index)
        if self.recipe is not None and self.recipe.is_random:
            out = self.recipe.finish(out, self.rng(index))
        return out

    def __getitem__(self, index: int) -> torch.Tensor:
        """Item ``index``: (3, S, S) float32 in [-1, 1], RGB."""
        return to_tensor(self.pixels(index))[0]

    def warm_cache(self, *, progress: bool = False) -> None:
        """Prepare every item now (only with ``cache=True``), e.g. before forking workers."""
        if not self.cache:
            return
        for i in tqdm(range(len(self)), desc=f"caching {self.name}", disable=not progress):
            self._cached(i)


class SeededConcat(SeededDataset):
    """Several datasets one after another; ``set_epoch`` and ``warm_cache`` reach all parts."""

    name = "concat"

    def __init__(self, parts: Sequence[SeededDataset]) -> None:
        super().__init__()
        if not parts:
            raise InpaintError("no datasets to concatenate")
        self.parts = list(parts)
        self._ends = np.cumsum([len(p) for p in self.parts])

    def __len__(self) -> int:
        return int(self._ends[-1])

    def _locate(self, index: int) -> tuple[SeededDataset, int]:
        index = self._check_index(index)
        k = int(np.searchsorted(self._ends, index, side="right"))
        start = 0 if k == 0 else int(self._ends[k - 1])
        return self.parts[k], index - start

    def prepared(self, index: int) -> np.ndarray:
        part, i = self._locate(index)
        return part.prepared(i)

    def pixels(self, index: int) -> np.ndarray:
        part, i = self._locate(index)
        return part.pixels(i)

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        for p in self.parts:
            p.set_epoch(epoch)

    def warm_cache(self, *, progress: bool = False) -> None:
        for p in self.parts:
            p.warm_cache(progress=progress)
