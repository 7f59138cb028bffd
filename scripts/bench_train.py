"""Training speed: GFLOP per step, achieved GFLOPS, fraction of the fp32 peak, images/s; one line per figure.

    .venv/bin/python scripts/bench_train.py                      # Lucic nets vs today's dcgan (the peer)
    .venv/bin/python scripts/bench_train.py --levers             # each speed lever on and off
    .venv/bin/python scripts/bench_train.py --models dcgan sngan --threads 1
    .venv/bin/python scripts/bench_train.py --malloc --models dcgan wgan-gp --threads 2   # allocator policy only

Each figure times ``--steps`` training steps after ``--warmup`` on random uint8 data (images shown to D
per second, as ganbench's kimg counts them). FLOPs per step come from ``torch.utils.flop_counter``'s formulas on
one step (``FlopCount``, which follows a gradient penalty's double backward; ``tests/zoo/test_fast_path.py`` checks
dcgan's count and a penalty's against counts by hand). The peak is measured in the same run: on a CPU, fused multiply-adds in registers (``fma_peak.c``, built with the system's C compiler), beside the
best of several 4096^2 fp32 matmuls, which is the peak on a GPU. The peer is
``dcgan`` at 32x32 as it ran before the speed-ups (``fast=False``: foreach Adam, separate D forwards).
On CUDA each model is also timed with bfloat16 autocast, channels-last and torch.compile.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map
from torch.utils.flop_counter import flop_registry

from ganbench.devices import cpu_name, keep_freed_memory, resolve_device
from ganbench.io import cache_dir
from ganbench.train.data import BatchStream
from ganbench.zoo.baselines import load_baseline
from ganbench.zoo.model import GANModel
from ganbench.zoo.regularizers import GRADIENT_PENALTIES

PEER = "dcgan"
#: The default figures: the Lucic protocol's nets (native 28x28) against the peer.
DEFAULT_MODELS = ("lucic-ns", "lucic-wgan-gp", "lucic-dragan", "lucic-wgan")


def resolution_of(name: str) -> int:
    """The resolution a baseline trains at on Fashion-MNIST: native 28 for the Lucic nets, the padded 32 otherwise."""
    return 28 if name.startswith("lucic-") else 32


def fma_peak(threads: int) -> tuple[float, float] | None:
    """The CPU's fp32 peak in GFLOPS over ``threads`` threads, (AVX2, AVX-512; 0 without it), from
    ``fma_peak.c``: chains of fused multiply-adds in registers, so neither memory nor a library's kernel choice
    limits it. Built once with the system's C compiler, cached under a name keyed by the source's hash; None where
    there is no compiler."""
    import hashlib
    import os
    import shutil
    import tempfile
    from pathlib import Path

    src = Path(__file__).with_name("fma_peak.c")
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None or not src.is_file():
        return None
    cache = cache_dir("tools")  # ganbench's cache folder ($GANBENCH_CACHE)
    exe = cache / f"fma_peak-{hashlib.sha256(src.read_bytes()).hexdigest()[:16]}"
    if not exe.is_file():
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            built = Path(tmp) / "fma_peak"
            if subprocess.run([cc, "-O2", "-o", str(built), str(src), "-lpthread"], capture_output=True).returncode:
                return None
            built.replace(exe)  # atomic: a half-built binary never sits under the cached name
    out = subprocess.run([str(exe), str(threads)], capture_output=True, text=True, check=True).stdout.split()
    return float(out[1]), float(out[2])


def measure_peak(device: torch.device, n: int = 4096, reps: int = 5) -> float:
    """fp32 GFLOPS of the best of ``reps`` n x n matmuls: the practical peak of the BLAS library (on a CPU it moves
    with the machine's memory traffic; the FMA peak does not)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    a @ b
    best = float("inf")
    for _ in range(reps):
        sync()
        t0 = time.perf_counter()
        a @ b
        sync()
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


@dataclasses.dataclass
class Figure:
    name: str
    label: str
    gflop: float | None
    seconds: float  # per training step (n_critic D updates + one G update)
    images_per_s: float

    @property
    def gflops(self) -> float | None:
        return self.gflop / self.seconds if self.gflop else None


def random_batches(spec, res: int, device: torch.device) -> BatchStream:
    """Batches of random uint8 images (seeded) for a timed step of ``spec`` at ``res`` x ``res``."""
    data = torch.randint(0, 256, (max(8 * spec.batch_size * spec.tricks.n_critic, 512), 1, res, res),
                         dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return BatchStream(data.to(device), spec.batch_size, seed=0)


def throughput(name: str, device: torch.device, steps: int, warmup: int, fast: bool = True,
               channels_last: bool = False, compile: bool = False, resolution: int | None = None,
               amp: bool = False, label: str = "", native_double_backward: bool = False) -> Figure:
    """Time ``steps`` training steps of baseline ``name`` on random uint8 images (``native_double_backward``: the
    penalties' second derivatives by PyTorch's own ops, not ``zoo.double_backward``'s)."""
    spec = load_baseline(name)
    if amp:
        spec = dataclasses.replace(spec, tricks=dataclasses.replace(spec.tricks, amp=True))
    res = resolution or resolution_of(name)
    batches = random_batches(spec, res, device)
    model = GANModel(spec, (1, res, res), device, seed=0, channels_last=channels_last, compile=compile, fast=fast)
    model.cheap_double_backward = fast and not native_double_backward
    gen = torch.Generator(device=device).manual_seed(1)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        model.train_step(batches, gen)
    gflop = count_gflop(spec, res, device, fast, channels_last, native_double_backward)
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_step(batches, gen)
    sync()
    dt = (time.perf_counter() - t0) / steps
    return Figure(name, label or ("fast" if fast else "baseline"), gflop, dt, spec.batch_size * spec.tricks.n_critic / dt)


class FlopCount(TorchDispatchMode):
    """FLOPs of the ops run inside the block, by ``torch.utils.flop_counter``'s per-op formulas (matrix products and
    convolutions, forward and backward). A dispatch mode, not ``FlopCounterMode``: that one's module hooks break on
    the ``autograd.grad`` of a gradient penalty, while a dispatch mode sees the ops of every order."""

    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            def shape(t):
                return t.shape if isinstance(t, torch.Tensor) else t
            self.flops += formula(*tree_map(shape, args), **tree_map(shape, kwargs), out_val=tree_map(shape, out))
        return out


def count_step_gflop(model: GANModel, batches: BatchStream, gen: torch.Generator) -> float:
    """GFLOP of one training step of ``model``, counted as it runs."""
    with FlopCount() as counter:
        model.train_step(batches, gen)
    return counter.flops / 1e9


def count_gflop(spec, res: int, device: torch.device, fast: bool, channels_last: bool,
                native_double_backward: bool = False) -> float:
    """GFLOP of one training step on a throwaway model. Under PyTorch's own double backward (``fast=False`` or
    ``native_double_backward``) a penalty's step counts the passes it makes over zeros too."""
    data = torch.randint(0, 256, (4 * spec.batch_size * spec.tricks.n_critic, 1, res, res), dtype=torch.uint8)
    model = GANModel(spec, (1, res, res), device, seed=0, channels_last=channels_last, fast=fast)
    model.cheap_double_backward = fast and not native_double_backward
    batches, gen = BatchStream(data.to(device), spec.batch_size, seed=0), torch.Generator(device=device).manual_seed(1)
    return count_step_gflop(model, batches, gen)


def double_backward_lever(name: str, device: torch.device, steps: int, rounds: int = 7) -> str:
    """A penalty's step with ``zoo.double_backward`` against PyTorch's own double backward, timed in alternating
    rounds of ``steps`` steps on the same data (medians): sequential figures on a shared machine drift by more than
    the difference."""
    spec, res = load_baseline(name), resolution_of(name)
    runs = {}
    for cheap in (False, True):
        model = GANModel(spec, (1, res, res), device, seed=0)
        model.cheap_double_backward = cheap
        runs[cheap] = (model, random_batches(spec, res, device), torch.Generator(device=device).manual_seed(1), [])
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for model, batches, gen, _ in runs.values():
        model.train_step(batches, gen)
    for _ in range(rounds):
        for model, batches, gen, times in runs.values():
            sync()
            t0 = time.perf_counter()
            for _ in range(steps):
                model.train_step(batches, gen)
            sync()
            times.append((time.perf_counter() - t0) / steps)
    native, cheap = (statistics.median(runs[k][3]) for k in (False, True))
    return (f"{name:<15} {'double backward, alternating':<30} PyTorch's {1000 * native:7.1f} ms/step, "
            f"zoo.double_backward's {1000 * cheap:7.1f} ms/step  ratio {native / cheap:5.2f} ({rounds} rounds, medians)")


def step_rate(args: list[str], checkout: Path | None = None) -> float:
    """Images/s from ``scripts/step_rate.py ARGS`` in a fresh process, on ``checkout``'s ganbench (default: this
    one's): what a process sets up before it trains can only be compared between processes."""
    here = Path(__file__).resolve().parent.parent
    checkout = (checkout or here).resolve()
    cmd = [sys.executable, str(Path(__file__).with_name("step_rate.py")), *args]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = json.loads(subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
    if Path(out["ganbench"]).resolve().parent.parent != checkout:  # the editable install must not win
        raise RuntimeError(f"the timed process imported {out['ganbench']}, not the checkout {checkout}")
    return out["images_per_s"]


def alternating_processes(variants: dict[str, tuple[list[str], Path | None]], rounds: int) -> str:
    """Two variants of ``step_rate.py`` ({label: (its arguments, checkout)}) timed in fresh processes, alternating for
    ``rounds`` rounds: their medians and the ratio of the second to the first, with each round's ratio."""
    rates: dict[str, list[float]] = {label: [] for label in variants}
    for _ in range(rounds):
        for label, (args, checkout) in variants.items():
            rates[label].append(step_rate(args, checkout))
    (a, ra), (b, rb) = ((k, statistics.median(v)) for k, v in rates.items())
    return (f"{a} {ra:8.1f}  {b} {rb:8.1f} images/s  ratio {rb / ra:5.2f}  ({rounds} rounds, medians; per round "
            f"{' '.join(f'{y / x:.2f}' for x, y in zip(*rates.values()))})")


def malloc_lever(name: str, steps: int, threads: int | None, rounds: int = 5) -> str:
    """glibc's default policy against ``devices.keep_freed_memory``, each in fresh processes (``step_rate.py
    --malloc``), alternating for ``rounds`` rounds (medians)."""
    common = ["--model", name, "--resolution", str(resolution_of(name)), "--steps", str(steps)]
    common += ["--threads", str(threads)] if threads else []
    pair = {policy: ([*common, "--malloc", policy], None) for policy in ("default", "keep")}
    return f"{name:<15} {'malloc kept, fresh processes':<30} {alternating_processes(pair, rounds)}"


def line(f: Figure, peak: float, peer: Figure | None = None) -> str:
    flops = (f"{f.gflop:6.1f} GFLOP/step" if f.gflop else "   n/a GFLOP/step")
    rate = f"{f.gflops:6.1f} GFLOPS {f.gflops / peak:5.0%} of peak" if f.gflops else "   n/a GFLOPS"
    if f.gflops and f.gflops > peak:  # no step can beat the peak: the timing, the count or the peak is wrong
        rate += " (above the peak: a measurement is wrong)"
    text = f"{f.name:<15} {f.label:<30} {flops} {f.seconds * 1000:7.1f} ms/step {rate} {f.images_per_s:7.1f} images/s"
    if peer is not None:
        text += f"  ratio vs {peer.name} ({peer.label}) {f.images_per_s / peer.images_per_s:4.2f}"
    return text


def deconv_lever(device: torch.device, reps: int = 20) -> list[str]:
    """The Lucic G's two transposed convs, forward + backward, three ways: as is, channels-last, and as the
    equivalent conv on a zero-stuffed (upsampled) input."""
    out = []
    for cin, cout, size in ((128, 64, 7), (64, 1, 14)):
        tconv = nn.ConvTranspose2d(cin, cout, 4, 2, 1).to(device)
        conv = nn.Conv2d(cin, cout, 4, 1, 2).to(device)  # same map: flipped kernel on the zero-stuffed input
        with torch.no_grad():
            conv.weight.copy_(tconv.weight.flip(2, 3).transpose(0, 1))
            conv.bias.copy_(tconv.bias)
        x = torch.randn(64, cin, size, size, device=device, requires_grad=True)

        def stuffed(x):
            up = x.new_zeros(x.shape[0], cin, 2 * size - 1, 2 * size - 1)
            up[:, :, ::2, ::2] = x
            return conv(up)  # (2n - 1) + 2 * 2 - 4 + 1 = 2n

        ref = tconv(x)
        assert torch.allclose(stuffed(x), ref, atol=1e-4), "zero-stuffed conv must equal the transposed conv"
        g = torch.randn_like(ref)
        variants = {"ConvTranspose2d": (tconv, x), "ConvTranspose2d channels-last":
                    (tconv.to(memory_format=torch.channels_last),
                     x.detach().contiguous(memory_format=torch.channels_last).requires_grad_(True)),
                    "conv on zero-stuffed input": (stuffed, x)}
        times = {}
        for label, (fn, inp) in variants.items():
            for _ in range(3):
                fn(inp).backward(g)
            t0 = time.perf_counter()
            for _ in range(reps):
                fn(inp).backward(g)
            times[label] = (time.perf_counter() - t0) / reps * 1000
        base = times["ConvTranspose2d"]
        for label, ms in times.items():
            out.append(f"deconv {cin}->{cout} {size}->{2 * size}: {label:<30} {ms:6.2f} ms fwd+bwd  "
                       f"ratio vs ConvTranspose2d {base / ms:4.2f}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=None, help=f"baselines (default: {' '.join(DEFAULT_MODELS)})")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", help="default: CUDA when present, else CPU")
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--levers", action="store_true", help="time each speed lever on and off")
    ap.add_argument("--malloc", action="store_true",
                    help="only glibc's default allocator policy against devices.keep_freed_memory, in fresh processes")
    ap.add_argument("--no-peer", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    keep_freed_memory()  # as training does; the malloc lever compares the two policies in fresh processes
    device = resolve_device(args.device)
    names = args.models or list(DEFAULT_MODELS)
    if args.malloc:
        print(f"# malloc policy, {cpu_name()}, {args.threads or 'default'} thread(s), {args.steps} steps a process")
        for name in names:
            print(malloc_lever(name, args.steps, args.threads), flush=True)
        return
    if args.json:
        figs = [throughput(n, device, args.steps, args.warmup) for n in names]
        print(json.dumps([dataclasses.asdict(f) for f in figs]))
        return
    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else f"{cpu_name()}, {torch.get_num_threads()} threads")
    matmul = measure_peak(device)
    fma = fma_peak(torch.get_num_threads()) if device.type == "cpu" else None
    peak = max(fma) if fma else matmul
    print(f"# {where}, torch {torch.__version__}; {args.steps} timed steps after {args.warmup} warm-up", flush=True)
    if fma:
        print(f"# fp32 peak {peak:.1f} GFLOPS: fused multiply-adds in registers (scripts/fma_peak.c), AVX2 "
              f"{fma[0]:.1f}, AVX-512 {fma[1]:.1f} (0: none); a 4096^2 matmul reaches {matmul:.1f} "
              f"({matmul / peak:.0%})", flush=True)
    else:
        print(f"# fp32 peak {peak:.1f} GFLOPS (4096^2 matmul, best of 5"
              + ("; no C compiler for the FMA peak)" if device.type == "cpu" else ")"), flush=True)
    peer = throughput(PEER, device, args.steps, args.warmup, fast=False, label="today (fast=False)")
    print(line(peer, peak), flush=True)
    for name in names:
        for fast in ((False, True) if args.levers or name == PEER else (True,)):
            print(line(throughput(name, device, args.steps, args.warmup, fast=fast), peak, peer), flush=True)
        if args.levers:
            res = resolution_of(name)
            if res == 28:
                print(line(throughput(name, device, args.steps, args.warmup, resolution=32,
                                      label="fast, padded 32x32"), peak, peer), flush=True)
            print(line(throughput(name, device, args.steps, args.warmup, channels_last=True,
                                  label="fast + channels-last"), peak, peer), flush=True)
            if any(getattr(load_baseline(name).tricks, p) for p in GRADIENT_PENALTIES):
                print(line(throughput(name, device, args.steps, args.warmup, native_double_backward=True,
                                      label="fast, PyTorch's double backward"), peak, peer), flush=True)
                print(double_backward_lever(name, device, args.steps), flush=True)
            if device.type == "cpu":
                print(malloc_lever(name, args.steps, args.threads), flush=True)
            try:
                print(line(throughput(name, device, args.steps, args.warmup + 2, compile=True,
                                      label="fast + torch.compile"), peak, peer), flush=True)
            except Exception as e:  # noqa: BLE001 - compile cannot do the double backward of gradient penalties
                print(f"{name:<15} {'fast + torch.compile':<30} failed: {type(e).__name__}: "
                      f"{str(e).splitlines()[0][:90] if str(e) else ''}", flush=True)
        if device.type == "cuda":
            for label, kw in (("fast + amp bf16", {"amp": True}),
                              ("fast + amp bf16 + channels-last", {"amp": True, "channels_last": True})):
                print(line(throughput(name, device, args.steps, args.warmup, label=label, **kw), peak, peer),
                      flush=True)
    if args.levers:
        for text in deconv_lever(device):
            print(text, flush=True)


if __name__ == "__main__":
    main()
