#!/usr/bin/env python
"""Rebuild leaderboards/DATASET.{md,csv} from real runs of every baseline, under one budget.

    python scripts/make_leaderboard.py                                  # every baseline, quick budget, seeds 0,1,2
    python scripts/make_leaderboard.py --budget paper --device cuda     # Lucic et al. 2018 protocol on a GPU
    python scripts/make_leaderboard.py --models dcgan,wgan --kimg 0.128 --num-samples 16 --out /tmp/lb   # smoke check

Finished jobs are reused from the store, so an interrupted run continues where it stopped.
The header states the budget, sample counts, Inception weights, versions and hardware.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import time
from pathlib import Path

from ganbench.bench.jobs import parse_metrics, parse_seeds
from ganbench.bench.provenance import git_revision, machine, versions
from ganbench.bench.runner import Backend, run
from ganbench.bench.tables import comparative_markdown, numbers_csv
from ganbench.config import DEFAULT_DATASET, get_budget
from ganbench.errors import GanbenchError
from ganbench.io import write_text_atomic


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default=DEFAULT_DATASET)
    p.add_argument("--budget", default="quick")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--models", help="comma list (default: every baseline in baselines/)")
    p.add_argument("--metrics", help="comma list of fid,kid,is,pr,dc (default: all)")
    p.add_argument("--kimg", type=float, help="override the budget's training length (a smoke check)")
    p.add_argument("--num-samples", type=int, help="override the budget's sample counts (a smoke check)")
    p.add_argument("--out", default="leaderboards", help="folder for DATASET.md and DATASET.csv")
    p.add_argument("--store", default="runs/leaderboard.sqlite")
    p.add_argument("--run-dir", help="training folder (default runs/leaderboard-DATASET-BUDGET)")
    p.add_argument("--device")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--note", default="", help="a sentence for the header (e.g. which baselines were left out and why)")
    args = p.parse_args(argv)
    try:
        budget = get_budget(args.budget)
        if args.kimg or args.num_samples:  # a renamed budget, so smoke results never mix with real ones
            n = args.num_samples or budget.num_samples
            budget = dataclasses.replace(budget, name=f"{budget.name}-custom", kimg=args.kimg or budget.kimg,
                                         num_samples=n, ref_samples=n, eval_every_kimg=None,
                                         description="custom smoke setting, not a leaderboard budget")
        backend = Backend().resolve()
        models = [m for m in (args.models or "").split(",") if m] or list(backend.list_baselines())
        safe = args.dataset.replace(":", "_").replace("/", "_")
        run_dir = Path(args.run_dir or f"runs/leaderboard-{safe}-{budget.name}")
        t0 = time.time()
        res = run(models=models, dataset=args.dataset, seeds=parse_seeds(args.seeds), budget=budget,
                  metrics=parse_metrics(args.metrics), out=run_dir, store=args.store, device=args.device,
                  progress=not args.quiet, backend=backend)
    except GanbenchError as e:
        print(f"make_leaderboard: error: {e}", file=sys.stderr)
        return 2
    hw = machine()
    v = versions()
    header = [
        f"# {args.dataset} leaderboard ({budget.name} budget)",
        "",
        f"Budget `{budget.name}`: {budget.kimg:g} kimg of training per model (thousands of real images shown to D), "
        f"seeds {args.seeds}; {', '.join(res.jobs[0].protocol.metrics)} on {budget.num_samples} samples vs "
        f"{budget.ref_samples} "
        f"{args.dataset} {budget.ref_split} images. {budget.description}",
        f"Hardware: {hw.get('gpu') or hw['processor']} ({hw['cpu_threads']} torch threads), {hw['platform']}. "
        f"Software: ganbench {v['ganbench']} (git {git_revision() or 'n/a'}), torch {v['torch']}, "
        f"torchvision {v['torchvision']}, torch-fidelity {v['torch-fidelity']}, python {v['python']}.",
        f"Inception weights: {_weights(res.rows)}; features resized with `{res.jobs[0].protocol.resize_mode}`, "
        f"precision/recall and density/coverage in {res.jobs[0].protocol.pr_features} space.",
        *([args.note] if args.note else []),
        f"Made by `python scripts/make_leaderboard.py {shlex.join(argv if argv is not None else sys.argv[1:])}` "
        f"on {time.strftime('%Y-%m-%d')} in {(time.time() - t0) / 60:.1f} min (jobs reused from the store excluded).",
        "",
    ]
    out = Path(args.out)
    write_text_atomic(out / f"{safe}.md", "\n".join(header) + "\n" + comparative_markdown(res.rows))
    write_text_atomic(out / f"{safe}.csv", numbers_csv(res.rows))
    print(f"wrote {out / f'{safe}.md'} and {out / f'{safe}.csv'} ({len(res.rows)} results)")
    return 0


def _weights(rows: list[dict]) -> str:
    """The weights' SHA-256 and origin, from the results' provenance."""
    shas = sorted({r.get("weights_sha256") for r in rows if r.get("weights_sha256")})
    origins = sorted({str(((r.get("provenance") or {}).get("evaluation") or {}).get("weights_origin", ""))
                      for r in rows} - {""})
    return f"SHA-256 {', '.join(shas) or 'n/a'}" + (f" ({', '.join(origins)})" if origins else "")


if __name__ == "__main__":
    sys.exit(main())
