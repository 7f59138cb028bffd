#!/usr/bin/env python
"""Time the README's main command, `ganbench run --models dcgan,wgan`, as on a fresh machine.

Empty cache (reference statistics computed), fresh store and run folder, then a second run
that must reuse everything. One line per figure, ending with the ratio to the quick bound.

    python scripts/bench_quick_budget.py [--budget quick] [--models dcgan,wgan] [--device cpu]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time

#: The issue's bound for two models under the quick budget on 2 CPU cores, seconds.
QUICK_BOUND_S = 600.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", default="quick")
    p.add_argument("--models", default="dcgan,wgan")
    p.add_argument("--device")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="ganbench-quick-") as tmp:
        os.environ["GANBENCH_CACHE"] = os.path.join(tmp, "cache")  # fresh: reference features not cached
        t0 = time.perf_counter()
        from ganbench.bench.runner import RunOptions, run  # imports counted, as in a fresh `ganbench run`

        options = RunOptions(out=os.path.join(tmp, "run"), store=os.path.join(tmp, "r.sqlite"), device=args.device)
        kw = dict(models=args.models.split(","), budget=args.budget)
        res = run(**kw, options=options)
        total = time.perf_counter() - t0
        t1 = time.perf_counter()
        again = run(**kw, options=dataclasses.replace(options, progress=False))
        rerun = time.perf_counter() - t1
    for r in res.rows:
        train = (f"train {r['train_time_s']:.1f} s ({r['steps']} steps, {r['images_per_s']:.0f} img/s), "
                 if r.get("train_time_s") else "")
        print(f"{r['model']}: {train}evaluate {r['eval_time_s']:.1f} s, FID {r['fid']:.2f} "
              f"KID {r['kid_mean'] * 1e3:.2f}e-3 recall {r['recall']:.3f} at N={r['num_samples']}")
    print(f"first run, all included: {total:.1f} s")
    print(f"re-run (results reused, {again.skipped} jobs skipped): {rerun:.1f} s")
    print(f"ratio first run / bound ({QUICK_BOUND_S:.0f} s): {total / QUICK_BOUND_S:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
