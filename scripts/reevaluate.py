#!/usr/bin/env python
"""Re-evaluate stored results from their checkpoints with today's code, and compare with the stored numbers.

    python scripts/reevaluate.py --store runs/leaderboard.sqlite --model lucic-ns
    python scripts/reevaluate.py --store runs/results.sqlite --job 84f8b6e53ae7 --metrics fid,kid

Each row is rebuilt from its provenance alone: the spec, the budget's data view, the protocol (sample
counts, resize mode, KID subsets, seeds) and the sample seed. One line per metric value: stored, now,
and their relative difference; the exit status is 1 when any value moved by more than ``--rtol``.
This is how a refactor proves that it changed no number.
"""

from __future__ import annotations

import argparse
import sys

from ganbench.bench.store import Store
from ganbench.config import EvalProtocol, from_dict
from ganbench.data import get_dataset
from ganbench.metrics.evaluate import evaluate
from ganbench.train.checkpoint import load_generator
from ganbench.zoo.sampler import sample_images
from ganbench.zoo.view import stored_view


def reevaluate(row: dict, metrics: tuple[str, ...] | None, device: str | None) -> dict[str, float]:
    prov = row["provenance"]
    protocol = from_dict(EvalProtocol, prov["protocol"], "stored protocol")
    reference = get_dataset(row["dataset"], protocol.ref_split)
    view = stored_view(prov, reference)
    G = load_generator(prov["checkpoint"], device=device)
    samples = view.to_native(sample_images(G, protocol.num_samples, seed=prov.get("sample_seed", row["seed"]),
                                           device=device))
    return evaluate(samples, reference, metrics=metrics or protocol.metrics, num_samples=protocol.num_samples,
                    protocol=protocol, device=device, progress=True)["metrics"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--model", help="comma list of models")
    ap.add_argument("--job", help="a job key (or its first characters)")
    ap.add_argument("--metrics", help="comma list (default: the stored protocol's)")
    ap.add_argument("--device")
    ap.add_argument("--rtol", type=float, default=1e-4)
    args = ap.parse_args(argv)
    rows = [r for r in Store(args.store).query(status="ok")
            if (not args.model or r["model"] in args.model.split(","))
            and (not args.job or r["job_key"].startswith(args.job)) and r["model"] != "real-data"]
    if not rows:
        print("reevaluate: no stored ok rows match", file=sys.stderr)
        return 2
    worst = 0.0
    for row in rows:
        now = reevaluate(row, tuple(args.metrics.split(",")) if args.metrics else None, args.device)
        for k, v in now.items():
            old = row.get(k)
            if old is None:
                print(f"{row['model']} seed {row['seed']} {k}: not stored, now {v:.6g}")
                continue
            rel = abs(v - old) / max(abs(old), 1e-12)
            worst = max(worst, rel)
            print(f"{row['model']} seed {row['seed']} {k}: stored {old:.6g} now {v:.6g} relative difference {rel:.2e}")
    print(f"largest relative difference {worst:.2e} (tolerance {args.rtol:g})")
    return 0 if worst <= args.rtol else 1


if __name__ == "__main__":
    sys.exit(main())
