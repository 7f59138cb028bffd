"""``train()``: one model on one dataset, resumable. It sets up the run and hands it to the loop with its hooks.

The model (``ganbench.zoo.model.GANModel``) owns its step; ``train.loop.TrainLoop`` repeats it and
``train.hooks`` do the rest (divergence, log, grids, checkpoints, schedule).
Randomness: nets are initialised from ``seed``; data order uses a CPU ``torch.Generator``
(seed + 2) and the step (latents, penalties, augmentations) a generator on the device (seed + 1);
both states are checkpointed, so on CPU 10 steps + resume + 10 steps equal 20 straight steps.
A stop request (SIGTERM, Ctrl-C: ``train.stop``) is honoured at the next step, which is checkpointed, so a run
stopped anywhere resumes from where it stood rather than from its last periodic checkpoint.
In a torch.distributed process group (``torchrun``) the model trains with DDP over the ranks
(see ``ganbench.train.distributed``); rank 0 alone writes files.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import resource
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import torch
from tqdm import tqdm

from .. import dist
from ..config import (OUTPUT_RANGES, TRAIN_CKPT_EVERY, TRAIN_GRID_SAMPLES, TRAIN_LOG_EVERY, TRAIN_SAMPLE_EVERY,
                      ModelSpec)
from ..data.base import ImageSet
from ..devices import cpu_name, keep_freed_memory, malloc_policy
from ..errors import BadInput
from ..progress import bar as progress_bar
from ..images import save_grid
from ..io import check_writable, clean_orphans, sha256_file, write_text_atomic
from ..version import __version__, git_revision
from ..zoo.conditioning import conditional
from ..zoo.model import GANModel
from ..zoo.view import View, view_for
from ..zoo.sampler import sample_images
from ..zoo.schedules import SCHEDULES
from . import distributed
from .checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from .data import BatchStream
from .hooks import CheckpointHook, DivergenceHook, DivergenceRule, GridHook, LogHook, ScheduleHook
from .log import TrainLog
from .loop import TrainLoop
from .stop import honouring_stop

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


def training_view(spec: ModelSpec, dataset: ImageSet, view: str | View = "pad32") -> ImageSet:
    """The dataset as ``spec``'s nets see it under a view policy (see ``zoo.view.view_for``) or a ``View``."""
    return resolve_view(spec, dataset, view).apply(dataset)


def resolve_view(spec: ModelSpec, dataset: ImageSet, view: str | View) -> View:
    """``view`` as a ``View``: a policy name is decided here (``view_for``); a given ``View`` must be the spec's
    (its value range the one ``arch.output`` gives)."""
    if not isinstance(view, View):
        return view_for(spec, dataset, view)
    if tuple(view.value_range) != OUTPUT_RANGES[spec.arch.output]:
        raise BadInput(f"{spec.name}: its generator's output {spec.arch.output!r} works in "
                       f"{OUTPUT_RANGES[spec.arch.output]}, the view given in {tuple(view.value_range)}")
    return view


def steps_for(spec: ModelSpec, steps: int | None, kimg: float | None) -> int:
    """Generator steps for a run: given, or ceil(kimg * 1000 / (batch * n_critic))."""
    if (steps is None) == (kimg is None):
        raise BadInput("give exactly one of steps (generator updates) or kimg (thousands of real images)")
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise BadInput(f"steps must be an integer >= 1, got {steps!r}")
        return int(steps)
    if isinstance(kimg, bool) or not isinstance(kimg, (int, float)) or not 0 < kimg < math.inf:
        raise BadInput(f"kimg must be a finite number > 0, got {kimg!r}")
    return math.ceil(kimg * 1000 / (spec.batch_size * spec.tricks.n_critic))


def check_intervals(**intervals: int) -> None:
    """Checkpoint, grid and log intervals (``ckpt_every=500``, ...) are integers >= 1."""
    for name, value in intervals.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadInput(f"{name} must be an integer >= 1, got {value!r}")


def phase_grid_name(phase, step: int) -> str:
    """samples/phase_STEP_NAME.png: the grid at the end of a schedule's phase."""
    return f"phase_{step:06d}_{phase.name.replace(' ', '-')}.png"


