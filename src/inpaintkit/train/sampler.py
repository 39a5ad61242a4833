"""The training data stream: infinite, sharded over ranks, in an order fixed by (seed, epoch).

Epoch ``e`` visits the dataset in the order ``randperm(n)`` drawn from a generator seeded with
``(seed, e)``; it is cut into ``n // (batch * world)`` rounds of ``world`` batches, rank ``r``
taking batch ``r`` of each round (the tail that does not fill a round is skipped that epoch and
comes back in a different order the next). Batch ``k`` of a rank is therefore a pure function of
``(seed, k, rank, world)``: resuming needs nothing but the number of batches consumed, and
starting there skips no work (no batches are loaded and thrown away).

Items must be a pure function of (index, epoch): datasets with ``set_epoch(epoch)`` (the
``inpaintkit.data`` datasets, whose random crops and flips are seeded per (seed, epoch, index))
are told each item's epoch inside whichever loader worker loads it, so the stream is the same
with any number of workers and after a resume. Other randomness belongs in the recipe, which
draws it from the step's generator.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from inpaintkit.errors import InpaintError


def epoch_order(n: int, *, seed: int, epoch: int) -> torch.Tensor:
    """The permutation of ``range(n)`` used in ``epoch`` (same on every rank and every run)."""
    state = np.random.SeedSequence([seed, epoch, 0x5EED]).generate_state(2, dtype=np.uint32)
    g = torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))
    return torch.randperm(n, generator=g)


class ShardedBatchSampler(Sampler[list[tuple[int, int]]]):
    """Infinite batches of ``(epoch, index)`` keys for one rank, starting at its batch ``start``.

    Args:
        n: dataset length.
        batch_size: images per batch on this rank.
        seed: data-order seed.
        rank, world_size: this rank and the number of ranks.
        start: batches this rank has already consumed (0 for a new run).

    Raises:
        InpaintError: fewer than ``batch_size * world_size`` items.
    """

    def __init__(
        self,
        n: int,
        *,
        batch_size: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        start: int = 0,
    ) -> None:
        if n < batch_size * world_size:
            raise InpaintError(
                f"the training data has {n} images, fewer than one batch of {batch_size} per "
                f"process x {world_size} processes; add images or lower --batch-size"
            )
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.rank, self.world_size, self.start = rank, world_size, start
        self.per_epoch = n // (batch_size * world_size)

    def position(self, k: int) -> tuple[int, int]:
        """``(epoch, batch within the epoch)`` of this rank's batch ``k``."""
        return divmod(k, self.per_epoch)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        k = self.start
        while True:
            epoch, b = self.position(k)
            order = epoch_order(self.n, seed=self.seed, epoch=epoch)
            while b < self.per_epoch:
                lo = (b * self.world_size + self.rank) * self.batch_size
                yield [(epoch, i) for i in order[lo : lo + self.batch_size].tolist()]
                b += 1
                k += 1


class EpochIndexed(Dataset):
    """``dataset`` addressed by ``(epoch, index)``: calls ``dataset.set_epoch`` when it has one."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._set_epoch = getattr(dataset, "set_epoch", None)
        self._epoch: int | None = None

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int]) -> Any:
        epoch, index = key
        if self._set_epoch is not None and epoch != self._epoch:
            self._set_epoch(epoch)
            self._epoch = epoch
        return self.dataset[index]


def _ignore_sigint(_: int) -> None:
    """Workers leave Ctrl-C to the main process, which finishes the step and saves."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _images(batch: Any) -> torch.Tensor:
    """The image tensor of a batch: a tensor, or the first item of a (images, ...) tuple."""
    return batch[0] if isinstance(batch, list | tuple) else batch


def make_loader(
    dataset: Dataset, sampler: ShardedBatchSampler, *, workers: int, pin_memory: bool
) -> Iterator[torch.Tensor]:
    """An endless iterator of (B, 3, H, W) batches in ``sampler``'s order.

    Args:
        dataset: items are (3, H, W) float tensors in [-1, 1], or tuples whose first item is;
            ``set_epoch(epoch)`` is called (in the worker) before items of a new epoch.
        sampler: the order (see :class:`ShardedBatchSampler`).
        workers: loader processes; 0 loads in the calling process.
        pin_memory: pin batches for fast copies to a GPU.
    """
    loader = DataLoader(
        EpochIndexed(dataset),
        batch_sampler=sampler,
        num_workers=workers,
        pin_memory=pin_memory,
        persistent_workers=False,
        prefetch_factor=4 if workers > 0 else None,
        worker_init_fn=_ignore_sigint if workers > 0 else None,
    )
    return (_images(b) for b in loader)


def check_dataset(dataset: Dataset, *, image_size: int, what: str) -> None:
    """Raise a clear InpaintError if ``dataset`` is empty or its items are not (3, S, S) in [-1, 1].

    Args:
        dataset: the training data.
        image_size: S, the size the recipe trains at.
        what: the data spec or a description, for the message.
    """
    try:
        n = len(dataset)  # type: ignore[arg-type]
    except TypeError:
        raise InpaintError(
            f"the training data {what} has no length; use a map-style Dataset"
        ) from None
    if n == 0:
        raise InpaintError(f"the training data {what} is empty; point --data at a folder of images")
    item = _images(dataset[0])
    want = (3, image_size, image_size)
    if not isinstance(item, torch.Tensor) or tuple(item.shape) != want:
        got = tuple(item.shape) if isinstance(item, torch.Tensor) else type(item).__name__
        raise InpaintError(
            f"the training data {what} gives items of shape {got}, but this model trains on "
            f"{want}; open it with size={image_size} or change the model's image_size"
        )
    if not item.is_floating_point() or item.min() < -1.0001 or item.max() > 1.0001:
        raise InpaintError(f"the training data {what} must give float images in [-1, 1]")
