#!/usr/bin/env python
"""Restore a search's trial rows from its published trials table, when the store that held them is lost.

    python scripts/restore_search_trials.py leaderboards/fashion-mnist-lucic2018-search-trials.csv \\
        --protocol lucic2018 --out runs/lucic2018-search --store runs/results.sqlite

Then ``ganbench search`` with the same --protocol, --out and --store resumes: the restored trials are not run again.
A chosen setting's re-run whose row in the search's NAME.csv rests on one run is restored too when its seed is named
(the table does not hold it): ``--reruns leaderboards/NAME.csv --rerun-seed lucic-ns=1 --rerun-seed lucic-lsgan=1``.
What is checked, and what a restored row holds: ``ganbench/bench/search/restore.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganbench.bench.search.restore import restore, restore_reruns
from ganbench.errors import GanbenchError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("table", type=Path, help="the published NAME-trials.csv")
    p.add_argument("--protocol", required=True, help="the study the search ran, e.g. lucic2018")
    p.add_argument("--out", type=Path, required=True, help="the search folder to resume (its --out)")
    p.add_argument("--store", type=Path, required=True, help="the results store the search writes")
    p.add_argument("--reruns", type=Path, help="the search's published NAME.csv, to restore re-runs from")
    p.add_argument("--rerun-seed", action="append", default=[], metavar="MODEL=SEED",
                   help="the seed of MODEL's one published re-run (repeat per model); needs --reruns")
    args = p.parse_args(argv)
    try:
        seeds = _seeds(args.rerun_seed)
        if bool(seeds) != bool(args.reruns):
            raise GanbenchError("--reruns NAME.csv and --rerun-seed MODEL=SEED go together")
        done, there = restore(args.table, args.out, args.store, study=args.protocol)
        print(f"restored {done} trial row(s) from {args.table} into {args.store}"
              + (f"; {there} were there already" if there else ""))
        if seeds:
            done, there = restore_reruns(args.reruns, seeds, args.out, args.store, study=args.protocol)
            print(f"restored {done} re-run row(s) from {args.reruns} into {args.store}"
                  + (f"; {there} were there already" if there else ""))
    except GanbenchError as e:
        print(f"restore_search_trials: error: {e}", file=sys.stderr)
        return 2
    return 0


def _seeds(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        model, _, seed = item.partition("=")
        if not model or not seed.isdigit():
            raise GanbenchError(f"--rerun-seed {item!r}: give MODEL=SEED, e.g. lucic-ns=1")
        out[model] = int(seed)
    return out


if __name__ == "__main__":
    sys.exit(main())