def conditioning_of(spec: ModelSpec, view: ImageSet) -> tuple[int, torch.Tensor | None]:
    """``(num_classes, class_probs)`` a conditional spec trains with: the dataset's classes and their frequencies
    (what fake labels and samples follow); ``(0, None)`` for an unconditional spec."""
    if not conditional(spec.arch.g_conditioning, spec.arch.d_conditioning):
        return 0, None
    if view.num_classes < 2:
        raise BadInput(f"{spec.name} is class-conditional but {view.name}/{view.split} has no labels; train it on a "
                       "labelled dataset (fashion-mnist, mnist, cifar10, a folder with one sub-folder per class, "
                       "or arrays with labels)")
    counts = view.class_counts().double()
    return view.num_classes, (counts / counts.sum()).float()


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _provenance(spec: ModelSpec, dataset: ImageSet, view: ImageSet, seed: int, device: torch.device,
                model: GANModel, options: dict, nets_view: View) -> dict:
    import torchvision

    return {
        "versions": {"ganbench": __version__, "torch": torch.__version__, "torchvision": torchvision.__version__,
                     "python": platform.python_version()},
        "spec": spec.to_dict(), "spec_hash": spec.hash(), "seed": seed,
        "dataset": dataset.describe(), "training_view": view.describe(), "view": nets_view.describe(),
        "device": str(device), "device_name": torch.cuda.get_device_name(device) if device.type == "cuda"
        else cpu_name(),
        "amp_active": model.amp, "torch_threads": torch.get_num_threads(), "malloc": malloc_policy(), **options,
    }


def _read_status(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / STATUS_NAME).read_text())
    except (OSError, ValueError):
        return None


def _status_json(result: TrainResult) -> str:
    """status.json: the result with its paths relative to the run folder, so a copied or moved folder points
    at its own checkpoint."""
    d = asdict(result)
    d.update(out_dir=".", checkpoint=CHECKPOINT_NAME if result.checkpoint else None)
    return json.dumps(d, indent=2)


def _stored_result(stored: dict, out_dir: Path) -> TrainResult:
    """A finished run's status.json as a result, its paths in ``out_dir`` (where it is now; older files held
    absolute paths, which are ignored)."""
    ckpt = stored.get("checkpoint")
    return TrainResult(**{**stored, "out_dir": str(out_dir),
                          "checkpoint": str(out_dir / Path(ckpt).name) if ckpt else None})


@dataclass(frozen=True)
class TrainOptions:
    """How a training runs, apart from what it trains (every field has the default ``ganbench train`` uses).

    ``view``: how the nets see the data, a ``zoo.view.View`` or a policy name (``pad32``, ``native``).
    ``ckpt_every`` / ``sample_every`` / ``log_every``: generator steps between checkpoints, sample grids and log
    rows. ``divergence``: when a run counts as diverged. ``channels_last``: the memory format (None: the net
    family's default, ``NetFamily.channels_last``). ``compile``: ``torch.compile`` the nets. ``fast``: fused
    optimisers, one D forward over real and fake and the penalties' cheap second derivatives
    (``zoo.double_backward``) (the same numbers up to float noise; off only to check exactly
    that). ``tensorboard``: also write TensorBoard events. ``schedule_kimg``: the length a schedule
    (``spec.schedule``) is laid over when this call trains only a segment of a longer run (the runner's interval
    evaluations); default: a resumed run's recorded length, else this call's. ``deterministic``: on CUDA, cuDNN's
    deterministic algorithms and no autotuning, so that a run, and a resumed one, repeats to the bit (cuDNN's default
    picks kernels whose sums land in any order); on the CPU torch is deterministic already and nothing changes.
    """

    view: str | View = "pad32"
    ckpt_every: int = TRAIN_CKPT_EVERY
    sample_every: int = TRAIN_SAMPLE_EVERY
    log_every: int = TRAIN_LOG_EVERY
    divergence: DivergenceRule = DivergenceRule()
    channels_last: bool | None = None
    compile: bool = False
    fast: bool = True
    tensorboard: bool = True
    schedule_kimg: float | None = None
    deterministic: bool = True

    def check(self) -> None:
        check_intervals(ckpt_every=self.ckpt_every, sample_every=self.sample_every, log_every=self.log_every)


@dataclass
class _Setup:
    """A training made ready to run: the data as the nets see it, the model, its generators and stream, and the
    state it resumes from (None for a fresh run)."""

    nets_view: View
    view: ImageSet
    shape: tuple[int, int, int]
    model: GANModel
    step_gen: torch.Generator
    batches: BatchStream
    num_classes: int
    class_probs: torch.Tensor | None
    state: dict | None


