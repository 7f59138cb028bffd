"""Toy 2-D benchmark: modes covered and high-quality share per baseline over seeds, one line per figure.

    .venv/bin/python scripts/toy_benchmark.py --models gan wgan-gp --mixture ring --seeds 0 1 2 --steps 2000

Ends with the ratio of each model's mean modes covered against the first model's (its peer in the same run).
Writes a scatter plot of the samples of every run to --plot when given.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from ganbench.config import TOY_STEPS
from ganbench.data.toy2d import MIXTURES, get_mixture
from ganbench.bench.toy import train_toy
from ganbench.zoo.baselines import load_baseline


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["gan", "wgan-gp"])
    ap.add_argument("--mixture", default="ring", choices=list(MIXTURES))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=TOY_STEPS)
    ap.add_argument("--plot", help="PNG with one scatter per (model, seed)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest for these tiny nets)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    mixture = get_mixture(args.mixture)
    summary, runs = {}, []
    for name in args.models:
        spec = load_baseline(name)
        modes, hq = [], []
        for seed in args.seeds:
            r = train_toy(spec, mixture, steps=args.steps, seed=seed)
            runs.append((name, seed, r))
            modes.append(r["modes"])
            hq.append(r["high_quality"])
            print(f"{args.mixture} {name} seed={seed} steps={r['steps']} status={r['status']} "
                  f"modes={r['modes']}/{r['num_modes']} high_quality={r['high_quality']:.3f} "
                  f"time={r['wall_time_s']:.1f}s", flush=True)
        summary[name] = (statistics.mean(modes), statistics.pstdev(modes), statistics.mean(hq), statistics.pstdev(hq))
        m, ms, h, hs = summary[name]
        print(f"{args.mixture} {name} mean over {len(args.seeds)} seeds: modes={m:.2f}+-{ms:.2f} "
              f"high_quality={h:.3f}+-{hs:.3f}", flush=True)
    peer = args.models[0]
    for name in args.models[1:]:
        ratio = summary[name][0] / summary[peer][0] if summary[peer][0] else float("inf")
        print(f"ratio modes {name}/{peer}: {ratio:.2f}")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(len(args.models), len(args.seeds), figsize=(3 * len(args.seeds), 3 * len(args.models)),
                                 squeeze=False)
        for ax, (name, seed, r) in zip(axes.flat, runs):
            s = r["samples"].numpy()
            ax.scatter(s[:, 0], s[:, 1], s=1, alpha=0.5)
            ax.scatter(*mixture.centers.numpy().T, s=10, c="red", marker="x")
            ax.set_title(f"{name} seed {seed}: {r['modes']}/{r['num_modes']} modes", fontsize=8)
            ax.set_aspect("equal")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=80)


if __name__ == "__main__":
    main()
