#!/usr/bin/env python
"""CAS's classifier on real data: the ceiling of the classification accuracy score, one line per figure.

    python scripts/bench_cas.py                     # fashion-mnist: the whole training split, the fixed recipe
    python scripts/bench_cas.py --train 6000 --epochs 3 --test 2000   # the setting tests/ pins

Trains ganbench's CAS classifier (``metrics/cas.py``: the small CNN for grayscale, ResNet-20 for RGB) on real
training images with the fixed recipe and reports its top-1 accuracy on the test split; then again with the
training labels shuffled, which must fall to chance.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import torch

from ganbench.data import get_dataset
from ganbench.metrics.cas import RECIPE, cas


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="fashion-mnist")
    ap.add_argument("--train", type=int, help="training images (default: the whole split)")
    ap.add_argument("--test", type=int, help="test images (default: the whole split)")
    ap.add_argument("--epochs", type=int, default=RECIPE.epochs)
    ap.add_argument("--threads", type=int)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    train, test = get_dataset(args.dataset, "train"), get_dataset(args.dataset, "test")
    n, m = args.train or len(train), args.test or len(test)
    x, y = train.uint8(slice(0, n)).float(), train.labels(slice(0, n))
    tx, ty = test.uint8(slice(0, m)).float(), test.labels(slice(0, m))
    recipe = dataclasses.replace(RECIPE, epochs=args.epochs)
    print(f"# {args.dataset}: {n} training images, {m} test images, recipe {dataclasses.asdict(recipe)}, "
          f"{torch.get_num_threads()} threads")
    t0 = time.perf_counter()
    acc, per = cas(x, y, tx, ty, train.num_classes, recipe)
    print(f"real labels: top-1 {acc:.4f} ({time.perf_counter() - t0:.0f} s); per class "
          + " ".join(f"{k}:{v:.3f}" for k, v in per.items()))
    t0 = time.perf_counter()
    shuffled = y[torch.randperm(n, generator=torch.Generator().manual_seed(0))]
    acc2, _ = cas(x, shuffled, tx, ty, train.num_classes, recipe)
    print(f"shuffled labels: top-1 {acc2:.4f} ({time.perf_counter() - t0:.0f} s); chance {1 / train.num_classes:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
