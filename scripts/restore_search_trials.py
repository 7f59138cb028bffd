#!/usr/bin/env python
"""Restore a search's trial rows from its published trials table, when the store that held them is lost.

    python scripts/restore_search_trials.py leaderboards/fashion-mnist-lucic2018-search-trials.csv \\
        --protocol lucic2018 --out runs/lucic2018-search --store runs/results.sqlite

Then ``ganbench search`` with the same --protocol, --out and --store resumes: the restored trials are not run again.
What is checked, and what a restored row holds: ``ganbench/bench/search/restore.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganbench.bench.search.restore import restore
from ganbench.errors import GanbenchError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("table", type=Path, help="the published NAME-trials.csv")
    p.add_argument("--protocol", required=True, help="the study the search ran, e.g. lucic2018")
    p.add_argument("--out", type=Path, required=True, help="the search folder to resume (its --out)")
    p.add_argument("--store", type=Path, required=True, help="the results store the search writes")
    args = p.parse_args(argv)
    try:
        done, there = restore(args.table, args.out, args.store, study=args.protocol)
    except GanbenchError as e:
        print(f"restore_search_trials: error: {e}", file=sys.stderr)
        return 2
    print(f"restored {done} trial row(s) from {args.table} into {args.store}"
          + (f"; {there} were there already" if there else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
