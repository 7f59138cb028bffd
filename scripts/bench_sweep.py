"""Wall time of one sweep of 8 toy jobs: one after the other, the local process pool, and Ray.

The jobs are real ganbench jobs made small: models gan and dcgan x seeds 0-3, trained for
--kimg thousand images and evaluated on --samples samples (FID) each. The reference features are
computed before any timing, so every executor starts from the same warm cache. Prints one line
per executor and ends with the ratio of each against the serial run.

    .venv/bin/python scripts/bench_sweep.py            # local serial, local --jobs 2, ray (2 CPUs)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kimg", type=float, default=0.64, help="training length of each job (default 0.64)")
    ap.add_argument("--samples", type=int, default=16, help="generated and reference images per job (default 16)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="local pool size and Ray CPUs")
    ap.add_argument("--skip-ray", action="store_true")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="ganbench-sweep-"))
    os.environ["GANBENCH_CACHE"] = str(root / "cache")  # driver and workers share this warm cache
    from ganbench.bench.reference import prepare_reference
    from ganbench.bench.jobs import plan, protocol_for
    from ganbench.bench.runner import Backend, RunOptions, run
    from ganbench.config import Budget
    from ganbench.zoo.baselines import load_baseline

    budget = Budget("sweep-toy", kimg=args.kimg, num_samples=args.samples, ref_samples=args.samples)
    common = dict(models=["gan", "dcgan"], seeds=(0, 1, 2, 3), budget=budget, metrics=("fid",))
    b = Backend().resolve()
    proto = protocol_for(budget, ("fid",))
    specs = [(load_baseline(m), {}) for m in common["models"]]
    prepare_reference(plan(specs, common["seeds"], "fashion-mnist", budget, proto, root / "warm"), b, progress=False)

    variants = [("local, one after the other", dict(executor="local")),
                (f"local, --jobs {args.workers}", dict(executor="local", jobs=args.workers))]
    if not args.skip_ray:
        import ray

        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        variants.append((f"ray, {args.workers} CPUs (1 per job)", dict(executor="ray")))
    print(f"# 8 jobs (gan, dcgan x seeds 0-3), {args.kimg:g} kimg + {args.samples} samples (FID) each; "
          f"{os.cpu_count()} cores; torch threads {__import__('torch').get_num_threads()}", flush=True)
    times = {}
    fids = {}
    for name, kw in variants:
        slug = f"v{len(times)}"
        t0 = time.perf_counter()
        res = run(**common, options=RunOptions(out=root / slug, store=root / f"{slug}.sqlite", device="cpu",
                                               progress=False, **kw))
        times[name] = time.perf_counter() - t0
        ok = sum(r["status"] == "ok" for r in res.rows)
        fids[name] = {(r["model"], r["seed"]): r["fid"] for r in res.rows}
        print(f"{name:<32} {times[name]:7.1f} s   {ok}/8 jobs ok", flush=True)
    base = next(iter(times))
    for name in list(times)[1:]:
        worst = max(abs(fids[name][k] - v) / abs(v) for k, v in fids[base].items())
        print(f"{name:<32} {times[base] / times[name]:5.2f}x faster than one after the other "
              f"(largest relative FID difference {worst:.1e})")
    if not args.skip_ray:
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
