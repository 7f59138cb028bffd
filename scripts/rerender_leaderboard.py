#!/usr/bin/env python
"""Re-draw a published leaderboard's results table from its own CSV, under today's table rules.

    python scripts/rerender_leaderboard.py leaderboards/fashion-mnist.md [more.md ...]

A leaderboard's NAME.csv holds the numbers behind its NAME.md table (``numbers_csv``: per model, mean, std, CI,
count and values over seeds of every metric). When a rule of how tables are drawn changes (what is marked best,
the Welch column), a leaderboard whose store is gone is re-drawn from that CSV. Only the marks may change: the
table is re-drawn, and the script refuses (exit 2, nothing written) unless every cell but the bold marks and the
Welch column equals the published one, so no number is touched.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ganbench.bench.tables import MIN_SEEDS_TO_RANK, render
from ganbench.io import write_text_atomic

OLD_RULE = "best per column in bold;"
NEW_RULE = f"best per column in bold where it rests on {MIN_SEEDS_TO_RANK} or more seeds (one seed is a pilot);"


def frame_of(csv_path: Path) -> pd.DataFrame:
    frame = pd.read_csv(csv_path, index_col=0, keep_default_na=True)
    for c in [c for c in frame.columns if c.endswith("_values")]:
        frame[c] = [[float(v) for v in str(x).split(";") if v] if isinstance(x, str) else [] for x in frame[c]]
    return frame


def _table(lines: list[str]) -> tuple[int, int]:
    """The first results table of a leaderboard: ``(first line, end)``, its header naming 'seeds ok'."""
    start = next(i for i, line in enumerate(lines) if line.startswith("| ") and "seeds ok" in line)
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return start, end


def _bare(table: list[str]) -> list[list[str]]:
    """Cells without bold marks or the Welch column, spacing ignored: what a re-draw must leave as it was."""
    rows = [[c.strip().replace("**", "") for c in line.strip().strip("|").split("|")] for line in table]
    welch = [i for i, c in enumerate(rows[0]) if "(Welch)" in c]
    return [[c for i, c in enumerate(r) if i not in welch] for r in rows[:1] + rows[2:]]


def rerender(md_path: Path) -> str:
    """``md_path``'s text with its table re-drawn. ``ValueError`` if a number would change."""
    csv_path = md_path.with_suffix(".csv")
    if not md_path.is_file() or not csv_path.is_file():
        raise ValueError(f"{md_path} and {csv_path} must both exist")
    text = md_path.read_text()
    lines = text.splitlines()
    start, end = _table(lines)
    frame = frame_of(csv_path)
    n = int(frame["num_samples"].max()) if "num_samples" in frame else None
    new = render(frame, "md", n).splitlines()
    if _bare(new) != _bare(lines[start:end]):
        raise ValueError(f"{md_path}: its table does not re-draw from {csv_path} with the same numbers; rebuild it "
                         "with make_leaderboard.py from its store")
    out = "\n".join(lines[:start] + new + lines[end:]) + ("\n" if text.endswith("\n") else "")
    return out.replace(OLD_RULE, NEW_RULE)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("leaderboards", nargs="+", type=Path, help="NAME.md files, each beside its NAME.csv")
    args = p.parse_args(argv)
    try:
        texts = {md: rerender(md) for md in args.leaderboards}  # every file checked before one is written
    except StopIteration:
        print("rerender_leaderboard: error: no results table (a header naming 'seeds ok') found", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"rerender_leaderboard: error: {e}", file=sys.stderr)
        return 2
    for md, text in texts.items():
        changed = text != md.read_text()
        if changed:
            write_text_atomic(md, text)
        print(f"{md}: {'re-drawn' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