def train(spec: ModelSpec, dataset: ImageSet, out_dir, steps: int | None = None, kimg: float | None = None,
          seed: int = 0, device=None, resume: bool = True, progress: bool = True,
          options: TrainOptions | None = None) -> TrainResult:
    """Train ``spec`` on ``dataset`` for ``steps`` G updates (or ``kimg``) into ``out_dir``.

    ``resume``: continue from ``out_dir``'s checkpoint (a finished run returns its stored result). ``options``:
    how it runs (``TrainOptions``: view, intervals, divergence rule, speed switches).
    Writes ``checkpoint.pt``, ``train_log.csv``, ``samples/step_XXXXXX.png`` and ``status.json``.
    The loop is ``train.loop.TrainLoop``; divergence, log, grids, checkpoints and the schedule are hooks.
    """
    opts = options or TrainOptions()
    out_dir = Path(out_dir)
    target = steps_for(spec, steps, kimg)
    opts.check()
    keep_freed_memory()  # a step's activations reused from the heap, not fresh pages (devices.keep_freed_memory)
    check_writable(out_dir, "--out", folder=True)
    dd = dist.current()
    device = dist.rank_device(device, dd)
    nets_view = resolve_view(spec, dataset, opts.view)
    view = nets_view.apply(dataset)
    if len(view) < spec.batch_size:
        raise BadInput(f"{view.name}/{view.split} has {len(view)} images, fewer than the batch size {spec.batch_size}")
    if dd.is_main:
        clean_orphans(out_dir)  # what a killed run left half-written (a checkpoint's or a grid's .tmp)
    state = _resumable_state(out_dir, spec, seed, view, target) if resume else None
    if isinstance(state, TrainResult):
        return state
    with _cudnn(device, opts.deterministic):
        setup = _set_up(spec, nets_view, view, device, seed, dd, opts, state)
        return _run(spec, dataset, out_dir, target, seed, device, dd, opts, setup, progress)


def _cudnn(device: torch.device, deterministic: bool):
    """cuDNN's flags for a training on ``device``: deterministic and not autotuned when asked (restored after)."""
    if device.type != "cuda" or not deterministic:
        return contextlib.nullcontext()
    return torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True)


def _resumable_state(out_dir: Path, spec: ModelSpec, seed: int, view: ImageSet, target: int):
    """The checkpoint to resume from, the stored result when the run in ``out_dir`` is already finished, or None."""
    ckpt_file = out_dir / CHECKPOINT_NAME
    if not ckpt_file.exists():
        return None
    state = load_checkpoint(ckpt_file)
    if state["spec_hash"] != spec.hash() or state["seed"] != seed or state["dataset_key"] != view.key:
        raise BadInput(f"{out_dir} holds a run of another model, seed or dataset "
                       f"({state['spec']['name']}, seed {state['seed']}, {state['dataset_key']}); "
                       "choose another output folder or start over without resume")
    stored = _read_status(out_dir)
    if stored and stored.get("status") in ("ok", "diverged") and (
            stored["status"] == "diverged" or stored["steps"] >= target):
        return _stored_result(stored, out_dir)
    return state


def _set_up(spec: ModelSpec, nets_view: View, view: ImageSet, device: torch.device, seed: int, dd,
            opts: TrainOptions, state: dict | None) -> _Setup:
    """The model (DDP over the ranks under torchrun), its step generator and the batch stream, restored from
    ``state`` when resuming."""
    shape = (view.channels, view.resolution, view.resolution)
    num_classes, class_probs = conditioning_of(spec, view)
    batches = BatchStream(view.uint8(slice(None)).to(device), spec.batch_size, seed + 2,
                          labels=view.labels(slice(None)), value_range=nets_view.value_range)
    if dd.enabled:  # each rank: its slice of the global batch; its own generator for random tricks
        model = distributed.DistributedGANModel(spec, shape, device, seed, dd, channels_last=opts.channels_last,
                                                num_classes=num_classes, class_probs=class_probs)
        step_gen = torch.Generator(device=device).manual_seed(dist.rank_seed(seed, dd.rank))
        batches = distributed.ShardedBatches(batches, dd)
    else:
        model = GANModel(spec, shape, device, seed, channels_last=opts.channels_last, compile=opts.compile,
                         fast=opts.fast, num_classes=num_classes, class_probs=class_probs)
        step_gen = torch.Generator(device=device).manual_seed(seed + 1)
    if state is not None:
        model.load_state_dict(state["model"])
        step_gen.set_state(state["rng_ranks"][dd.rank] if dd.enabled else state["rng_step"])
        batches.load_state_dict(state["data"])
    return _Setup(nets_view, view, shape, model, step_gen, batches, num_classes, class_probs, state)


