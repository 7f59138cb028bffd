"""Inception feature throughput on this CPU by batch size, in one run: alternating rounds, medians, each size's ratio
to the protocol's default (``feature_batch_size``), and whether its features equal the default's bit for bit.

    .venv/bin/python scripts/bench_feature_batch.py --threads 1,2 --sizes 8,16,32,64 --images 64 --rounds 3

Run it on a quiet machine: the ratios are what the batch size buys, not the machine's load.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from ganbench.config import DEFAULT_PROTOCOL
from ganbench.metrics.inception import build_inception
from ganbench.metrics.weights import resolve_weights


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=_ints, default=[1, 2])
    ap.add_argument("--sizes", type=_ints, default=[8, 16, 32, 64])
    ap.add_argument("--images", type=int, default=64, help="images per round (a multiple of every size)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    default = DEFAULT_PROTOCOL.feature_batch_size
    sizes = sorted(set(args.sizes) | {default})
    if any(args.images % b for b in sizes):
        ap.error(f"--images {args.images} is not a multiple of every size ({', '.join(map(str, sizes))})")
    net = build_inception(resolve_weights(None))
    x = torch.randint(0, 256, (args.images, 1, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)

    def features(b: int) -> torch.Tensor:
        return torch.cat([net(x[i:i + b], logits=False)[0] for i in range(0, len(x), b)])

    for threads in args.threads:
        torch.set_num_threads(threads)
        with torch.inference_mode():
            ref = features(default)
            diff = {b: (features(b) - ref).abs().max().item() for b in sizes}
            speed: dict[int, list[float]] = {b: [] for b in sizes}
            for _ in range(args.rounds):
                for b in sizes:
                    t = time.perf_counter()
                    features(b)
                    speed[b].append(len(x) / (time.perf_counter() - t))
        base = statistics.median(speed[default])
        for b in sizes:
            med = statistics.median(speed[b])
            print(f"threads {threads} batch {b:3d}: {med:6.2f} img/s (min {min(speed[b]):.2f}, max "
                  f"{max(speed[b]):.2f}), {med / base:.3f}x batch {default}; features "
                  + ("identical" if diff[b] == 0 else f"differ (max |diff| {diff[b]:.2e})"), flush=True)


if __name__ == "__main__":
    main()
