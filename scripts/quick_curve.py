#!/usr/bin/env python
"""FID-vs-kimg of the README's main command's models under the quick protocol, to choose its training length.

    python scripts/quick_curve.py                          # dcgan, wgan at native 28x28, FID every 40 kimg to 240
    python scripts/quick_curve.py --view pad32 --kimg 160 --every 20 --name quick-probe

Trains with the runner (finished jobs are reused from --store), evaluates FID at N=1000 vs the first
1000 test images at every interval (the quick budget's protocol), prints one line per point and
writes the curves as a PNG.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganbench.bench.report import curve_figure
from ganbench.bench.runner import RunOptions, run
from ganbench.config import Budget


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="dcgan,wgan")
    ap.add_argument("--kimg", type=float, default=240.0)
    ap.add_argument("--every", type=float, default=40.0)
    ap.add_argument("--view", default="native", choices=["native", "pad32"])
    ap.add_argument("--name", default="quick-native", help="budget name (results are stored under it)")
    ap.add_argument("--out", default="runs/probe")
    ap.add_argument("--store", default="runs/probe.sqlite")
    ap.add_argument("--png", default="docs/quick-curve.png")
    args = ap.parse_args(argv)
    budget = Budget(args.name, kimg=args.kimg, num_samples=1000, ref_samples=1000, eval_every_kimg=args.every,
                    curve_samples=1000, real_row=False, view=args.view)
    res = run(models=args.models.split(","), budget=budget, metrics=("fid", "kid", "pr"),
              options=RunOptions(out=args.out, store=args.store))
    jobs = [{"model": r["model"], "seed": r["seed"], "out_dir": r["out_dir"]} for r in res.rows]
    for j in jobs:
        log = Path(j["out_dir"]) / "eval_log.csv"
        for line in log.read_text().splitlines()[1:] if log.is_file() else []:
            kimg, steps, fid = line.split(",")
            print(f"{j['model']} {args.view} {float(kimg):g} kimg: FID {float(fid):.2f} (N=1000)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = curve_figure(jobs, title=f"quick protocol, nets at {args.view}", curve_samples=1000)
    Path(args.png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.png, dpi=80, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
