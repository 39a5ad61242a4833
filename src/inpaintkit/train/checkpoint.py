"""Training checkpoints as safetensors + JSON (never pickle), written atomically, last K kept.

One checkpoint is a folder ``<run>/checkpoints/step_000100/``:

- ``models.safetensors``: every network's ``state_dict`` (parameters and buffers), keys
  prefixed by the network's name (``G.main.0.weight``);
- ``optim.safetensors`` + ``optim.json``: each optimiser's ``state_dict``, its tensors in the
  safetensors file and everything else (step counts, param groups) in the JSON, which refers to
  the tensors by key;
- ``rng.safetensors``: each rank's torch CPU (and CUDA) generator state; numpy's and Python's
  global states as JSON in the file's metadata;
- ``state.json``: recipe name, resolved config, step, data position, seed, world size;
- ``manifest.json``, written last: size and sha256 of every other file
  (:mod:`inpaintkit.train.manifest`).

The folder is written under a temporary name, flushed to disk (fsync of every file and the
folder) and renamed when complete, so a run killed or a machine that loses power while saving
leaves the previous checkpoint intact and :func:`find_latest` never sees half a one. A resume
verifies the manifest and falls back, with a warning, to the newest intact checkpoint.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from inpaintkit.atomic import fsync_dir, publish_dir
from inpaintkit.errors import InpaintError
from inpaintkit.train.manifest import verify, write_manifest

FORMAT_VERSION = 1
_STEP_DIR = re.compile(r"^step_(\d+)$")


def step_dir_name(step: int) -> str:
    """``step_000100`` for step 100."""
    return f"step_{step:06d}"


# --- optimiser state: tensors to safetensors, the rest to JSON --------------------------------


def _encode(obj: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """A JSON-ready copy of ``obj``; tensors go into ``tensors`` and are referred to by key."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().contiguous().clone()
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: _encode(v, f"{prefix}.{k}", tensors) for k, v in obj.items()}
        items = [[k, _encode(v, f"{prefix}.{k}", tensors)] for k, v in obj.items()]
        return {"__items__": items}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} in a checkpoint at {prefix}")


