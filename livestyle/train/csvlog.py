"""losses.csv: the loss terms of every step, for watching a run and comparing runs."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from livestyle.core.errors import OutputError, failure_reason


class LossLog:
    """losses.csv in the run folder, one row per step (rank 0 only).

    A resumed run appends to it; when its loss terms differ from the file's columns (a
    resume with a term switched on), the old rows move to losses-until-STEP.csv first.
    """

    def __init__(self, path: Path, append: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.old_header = _csv_header(path) if append else None
        self.file: Any = None
        self.writer: Any = None

    def write(self, step: int, losses: dict[str, float]) -> None:
        try:
            # The file opens at the first row: its columns are the loss names that row brings.
            if self.writer is None:
                self._open(step, ["step", *losses])
            self.writer.writerow([step, *(f"{v:.6g}" for v in losses.values())])
        except OSError as exc:  # a full disk
            raise OutputError(f"cannot write {self.path}: {failure_reason(exc)}") from exc

    def _open(self, step: int, header: list[str]) -> None:
        append = self.old_header == header
        if self.old_header and not append:
            self.path.rename(self.path.with_name(f"losses-until-{step - 1:06d}.csv"))
        # Line-buffered, so the file can be watched (and survives a kill) while training runs.
        self.file = self.path.open("a" if append else "w", newline="", buffering=1)
        self.writer = csv.writer(self.file)
        if not append:
            self.writer.writerow(header)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _csv_header(path: Path) -> list[str] | None:
    """The first row of a CSV file, or None when there is none."""
    try:
        with path.open(newline="") as file:
            return next(csv.reader(file), None)
    except FileNotFoundError:
        return None
