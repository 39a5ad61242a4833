"""What an evaluation runs: :class:`EvalConfig`, shared by the engine and the report writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EvalConfig:
    """What to evaluate. Defaults are the harness's; ``options`` maps method -> its options.

    ``methods`` are labels: a method name, or a label that ``aliases`` maps to a method (so one
    method can run twice with different options, e.g. two models: ``baseline`` -> ``deepfill``).
    """

    data: str
    methods: list[str]
    masks: list[str] = field(default_factory=lambda: ["center"])
    size: int = 256
    limit: int | None = 50
    seed: int = 0
    out: str = "eval"
    crop: str = "center"
    split: str = "val"  # for --data specs with a scheme (celeba:, cars:, housenumbers)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    lpips: bool | None = None  # None: when the weights are installed
    fid: bool = False
    grid_rows: int = 6
    device: str = "cpu"
    batch: int = 64  # images per call for the methods that batch (latent search, networks)
    aliases: dict[str, str] = field(default_factory=dict)  # label -> method name
    mask_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> options
    resume: bool = False  # reuse the rows of an earlier run of the same setting in ``out``
