"""The toy 2-D benchmark: a baseline's loss, tricks and optimisers on the mlp "toy" nets and a Gaussian mixture.

It runs in seconds on CPU and shows mode collapse, so it is the fastest check that a loss or
trick behaves. Image-only tricks (DiffAugment, mixed precision) are dropped.
"""

from __future__ import annotations

import dataclasses
import math
import time

import torch
from tqdm import tqdm

from ..config import TOY_ARCH, TOY_BATCH_SIZE, TOY_NUM_SAMPLES, TOY_STEPS, ModelSpec
from ..devices import resolve_device
from ..errors import BadInput
from ..zoo.specs import validate_spec
from ..data.toy2d import Mixture
from ..metrics.toy2d import mode_metrics
from ..zoo.model import GANModel
from ..zoo.sampler import generate


def toy_spec(spec: ModelSpec, batch_size: int = TOY_BATCH_SIZE) -> ModelSpec:
    """``spec`` on the toy nets: TOY_ARCH, the toy batch size, no DiffAugment or AMP."""
    tricks = dataclasses.replace(spec.tricks, diffaugment="", amp=False)
    return validate_spec(dataclasses.replace(spec, name=f"{spec.name}-toy", arch=TOY_ARCH, tricks=tricks,
                                             batch_size=batch_size))


def train_toy(spec: ModelSpec, mixture: Mixture, steps: int = TOY_STEPS, seed: int = 0, device=None,
              num_samples: int = TOY_NUM_SAMPLES, progress: bool = False) -> dict:
    """Train ``toy_spec(spec)`` on ``mixture`` for ``steps`` G updates; score ``num_samples`` samples.

    Returns the mode metrics plus status ("ok" | "diverged"), steps, wall time and the samples ``(N, 2)``.
    """
    for name, value, least in (("steps", steps, 1), ("num_samples", num_samples, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise BadInput(f"{'--' if name == 'steps' else ''}{name} must be an integer >= {least}, got {value!r}")
    spec = toy_spec(spec)
    device = resolve_device(device)
    model = GANModel(spec, (2,), device, seed)
    step_gen = torch.Generator(device=device).manual_seed(seed + 1)
    data_gen = torch.Generator().manual_seed(seed + 2)
    t0, status, step = time.perf_counter(), "ok", 0
    for step in tqdm(range(1, steps + 1), disable=not progress, desc=f"toy {spec.name}", unit="step"):
        logs = model.train_step(lambda: (mixture.sample(spec.batch_size, data_gen).to(device), None), step_gen)
        if step % 100 == 0 and not all(math.isfinite(v) for v in torch.stack(list(logs.values())).tolist()):
            status = "diverged"
            break
    samples = generate(model.sampler(), num_samples, seed + 3).images
    return {**mode_metrics(samples, mixture.centers, mixture.std), "status": status, "steps": step,
            "wall_time_s": time.perf_counter() - t0, "samples": samples}
