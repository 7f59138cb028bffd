"""Peak memory of FD's sample side at N images: every feature kept (before) vs mean and covariance accumulated as
they arrive (after, ``metrics.features.Moments``), in one run.

    python scripts/bench_fd_memory.py --n 50000 --dim 2048

The network is a stand-in that returns random D-dimensional features at once (Inception's pool3 is 2048-d), so
the figure is the pipeline's own memory, not a network's; each way runs in a fresh process and reports its peak
resident memory above the baseline of importing torch and ganbench.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

CHILD = r"""
import json, resource, sys, torch
from ganbench.metrics.features import extract
from ganbench.metrics.moments import Moments
n, dim, moments = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "moments"
torch.set_num_threads(1)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
g = torch.Generator().manual_seed(0)
batches = (torch.zeros(250, 1, 2, 2, dtype=torch.uint8) for _ in range(n // 250))
run = lambda x: {"pool3": torch.rand(x.shape[0], dim, generator=g)}
acc = {"pool3": Moments()} if moments else {}
feats = extract(batches, n, run, torch.device("cpu"), progress=False, moments=acc)
if moments:
    mu, cov = acc["pool3"].mean_cov()
else:
    from ganbench.metrics.fid import statistics
    mu, cov = statistics(feats["pool3"])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_mb": (peak - base) / 1024, "trace": float(cov.trace())}))
"""


def measure(n: int, dim: int, way: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(dim), way], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--dim", type=int, default=2048)
    args = ap.parse_args()
    rows = measure(args.n, args.dim, "rows")
    mom = measure(args.n, args.dim, "moments")
    print(f"FD sample side, N={args.n}, D={args.dim}: every feature kept {rows['peak_mb']:.0f} MB; moments "
          f"{mom['peak_mb']:.0f} MB ({rows['peak_mb'] / max(mom['peak_mb'], 1e-9):.1f}x less); "
          f"covariance traces {rows['trace']:.4f} / {mom['trace']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