def _sessions_before(state: dict | None) -> list[dict]:
    """The training sessions behind a resumed run, as its checkpoint records them: each process that trained it,
    with its steps, threads, device and code (a run trained in several sittings, on other threads or code, says
    so). A checkpoint written before sessions were recorded gives one session marked ``recorded: False``."""
    if state is None:
        return []
    return list(state.get("sessions") or [{"from_step": 0, "to_step": state["step"], "recorded": False}])


_PROCESS: tuple[int, str] | None = None


def _process_id() -> str:
    """This process, as the sessions of a checkpoint name it (drawn anew in a forked child)."""
    global _PROCESS
    if _PROCESS is None or _PROCESS[0] != os.getpid():
        _PROCESS = (os.getpid(), uuid.uuid4().hex[:12])
    return _PROCESS[1]


def _same_sitting(last: dict, session: dict) -> bool:
    """The run's last session is this process's, ended where this one starts, on the same threads, device and
    code: one sitting that trains in segments (a curve point or a trial's rung between them), recorded as one."""
    same = ("process", "torch_threads", "device_name", "git_rev", "ganbench", "torch")
    return last.get("to_step") == session["from_step"] and all(last.get(k) == session[k] for k in same)


def _schedule(spec: ModelSpec, opts: TrainOptions, state: dict | None, run_kimg: float, su: _Setup):
    """The spec's schedule as a hook that enters each phase, its plan, and the kimg it spans (the options', else the
    checkpoint's, else this run's length)."""
    schedule_kimg = opts.schedule_kimg
    if schedule_kimg is None:
        schedule_kimg = (state or {}).get("schedule_kimg") or run_kimg
    plan = SCHEDULES.get(spec.schedule)(resolution=su.shape[-1], total_kimg=schedule_kimg,
                                        phase_share=spec.schedule_phase_share)

    def enter(phase) -> None:
        su.model.set_phase(phase)
        if phase.batch_size:
            su.batches.set_batch_size(phase.batch_size)

    return ScheduleHook(plan, enter), plan, schedule_kimg


def _bar_name(name: str, kimg: float, run_kimg: float) -> str:
    """The progress bar's name; a call that trains to ``kimg``, one segment of a longer run of ``run_kimg`` (the
    runner's interval evaluations, a search's rungs), says so, since its bar counts only to the segment's end."""
    if kimg < run_kimg * (1 - 1e-9):
        return f"train {name} (to {kimg:.4g} of {run_kimg:.4g} kimg)"
    return f"train {name}"


