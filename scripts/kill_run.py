#!/usr/bin/env python
"""kill -9 a tiny real ``ganbench run`` at many moments and check that each re-run gives the uninterrupted rows
exactly and leaves no temporary file: the long version of tests/bench/test_kill.py.

One kill at a random call of each moment (training step, sampling, feature batch, SQLite commit, the atomic
writes of table, checkpoint, eval log, cache entry, grid and status), plus ``--timed`` kills at random
wall-clock times, for each of ``--seeds`` seeds. One line per kill; exit status 1 when any kill broke a run.

    python scripts/kill_run.py --seeds 0 1 2 --timed 20
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the kill driver lives beside the tests

from tests.bench import kill_driver as kd  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds of the random moments (default 0)")
    ap.add_argument("--timed", type=int, default=10, help="kills at random wall-clock times per seed (default 10)")
    args = ap.parse_args()
    for name in kd.PRELOAD:  # imported once; every run is forked from here
        try:
            __import__(name)
        except ImportError:  # tensorboard is optional
            pass
    bad = total = 0
    t0 = time.perf_counter()
    for seed in args.seeds:
        with tempfile.TemporaryDirectory(prefix="ganbench-kill-") as tmp:
            report = kd.scenarios(tmp, seed, args.timed)
        if report["status"] != 0:
            print(f"seed {seed}: the uninterrupted run failed (exit {report['status']})")
            return 1
        for k in report["kills"]:
            total += 1
            problems = [p for p, ok in (("did not die", k["killed"] == -9 or isinstance(k["kill"], str)),
                                        (f"re-run exit {k['rerun']}", k["rerun"] == 0),
                                        ("rows differ", k["rows"] == report["rows"]),
                                        (f"left {k['leftovers']}", not k["leftovers"])) if not ok]
            bad += bool(problems)
            print(f"seed {seed} kill {k['kill']}: {'; '.join(problems) or 'same rows, no temporary file'}")
    print(f"{total - bad} of {total} kills recovered exactly in {time.perf_counter() - t0:.1f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
