"""Where this process sits in a ``torchrun`` job, read from the environment torchrun sets.

torchrun sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` in every process it starts; a plain
run sets none of them and is rank 0 of 1. Sharded work (:mod:`inpaintkit.shard`) and the
training loop (:mod:`inpaintkit.train.distributed`) both read them here.

Example:
    >>> import os
    >>> os.environ.update(RANK="1", WORLD_SIZE="2", LOCAL_RANK="1")
    >>> torchrun_ranks()
    (1, 2, 1)
    >>> for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
    ...     del os.environ[k]
    >>> torchrun_ranks()
    (0, 1, 0)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from inpaintkit.errors import InpaintError


@dataclass(frozen=True)
class Ranks:
    """Where this process sits in the job (:class:`inpaintkit.shard.Shard` and the training
    loop's ``DistInfo`` add what each needs).

    Attributes:
        rank: global rank, 0..world_size-1; rank 0 alone writes shared files.
        world_size: number of processes (1 without torchrun).
        local_rank: rank on this machine (picks the GPU).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True on rank 0."""
        return self.rank == 0


def env_int(name: str, default: int) -> int:
    """The integer in environment variable ``name``; ``default`` when it is unset or empty.

    Raises:
        InpaintError: the variable holds something other than an integer.
    """
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InpaintError(f"environment variable {name}={value!r} is not an integer") from None


def torchrun_ranks() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``.

    Raises:
        InpaintError: the variables are not integers, or ``RANK`` is outside the world.
    """
    world = env_int("WORLD_SIZE", 1)
    rank = env_int("RANK", 0)
    if world < 1 or not 0 <= rank < world:
        raise InpaintError(f"RANK={rank} and WORLD_SIZE={world} do not describe a torchrun rank")
    return rank, world, env_int("LOCAL_RANK", 0)
