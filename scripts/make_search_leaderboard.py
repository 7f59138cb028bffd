#!/usr/bin/env python
"""Publish a search (``ganbench search``) as a leaderboard: leaderboards/NAME.{md,csv}, NAME-trials.csv and its plots
in leaderboards/NAME/, from the search folder's manifest and the store alone (nothing is trained).

    python scripts/make_search_leaderboard.py runs/lucic2018-search --name fashion-mnist-lucic2018-search \\
        --note 'NS and LSGAN searched; MM, WGAN, WGAN-GP and DRAGAN not yet run' \\
        --note-file leaderboards/fashion-mnist-lucic2018-search/status.md

The header gives the hardware, the versions, what still runs, and the command; the body is the search's own
tables (the re-runs compared as any run is, each loss beside the published figure, the trials, the compute).
Beside them, leaderboards/NAME/rows.jsonl holds the store rows the tables are built from (every trial and re-run,
with its provenance): ``ganbench results --import`` puts them into a store, where the search resumes from them on
another machine, and this script rebuilds the same tables.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import time
from pathlib import Path

from ganbench.bench.provenance import made_on, torch_threads
from ganbench.bench.rows_file import dump_rows
from ganbench.bench.search.manifest import read_manifest
from ganbench.bench.search.report import write_search_report
from ganbench.io import write_text_atomic

PLOTS = ("search-fid-by-trial.png", "search-expected-best.png", "search-curves.png")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path, help="the search's --out")
    p.add_argument("--name", required=True, help="leaderboard stem, e.g. fashion-mnist-lucic2018-search")
    p.add_argument("--out", type=Path, default=Path("leaderboards"))
    p.add_argument("--note", default="", help="a sentence for the header (what still runs, and why)")
    p.add_argument("--note-file", type=Path, help="a markdown file (what ran when, what still runs) placed under "
                   "the header as its own section; keep it in git beside the leaderboard, where it outlives the machine")
    args = p.parse_args(argv)
    if args.note_file is not None and not args.note_file.is_file():
        print(f"make_search_leaderboard: --note-file {args.note_file}: no such file; write the notes there first, "
              "or leave it out", file=sys.stderr)
        return 2
    notes = args.note_file.read_text().strip() if args.note_file is not None else ""
    manifest = read_manifest(args.folder)
    res = write_search_report(args.folder)
    made = [r for rows in (*res.trials.values(), *res.reruns.values()) for r in rows]
    hw, sw = made_on(made)
    threads = torch_threads(made)
    command = "python scripts/make_search_leaderboard.py " + " ".join(
        shlex.quote(a) if not a.startswith("--note=") and a != args.note else "'…'" for a in (argv or sys.argv[1:]))
    header = [f"# {manifest['dataset']}: {manifest.get('study') or 'search'} search", "",
              f"**Hardware** (as the rows record it): {hw}; torch threads per job: {threads}. **Software:** {sw}; "
              f"optuna {_version('optuna')} (this machine's).",
              *([f"**Still to run:** {args.note}"] if args.note else []),
              f"Made by `{command}` on {time.strftime('%Y-%m-%d')} from `ganbench search` in {args.folder.name}/.", "",
              *([notes, ""] if notes else [])]
    body = res.markdown
    images = args.out / args.name
    images.mkdir(parents=True, exist_ok=True)
    for name in PLOTS:
        if (args.folder / name).is_file():
            shutil.copyfile(args.folder / name, images / name)
            body = body.replace(f"({name})", f"({args.name}/{name})")
    write_text_atomic(args.out / f"{args.name}.md", "\n".join(header) + "\n" + body)
    rows = [r for rs in (*res.trials.values(), *res.reruns.values()) for r in rs] + ([res.floor] if res.floor else [])
    write_text_atomic(images / "rows.jsonl", dump_rows(rows))
    for src, dst in (("search.csv", f"{args.name}.csv"), ("search-trials.csv", f"{args.name}-trials.csv")):
        if (args.folder / src).is_file():
            write_text_atomic(args.out / dst, (args.folder / src).read_text())
    print(f"wrote {args.out / (args.name + '.md')} ({sum(len(t) for t in res.trials.values())} trials, "
          f"{sum(len(r) for r in res.reruns.values())} re-runs)")
    return 0


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except (ImportError, AttributeError):
        return "?"


if __name__ == "__main__":
    raise SystemExit(main())
