"""Feature extraction speed of the registered spaces against Inception's, in one run on this machine.

    python scripts/bench_feature_spaces.py --n 1000 --spaces fmnist,inception

Times ``n`` Fashion-MNIST test images through each network (after a warm-up batch), prints images/s, the time a
10k-vs-10k evaluation's features would take, and the ratio to Inception. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import time

import torch

from ganbench.data import get_dataset
from ganbench.metrics.features import Networks, extract, extractor, imageset_batches
from ganbench.metrics.networks import NETWORKS


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--spaces", default="fmnist,inception")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    images = get_dataset("fashion-mnist", "test")
    nets = Networks(device="cpu")
    rates = {}
    for space in args.spaces.split(","):
        feature = NETWORKS.get(space).main
        run = extractor((feature,), nets)
        extract(imageset_batches(images, 32, 32), 32, run, nets.device, progress=False)  # build and warm up
        t0 = time.perf_counter()
        extract(imageset_batches(images, args.n, 32), args.n, run, nets.device, progress=False)
        rates[space] = args.n / (time.perf_counter() - t0)
    base = rates.get("inception")
    for space, rate in rates.items():
        ratio = f", {rate / base:.0f}x Inception's" if base and space != "inception" else ""
        print(f"{space}: {rate:.1f} images/s on {args.threads} thread(s); 10k vs 10k features in "
              f"{20_000 / rate / 60:.1f} min{ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
