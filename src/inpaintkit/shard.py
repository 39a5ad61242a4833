"""Sharding batch work across ``torchrun`` ranks: each rank takes a disjoint slice.

``inpaintkit run`` over a folder and ``inpaintkit eval`` read ``RANK`` and ``WORLD_SIZE`` from
the environment that ``torchrun`` sets; without them (a plain run) there is one rank and
nothing changes. Rank ``r`` of ``w`` takes items ``r, r + w, r + 2w, ...`` of the planned list,
so the slices are disjoint, cover the list, and differ in size by at most one. The slice is
taken from the whole plan BEFORE anything already done is skipped, so every rank sees the same
plan even while the others are writing files::

    torchrun --standalone --nproc_per_node 4 -m inpaintkit run photos/ --mask masks/ -o out/
    torchrun --nnodes 2 --node_rank 0 --nproc_per_node 8 \\
        --rdzv-backend c10d --rdzv-endpoint host0:29500 -m inpaintkit eval --data val/ ...

There is no scheduler here: torchrun starts the processes, and a killed job is started again
with ``--resume``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from inpaintkit.ranks import Ranks, torchrun_ranks

T = TypeVar("T")


@dataclass(frozen=True)
class Shard(Ranks):
    """This process's part of the job: ``rank``, ``world_size``, ``local_rank`` (:class:`Ranks`);
    rank 0 merges and writes shared files."""

    @property
    def sharded(self) -> bool:
        """True when more than one process shares the work."""
        return self.world_size > 1

    def indices(self, n: int) -> list[int]:
        """This rank's indices of a list of ``n`` items: ``rank, rank + world_size, ...``."""
        return list(range(self.rank, n, self.world_size))

    def take(self, items: Sequence[T]) -> list[T]:
        """This rank's items of ``items`` (disjoint from every other rank's)."""
        return [items[i] for i in self.indices(len(items))]


def current_shard() -> Shard:
    """The shard of this process, from torchrun's ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``.

    Raises:
        InpaintError: the variables are not integers, or ``RANK`` is outside the world.
    """
    return Shard(*torchrun_ranks())


def bind_local_device(shard: Shard) -> None:
    """Under torchrun on GPUs, make ``cuda`` mean this rank's GPU (``cuda:LOCAL_RANK``)."""
    if not shard.sharded:
        return
    import torch

    if torch.cuda.is_available():
        torch.cuda.set_device(shard.local_rank % torch.cuda.device_count())


def shard_jobs(
    jobs: Sequence[T], *, resume: bool = False, done: Callable[[T], bool] | None = None
) -> list[T]:
    """This rank's jobs of a planned list; with ``resume``, without those ``done`` says are done.

    Args:
        jobs: the whole plan, in the same order on every rank.
        resume: skip the jobs for which ``done(job)`` is true (e.g. its output exists).
        done: the test for a finished job; needed with ``resume``.

    Returns:
        The jobs this process should run.
    """
    if resume and done is None:
        raise ValueError("shard_jobs(resume=True) needs done=")
    shard = current_shard()
    bind_local_device(shard)
    mine = shard.take(jobs)
    if resume and done is not None:
        mine = [j for j in mine if not done(j)]
    return mine


class ProcessGroup:
    """The torch.distributed group of a sharded evaluation: barriers and gathering to rank 0.

    Joins the group torchrun describes (gloo: only small Python objects travel; the methods
    themselves run on whatever device they are given). A no-op for a single process.
    """

    def __init__(self, shard: Shard) -> None:
        self.shard = shard
        self._joined = False
        if not shard.sharded:
            return
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group(backend="gloo")
            self._joined = True

    def barrier(self) -> None:
        """Wait for every rank."""
        if self.shard.sharded:
            import torch.distributed as dist

            dist.barrier()

    def gather(self, obj: Any) -> list[Any] | None:
        """Every rank's ``obj`` in rank order on rank 0; None on the other ranks."""
        if not self.shard.sharded:
            return [obj]
        import torch.distributed as dist

        box: list[Any] | None = [None] * self.shard.world_size if self.shard.is_main else None
        dist.gather_object(obj, box, dst=0)
        return box

    def close(self) -> None:
        """Leave the group if this object joined it."""
        if self._joined:
            import torch.distributed as dist

            dist.destroy_process_group()
            self._joined = False
