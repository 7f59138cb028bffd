"""Training schedules: training progress (kimg) -> a phase (resolution, fade-in alpha, batch size, lr scale).

A schedule is chosen by name in the spec (``schedule``); the trainer's schedule hook asks it for the
phase before every step and the model applies a new phase between steps. ``constant`` is every
baseline's: one phase for the whole run, which changes nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from ..registry import Registry


@dataclass(frozen=True)
class Phase:
    """Where a schedule is: None fields leave the spec's value alone."""

    resolution: int | None = None  # the nets' current output resolution (progressive growing)
    alpha: float = 1.0  # fade-in weight of the newest layers, in [0, 1]
    batch_size: int | None = None
    lr_scale: float = 1.0
    name: str = "constant"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class Schedule:
    """``phase(progress)`` for a run; ``progress`` has ``kimg``, ``step`` and ``fraction``."""

    def phase(self, progress) -> Phase:
        raise NotImplementedError


class Constant(Schedule):
    def phase(self, progress) -> Phase:
        return Phase()


SCHEDULES: Registry[Callable[..., Schedule]] = Registry("schedule")
SCHEDULES.add("constant", Constant)
