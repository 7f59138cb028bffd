"""Benchmark the metrics engine against torch-fidelity on the same images, in one run.

Prints one line per figure and each ratio (ganbench speed / torch-fidelity speed):
feature throughput, the FID step on 2048-d features, and the whole metrics computation.
Usage: .venv/bin/python scripts/bench_metrics.py [--images 64] [--full 1000]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time

import torch

from ganbench.config import DEFAULT_PROTOCOL
from ganbench.data import get_dataset
from ganbench.metrics.evaluate import EvaluateOptions, evaluate
from ganbench.metrics.features import inception_features
from ganbench.metrics.fid import fid_from_features, frechet_distance
from ganbench.metrics.inception import build_inception
from ganbench.metrics.weights import resolve_weights


class Tiled(torch.utils.data.Dataset):
    def __init__(self, x):
        self.x = x.expand(-1, 3, -1, -1).contiguous()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=64, help="images for the throughput figure")
    ap.add_argument("--full", type=int, default=0, help="N vs N images for the end-to-end figure (0: skip)")
    args = ap.parse_args()
    from torch_fidelity import calculate_metrics
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    ds = get_dataset("fashion-mnist", "test")
    w = resolve_weights()
    path = tempfile.mktemp(suffix=".pth")
    torch.save(w.state_dict, path)
    x = ds.uint8(slice(0, args.images))
    print(f"threads {torch.get_num_threads()}, weights {w.origin} {w.sha256[:12]}, {args.images} Fashion-MNIST images")

    ours = build_inception(w)
    theirs = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=path)
    with torch.inference_mode():
        ours(x[:2]), theirs(x[:2].expand(-1, 3, -1, -1).contiguous())  # warm-up
    t = time.perf_counter()
    a = inception_features(x, model=ours, batch_size=DEFAULT_PROTOCOL.feature_batch_size, progress=False, device="cpu")
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    with torch.inference_mode():
        b = torch.cat([theirs(x[i:i + 64].expand(-1, 3, -1, -1).contiguous())[0] for i in range(0, len(x), 64)])
    t_theirs = time.perf_counter() - t
    print(f"features ganbench      {args.images / t_ours:.2f} images/s")
    print(f"features torch-fidelity {args.images / t_theirs:.2f} images/s")
    print(f"features max |diff|    {(a['pool3'] - b).abs().max().item():.2e}")
    print(f"features ratio         {t_theirs / t_ours:.2f}x")

    g = torch.Generator().manual_seed(0)
    f1 = torch.randn(1000, 2048, generator=g).abs()  # pool3-like: 1000 vs 1000, 2048-d
    f2 = torch.randn(1000, 2048, generator=g).abs() * 1.1
    t = time.perf_counter()
    ours_fid = fid_from_features(f1, f2)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    ref_fid = fid_statistics_to_metric(fid_features_to_statistics(f1), fid_features_to_statistics(f2), False)
    t_theirs = time.perf_counter() - t
    ref_fid = ref_fid["frechet_inception_distance"]
    print(f"fid step ganbench      {t_ours:.2f} s (FID {ours_fid:.6f})")
    print(f"fid step torch-fidelity {t_theirs:.2f} s (FID {ref_fid:.6f}, rel diff {abs(ours_fid - ref_fid) / ref_fid:.1e})")
    print(f"fid step ratio         {t_theirs / t_ours:.2f}x")

    # The full-rank case (N > D, e.g. 10k vs 10k): FID from two 2048 x 2048 covariances. Both sides are
    # warmed up once first (LAPACK's first call in a process pays a one-off set-up cost).
    s1, s2 = (fid_features_to_statistics(torch.randn(10_000, 2048, generator=g).abs() * k) for k in (1.0, 1.1))
    m1, c1, m2, c2 = (torch.as_tensor(s[k]) for s in (s1, s2) for k in ("mu", "sigma"))
    frechet_distance(m1, c1, m2, c2), fid_statistics_to_metric(s1, s2, False)
    t = time.perf_counter()
    ours_fid = frechet_distance(m1, c1, m2, c2)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    ref_fid = fid_statistics_to_metric(s1, s2, False)["frechet_inception_distance"]
    t_theirs = time.perf_counter() - t
    print(f"fid step full-rank ganbench      {t_ours:.2f} s (2048x2048 covariances, FID {ours_fid:.6f})")
    print(f"fid step full-rank torch-fidelity {t_theirs:.2f} s (FID {ref_fid:.6f}, "
          f"rel diff {abs(ours_fid - ref_fid) / ref_fid:.1e})")
    print(f"fid step full-rank ratio         {t_theirs / t_ours:.2f}x")

    if args.full:
        n = args.full
        s, r = ds.uint8(slice(0, n)), ds.uint8(slice(n, 2 * n))
        p = dataclasses.replace(DEFAULT_PROTOCOL, seed=2020)
        t = time.perf_counter()
        res = evaluate(s, r, metrics=("fid", "kid", "pr"), protocol=p, progress=False, device="cpu",
                       options=EvaluateOptions(cache=False))
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        ref = calculate_metrics(input1=Tiled(s), input2=Tiled(r), fid=True, kid=True, prc=True, cuda=False, cache=False,
                                verbose=False, feature_extractor="inception-v3-compat", feature_layer_prc="2048",
                                feature_extractor_weights_path=path, rng_seed=2020)
        t_theirs = time.perf_counter() - t
        print(f"metrics ganbench       {t_ours:.1f} s {res['metrics']}")
        print(f"metrics torch-fidelity {t_theirs:.1f} s {ref}")
        print(f"metrics ratio          {t_theirs / t_ours:.2f}x")


if __name__ == "__main__":
    main()
