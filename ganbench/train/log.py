"""The training log: rows of (step, kimg, losses, images/s, wall time) as ``train_log.csv``, and TensorBoard if installed."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..io import write_text_atomic

LOG_NAME = "train_log.csv"


class TrainLog:
    """Keeps every row in memory (they also go into checkpoints) and rewrites the CSV atomically."""

    def __init__(self, out_dir: Path, rows: list[dict] | None = None, tensorboard: bool = True):
        self.path = Path(out_dir) / LOG_NAME
        self.rows = list(rows or [])
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional
                pass
            else:
                self.writer = SummaryWriter(str(Path(out_dir) / "tensorboard"))

    def append(self, row: dict) -> None:
        self.rows.append(row)
        if self.writer is not None:
            for key, value in row.items():
                if key != "step":
                    self.writer.add_scalar(key, value, row["step"])
            self.writer.flush()
        self.write()

    def write(self) -> None:
        columns: list[str] = []
        for row in self.rows:
            columns += [k for k in row if k not in columns]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        write_text_atomic(self.path, buf.getvalue())

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
