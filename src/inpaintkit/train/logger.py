"""What a training run reports: CSV of losses per step, a progress bar, optional TensorBoard.

Only rank 0 makes a :class:`RunLogger`; the others log nothing.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

FIXED_COLUMNS = ("step", "epoch", "images_seen", "images_per_s", "seconds")


class CsvLog:
    """``log.csv``: one row per logged step; on resume, rows past the resumed step are dropped.

    Args:
        path: the CSV file.
        resume_step: the step a resumed run continues from, or None for a new run.
    """

    def __init__(self, path: Path, *, resume_step: int | None = None) -> None:
        self.path = path
        self.columns: list[str] | None = None
        if resume_step is not None and path.is_file():
            with path.open(newline="") as f:
                rows = list(csv.DictReader(f))
                self.columns = list(rows[0].keys()) if rows else None
            kept = [r for r in rows if int(r["step"]) <= resume_step]
            if self.columns:
                self._write_all(kept)

    def _write_all(self, rows: list[dict[str, Any]]) -> None:
        assert self.columns is not None
        with self.path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)

    def write(self, row: dict[str, Any]) -> None:
        """Append ``row``; the first row fixes the columns (later new keys are ignored)."""
        if self.columns is None:
            self.columns = list(FIXED_COLUMNS) + sorted(k for k in row if k not in FIXED_COLUMNS)
            self._write_all([])
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.columns, extrasaction="ignore").writerow(row)


class RunLogger:
    """Rank 0's reporting: CSV, progress bar, optional TensorBoard.

    Args:
        out: the run folder.
        total_steps: steps of the whole run.
        start_step: where this process starts (nonzero on resume).
        progress: show a tqdm bar on stderr.
        tensorboard: also write TensorBoard events to ``out/tensorboard`` if it imports.
    """

    def __init__(
        self, out: Path, *, total_steps: int, start_step: int, progress: bool, tensorboard: bool
    ) -> None:
        self.csv = CsvLog(out / "log.csv", resume_step=start_step if start_step else None)
        self.bar = tqdm(
            total=total_steps,
            initial=start_step,
            disable=not progress,
            unit="step",
            dynamic_ncols=True,
            file=sys.stderr,
        )
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(str(out / "tensorboard"), purge_step=start_step or None)
            except ImportError:
                self.tb = None

    def step(self, row: dict[str, Any]) -> None:
        """Advance the bar by one step, show ``row``'s speed and losses, and log ``row``."""
        losses = {k: v for k, v in row.items() if k not in FIXED_COLUMNS and "lr" not in k}
        shown = {k: f"{v:.3g}" for k, v in list(losses.items())[:4]}
        self.bar.set_postfix({"img/s": f"{row['images_per_s']:.0f}", **shown}, refresh=False)
        self.bar.update(1)
        self.csv.write(row)
        if self.tb is not None:
            for k, v in row.items():
                if k not in ("step", "epoch"):
                    self.tb.add_scalar(k, v, row["step"])

    def close(self) -> None:
        """Close the bar and TensorBoard writer."""
        self.bar.close()
        if self.tb is not None:
            self.tb.close()