def _run(spec: ModelSpec, dataset: ImageSet, out_dir: Path, target: int, seed: int, device: torch.device, dd,
         opts: TrainOptions, su: _Setup, progress: bool) -> TrainResult:
    """The loop with its hooks (schedule, divergence, log, grids, checkpoints) from where ``su`` stands, then the
    result, written to status.json."""
    model, state, main, ckpt_file = su.model, su.state, dd.is_main, out_dir / CHECKPOINT_NAME
    log = TrainLog(out_dir, tensorboard=opts.tensorboard and main)
    step, wall_before = 0, 0.0
    images_per_step = spec.batch_size * spec.tricks.n_critic
    div = DivergenceHook(opts.divergence, (opts.log_every, opts.sample_every, opts.ckpt_every))
    call_kimg = target * images_per_step / 1000  # where this call stops: a segment of the run, or all of it
    schedule, plan, schedule_kimg = _schedule(spec, opts, state, call_kimg, su)
    if state is not None:
        log.rows, step, wall_before = state["log"], state["step"], state["wall_time_s"]
        div.load_state_dict(state["exploded"])
    provenance = _provenance(spec, dataset, su.view, seed, device, model,
                             _run_options(spec, target, opts, model, plan, dd, device), su.nets_view)
    before = _sessions_before(state)
    session = {"from_step": step, "started": provenance["started"], "torch_threads": provenance["torch_threads"],
               "device_name": provenance["device_name"], "git_rev": git_revision(), "ganbench": __version__,
               "torch": str(torch.__version__), "process": _process_id()}
    if before and _same_sitting(before[-1], session):  # this process trains on (a curve's next segment, a rung)
        session = before.pop()

    def sessions() -> list[dict]:  # the earlier sittings and this one up to where the loop stands
        return [*before, {**session, "to_step": loop.step}]

    if main:
        write_text_atomic(out_dir / STATUS_NAME, json.dumps({"status": "running", "provenance": provenance}, indent=2))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    bar = progress_bar(target, _bar_name(spec.name, call_kimg, schedule_kimg), "step", progress and main,
                       initial=step, file=sys.stderr, dynamic_ncols=True) if main else tqdm(disable=True)
    logger = LogHook(log, opts.log_every, div, main, bar, wall_before)
    ranks = dd.world_size if dd.enabled else 1  # a DDP model's batch size is its rank's share
    images_before = state.get("images", step * images_per_step) if state else 0
    loop = TrainLoop(model, su.batches, su.step_gen, [], target,
                     lambda: model.batch_size * spec.tricks.n_critic * ranks, step=step, images=images_before)

    def save() -> None:
        gathered = dist.gather_states(su.step_gen.get_state(), dd) if dd.enabled else None  # every rank calls
        if main:
            save_checkpoint(ckpt_file, {
                "spec": spec.to_dict(), "spec_hash": spec.hash(), "seed": seed, "dataset_key": su.view.key,
                "shape": list(su.shape), "step": loop.step, "model": model.state_dict(),
                "rng_step": su.step_gen.get_state(), "data": su.batches.state_dict(), "log": log.rows,
                "exploded": div.exploded, "rng_ranks": gathered, "wall_time_s": logger.wall_time(),
                "phase": schedule.state_dict(), "num_classes": su.num_classes, "class_probs": su.class_probs,
                "images": loop.images, "schedule_kimg": schedule_kimg,
                "sessions": sessions(),
            })

    def grid() -> torch.Tensor:
        return sample_images(model.sampler(), TRAIN_GRID_SAMPLES, seed + 3, check=False)

    if main and spec.schedule != "constant":  # a grid at the end of every phase of the schedule
        schedule.on_phase_end = lambda phase, at: save_grid(grid(), out_dir / "samples" / phase_grid_name(phase, at))
    loop.hooks = [schedule, div, logger, GridHook(grid, out_dir / "samples", opts.sample_every, main),
                  CheckpointHook(save, opts.ckpt_every)]
    t_start = time.perf_counter()
    with honouring_stop() if not dd.enabled else contextlib.nullcontext():  # DDP ranks could not agree on a step
        loop.run()
    dist.barrier(dd)  # rank 0's checkpoint is on disk before any rank reads it

    provenance["sessions"] = sessions()
    result = _result(loop, div, provenance, ckpt_file, out_dir, device, wall_before,
                     time.perf_counter() - t_start, images_before)
    if main:
        write_text_atomic(out_dir / STATUS_NAME, _status_json(result))
    return result


def _result(loop: TrainLoop, div: DivergenceHook, provenance: dict, ckpt_file: Path, out_dir: Path,
            device: torch.device, wall_before: float, elapsed: float, images_before: int) -> TrainResult:
    """What a finished (or diverged) session of training returns and writes to status.json; the provenance gets
    the checkpoint's hash and the finishing time."""
    has_ckpt = ckpt_file.exists()
    provenance["weights_sha256"] = sha256_file(ckpt_file) if has_ckpt else None
    provenance["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return TrainResult(
        status="diverged" if loop.stop_reason else "ok", steps=loop.step, kimg=loop.images / 1000,
        wall_time_s=wall_before + elapsed,
        images_per_s=(loop.images - images_before) / elapsed if elapsed > 0 else 0.0,
        peak_memory_mb=_peak_memory_mb(device), out_dir=str(out_dir),
        checkpoint=str(ckpt_file) if has_ckpt else None, losses=div.values, reason=loop.stop_reason,
        device=str(device), provenance=provenance,
    )


def _run_options(spec: ModelSpec, target: int, opts: TrainOptions, model: GANModel, plan, dd,
                 device: torch.device) -> dict:
    """How the run ran, for its provenance (the memory format is the one used, not the one asked for)."""
    options = {"steps": target, "batch_size": spec.batch_size, "n_critic": spec.tricks.n_critic,
               "channels_last": model.memory_format is torch.channels_last, "compile": opts.compile,
               "fast": opts.fast, "joint_d": model.joint_d, "ckpt_every": opts.ckpt_every,
               # the penalties' second derivatives: zoo.double_backward's kernels (since 2026-12-06) or PyTorch's
               "double_backward": "zoo" if model.cheap_double_backward else "pytorch",
               "cudnn_deterministic": device.type == "cuda" and opts.deterministic,
               "schedule": plan.describe(), "divergence": asdict(opts.divergence),
               "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if dd.enabled:
        options.update(world_size=dd.world_size, dist_backend=dd.backend, per_rank_batch=model.spec.batch_size,
                       sync_batch_norm=device.type == "cuda")
    return options