def _decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__tuple__" in obj:
            return tuple(_decode(v, tensors) for v in obj["__tuple__"])
        if "__items__" in obj:
            return {k: _decode(v, tensors) for k, v in obj["__items__"]}
        return {k: _decode(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    return obj


# --- RNG states ----------------------------------------------------------------------------------


def capture_rng() -> dict[str, Any]:
    """This process's global RNG states: torch CPU and CUDA tensors, numpy and Python as JSON."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    out: dict[str, Any] = {
        "torch_cpu": torch.get_rng_state(),
        "numpy": json.dumps([np_state[0], np_state[1].tolist(), *np_state[2:]]),
        "python": json.dumps([py_state[0], list(py_state[1]), py_state[2]]),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["torch_cuda"] = torch.cuda.get_rng_state()
    return out


def restore_rng(state: dict[str, Any]) -> None:
    """Restore what :func:`capture_rng` captured."""
    torch.set_rng_state(state["torch_cpu"])
    if "torch_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["torch_cuda"])
    kind, keys, pos, has_gauss, gauss = json.loads(state["numpy"])
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = json.loads(state["python"])
    random.setstate((version, tuple(internal), gauss_next))


# --- save / load -----------------------------------------------------------------------------


def save_checkpoint(
    ckpt_root: str | Path,
    step: int,
    *,
    nets: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    state: dict[str, Any],
    rng: list[dict[str, Any]],
) -> Path:
    """Write one checkpoint folder atomically and return its path.

    Args:
        ckpt_root: the run's ``checkpoints/`` folder (created if missing).
        step: training step the checkpoint is taken after.
        nets: networks by name (unwrapped: no DDP or compile wrappers).
        optimizers: optimisers by name.
        state: JSON-ready run state (recipe, config, step, data position, ...).
        rng: :func:`capture_rng` of every rank, in rank order.
    """
    root = Path(ckpt_root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / step_dir_name(step)
    tmp = root / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    weights = {
        f"{name}.{k}": v.detach().contiguous().clone()
        for name, net in nets.items()
        for k, v in net.state_dict().items()
    }
    save_file(weights, str(tmp / "models.safetensors"))
    tensors: dict[str, torch.Tensor] = {}
    optim_json = {
        name: _encode(opt.state_dict(), name, tensors) for name, opt in optimizers.items()
    }
    save_file(tensors, str(tmp / "optim.safetensors"))
    (tmp / "optim.json").write_text(json.dumps(optim_json), encoding="utf-8")
    rng_tensors, rng_meta = {}, {"ranks": str(len(rng))}
    for r, s in enumerate(rng):
        for key, value in s.items():
            if isinstance(value, torch.Tensor):
                rng_tensors[f"rank{r}.{key}"] = value.contiguous()
            else:
                rng_meta[f"rank{r}.{key}"] = value
    save_file(rng_tensors, str(tmp / "rng.safetensors"), metadata=rng_meta)
    full_state = {"format": FORMAT_VERSION, **state, "step": step}
    (tmp / "state.json").write_text(json.dumps(full_state, indent=2), encoding="utf-8")
    write_manifest(tmp)  # last: its presence says every other file is complete
    if final.exists():
        shutil.rmtree(final)
        fsync_dir(root)
    publish_dir(tmp, final)  # fsync files and folder, rename, fsync the parent
    return final


def read_state(ckpt: str | Path) -> dict[str, Any]:
    """The ``state.json`` of checkpoint folder ``ckpt``.

    Raises:
        InpaintError: not a checkpoint folder, or an unreadable one.
    """
    path = Path(ckpt) / "state.json"
    if not path.is_file():
        raise InpaintError(
            f"{str(ckpt)!r} is not a checkpoint folder (no state.json); pass a run folder or "
            "one of its checkpoints/step_NNNNNN folders"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InpaintError(f"cannot read checkpoint {str(ckpt)!r}: {exc}") from None


def load_checkpoint(
    ckpt: str | Path,
    *,
    nets: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    recipe: str,
    rank: int = 0,
) -> dict[str, Any]:
    """Load checkpoint ``ckpt`` into ``nets`` and ``optimizers``; restore this rank's RNG.

    Args:
        ckpt: a checkpoint folder (see :func:`resolve_resume`).
        nets, optimizers: built by the same recipe and config, on their device.
        recipe: the recipe resuming; a checkpoint of another recipe is refused.
        rank: this process's rank (picks its RNG state; rank 0's if the checkpoint has fewer).

    Returns:
        The checkpoint's ``state.json``.

    Raises:
        InpaintError: another recipe's checkpoint, or one that does not fit the networks.
    """
    ckpt = Path(ckpt)
    problem = verify(ckpt)
    if problem is not None:
        raise InpaintError(f"checkpoint {str(ckpt)!r} is damaged: {problem}")
    state = read_state(ckpt)
    if state.get("recipe") != recipe:
        raise InpaintError(
            f"checkpoint {str(ckpt)!r} was written by recipe {state.get('recipe')!r}, "
            f"not {recipe!r}; resume it with `inpaintkit train {state.get('recipe')}`"
        )
    try:
        return _load(ckpt, state, nets, optimizers, rank)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        reason = " ".join(str(e).split())[:200]
        raise InpaintError(f"checkpoint {str(ckpt)!r} cannot be loaded: {reason}") from None
    except Exception as e:  # SafetensorError derives from Exception only
        if type(e).__name__ != "SafetensorError":
            raise
        raise InpaintError(f"checkpoint {str(ckpt)!r} is damaged: {e}") from None


def _load(
    ckpt: Path,
    state: dict[str, Any],
    nets: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    rank: int,
) -> dict[str, Any]:
    weights = load_file(str(ckpt / "models.safetensors"))
    for name, net in nets.items():
        prefix = f"{name}."
        sd = {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
        try:
            net.load_state_dict(sd, strict=True)
        except RuntimeError as exc:
            lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
            first = lines[1] if len(lines) > 1 else lines[0]  # the first concrete mismatch
            raise InpaintError(
                f"checkpoint {str(ckpt)!r} does not fit network {name!r} of this config "
                f"(was the model config changed?): {first}"
            ) from None
    tensors = load_file(str(ckpt / "optim.safetensors"))
    optim_json = json.loads((ckpt / "optim.json").read_text(encoding="utf-8"))
    for name, opt in optimizers.items():
        if name not in optim_json:
            raise InpaintError(f"checkpoint {str(ckpt)!r} has no state for optimiser {name!r}")
        opt.load_state_dict(_decode(optim_json[name], tensors))
    _load_rng(ckpt / "rng.safetensors", rank)
    return state


def _load_rng(path: Path, rank: int) -> None:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        ranks = int(meta.get("ranks", "1"))
        r = rank if rank < ranks else 0
        names = [k for k in f.keys() if k.startswith(f"rank{r}.")]  # noqa: SIM118
        state: dict[str, Any] = {k.split(".", 1)[1]: f.get_tensor(k) for k in names}
    state.update({k.split(".", 1)[1]: v for k, v in meta.items() if k.startswith(f"rank{r}.")})
    restore_rng(state)


# --- finding and pruning ------------------------------------------------------------------------


def list_checkpoints(ckpt_root: str | Path) -> list[Path]:
    """Complete checkpoint folders under ``ckpt_root``, oldest first."""
    root = Path(ckpt_root)
    if not root.is_dir():
        return []
    found = []
    for p in root.iterdir():
        m = _STEP_DIR.match(p.name)
        if m and (p / "state.json").is_file():
            found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found)]


def find_latest(ckpt_root: str | Path) -> Path | None:
    """The newest complete checkpoint under ``ckpt_root``, or None."""
    found = list_checkpoints(ckpt_root)
    return found[-1] if found else None


def prune_checkpoints(ckpt_root: str | Path, keep_last: int) -> list[Path]:
    """Delete all but the ``keep_last`` newest checkpoints (0 keeps all); return the deleted."""
    found = list_checkpoints(ckpt_root)
    if keep_last <= 0 or len(found) <= keep_last:
        return []
    doomed = found[:-keep_last]
    for p in doomed:
        shutil.rmtree(p, ignore_errors=True)
    return doomed


def _stderr_warning(message: str) -> None:
    print(f"inpaintkit: warning: {message}", file=sys.stderr)


def resolve_resume(path: str | Path, *, warn: Callable[[str], None] | None = None) -> Path:
    """The checkpoint folder meant by ``path``: a checkpoint, a file in one, or a run folder.

    For a run folder, the newest checkpoint that matches its manifest: damaged newer ones are
    skipped with a ``warn`` (default: one line on stderr).

    Raises:
        InpaintError: nothing intact to resume from there, or the checkpoint named is damaged.
    """
    warn = warn or _stderr_warning
    p = Path(path)
    if p.is_file():
        p = p.parent
    if (p / "state.json").is_file():
        problem = verify(p)
        if problem is not None:
            older = _newest_intact(list_checkpoints(p.parent), lambda m: None)
            hint = f"; the newest intact one is {str(older)!r}" if older else ""
            raise InpaintError(f"checkpoint {str(p)!r} is damaged: {problem}{hint}")
        return p
    found = list_checkpoints(p / "checkpoints") or list_checkpoints(p)
    latest = _newest_intact(found, warn)
    if latest is None:
        what = "no checkpoint" if not found else "no intact checkpoint"
        raise InpaintError(
            f"{what} to resume from in {str(path)!r} (looked for checkpoints/step_*/); "
            "start a new run without --resume"
        )
    return latest


def _newest_intact(found: list[Path], warn: Callable[[str], None]) -> Path | None:
    """The newest of ``found`` (oldest first) that verifies; ``warn`` about each damaged one."""
    for ckpt in reversed(found):
        problem = verify(ckpt)
        if problem is None:
            return ckpt
        warn(f"checkpoint {ckpt.name} is damaged ({problem}); trying the one before it")
    return None


# --- surgery (train.grow) -----------------------------------------------------------------------


def read_tensors(ckpt: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The raw tensors of checkpoint ``ckpt``: (networks by ``<net>.<key>``, optimiser tensors
    by their ``optim.json`` keys), for tools that edit a checkpoint (:mod:`inpaintkit.train.grow`).

    Raises:
        InpaintError: not a checkpoint folder.
    """
    ckpt = Path(ckpt)
    read_state(ckpt)  # a clear error for a folder that is not a checkpoint
    return load_file(str(ckpt / "models.safetensors")), load_file(str(ckpt / "optim.safetensors"))


def write_edited(
    src: str | Path,
    dst: str | Path,
    *,
    models: dict[str, torch.Tensor],
    optim: dict[str, torch.Tensor],
    state: dict[str, Any],
) -> Path:
    """Write checkpoint ``dst``: ``src`` with its network and optimiser tensors and its state
    replaced (the optimiser layout ``optim.json`` and the RNG states are copied)."""
    src, dst = Path(src), Path(dst)
    dst.mkdir(parents=True)
    save_file(models, str(dst / "models.safetensors"))
    save_file(optim, str(dst / "optim.safetensors"))
    for name in ("optim.json", "rng.safetensors"):
        shutil.copy2(src / name, dst / name)
    (dst / "state.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    write_manifest(dst)  # last, as save_checkpoint does: resume verifies it
    return dst
