"""One model's training images/s in a process of its own, with whichever ganbench is first on the path; one JSON line.
``--model inception`` times Inception's pool3 features instead (the metrics' feature extraction).

    .venv/bin/python scripts/step_rate.py --model lucic-ns --resolution 28
    .venv/bin/python scripts/step_rate.py --model pggan --width 16 --phase 'stabilise 32x32' --malloc default
    PYTHONPATH=/path/to/a/checkout .venv/bin/python scripts/step_rate.py --phase 'fade in 16x16' --width 16

What a process does before it trains (the allocator's policy, ``devices.keep_freed_memory``) changes the speed of
every step, so it can only be compared between processes: ``bench_pggan.py --vs-rev REV`` runs this script in
turns on a checkout of REV and on this one, and ``bench_train.py --malloc`` with ``--malloc default`` and ``keep``.
``--malloc`` left out does what the checkout's trainer does (``keep`` where it has the policy). It uses only the API
that ganbench has had since pggan joined the zoo (``load_baseline``, ``GANModel``, ``BatchStream``, the
``progressive`` schedule, ``set_phase``, ``train_step``) and the same seeded random uint8 data as the benches; a
phase is timed at its middle (a fade-in at alpha 0.5).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import torch

import ganbench
import ganbench.devices
from ganbench.train.data import BatchStream
from ganbench.zoo.baselines import load_baseline
from ganbench.zoo.model import GANModel
from ganbench.zoo.schedules import SCHEDULES


def inception_rate(batches: int, warmup: int, batch: int = 64) -> float:
    """Inception features of ``batches`` batches of random 28x28 uint8 images, after ``warmup`` batches."""
    from ganbench.metrics.features import inception_features

    x = torch.randint(0, 256, (batch, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    for _ in range(warmup):
        inception_features(x, progress=False)
    t0 = time.perf_counter()
    for _ in range(batches):
        inception_features(x, progress=False)
    return batches * batch / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="pggan", help="a baseline name (default pggan), or inception")
    ap.add_argument("--phase", help="a phase of the progressive schedule, e.g. 'fade in 16x16' (pggan)")
    ap.add_argument("--width", type=int, help="arch.width (default: the baseline's)")
    ap.add_argument("--resolution", type=int, default=32, help="training view (28 for the Lucic nets)")
    ap.add_argument("--steps", type=int, default=10, help="timed steps (inception: batches of 64)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--malloc", choices=("default", "keep"), help="glibc's policy (default: as the trainer does)")
    args = ap.parse_args()
    keep = getattr(ganbench.devices, "keep_freed_memory", None)
    if args.malloc == "keep" and keep is None:
        raise SystemExit(f"{ganbench.__file__} has no devices.keep_freed_memory")
    kept = bool(keep()) if keep is not None and args.malloc != "default" else False
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.model == "inception":
        rate = inception_rate(args.steps, args.warmup)
        print(json.dumps({"model": "inception", "images_per_s": rate, "malloc_kept": kept,
                          "ganbench": ganbench.__file__, "threads": torch.get_num_threads()}))
        return
    spec = load_baseline(args.model)
    if args.width:
        spec = dataclasses.replace(spec, arch=dataclasses.replace(spec.arch, width=args.width))
    res = args.resolution
    n = max(8 * spec.batch_size * spec.tricks.n_critic, 512)
    data = torch.randint(0, 256, (n, 1, res, res), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    model = GANModel(spec, (1, res, res), torch.device("cpu"), seed=0)
    batches = BatchStream(data, spec.batch_size, seed=0)
    alpha = None
    if args.phase:
        plan = SCHEDULES.get("progressive")(resolution=res, total_kimg=1.0)
        starts = {name: start for start, name in plan.boundaries()}
        if args.phase not in starts:
            raise SystemExit(f"no phase {args.phase!r}; the phases: {', '.join(starts)}")
        phase = plan.phase_at(starts[args.phase] + 0.5 * plan.phase_kimg)
        model.set_phase(phase)
        alpha = phase.alpha
    gen = torch.Generator().manual_seed(1)
    for _ in range(args.warmup):
        model.train_step(batches, gen)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        model.train_step(batches, gen)
    rate = args.steps * spec.batch_size * spec.tricks.n_critic / (time.perf_counter() - t0)
    print(json.dumps({"model": args.model, "phase": args.phase, "alpha": alpha, "images_per_s": rate,
                      "malloc_kept": kept, "ganbench": ganbench.__file__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
