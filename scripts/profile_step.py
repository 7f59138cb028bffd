"""Where a training step spends its time: profiler self time by op, grouped, and the ceiling it implies.

    .venv/bin/python scripts/profile_step.py --model pggan --width 16 --phase "stabilise 32x32" --threads 1
    .venv/bin/python scripts/profile_step.py --model lucic-ns --threads 1

The step runs on random uint8 data at the model's training view (``--resolution``, default 32; 28 for the Lucic nets)
for ``--warmup`` steps, then ``--steps`` steps under the torch profiler. Ops are grouped into the kernels that do the
arithmetic (convolutions, their backward, matrix products), the optimiser, copies and layout changes, and the rest
(activations, normalisation, pooling, autograd's bookkeeping). The last line is the speed-up that removing
everything but the arithmetic kernels would give at the same numbers, an upper bound for overhead work: beyond it a
step is only faster with less arithmetic or cheaper arithmetic (lower precision), which changes the numbers.
``--top`` also prints the heaviest ops with their input shapes, from a second pass: recording shapes slows some ops
far more than others, and by a varying amount (a Lucic WGAN-GP step ran 1.1x to 4.4x slower over five runs, its
fully connected layers' products up to ~20x), so the groups and times come from the pass without it and the second
pass prints its own slowdown. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile

from ganbench.devices import keep_freed_memory
from ganbench.train.data import BatchStream
from ganbench.zoo.baselines import load_baseline
from ganbench.zoo.model import GANModel
from ganbench.zoo.schedules import SCHEDULES

GROUPS = {  # op name -> group; anything not named is "other"
    "arithmetic kernels": ("aten::mkldnn_convolution", "aten::convolution_backward", "aten::mm", "aten::addmm",
                           "aten::bmm", "aten::_convolution", "aten::cudnn_convolution",
                           "aten::convolution_backward_overrideable"),
    "optimiser": ("aten::_fused_adam_", "aten::_foreach_add_", "aten::_foreach_mul_", "aten::_foreach_addcmul_",
                  "aten::_foreach_addcdiv_", "aten::_foreach_sqrt", "aten::_foreach_div_", "aten::_foreach_lerp_"),
    "copies and layout": ("aten::copy_", "aten::_to_copy", "aten::cat", "aten::clone", "aten::contiguous"),
}
GROUP_OF = {op: group for group, ops in GROUPS.items() for op in ops}


def model_at(args) -> tuple[GANModel, BatchStream, str]:
    spec = load_baseline(args.model)
    if args.width:
        spec = dataclasses.replace(spec, arch=dataclasses.replace(spec.arch, width=args.width))
    r = args.resolution or (28 if spec.arch.name == "dcgan" and spec.arch.variant == "infogan" else 32)
    model = GANModel(spec, (1, r, r), "cpu", seed=0)
    where = f"{r}x{r}"
    if args.phase:
        plan = SCHEDULES.get(spec.schedule)(resolution=r, total_kimg=1.0)
        starts = {name: start for start, name in plan.boundaries()}
        if args.phase not in starts:
            raise SystemExit(f"--phase {args.phase!r}: not a phase of {spec.schedule}; use one of {', '.join(starts)}")
        model.set_phase(plan.phase_at(starts[args.phase] + 0.5 * plan.phase_kimg))  # mid-phase: fade-ins at 0.5
        where = args.phase
    data = torch.randint(0, 256, (8 * spec.batch_size * spec.tricks.n_critic, 1, r, r), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(0))
    return model, BatchStream(data, spec.batch_size, seed=0), where


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="pggan", help="a baseline name or YAML (default pggan)")
    ap.add_argument("--width", type=int, help="arch.width (pggan-w16 is --width 16)")
    ap.add_argument("--phase", help="a schedule phase, e.g. 'stabilise 32x32' (progressive schedules)")
    ap.add_argument("--resolution", type=int, help="training view (default 32; 28 for the Lucic nets)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--top", type=int, default=0, help="also list the N heaviest ops with their input shapes")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    keep_freed_memory()  # as training does
    model, data, where = model_at(args)
    gen = torch.Generator().manual_seed(1)
    for _ in range(args.warmup):
        model.train_step(data, gen)
    prof = _profiled(model, data, gen, args.steps, shapes=False)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    by_group: dict[str, float] = defaultdict(float)
    for e in events:
        by_group[GROUP_OF.get(e.key, "other")] += e.self_cpu_time_total
    images = args.steps * model.batch_size * model.spec.tricks.n_critic
    print(f"# {args.model}{f' width {args.width}' if args.width else ''}, {where}, {args.steps} steps, "
          f"{torch.get_num_threads()} thread(s): {total / 1e3 / args.steps:.0f} ms per step, "
          f"{images / (total / 1e6):.1f} images/s under the profiler")
    for group in (*GROUPS, "other"):
        print(f"{group:<20} {100 * by_group[group] / total:5.1f}%")
    print(f"ceiling for removing every overhead at the same arithmetic: "
          f"{total / max(by_group['arithmetic kernels'], 1e-9):.2f}x")
    if args.top:  # a pass of its own: recording shapes slows some ops many times over
        shaped = _profiled(model, data, gen, args.steps, shapes=True)
        slower = sum(e.self_cpu_time_total for e in shaped.key_averages()) / total
        print(f"heaviest ops by input shape, from a second pass that records shapes, {slower:.1f}x slower than the "
              "one above: recording inflates some ops more than others, so take shapes from this list, not times")
        print(shaped.key_averages(group_by_input_shape=True).table(sort_by="self_cpu_time_total", row_limit=args.top,
                                                                   max_name_column_width=32))


def _profiled(model: GANModel, data: BatchStream, gen: torch.Generator, steps: int, shapes: bool):
    with profile(activities=[ProfilerActivity.CPU], record_shapes=shapes) as prof:
        for _ in range(steps):
            model.train_step(data, gen)
    return prof


if __name__ == "__main__":
    main()
