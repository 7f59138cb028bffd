"""What progressive growing buys in speed: pggan's images/s in each phase of its schedule; one line per figure.

    .venv/bin/python scripts/bench_pggan.py                 # Fashion-MNIST padded to 32x32, CPU or CUDA
    .venv/bin/python scripts/bench_pggan.py --threads 1 --steps 10

Each phase of the ``progressive`` schedule (stabilise 4x4, fade in 8x8, ..., stabilise 32x32) is entered on one
model and timed for ``--steps`` training steps after ``--warmup`` on random uint8 data (images shown to D per
second). Lines end with the ratio against pggan's last phase (the full-resolution nets, which a non-growing
run would use throughout) and against ``wgan-gp`` (the DCGAN nets at 32x32, the same loss) timed in the same run.
The last line is the whole schedule's time for equal kimg per phase, against the same kimg at full resolution.

``--before`` times, per phase and alternating with today's step (``--reps`` rounds, medians), the step as it was
before its speed-ups: real and fake through D in two forwards, the drift term's own D forward on the reals, the
contiguous memory format, and PyTorch's own second derivatives in the gradient penalty (``zoo.double_backward``).
It then prints, per phase, today's step's FLOPs (counted) and the GFLOPS that twice the before's images/s would take
with them, against the CPU's fp32 FMA peak (``scripts/fma_peak.c``): how far the step is from what the hardware
allows. ``--width 16`` is the quarter-width net the README's runs use. ``--amp`` times,
per phase and alternating, the float32 step against the same step under bfloat16 autocast (``tricks.amp``; native
bfloat16 only: AVX512-BF16 or AMX on a CPU). bfloat16 changes the numbers: an opt-in, not one of the speed-ups.

``--vs-rev REV`` (CPU) checks ``--before`` against the code itself: it checks REV out into a temporary git worktree
and times each phase from 16x16 up in fresh processes (``scripts/step_rate.py``: each version's process set up as its
trainer sets it up), alternating REV's code and this checkout's (``--reps`` rounds, medians). REV b0ea730 is the
code the day issue 22 was filed, before any of its speed-ups:

    .venv/bin/python scripts/bench_pggan.py --width 16 --threads 2 --steps 10 --reps 5 --vs-rev b0ea730

``--malloc`` times today's code the same way with glibc's default allocator policy and with
``devices.keep_freed_memory`` (which the trainer applies): the one speed-up that the in-process ``--before`` cannot
show, since the policy belongs to the process.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import torch
from bench_train import alternating_processes, count_step_gflop, fma_peak  # scripts/bench_train.py

from ganbench.devices import keep_freed_memory, resolve_device
from ganbench.train.data import BatchStream
from ganbench.zoo.baselines import load_baseline
from ganbench.zoo.model import GANModel
from ganbench.zoo.objective import d_terms
from ganbench.zoo.schedules import SCHEDULES

RESOLUTION = 32
PEER = "wgan-gp"


def timed(model: GANModel, batches: BatchStream, steps: int, warmup: int, device: torch.device) -> float:
    """Images shown to D per second over ``steps`` training steps."""
    gen = torch.Generator(device=device).manual_seed(1)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        model.train_step(batches, gen)
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_step(batches, gen)
    sync()
    return steps * model.batch_size * model.spec.tricks.n_critic / (time.perf_counter() - t0)


def old_drift(D, real, fake, generator):
    """The drift term as it was before it read the loss's own D output: a D forward of its own on the reals."""
    return (D(real.detach()) ** 2).mean()


def as_before(model: GANModel) -> GANModel:
    """``model`` stepping as before the speed-ups (it must have been built with channels_last=False)."""
    model.joint_d = False
    model.cheap_double_backward = False
    model.penalties = [(n, old_drift if n == "drift" else p, w) for n, p, w in model.penalties]
    model.d_terms = d_terms(model)  # the terms are built from the penalties once: rebuilt with the old drift
    return model


