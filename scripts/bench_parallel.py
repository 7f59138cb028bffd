#!/usr/bin/env python
"""How to spend a CPU's cores: two 1-thread processes at once against one 2-thread process, for a training step
and for Inception features, and the two kinds of work beside each other.

    .venv/bin/python scripts/bench_parallel.py                        # lucic-ns's training and Inception features
    .venv/bin/python scripts/bench_parallel.py --model dcgan --steps 40 --images 128

A long study on a CPU runs one job per core at 1 thread (``ganbench run --jobs 2``, or one ``ganbench search``
process per loss); a re-run of the Lucic protocol spends about half its time training and half in Inception.
This script measures, in one run, whether that arrangement is the right one on this machine: each figure is
images/s summed over the processes, every process started fresh. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH_TRAIN = Path(__file__).with_name("bench_train.py")


def features_throughput(images: int) -> float:
    """Inception pool3 features of ``images`` Fashion-MNIST test images, images/s after a warm-up batch, as
    ``evaluate`` extracts them (the protocol's batch size, channels-last, the tf1 resize)."""
    from ganbench.config import DEFAULT_PROTOCOL
    from ganbench.data import get_dataset
    from ganbench.metrics.features import inception_features
    from ganbench.metrics.inception import build_inception
    from ganbench.metrics.weights import resolve_weights

    x = get_dataset("fashion-mnist", "test").uint8(slice(0, images))
    model = build_inception(resolve_weights())
    batch = DEFAULT_PROTOCOL.feature_batch_size
    inception_features(x[:batch], model=model, batch_size=batch, progress=False, device="cpu")
    t = time.perf_counter()
    inception_features(x, model=model, batch_size=batch, progress=False, device="cpu")
    return images / (time.perf_counter() - t)


def command(kind: str, threads: int, args) -> list[str]:
    """The child process that measures ``kind`` (``train`` or ``features``) on ``threads`` threads."""
    if kind == "train":
        return [sys.executable, str(BENCH_TRAIN), "--models", args.model, "--threads", str(threads), "--steps",
                str(args.steps), "--warmup", str(args.warmup), "--json", "--no-peer"]
    return [sys.executable, __file__, "--child", "features", "--threads", str(threads), "--images", str(args.images)]


def measure(kinds: list[tuple[str, int]], args) -> list[float]:
    """images/s of each ``(kind, threads)`` process, all started at once."""
    procs = []
    for kind, threads in kinds:
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        procs.append(subprocess.Popen(command(kind, threads, args), stdout=subprocess.PIPE, text=True, env=env))
    out = []
    for (kind, _), p in zip(kinds, procs):
        text, _ = p.communicate()
        if p.returncode:
            raise SystemExit(f"bench_parallel: the {kind} process failed (exit {p.returncode})")
        data = json.loads(text)
        out.append(data[0]["images_per_s"] if kind == "train" else data["images_per_s"])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="lucic-ns", help="a baseline whose training step is timed (default lucic-ns)")
    ap.add_argument("--steps", type=int, default=40, help="training steps timed per process")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--images", type=int, default=96, help="images through Inception per process")
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--child", choices=["features"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        import torch

        torch.set_num_threads(args.threads)
        print(json.dumps({"images_per_s": features_throughput(args.images)}))
        return 0
    from ganbench.devices import cpu_name

    print(f"{cpu_name()}, {os.cpu_count()} logical CPUs; images/s, each process started fresh")
    alone = {}
    for kind, label in (("train", f"training {args.model}"), ("features", "Inception features")):
        one, = measure([(kind, 2)], args)
        two = measure([(kind, 1), (kind, 1)], args)
        alone[kind], = measure([(kind, 1)], args)
        print(f"{label}: one process at 2 threads {one:.1f}; two at 1 thread {sum(two):.1f} "
              f"({' + '.join(f'{v:.1f}' for v in two)}); one at 1 thread alone {alone[kind]:.1f}; "
              f"ratio two 1-thread / one 2-thread {sum(two) / one:.2f}")
    train, feats = measure([("train", 1), ("features", 1)], args)
    print(f"beside each other, 1 thread each: training {train:.1f} ({train / alone['train']:.2f} of alone), "
          f"features {feats:.1f} ({feats / alone['features']:.2f} of alone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
