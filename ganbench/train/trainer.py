"""The generic training loop: data order, logging, sample grids, checkpoints, resume, divergence.

The model (``ganbench.zoo.model.GANModel``) owns its step; this module owns everything around it.
Randomness: nets are initialised from ``seed``; data order uses a CPU ``torch.Generator``
(seed + 2) and the step (latents, penalties, augmentations) a generator on the device (seed + 1);
both states are checkpointed, so on CPU 10 steps + resume + 10 steps equal 20 straight steps.
In a torch.distributed process group (``torchrun``) the model trains with DDP over the ranks
(see ``ganbench.train.distributed``); rank 0 alone writes files.
"""

from __future__ import annotations

import json
import math
import platform
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import torch
from tqdm import tqdm

from .. import __version__
from ..config import (CONV_RESOLUTION, DEFAULT_RESOLUTION_MODE, DIVERGENCE_PATIENCE, DIVERGENCE_THRESHOLD,
                      TRAIN_CKPT_EVERY, TRAIN_GRID_SAMPLES, TRAIN_LOG_EVERY, TRAIN_SAMPLE_EVERY, VIEWS, ModelSpec)
from ..data.base import ImageSet
from ..errors import BadInput
from ..grid import save_grid
from ..io import sha256_file, write_text_atomic
from ..zoo.model import GANModel
from ..zoo.nets import NETS, check_shape
from . import distributed
from .checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from .log import TrainLog
from .sample import sample_images

STATUS_NAME = "status.json"


@dataclass
class TrainResult:
    status: str  # "ok" | "diverged"
    steps: int  # generator steps done
    kimg: float  # thousands of real images shown to D
    wall_time_s: float
    images_per_s: float  # real images shown to D per second of training (this run's sessions)
    peak_memory_mb: float
    out_dir: str
    checkpoint: str | None
    losses: dict = field(default_factory=dict)  # the last step's losses
    reason: str = ""
    device: str = ""
    provenance: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DivergenceRule:
    """Stop when a loss is NaN/Inf, or when some |loss| > threshold for ``patience`` steps in a row."""

    threshold: float = DIVERGENCE_THRESHOLD
    patience: int = DIVERGENCE_PATIENCE


def resolve_device(device=None) -> torch.device:
    """CUDA when present, else CPU; ``device`` overrides."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def training_view(spec: ModelSpec, dataset: ImageSet, view: str = "pad32") -> ImageSet:
    """The dataset as the nets see it. ``pad32``: conv nets get 28 px data padded to CONV_RESOLUTION;
    ``native``: every net trains at the dataset's own resolution (Lucic et al. 2018)."""
    if view not in VIEWS:
        raise BadInput(f"unknown training view {view!r}; known: {', '.join(VIEWS)}")
    family = NETS.get(spec.arch.name)
    view_set = dataset
    if view == "pad32" and family.conv and dataset.resolution == 28:
        view_set = dataset.at_resolution(CONV_RESOLUTION, DEFAULT_RESOLUTION_MODE)
    view = view_set
    check_shape(family, (view.channels, view.resolution, view.resolution))
    return view


def steps_for(spec: ModelSpec, steps: int | None, kimg: float | None) -> int:
    """Generator steps for a run: given, or ceil(kimg * 1000 / (batch * n_critic))."""
    if (steps is None) == (kimg is None):
        raise BadInput("give exactly one of steps (generator updates) or kimg (thousands of real images)")
    if steps is not None:
        if steps < 1:
            raise BadInput(f"steps must be >= 1, got {steps}")
        return int(steps)
    if not kimg > 0:
        raise BadInput(f"kimg must be > 0, got {kimg}")
    return math.ceil(kimg * 1000 / (spec.batch_size * spec.tricks.n_critic))


