"""The stages a benchmark job calls (dataset, trainer, sampler, evaluator), as one injectable object.

The runner and ``compare`` take a ``Backend``; tests pass fakes for some stages to check the
orchestration in milliseconds, and ``None`` means the real stage, imported on first use.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable
import dataclasses

from ..config import EvalProtocol
from ..devices import resolve_device


@dataclass(frozen=True)
class Backend:
    """The stages a job calls. ``None`` means the real one (imported on first use); tests pass fakes."""

    get_dataset: Callable | None = None
    load_baseline: Callable | None = None
    list_baselines: Callable | None = None
    train: Callable | None = None
    load_generator: Callable | None = None
    sample: Callable | None = None  # (G, n, seed, device=) -> Samples(uint8 images, labels or None)
    evaluate: Callable | None = None
    #: (jobs, backend, progress) -> the reference features a sweep's workers share (``bench.reference``), or None.
    #: Real with the real ``evaluate``; with a stand-in evaluator (given, not this) there is nothing to share.
    prepare_reference: Callable | None = None

    def resolve(self) -> "Backend":
        """A backend with every missing stage filled in from the real modules."""
        real: dict[str, Callable] = {}
        if self.get_dataset is None:
            from ..data import get_dataset
            real["get_dataset"] = get_dataset
        if self.train is None:
            from ..train.trainer import train
            real["train"] = train
        if self.load_baseline is None or self.list_baselines is None:
            from ..zoo.baselines import list_baselines, load_baseline
            real.update(load_baseline=load_baseline, list_baselines=list_baselines)
        if self.load_generator is None:
            from ..train.checkpoint import load_generator
            real["load_generator"] = load_generator
        if self.sample is None:
            from ..zoo.sampler import sample
            real["sample"] = sample
        if self.evaluate is None:
            real["evaluate"] = SharedEvaluate()
        if self.prepare_reference is None:
            if self.evaluate is None:
                from .reference import prepare_reference
                real["prepare_reference"] = prepare_reference
            else:
                real["prepare_reference"] = no_shared_reference
        return dataclasses.replace(self, **{k: v for k, v in real.items() if getattr(self, k) is None})


def no_shared_reference(jobs, backend, progress: bool = True) -> None:
    """The shared reference of a backend whose evaluator is a stand-in: nothing (its jobs extract nothing)."""
    return None


class SharedEvaluate:
    """``metrics.evaluate`` that keeps its feature networks (Inception, DINOv2, ...) built across calls.

    Building one costs seconds on a CPU; a run evaluates once per job (more with interval evaluations).
    """

    def __init__(self):
        self._nets: dict = {}

    def __call__(self, samples, reference, protocol: EvalProtocol | None = None, device=None, options=None, **kw):
        from ..metrics.evaluate import EvaluateOptions, evaluate
        from ..metrics.features import Networks

        options = options or EvaluateOptions()
        mode = (protocol or EvalProtocol()).resize_mode
        dev = resolve_device(device)
        key = (mode, str(dev), tuple(sorted((options.weights or {}).items())))
        if key not in self._nets:
            self._nets[key] = Networks(None, mode, dev, files=options.weights)
        return evaluate(samples, reference, protocol=protocol, device=device,
                        options=dataclasses.replace(options, networks=self._nets[key]), **kw)


def log(msg: str, progress: bool) -> None:
    if progress:
        print(f"ganbench: {msg}", file=sys.stderr, flush=True)
