"""`ganbench run`, `compare`, `report` and `results`: benchmarks, rankings, reports, stored rows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import BadInput, GanbenchError
from .common import command, parse_range, print_json


def _csv_list(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _add_protocol_options(p: argparse.ArgumentParser, defaults: bool = True) -> None:
    """--dataset, --budget, ...; ``defaults=False`` leaves dataset and budget None (a --protocol picks them)."""
    from ..config import BUDGETS, DEFAULT_BUDGET, DEFAULT_DATASET
    p.add_argument("--dataset", default=DEFAULT_DATASET if defaults else None,
                   help=f"dataset name (default {DEFAULT_DATASET}, or the --protocol's first)")
    p.add_argument("--budget", default=DEFAULT_BUDGET if defaults else None,
                   help=f"training steps and sample counts: {', '.join(BUDGETS)} (default {DEFAULT_BUDGET}, "
                        "or the --protocol's)")
    from ..metrics import registry
    p.add_argument("--metrics", help=f"comma list of {', '.join(registry.names())} (default: the protocol's set)")
    from ..metrics.networks import NETWORKS
    p.add_argument("--features", default=None, choices=list(NETWORKS),
                   help="feature space of FD, KID, precision/recall, density/coverage and Vendi (default inception: "
                        "FID as peers report it; dinov2: FD_DINOv2; fmnist: the offline Fashion-MNIST network); local "
                        "weights through $GANBENCH_WEIGHTS_<NETWORK>")
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
    p.add_argument("--ablate", nargs="+", metavar="CHANGE",
                   help="leave-one-out ablation of --base: one row per change, each tested against the base; a trick "
                        "name removes it (ema, sn, diffaug, ...), AXIS=VALUE sets one value (loss=ns, trick=lecam, "
                        "tricks.ema=0), + joins changes, LABEL: names the row, e.g. --ablate ema diffaug "
                        "'no SN:sn+arch.d_norm=batch' loss=ns")
    p.add_argument("--base", default="dcgan", help="--grid / --ablate: the baseline (or spec .yaml) they change "
                                                   "(default dcgan)")
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
    from ..studies import STUDIES
    p.add_argument("--protocol", choices=list(STUDIES),
                   help="a published study's protocol, which fixes the models, the budget (training length, "
                        "data view, evaluation) and prints the paper's figures beside ours: "
                        + "; ".join(f"{k}: {v.description}" for k, v in STUDIES.items())
                        + ". --models picks a subset of its models")
    _add_protocol_options(p, defaults=False)
    p.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    from ..bench.jobs import parse_metrics, parse_seeds
    from ..bench.runner import RunOptions, run

    options = RunOptions(out=args.out, store=args.store, device=args.device, data_root=args.data_root,
                         executor=args.executor, progress=not args.quiet, jobs=args.jobs, address=args.address,
                         **({} if args.retries is None else {"retries": args.retries}))
    res = run(models=_csv_list(args.models), grid=args.grid, base=args.base, ablate=args.ablate, dataset=args.dataset,
              seeds=parse_seeds(args.seeds), budget=args.budget, metrics=parse_metrics(args.metrics),
              protocol=_protocol(args), study=args.protocol, options=options)
    if args.json:
        print_json({"run_dir": str(res.run_dir), "skipped": res.skipped, "rows": res.rows})
    else:
        print(res.markdown)
        print(f"tables: {res.run_dir}/table.{{md,csv,tex,html}}; report: ganbench report {res.run_dir}")
    failed = [f"{r['model']} seed {r['seed']}" for r in res.rows if r["status"] == "failed"]
    if failed:  # the tables are written, but the run did not do all it was asked: say so in the exit status
        print(f"ganbench: {len(failed)} job(s) failed ({', '.join(failed)}); their reasons are in the tables and "
              "`ganbench results --status failed`; re-run the command to retry them", file=sys.stderr)
        return 3
    return 0


def _protocol(args):
    """The evaluation settings a command's options change (None: the budget's defaults)."""
    from ..config import EvalProtocol

    return EvalProtocol(features=args.features) if getattr(args, "features", None) else None


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
    from ..bench.compare import CompareOptions, compare
    from ..bench.jobs import parse_metrics

    options = CompareOptions(store=args.store, device=args.device, data_root=args.data_root, progress=not args.quiet,
                             value_range=parse_range(args.value_range), z_dim=args.z_dim, seed=args.seed)
    res = compare(args.name, samples=args.samples, generator=args.generator, checkpoint=args.checkpoint,
                  against=args.against, dataset=args.dataset, budget=args.budget,
                  metrics=parse_metrics(args.metrics), protocol=_protocol(args), options=options)
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
    from ..bench.report import make_report

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
    io = p.add_mutually_exclusive_group()
    io.add_argument("--export", metavar="FILE", help="write the (filtered) rows to FILE, a checked JSON-lines file "
                    "that git can keep beside a leaderboard")
    io.add_argument("--import", dest="import_", metavar="FILE", help="add the rows of FILE (from --export) to the "
                    "store, in one transaction; a job the store holds with other results is refused")
    p.add_argument("--replace", action="store_true", help="with --import: take the file's row where the store "
                   "holds another")
    p.set_defaults(func=cmd_results)


def _import_rows(args, path: Path, filters: dict) -> int:
    from ..bench.rows_file import import_records, read_rows
    from ..bench.store import Store
    from ..io import check_writable

    if args.export or args.json or args.seed is not None or any(filters.values()):
        raise BadInput("--import FILE takes every row of FILE: leave out the filters, --json and --export")
    records = read_rows(args.import_)  # a bad file is refused before the store is created or opened
    store = Store(check_writable(path, "--store"))
    added, same = import_records(store, records, args.import_, replace=args.replace)
    print(f"imported {added} row(s) of {args.import_} into {path}" + (f"; {same} were there already" if same else ""))
    return 0


def cmd_results(args) -> int:
    from ..bench.store import Store
    from ..config import DEFAULT_STORE
    from ..bench.tables import listing

    path = Path(args.store or DEFAULT_STORE)
    filters = {c: (_csv_list(getattr(args, c)) or None) for c in ("model", "dataset", "budget", "status", "run")}
    if args.replace and not args.import_:
        raise BadInput("--replace goes with --import FILE")
    if args.import_:
        return _import_rows(args, path, filters)
    if not path.is_file():
        raise GanbenchError(f"no results store at {path}; run `ganbench run` first or pass --store PATH")
    if args.export:
        from ..bench.rows_file import export_rows
        from ..io import check_writable

        out = check_writable(args.export, "--export")
        n = export_rows(Store(path), out, seed=args.seed, **filters)
        print(f"exported {n} row(s) of {path} to {out}")
        return 0
    rows = Store(path).query(seed=args.seed, **filters)
    if args.json:
        print_json(rows)
    else:
        print(listing(rows))
    return 0
