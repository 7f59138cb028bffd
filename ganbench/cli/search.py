"""`ganbench search`: a budgeted hyperparameter search with early stopping, and the study it serves."""

from __future__ import annotations

import dataclasses

from .common import command, print_json


@command
def add_search(sub) -> None:
    from ..config import BUDGETS
    from ..studies import SELECT_ON, STUDIES, SearchProtocol

    d = SearchProtocol()
    p = sub.add_parser(
        "search", help="tune models by a seeded hyperparameter search with early stopping, re-run the best with new "
                       "seeds, compare at equal tuning budget",
        description="For each model: K trials drawn from a search space (trial 0 is the model's own setting), "
                    "successive halving on a validation split held out of the training images (Optuna's ASHA "
                    "pruner), then the best trial's setting re-run with new seeds under the budget and evaluated "
                    "on the test split. Writes search.{md,csv,html}, search-trials.csv and plots in --out; "
                    "re-running the command resumes it. --protocol lucic2018 runs Lucic et al. 2018's study.")
    p.add_argument("--protocol", choices=[k for k, s in STUDIES.items() if s.search],
                   help="a study with a search: its models, budget, space and search settings (e.g. lucic2018)")
    p.add_argument("--models", help="comma list of baselines or spec .yaml files (default: the --protocol's)")
    p.add_argument("--space", help=f"search space: a shipped one (lucic2018-wide, lucic2018-narrow) or your .yaml "
                                   f"(see the README); default: the --protocol's ({d.space})")
    p.add_argument("--trials", type=int, help=f"trials per model, K (default {d.trials})")
    p.add_argument("--seed", type=int, help=f"seed of the draws: the same seed draws the same trials (default {d.seed})")
    p.add_argument("--min-kimg", type=float, help=f"the first rung, in kimg (default {d.min_kimg:g})")
    p.add_argument("--reduction", type=int, help=f"successive halving's eta: 1 in eta trials goes on at each rung "
                                                 f"(default {d.reduction})")
    p.add_argument("--max-kimg", type=float, help="a trial's full length (default: the budget's kimg)")
    p.add_argument("--rung-metric", help=f"the metric each rung is scored by (default {d.rung_metric})")
    p.add_argument("--rung-samples", type=int, help=f"generated images per rung score (default {d.rung_samples})")
    p.add_argument("--validation", type=int, help=f"training images held out to select on (default {d.validation})")
    p.add_argument("--select-on", choices=SELECT_ON,
                   help="validation (default): the held-out split; test: the test split, as the paper did "
                        "(selection then peeks at the numbers it reports, and the tables say so)")
    p.add_argument("--rerun-seeds", help="seeds the chosen setting is re-run with, e.g. 1,2,3 (default 1,2,3)")
    p.add_argument("--budget", help=f"the re-runs' budget and the trials' length: {', '.join(BUDGETS)} "
                                    "(default: the --protocol's, else quick)")
    p.add_argument("--dataset", help="dataset name (default: the --protocol's first, else fashion-mnist)")
    p.add_argument("--out", help="search folder (default runs/DATASET-BUDGET-search)")
    p.add_argument("--store", help="results database (default runs/results.sqlite)")
    p.add_argument("--executor", default="local", choices=["local", "ray"], help="where trials run (as `run`)")
    p.add_argument("--jobs", type=int, default=1, help="local: trials at once, each in its own process")
    p.add_argument("--address", help="ray: the cluster to join")
    p.add_argument("--device", help="cuda, cuda:1 or cpu (default: cuda when present)")
    p.add_argument("--data-root", help="folder holding datasets")
    p.add_argument("--with-defaults", action="store_true",
                   help="also run each model's own setting at seed 0 under the budget (a study's default-setting "
                        "rows, as `ganbench run --protocol ... --seeds 0`), whenever a worker has no trial or re-run "
                        "to start")
    p.add_argument("--report-only", action="store_true",
                   help="write the tables and plots of what the store holds now; train nothing")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_search)


#: command-line option -> SearchProtocol field
_FIELDS = {"space": "space", "trials": "trials", "seed": "seed", "min_kimg": "min_kimg", "reduction": "reduction",
           "max_kimg": "max_kimg", "rung_metric": "rung_metric", "rung_samples": "rung_samples",
           "validation": "validation", "select_on": "select_on"}


def cmd_search(args) -> int:
    from ..bench.jobs import parse_seeds
    from ..bench.search import SearchOptions, search
    from ..studies import SearchProtocol, get_study
    from ..errors import BadInput
    from .bench import _csv_list

    base = get_study(args.protocol).search if args.protocol else None
    if base is None and not args.space:
        raise BadInput("give --protocol lucic2018, or --models and a --space FILE.yaml to search your own models")
    if base is None and not args.models:
        raise BadInput("give --models to search (baselines or spec .yaml files), or --protocol lucic2018")
    changes = {f: getattr(args, a) for a, f in _FIELDS.items() if getattr(args, a) is not None}
    if args.rerun_seeds is not None:
        changes["rerun_seeds"] = parse_seeds(args.rerun_seeds)
    protocol = dataclasses.replace(base or SearchProtocol(space=args.space), **changes)
    res = search(models=_csv_list(args.models), study=args.protocol, protocol=protocol, budget=args.budget,
                 dataset=args.dataset, options=SearchOptions(
                     out=args.out, store=args.store, executor=args.executor, jobs=args.jobs, address=args.address,
                     device=args.device, data_root=args.data_root, progress=not args.quiet,
                     report_only=args.report_only, with_defaults=args.with_defaults))
    if args.json:
        print_json({"run_dir": str(res.run_dir), "chosen": res.chosen, "trials": res.trials, "reruns": res.reruns})
    else:
        print(res.markdown)
        print(f"search: {res.run_dir}/search.{{md,csv,html}}, search-trials.csv, search-report.html")
    return 0
