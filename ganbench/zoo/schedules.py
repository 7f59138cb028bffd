"""Training schedules: training progress -> a phase (resolution, fade-in alpha, batch size, learning-rate scale).

A schedule is chosen by name in the spec (``schedule``); the trainer's schedule hook asks it for the phase
before every step and the model enters a new phase between steps. ``constant`` is every baseline's: one
phase for the whole run, which changes nothing. ``progressive`` is progressive growing (Karras et al. 2018).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable

from torch import Tensor

from ..errors import BadInput
from ..registry import Registry
from .nets.pggan import fade_reals


@dataclass(frozen=True)
class Phase:
    """Where a schedule is: None fields leave the spec's value alone."""

    resolution: int | None = None  # the nets' active resolution (progressive growing)
    alpha: float = 1.0  # fade-in weight of the newest layers, in [0, 1]
    batch_size: int | None = None
    lr_scale: float = 1.0
    name: str = "constant"  # changes at every stage boundary (not with alpha)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def reals(self, x: Tensor, full: int) -> Tensor:
        """Real images ``(N, C, full, full)`` as D sees them in this phase: at its level of detail, blended during a
        fade-in (``nets.pggan.fade_reals``); unchanged by a phase that leaves the resolution alone."""
        if self.resolution is None:
            return x
        return fade_reals(x, full, self.resolution, self.alpha)


class Schedule:
    """``phase(progress)`` for a run; ``progress`` has ``kimg``, ``step`` and ``fraction``.
    ``boundaries()`` lists (kimg, phase name) where each phase starts, for logs and plots."""

    def phase(self, progress) -> Phase:
        raise NotImplementedError

    def boundaries(self) -> list[tuple[float, str]]:
        return []

    def complete(self, progress) -> bool:
        """Whether ``progress`` has reached the schedule's end (its last phase is over)."""
        return progress.fraction >= 1.0

    def describe(self) -> dict:
        return {"name": type(self).__name__.lower()}


class Constant(Schedule):
    def __init__(self, **_):
        pass

    def phase(self, progress) -> Phase:
        return Phase()


class Progressive(Schedule):
    """Progressive growing as the official TrainingSchedule (train.py) orders it: stabilise 4x4, fade in 8x8,
    stabilise 8x8, ..., stabilise the full resolution; alpha rises linearly over each fade-in.

    The official lengths: lod_training_kimg = lod_transition_kimg = 600 for every phase below the full
    resolution, which then trains until total_kimg (12,000 in config.py's preset-v2 configs: 70% of the run at
    32x32). ``phase_share`` scales that to a run of ``total_kimg``: each phase below the full resolution takes
    ``phase_share`` of it (0.05 = 600 / 12,000), the full resolution the rest. ``phase_share`` 0 splits the run
    evenly over its 2 x stages + 1 phases (ganbench's plan before the share existed). ``phase_kimg`` and the
    boundaries are recorded in the run's provenance.
    """

    def __init__(self, resolution: int, total_kimg: float, start: int = 4, phase_share: float = 0.0, **_):
        self.start, self.full = start, resolution
        self.stages = int(math.log2(resolution // start))  # resolutions added after the first
        self.total_kimg = float(total_kimg)
        self.phase_share = float(phase_share)
        if self.phase_share and 2 * self.stages * self.phase_share >= 1:
            raise BadInput(f"schedule_phase_share {phase_share}: {2 * self.stages} phases below {resolution}x"
                           f"{resolution} would take the whole run; use less than {1 / (2 * self.stages):g}")
        self.phase_kimg = (self.total_kimg * self.phase_share if self.phase_share
                           else self.total_kimg / (2 * self.stages + 1))

    def phase_at(self, kimg: float) -> Phase:
        k = kimg / self.phase_kimg if self.phase_kimg > 0 else float("inf")
        idx = min(int(math.floor(k)), 2 * self.stages)
        if idx == 2 * self.stages:
            return Phase(self.full, 1.0, name=f"stabilise {self.full}x{self.full}")
        if idx % 2 == 0:  # stabilise
            res = self.start * 2 ** (idx // 2)
            return Phase(res, 1.0, name=f"stabilise {res}x{res}")
        res = self.start * 2 ** ((idx + 1) // 2)
        return Phase(res, min(1.0, k - idx), name=f"fade in {res}x{res}")

    def phase(self, progress) -> Phase:
        return self.phase_at(progress.kimg)

    def complete(self, progress) -> bool:
        return progress.kimg >= self.total_kimg * (1 - 1e-9)

    def boundaries(self) -> list[tuple[float, str]]:
        return [(i * self.phase_kimg, self.phase_at(i * self.phase_kimg).name) for i in range(2 * self.stages + 1)]

    def describe(self) -> dict:
        return {"name": "progressive", "start": self.start, "resolution": self.full, "total_kimg": self.total_kimg,
                "phase_kimg": self.phase_kimg, **({"phase_share": self.phase_share} if self.phase_share else {}),
                "phases": self.boundaries()}


SCHEDULES: Registry[Callable[..., Schedule]] = Registry("schedule")
SCHEDULES.add("constant", Constant)
SCHEDULES.add("progressive", Progressive)
