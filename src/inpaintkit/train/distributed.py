"""torch.distributed helpers for the training loop: torchrun environment, DDP, tiny collectives.

The same ``inpaintkit train ...`` command runs alone or under ``torchrun``::

    torchrun --nproc_per_node 2 -m inpaintkit train dcgan --data ...      # one machine
    torchrun --nnodes 2 --node_rank 0 --nproc_per_node 8 \\
        --rdzv-backend c10d --rdzv-endpoint host0:29500 -m inpaintkit train dcgan ...

torchrun sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` (read by :mod:`inpaintkit.ranks`),
``MASTER_ADDR`` and ``MASTER_PORT``; :func:`init_distributed` reads them and joins the process
group (gloo on CPU, nccl on GPU).
Without them everything here is a no-op for a single process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from inpaintkit.errors import InpaintError
from inpaintkit.ranks import Ranks, env_int, torchrun_ranks


@dataclass(frozen=True)
class DistInfo(Ranks):
    """Where this process sits in the job: ``rank``, ``world_size``, ``local_rank``
    (:class:`~inpaintkit.ranks.Ranks`); rank 0 alone writes checkpoints, logs and samples."""

    @property
    def distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1


def dist_info() -> DistInfo:
    """This process's rank and world size, from the process group or torchrun's environment."""
    if dist.is_available() and dist.is_initialized():
        local = env_int("LOCAL_RANK", dist.get_rank())
        return DistInfo(dist.get_rank(), dist.get_world_size(), local)
    return DistInfo(*torchrun_ranks())


def pick_device(spec: str, info: DistInfo) -> torch.device:
    """The device for this rank: ``auto`` -> ``cuda:<local_rank>`` if CUDA works, else CPU.

    Raises:
        InpaintError: CUDA asked for but not available, or an unknown device name.
    """
    if spec == "auto":
        spec = "cuda" if torch.cuda.is_available() else "cpu"
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InpaintError("device cuda was asked for but CUDA is not available; use cpu")
        if spec == "cuda":
            spec = f"cuda:{info.local_rank % max(1, torch.cuda.device_count())}"
        device = torch.device(spec)
        torch.cuda.set_device(device)
        return device
    if spec != "cpu":
        raise InpaintError(f"unknown device {spec!r}; use auto, cpu, cuda or cuda:N")
    return torch.device("cpu")


def init_distributed(device: torch.device) -> DistInfo:
    """Join the torchrun process group if the environment asks for one (idempotent).

    Args:
        device: this rank's device; CUDA -> nccl backend, CPU -> gloo.

    Returns:
        This process's :class:`DistInfo`.
    """
    info = dist_info()
    if info.world_size > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
    return info


def shutdown() -> None:
    """Leave the process group, if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap_ddp(net: nn.Module, device: torch.device) -> nn.Module:
    """``net`` in DistributedDataParallel when distributed and trainable, else ``net`` itself.

    DDP broadcasts rank 0's parameters and buffers at construction, so all ranks start equal.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return net
    if not any(p.requires_grad for p in net.parameters()):
        return net
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(net, device_ids=device_ids)


def _collective_device() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def any_rank(flag: bool) -> bool:
    """True if ``flag`` is true on any rank (a collective: every rank must call it)."""
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=_collective_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (a collective)."""
    if not (dist.is_available() and dist.is_initialized()):
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_objects(obj: Any) -> list[Any]:
    """``obj`` of every rank, in rank order, on every rank (a collective)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def sync_buffers(net: nn.Module) -> None:
    """Copy rank 0's buffers (e.g. batch-norm running stats) to every rank (a collective)."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    for buf in net.buffers():
        dist.broadcast(buf.data, src=0)


def barrier() -> None:
    """Wait for every rank (no-op when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
