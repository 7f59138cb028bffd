"""`ganbench models`, `ganbench train` (one model; DDP under torchrun) and `ganbench toy`."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import GanbenchError
from .common import add_data_options, command, parse_range, print_json


@command
def add_models(sub) -> None:
    p = sub.add_parser("models", help="list the baseline zoo (one line each), or `models show NAME` for a spec")
    p.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    p.add_argument("name", nargs="?", help="baseline name or .yaml path for `show`")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)


def cmd_models(args) -> int:
    from ..config import spec_to_yaml
    from ..zoo.baselines import list_baselines, load_baseline

    if args.action == "show":
        if not args.name:
            raise GanbenchError("`ganbench models show` needs a baseline name; see `ganbench models`")
        spec = load_baseline(args.name)
        print_json(spec.to_dict()) if args.json else print(spec_to_yaml(spec), end="")
        return 0
    specs = list_baselines()
    if args.json:
        print_json({name: spec.to_dict() for name, spec in specs.items()})
    else:
        for name, spec in specs.items():
            print(f"{name:<18} {spec.description}")
    return 0


@command
def add_train(sub) -> None:
    from ..config import TRAIN_CKPT_EVERY, TRAIN_LOG_EVERY, TRAIN_SAMPLE_EVERY

    p = sub.add_parser("train", help="train a baseline (or a .yaml spec) on a dataset; resumable")
    p.add_argument("--model", required=True, help="baseline name (see `ganbench models`) or path to a .yaml spec")
    p.add_argument("--dataset", default=None, help="dataset name (default: fashion-mnist; see `ganbench datasets`)")
    p.add_argument("--split", default="train")
    length = p.add_mutually_exclusive_group(required=True)
    length.add_argument("--steps", type=int, help="generator updates")
    length.add_argument("--kimg", type=float, help="thousands of real images shown to D")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="run folder: checkpoint.pt, train_log.csv, samples/, status.json")
    p.add_argument("--resume", action="store_true", help="continue the run already in --out")
    p.add_argument("--device", help="cuda, cuda:1, cpu (default: CUDA when present)")
    p.add_argument("--ckpt-every", type=int, default=TRAIN_CKPT_EVERY)
    p.add_argument("--sample-every", type=int, default=TRAIN_SAMPLE_EVERY)
    p.add_argument("--log-every", type=int, default=TRAIN_LOG_EVERY)
    p.add_argument("--batch-size", type=int, help="global batch size (default: the spec's); under "
                                                   "`torchrun --nproc_per_node N` each process takes 1/N of it")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true")
    add_data_options(p)
    p.set_defaults(func=cmd_train)


def cmd_train(args) -> int:
    from dataclasses import asdict

    from ..config import DEFAULT_DATASET
    from ..data import get_dataset
    from ..train.checkpoint import CHECKPOINT_NAME
    from ..train.trainer import TrainOptions, check_intervals, steps_for, train
    from ..zoo.baselines import load_baseline

    from .. import dist
    from ..devices import resolve_device
    from ..io import check_writable

    spec = load_baseline(args.model)
    check_writable(args.out, "--out", folder=True)
    if os.environ.get("WORLD_SIZE", "1") == "1":  # under torchrun each rank takes its own GPU
        resolve_device(args.device)
    steps_for(spec, args.steps, args.kimg)  # every setting checked before the dataset is read
    check_intervals(ckpt_every=args.ckpt_every, sample_every=args.sample_every, log_every=args.log_every)
    if args.batch_size is not None:
        import dataclasses

        from ..zoo.specs import validate_spec
        spec = validate_spec(dataclasses.replace(spec, batch_size=args.batch_size))
    dd = dist.init_from_env(args.device)  # under torchrun: DDP over its processes
    if not args.resume and (Path(args.out) / CHECKPOINT_NAME).exists():
        raise GanbenchError(f"{args.out} already holds a run; pass --resume to continue it or choose another --out")
    ds = get_dataset(args.dataset or DEFAULT_DATASET, args.split, root=args.data_root, resize=args.resize,
                     value_range=parse_range(args.value_range))
    r = train(spec, ds, args.out, steps=args.steps, kimg=args.kimg, seed=args.seed, device=args.device,
              resume=args.resume, progress=not args.no_progress,
              options=TrainOptions(ckpt_every=args.ckpt_every, sample_every=args.sample_every,
                                   log_every=args.log_every))
    if not dd.is_main:  # rank 0 reports
        return 0 if r.status == "ok" else 3
    if args.json:
        print_json({k: v for k, v in asdict(r).items() if k != "provenance"})
    else:
        losses = " ".join(f"{k}={v:.4g}" for k, v in r.losses.items())
        print(f"{r.status}: {spec.name} {r.steps} steps ({r.kimg:g} kimg) on {r.device} in {r.wall_time_s:.1f}s, "
              f"{r.images_per_s:.0f} img/s; {losses}" + (f"; {r.reason}" if r.reason else ""))
        print(f"checkpoint {r.checkpoint}; log {Path(r.out_dir) / 'train_log.csv'}; samples {Path(r.out_dir) / 'samples'}")
    return 0 if r.status == "ok" else 3


@command
def add_toy(sub) -> None:
    from ..config import TOY_STEPS

    p = sub.add_parser("toy", help="toy 2-D benchmark: modes covered / high-quality share of a baseline's loss+tricks")
    p.add_argument("--model", required=True, help="baseline name or .yaml spec (its nets are replaced by the toy mlp)")
    p.add_argument("--mixture", default="ring", help="ring (8 modes) or grid (25 modes)")
    p.add_argument("--steps", type=int, default=TOY_STEPS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_toy)


def cmd_toy(args) -> int:
    from ..data.toy2d import get_mixture
    from ..bench.toy import train_toy
    from ..zoo.baselines import load_baseline

    from ..devices import resolve_device

    resolve_device(args.device)
    r = train_toy(load_baseline(args.model), get_mixture(args.mixture), steps=args.steps, seed=args.seed,
                  device=args.device, progress=not args.json)
    r.pop("samples")
    if args.json:
        print_json(r)
    else:
        print(f"{r['status']}: {args.model} on {args.mixture}, {r['steps']} steps: modes {r['modes']}/{r['num_modes']}, "
              f"high quality {r['high_quality']:.3f} ({r['wall_time_s']:.1f}s)")
    return 0