def model_and_data(name: str, device: torch.device, width: int | None = None, amp: bool = False,
                   **kw) -> tuple[GANModel, BatchStream]:
    spec = load_baseline(name)
    if width:
        spec = dataclasses.replace(spec, arch=dataclasses.replace(spec.arch, width=width))
    if amp:
        spec = dataclasses.replace(spec, tricks=dataclasses.replace(spec.tricks, amp=True))
    data = torch.randint(0, 256, (8 * spec.batch_size * spec.tricks.n_critic, 1, RESOLUTION, RESOLUTION),
                         dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return (GANModel(spec, (1, RESOLUTION, RESOLUTION), device, seed=0, **kw),
            BatchStream(data.to(device), spec.batch_size, seed=0))


def alternating(args, device: torch.device, plan, title: str, make_pair) -> dict[str, tuple[float, float]]:
    """Per phase: median images/s of two models of the same step, timed in alternating rounds on the same data, and
    their ratio. ``make_pair()`` returns {label: model} (two labels: the peer first, the one compared second).
    Returns {phase: (the peer's images/s, the other's)}."""
    print(f"# {title}, {args.reps} alternating rounds of {args.steps} steps, medians")
    data = model_and_data("pggan", device, args.width)[1]
    medians = {}
    for start, name in plan.boundaries():
        phase = plan.phase_at(start + 0.5 * plan.phase_kimg)
        pair = make_pair()
        rates: dict[str, list[float]] = {k: [] for k in pair}
        for m in pair.values():
            m.set_phase(phase)
        for _ in range(args.reps):
            for k, m in pair.items():
                rates[k].append(timed(m, data, args.steps, 1, device))
        (a, ra), (b, rb) = ((k, statistics.median(v)) for k, v in rates.items())
        print(f"pggan {name:<18} {a} {ra:8.1f}  {b} {rb:8.1f} images/s  ratio {rb / ra:5.2f}")
        medians[name] = (ra, rb)
    return medians


def before_and_after(args, device: torch.device, plan) -> None:
    """The step before the speed-ups against today's; then, per phase, what twice the before's speed would ask of the
    hardware: today's step's FLOPs (counted) at that speed, against the CPU's FMA peak."""
    rates = alternating(args, device, plan, "before vs after the speed-ups",
                        lambda: {"before": as_before(model_and_data("pggan", device, args.width,
                                                                    channels_last=False)[0]),
                                 "after": model_and_data("pggan", device, args.width)[0]})
    peak = fma_peak(torch.get_num_threads()) if device.type == "cpu" else None
    if not peak:
        return
    print(f"# twice the before's images/s with today's step's arithmetic, against the fp32 FMA peak "
          f"({max(peak):.1f} GFLOPS, scripts/fma_peak.c)")
    for start, name in plan.boundaries():
        model, data = model_and_data("pggan", device, args.width)
        model.set_phase(plan.phase_at(start + 0.5 * plan.phase_kimg))
        gflop = count_step_gflop(model, data, torch.Generator(device=device).manual_seed(1))
        before, after = rates[name]
        gflop_per_image = gflop / (model.batch_size * model.spec.tricks.n_critic)
        today, needed = after * gflop_per_image, 2 * before * gflop_per_image
        print(f"pggan {name:<18} {gflop:6.2f} GFLOP/step; today {today:6.1f} GFLOPS; 2x the before needs "
              f"{needed:6.1f} GFLOPS, {needed / max(peak):4.0%} of the peak")


def in_processes(args, plan, title: str, variants: dict[str, tuple[list[str], Path]]) -> None:
    """Each phase from 16x16 up timed in fresh processes (``step_rate.py``), two variants in alternating rounds
    (``bench_train.alternating_processes``): {label: (extra arguments, checkout)}."""
    phases = [name for _, name in plan.boundaries()][-4:]  # fade in 16x16 ... stabilise 32x32
    common = ["--model", "pggan", "--steps", str(args.steps), "--warmup", str(args.warmup)]
    common += ["--width", str(args.width)] if args.width else []
    common += ["--threads", str(args.threads)] if args.threads else []
    print(f"# {title}, fresh processes, {args.reps} alternating rounds of {args.steps} steps, medians")
    for phase in phases:
        pair = {label: ([*common, "--phase", phase, *extra], checkout) for label, (extra, checkout) in variants.items()}
        print(f"pggan {phase:<18} {alternating_processes(pair, args.reps)}")


def versus_rev(args, plan) -> None:
    """The code at ``args.vs_rev`` against this checkout, each process set up as its own trainer does."""
    here = Path(__file__).resolve().parent.parent
    rev = subprocess.run(["git", "-C", str(here), "rev-parse", "--short", args.vs_rev], check=True,
                         capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / rev
        subprocess.run(["git", "-C", str(here), "worktree", "add", "--detach", str(old), rev], check=True,
                       capture_output=True)
        try:
            in_processes(args, plan, f"the code at {rev} vs this checkout", {rev: ([], old), "today": ([], here)})
        finally:
            subprocess.run(["git", "-C", str(here), "worktree", "remove", "--force", str(old)], check=False)


def fp32_and_bf16(args, device: torch.device, plan) -> None:
    """The float32 step against the same step under bfloat16 autocast (where bfloat16 is native)."""
    if not model_and_data("pggan", device, args.width, amp=True)[0].amp:
        print("bfloat16 is not native on this device (devices.native_bfloat16): tricks.amp stays off")
        return
    alternating(args, device, plan, "float32 vs bfloat16 autocast (tricks.amp)",
                lambda: {"float32": model_and_data("pggan", device, args.width)[0],
                         "bfloat16": model_and_data("pggan", device, args.width, amp=True)[0]})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", help="default: CUDA when present, else CPU")
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--width", type=int, help="pggan's arch.width (default: the baseline's, 64)")
    ap.add_argument("--before", action="store_true", help="also time the step as it was before its speed-ups")
    ap.add_argument("--amp", action="store_true", help="also time each phase under bfloat16 autocast")
    ap.add_argument("--reps", type=int, default=5, help="alternating rounds per phase for --before, --amp, --vs-rev")
    ap.add_argument("--vs-rev", metavar="REV", help="also time the phases on the code at git revision REV (CPU)")
    ap.add_argument("--malloc", action="store_true",
                    help="also time the phases with glibc's default allocator policy and with keep_freed_memory")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    keep_freed_memory()  # as training does (--vs-rev's processes do what each version's trainer does)
    device = resolve_device(args.device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu x{torch.get_num_threads()} threads"
    print(f"# pggan phases at {RESOLUTION}x{RESOLUTION}, batch 64, {args.steps} steps each after {args.warmup}, {where}")

    peer_model, peer_data = model_and_data(PEER, device)
    peer = timed(peer_model, peer_data, args.steps, args.warmup, device)
    model, data = model_and_data("pggan", device, args.width)
    plan = SCHEDULES.get("progressive")(resolution=RESOLUTION, total_kimg=1.0)
    if args.before:
        before_and_after(args, device, plan)
    if args.amp:
        fp32_and_bf16(args, device, plan)
    if args.vs_rev:
        versus_rev(args, plan)
    if args.malloc:
        here = Path(__file__).resolve().parent.parent
        in_processes(args, plan, "glibc's default allocator policy vs devices.keep_freed_memory",
                     {"default": (["--malloc", "default"], here), "kept": (["--malloc", "keep"], here)})
    rates = []
    for start, name in plan.boundaries():
        phase = plan.phase_at(start + 0.5 * plan.phase_kimg)  # mid-phase: a fade-in at alpha 0.5
        model.set_phase(phase)
        rates.append((name, timed(model, data, args.steps, args.warmup, device)))
    full = rates[-1][1]
    for name, rate in rates:
        print(f"pggan {name:<18} {rate:8.1f} images/s  ratio vs pggan at {RESOLUTION}x{RESOLUTION} {rate / full:5.2f}"
              f"  ratio vs {PEER} {rate / peer:5.2f}")
    print(f"{PEER:<24} {peer:8.1f} images/s  (the DCGAN nets at {RESOLUTION}x{RESOLUTION}, one D forward per half)")
    schedule_time = sum(1.0 / r for _, r in rates)  # seconds per image, equal kimg per phase
    grown = len(rates) / schedule_time
    print(f"pggan whole schedule       {grown:8.1f} images/s  ratio vs pggan at {RESOLUTION}x{RESOLUTION} throughout "
          f"{grown / full:5.2f}  ratio vs {PEER} {grown / peer:5.2f}")


if __name__ == "__main__":
    main()