class BatchStream:
    """Shuffled mini-batches of real images in [-1, 1], epoch by epoch (the last partial batch dropped)."""

    def __init__(self, data: torch.Tensor, batch_size: int, seed: int):
        self.data, self.batch_size = data, batch_size  # uint8 (N, C, H, W) on the training device
        self.gen = torch.Generator().manual_seed(seed)
        self.perm, self.pos = torch.randperm(len(data), generator=self.gen), 0

    def __call__(self) -> torch.Tensor:
        if self.pos + self.batch_size > len(self.perm):
            self.perm, self.pos = torch.randperm(len(self.data), generator=self.gen), 0
        idx = self.perm[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return self.data[idx.to(self.data.device)].float().div_(127.5).sub_(1.0)

    def state_dict(self) -> dict:
        return {"gen": self.gen.get_state(), "perm": self.perm, "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        self.gen.set_state(state["gen"])
        self.perm, self.pos = state["perm"], int(state["pos"])


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _provenance(spec: ModelSpec, dataset: ImageSet, view: ImageSet, seed: int, device: torch.device,
                model: GANModel, options: dict) -> dict:
    import torchvision

    return {
        "versions": {"ganbench": __version__, "torch": torch.__version__, "torchvision": torchvision.__version__,
                     "python": platform.python_version()},
        "spec": spec.to_dict(), "spec_hash": spec.hash(), "seed": seed,
        "dataset": dataset.describe(), "training_view": view.describe(),
        "device": str(device), "device_name": torch.cuda.get_device_name(device) if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "amp_active": model.amp, **options,
    }


def _read_status(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / STATUS_NAME).read_text())
    except (OSError, ValueError):
        return None


def train(spec: ModelSpec, dataset: ImageSet, out_dir, steps: int | None = None, kimg: float | None = None,
          seed: int = 0, device=None, resume: bool = True, progress: bool = True,
          ckpt_every: int = TRAIN_CKPT_EVERY, sample_every: int = TRAIN_SAMPLE_EVERY,
          log_every: int = TRAIN_LOG_EVERY, divergence: DivergenceRule = DivergenceRule(),
          channels_last: bool = False, compile: bool = False, tensorboard: bool = True, view: str = "pad32",
          fast: bool = True) -> TrainResult:
    """Train ``spec`` on ``dataset`` for ``steps`` G updates (or ``kimg``) into ``out_dir``.

    ``resume``: continue from ``out_dir``'s checkpoint (a finished run returns its stored result).
    ``view``: how the nets see the data (see ``training_view``). ``fast``: fused optimisers and one D
    forward over real and fake (same numbers up to float noise; off only to check exactly that).
    Writes ``checkpoint.pt``, ``train_log.csv``, ``samples/step_XXXXXX.png`` and ``status.json``.
    Loss values stay on the device between log points (no host sync per step); the divergence rule is
    then applied to every step's values in order, so a diverged run stops at the next log point.
    """
    out_dir = Path(out_dir)
    target = steps_for(spec, steps, kimg)
    for name, value in (("ckpt_every", ckpt_every), ("sample_every", sample_every), ("log_every", log_every)):
        if value < 1:
            raise BadInput(f"{name} must be >= 1, got {value}")
    view = training_view(spec, dataset, view)
    if len(view) < spec.batch_size:
        raise BadInput(f"{view.name}/{view.split} has {len(view)} images, fewer than the batch size {spec.batch_size}")
    dd = distributed.current()
    device = distributed.rank_device(device, dd) if dd.enabled else resolve_device(device)
    main = dd.is_main
    ckpt_file = out_dir / CHECKPOINT_NAME
    state = None
    if resume and ckpt_file.exists():
        state = load_checkpoint(ckpt_file)
        if state["spec_hash"] != spec.hash() or state["seed"] != seed or state["dataset_key"] != view.key:
            raise BadInput(f"{out_dir} holds a run of another model, seed or dataset "
                           f"({state['spec']['name']}, seed {state['seed']}, {state['dataset_key']}); "
                           "choose another output folder or start over without resume")
        stored = _read_status(out_dir)
        if stored and stored.get("status") in ("ok", "diverged") and (
                stored["status"] == "diverged" or stored["steps"] >= target):
            return TrainResult(**stored)

    shape = (view.channels, view.resolution, view.resolution)
    batches = BatchStream(view.uint8(slice(None)).to(device), spec.batch_size, seed + 2)
    if dd.enabled:  # each rank: its slice of the global batch; its own generator for random tricks
        model = distributed.DistributedGANModel(spec, shape, device, seed, dd, channels_last=channels_last)
        step_gen = torch.Generator(device=device).manual_seed(distributed.rank_seed(seed, dd.rank))
        batches = distributed.ShardedBatches(batches, dd)
    else:
        model = GANModel(spec, shape, device, seed, channels_last=channels_last, compile=compile, fast=fast)
        step_gen = torch.Generator(device=device).manual_seed(seed + 1)
    grid_z_seed = seed + 3
    log = TrainLog(out_dir, tensorboard=tensorboard and main)
    step, wall_before, exploded = 0, 0.0, 0
    if state is not None:
        model.load_state_dict(state["model"])
        step_gen.set_state(state["rng_ranks"][dd.rank] if dd.enabled else state["rng_step"])
        batches.load_state_dict(state["data"])
        log.rows, step, wall_before, exploded = state["log"], state["step"], state["wall_time_s"], state["exploded"]
    options = {"steps": target, "batch_size": spec.batch_size, "n_critic": spec.tricks.n_critic,
               "channels_last": channels_last, "compile": compile, "fast": fast, "joint_d": model.joint_d,
               "ckpt_every": ckpt_every,
               "divergence": asdict(divergence), "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if dd.enabled:
        options.update(world_size=dd.world_size, dist_backend=dd.backend, per_rank_batch=model.spec.batch_size,
                       sync_batch_norm=device.type == "cuda")
    provenance = _provenance(spec, dataset, view, seed, device, model, options)
    if main:
        write_text_atomic(out_dir / STATUS_NAME, json.dumps({"status": "running", "provenance": provenance}, indent=2))

    images_per_step = spec.batch_size * spec.tricks.n_critic
    start_step, t_start = step, time.perf_counter()
    t_log, step_log = t_start, step
    values: dict[str, float] = {}
    reason = ""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def checkpoint() -> None:
        ranks = distributed.gather_states(step_gen.get_state(), dd) if dd.enabled else None  # every rank calls
        if not main:
            return
        save_checkpoint(ckpt_file, {
            "spec": spec.to_dict(), "spec_hash": spec.hash(), "seed": seed, "dataset_key": view.key,
            "shape": list(shape), "step": step, "model": model.state_dict(), "rng_step": step_gen.get_state(),
            "data": batches.state_dict(), "log": log.rows, "exploded": exploded, "rng_ranks": ranks,
            "wall_time_s": wall_before + time.perf_counter() - t_start,
        })

    bar = tqdm(total=target, initial=step, disable=not (progress and main), file=sys.stderr, unit="step",
               desc=f"train {spec.name}", dynamic_ncols=True)
    pending: list[torch.Tensor] = []  # per-step loss values, still on the device

    def flush() -> None:
        """Bring the pending steps' losses to the host at once and apply the divergence rule to each."""
        nonlocal values, exploded, reason
        first = step - len(pending) + 1
        for i, row in enumerate(torch.stack(pending).float().cpu().tolist()):
            values = dict(zip(names, row))
            bad = [k for k, v in values.items() if not math.isfinite(v)]
            exploded = exploded + 1 if any(abs(v) > divergence.threshold for v in values.values()) else 0
            if bad:
                reason = f"non-finite {', '.join(bad)} at step {first + i}"
            elif exploded >= divergence.patience:
                reason = f"|loss| above {divergence.threshold:g} for {exploded} steps in a row (step {first + i})"
            if reason:
                break
        pending.clear()

    names: list[str] = []
    try:
        while step < target:
            logs = model.train_step(batches, step_gen)
            names = list(logs)
            pending.append(torch.stack([v.float() for v in logs.values()]))
            step += 1
            bar.update(1)
            logged = step % log_every == 0 or step == target
            if logged or step % sample_every == 0 or step % ckpt_every == 0:
                flush()
            if logged or reason:
                now = time.perf_counter()
                rate = (step - step_log) * images_per_step / max(now - t_log, 1e-9)
                row = {"step": step, "kimg": step * images_per_step / 1000, **values,
                       "images_per_s": rate, "wall_time_s": wall_before + now - t_start}
                log.append(row) if main else log.rows.append(row)
                t_log, step_log = now, step
                bar.set_postfix({k: f"{v:.3g}" for k, v in values.items() if k in ("d_loss", "g_loss")})
            if reason:
                break
            if main and (step % sample_every == 0 or step == target):
                save_grid(sample_images(model.sampler(), TRAIN_GRID_SAMPLES, grid_z_seed),
                          out_dir / "samples" / f"step_{step:06d}.png")
            if step % ckpt_every == 0 or step == target:
                checkpoint()
    finally:
        bar.close()
        log.close()
    distributed.barrier(dd)  # rank 0's checkpoint is on disk before any rank reads it

    elapsed = time.perf_counter() - t_start
    has_ckpt = ckpt_file.exists()
    provenance["weights_sha256"] = sha256_file(ckpt_file) if has_ckpt else None
    provenance["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result = TrainResult(
        status="diverged" if reason else "ok", steps=step, kimg=step * images_per_step / 1000,
        wall_time_s=wall_before + elapsed,
        images_per_s=(step - start_step) * images_per_step / elapsed if elapsed > 0 else 0.0,
        peak_memory_mb=_peak_memory_mb(device), out_dir=str(out_dir),
        checkpoint=str(ckpt_file) if has_ckpt else None, losses=values, reason=reason, device=str(device),
        provenance=provenance,
    )
    if main:
        write_text_atomic(out_dir / STATUS_NAME, json.dumps(asdict(result), indent=2))
    return result
