"""The training loop's hooks: divergence checks, the log and progress bar, sample grids, checkpoints, schedules.

Loss values stay on the device between log points (no host synchronisation per step): the
divergence hook keeps them and, at each log, grid or checkpoint point, brings them to the host at
once and applies the rule to every step in order, so a diverged run stops at the next such point
with the bad step named in its reason.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from tqdm import tqdm

from ..config import DIVERGENCE_PATIENCE, DIVERGENCE_THRESHOLD
from ..images import save_grid
from .log import TrainLog
from .loop import Hook, TrainLoop


def every(step: int, period: int, target: int) -> bool:
    return step % period == 0 or step == target


@dataclass(frozen=True)
class DivergenceRule:
    """Stop when a loss is NaN/Inf, or when some |loss| > threshold for ``patience`` steps in a row."""

    threshold: float = DIVERGENCE_THRESHOLD
    patience: int = DIVERGENCE_PATIENCE


class DivergenceHook(Hook):
    """Applies a ``DivergenceRule`` to every step's losses; ``values`` holds the last step's on the host."""

    name = "divergence"

    def __init__(self, rule: DivergenceRule, periods: tuple[int, ...]):
        self.rule, self.periods = rule, periods
        self.pending: list[torch.Tensor] = []
        self.names: list[str] = []
        self.values: dict[str, float] = {}
        self.exploded = 0

    def after_step(self, loop: TrainLoop, logs: dict[str, torch.Tensor]) -> None:
        self.names = list(logs)
        self.pending.append(torch.stack([v.float() for v in logs.values()]))
        if loop.stopping or any(every(loop.step, p, loop.target_step) for p in self.periods):
            self.flush(loop)

    def flush(self, loop: TrainLoop) -> None:
        if not self.pending:
            return
        first = loop.step - len(self.pending) + 1
        rows = torch.stack(self.pending).float().cpu().tolist()
        self.pending.clear()
        for i, row in enumerate(rows):
            self.values = dict(zip(self.names, row))
            bad = [k for k, v in self.values.items() if not math.isfinite(v)]
            big = any(abs(v) > self.rule.threshold for v in self.values.values())
            self.exploded = self.exploded + 1 if big else 0
            if bad:
                loop.stop_reason = f"non-finite {', '.join(bad)} at step {first + i}"
            elif self.exploded >= self.rule.patience:
                loop.stop_reason = (f"|loss| above {self.rule.threshold:g} for {self.exploded} steps in a row "
                                    f"(step {first + i})")
            if loop.stop_reason:
                return

    def state_dict(self) -> int:
        return self.exploded

    def load_state_dict(self, state: int) -> None:
        self.exploded = int(state)


class LogHook(Hook):
    """A row of (step, kimg, losses, images/s, wall time) every ``period`` steps, at the end and on a stop
    (divergence, or a stop request);
    the progress bar."""

    name = "log"

    def __init__(self, log: TrainLog, period: int, divergence: DivergenceHook, main: bool, bar: tqdm,
                 wall_before: float = 0.0):
        self.log, self.period, self.div, self.main, self.bar = log, period, divergence, main, bar
        self.wall_before = wall_before
        self.t_start = self.t_log = time.perf_counter()
        self.step_log = self.images_log = 0

    def start(self, loop: TrainLoop) -> None:
        self.t_start = self.t_log = time.perf_counter()
        self.step_log, self.images_log = loop.step, loop.images

    def wall_time(self) -> float:
        return self.wall_before + time.perf_counter() - self.t_start

    def after_step(self, loop: TrainLoop, logs: dict[str, torch.Tensor]) -> None:
        self.bar.update(1)
        if not (every(loop.step, self.period, loop.target_step) or loop.stop_reason or loop.stopping):
            return
        now = time.perf_counter()
        rate = (loop.images - self.images_log) / max(now - self.t_log, 1e-9)
        row = {"step": loop.step, "kimg": loop.images / 1000, **self.div.values, "images_per_s": rate,
               "wall_time_s": self.wall_before + now - self.t_start}
        self.log.append(row) if self.main else self.log.rows.append(row)
        self.t_log, self.step_log, self.images_log = now, loop.step, loop.images
        self.bar.set_postfix({k: f"{v:.3g}" for k, v in self.div.values.items() if k in ("d_loss", "g_loss")})

    def end(self, loop: TrainLoop) -> None:
        self.bar.close()
        self.log.close()


class GridHook(Hook):
    """A grid of samples from fixed latents every ``period`` steps and at the end (rank 0 only)."""

    def __init__(self, sample: Callable[[], torch.Tensor], folder: Path, period: int, main: bool):
        self.sample, self.folder, self.period, self.main = sample, folder, period, main

    def after_step(self, loop: TrainLoop, logs: dict[str, torch.Tensor]) -> None:
        if self.main and not loop.stop_reason and every(loop.step, self.period, loop.target_step):
            save_grid(self.sample(), self.folder / f"step_{loop.step:06d}.png")


class CheckpointHook(Hook):
    """``save()`` every ``period`` steps, at the end and where a stop request ends the run (every rank calls it:
    DDP gathers RNG states)."""

    def __init__(self, save: Callable[[], None], period: int):
        self.save, self.period = save, period

    def after_step(self, loop: TrainLoop, logs: dict[str, torch.Tensor]) -> None:
        if not loop.stop_reason and (loop.stopping or every(loop.step, self.period, loop.target_step)):
            self.save()


class ScheduleHook(Hook):
    """Before each step, puts the model in the schedule's phase for the current progress (resolution, fade-in,
    batch size, learning-rate scale); the phase is part of the checkpoint."""

    name = "schedule"

    def __init__(self, schedule, apply: Callable[[Any], None]):
        self.schedule, self.apply = schedule, apply
        self.phase = None
        #: Called as ``on_phase_end(phase, step)`` when a phase gives way to the next one (e.g. to save a grid).
        self.on_phase_end: Callable[[Any, int], None] | None = None

    def before_step(self, loop: TrainLoop) -> None:
        phase = self.schedule.phase(loop.progress)
        if phase != self.phase:
            if self.phase is not None and phase.name != self.phase.name and self.on_phase_end is not None:
                self.on_phase_end(self.phase, loop.step)
            self.apply(phase)
            self.phase = phase

    def end(self, loop: TrainLoop) -> None:
        """The phase ends here if the next step would be in another one, or the schedule is complete; a run that
        stops inside a phase (at a curve point, or killed) leaves it to the session that finishes it."""
        if self.phase is None or self.on_phase_end is None or loop.stop_reason or loop.step < loop.target_step:
            return
        if self.schedule.phase(loop.progress).name != self.phase.name or self.schedule.complete(loop.progress):
            self.on_phase_end(self.phase, loop.step)

    def state_dict(self) -> Any:
        return None if self.phase is None else self.phase.to_dict()
