"""Training throughput of every baseline at 32x32: real images shown to D per second, one line per figure.

    .venv/bin/python scripts/bench_train.py                 # CPU (and CUDA variants when a GPU is present)
    .venv/bin/python scripts/bench_train.py --models dcgan sngan --steps 5

Each figure times ``--steps`` training steps after ``--warmup`` steps on random data (the data
loader is not measured). On CUDA each baseline is also timed with bfloat16 autocast,
channels-last and torch.compile, and a ratio line against its fp32 run (the peer) follows.
On CPU the closing ratios are against the first model.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from ganbench.train.trainer import BatchStream, resolve_device
from ganbench.zoo.baselines import list_baselines, load_baseline
from ganbench.zoo.model import GANModel


def throughput(spec, device: torch.device, steps: int, warmup: int, channels: int, resolution: int,
               channels_last: bool = False, compile: bool = False) -> float:
    """Real images per second through D over ``steps`` G steps (after ``warmup``)."""
    data = torch.randint(0, 256, (max(4 * spec.batch_size, 256), channels, resolution, resolution), dtype=torch.uint8)
    batches = BatchStream(data.to(device), spec.batch_size, seed=0)
    model = GANModel(spec, (channels, resolution, resolution), device, seed=0, channels_last=channels_last,
                     compile=compile)
    gen = torch.Generator(device=device).manual_seed(1)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        model.train_step(batches, gen)
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_step(batches, gen)
    sync()
    return steps * spec.batch_size * spec.tricks.n_critic / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=None, help="baselines (default: all)")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--resolution", type=int, default=32)
    ap.add_argument("--device", help="default: CUDA when present, else CPU")
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    names = args.models or list(list_baselines())
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu x{torch.get_num_threads()} threads"
    print(f"# {where}, torch {torch.__version__}, {args.resolution}x{args.resolution}x{args.channels}, "
          f"{args.steps} timed steps after {args.warmup} warm-up")
    results = {}
    for name in names:
        spec = load_baseline(name)
        base = throughput(spec, device, args.steps, args.warmup, args.channels, args.resolution)
        results[name] = base
        print(f"{name:<18} {device.type} fp32                      {base:8.1f} images/s  (batch {spec.batch_size}, "
              f"n_critic {spec.tricks.n_critic})", flush=True)
        if device.type != "cuda":
            continue
        amp = dataclasses.replace(spec, tricks=dataclasses.replace(spec.tricks, amp=True))
        for label, kw in (("amp bf16", {}), ("amp bf16 + channels-last", {"channels_last": True}),
                          ("amp bf16 + channels-last + compile", {"channels_last": True, "compile": True})):
            try:
                fast = throughput(amp, device, args.steps, args.warmup + 2 * ("compile" in kw), args.channels,
                                  args.resolution, **kw)
            except Exception as e:  # torch.compile may not support double backprop (gradient penalties)
                print(f"{name:<18} cuda {label:<34} failed: {type(e).__name__}: {str(e).splitlines()[0][:80]}")
                continue
            print(f"{name:<18} cuda {label:<34} {fast:8.1f} images/s  ratio vs fp32 {fast / base:.2f}", flush=True)
    if device.type != "cuda" and len(names) > 1:
        peer = names[0]
        for name in names[1:]:
            print(f"ratio {name}/{peer}: {results[name] / results[peer]:.2f}")


if __name__ == "__main__":
    main()
