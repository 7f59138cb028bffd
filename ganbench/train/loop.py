"""The training loop: the model's step, over and over, with hooks around it.

The loop knows how far training has come (``Progress``: steps, real images shown to D, the
target) and hands that to the model's ``train_step``; everything else is a hook: the schedule
(before a step), divergence checks, the log, sample grids and checkpoints (after it). A hook
ends the run by setting ``loop.stop_reason``; its state goes into checkpoints through
``state_dict``/``load_state_dict`` so a resumed run continues exactly. A stop request (``train.stop``) makes the
step where it lands a boundary at which periodic hooks act, then ends the run with ``Stopped``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from .stop import Stopped, stop_requested


@dataclass(frozen=True)
class Progress:
    """How far training has come: steps done (one G update each), real images shown to D, the target step."""

    step: int
    images: int
    target_step: int

    @property
    def kimg(self) -> float:
        return self.images / 1000

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.target_step) if self.target_step else 1.0


class Hook:
    """Something that happens around steps. Every method is optional."""

    #: Key of this hook's state in a checkpoint ("" for a stateless hook).
    name = ""

    def start(self, loop: "TrainLoop") -> None: ...

    def before_step(self, loop: "TrainLoop") -> None: ...

    def after_step(self, loop: "TrainLoop", logs: dict[str, torch.Tensor]) -> None: ...

    def end(self, loop: "TrainLoop") -> None: ...

    def state_dict(self) -> Any:
        return None

    def load_state_dict(self, state: Any) -> None: ...


class TrainLoop:
    """Runs ``model.train_step(next_real, generator, progress)`` until ``target_step`` or a hook stops it."""

    def __init__(self, model, next_real: Callable, generator: torch.Generator, hooks: Sequence[Hook],
                 target_step: int, images_per_step: Callable[[], int], step: int = 0, images: int = 0):
        self.model, self.next_real, self.generator = model, next_real, generator
        self.hooks = list(hooks)
        self.target_step, self.images_per_step = target_step, images_per_step
        self.step, self.images = step, images
        self.stop_reason = ""
        #: This step ends the run on request (``train.stop``): periodic hooks act as at a period (divergence is
        #: checked, a log row and the checkpoint written), then the loop raises ``Stopped``.
        self.stopping = False

    @property
    def progress(self) -> Progress:
        return Progress(self.step, self.images, self.target_step)

    def hook(self, name: str) -> Hook:
        return next(h for h in self.hooks if h.name == name)

    def run(self) -> None:
        for h in self.hooks:
            h.start(self)
        try:
            while self.step < self.target_step and not self.stop_reason:
                for h in self.hooks:
                    h.before_step(self)
                shown = self.images_per_step()
                logs = self.model.train_step(self.next_real, self.generator, self.progress)
                self.step += 1
                self.images += shown
                self.stopping = stop_requested() and self.step < self.target_step
                for h in self.hooks:
                    h.after_step(self, logs)
                if self.stopping and not self.stop_reason:
                    raise Stopped(f"stopped on request at step {self.step} of {self.target_step}, checkpointed there")
        finally:
            for h in self.hooks:
                h.end(self)
