"""FID-infinity and IS-infinity (Chong & Forsyth 2020): the metric extrapolated to infinitely many samples.

Both metrics are biased in 1/N. They are computed on nested random subsets of growing size N
and a line is fitted in 1/N; its intercept is the bias-free value.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import BadInput
from .registry import Column, Context, Unavailable, metric
from .fid import fid_from_features, statistics
from .inception_score import inception_score, no_head


def subset_sizes(n: int, points: int = 15, min_fraction: float = 0.1, floor: int = 2) -> np.ndarray:
    """``points`` distinct sizes from ``min_fraction * n`` to ``n`` (Chong & Forsyth: 5k to 50k, 15 points)."""
    sizes = np.unique(np.linspace(max(floor, int(np.ceil(min_fraction * n))), n, points).astype(int))
    if len(sizes) < 2:
        raise BadInput(f"extrapolating to infinitely many samples needs at least two subset sizes; have {n} samples")
    return sizes


def extrapolate(sizes, values) -> float:
    """Intercept at 1/N = 0 of the least-squares line value = a + b / N."""
    x = 1.0 / np.asarray(sizes, dtype=np.float64)
    b, a = np.polyfit(x, np.asarray(values, dtype=np.float64), 1)
    return float(a)


def fid_infinity(f1: torch.Tensor, stats2: tuple[torch.Tensor, torch.Tensor], points: int = 15,
                 min_fraction: float = 0.1, seed: int = 0) -> float:
    """FID-infinity of features ``(N, D)`` against reference statistics (mu ``(D,)``, sigma ``(D, D)``)."""
    perm = torch.from_numpy(np.random.RandomState(seed).permutation(f1.shape[0]))
    sizes = subset_sizes(f1.shape[0], points, min_fraction)
    return extrapolate(sizes, [fid_from_features(f1[perm[:n]], None, stats2=stats2) for n in sizes])


def is_infinity(logits: torch.Tensor, points: int = 15, min_fraction: float = 0.1, seed: int = 0) -> float:
    """IS-infinity of logits ``(N, C)``: single-split Inception Scores of nested subsets, extrapolated."""
    perm = torch.from_numpy(np.random.RandomState(seed).permutation(logits.shape[0]))
    sizes = subset_sizes(logits.shape[0], points, min_fraction)
    return extrapolate(sizes, [inception_score(logits[perm[:n]], splits=1, seed=None)[0] for n in sizes])


@metric("fid_inf", columns=(Column("fid_inf", "FID∞", "lower"),), features=("pool3",), space="inception-pool3",
        description="FID extrapolated to infinitely many samples (Chong & Forsyth 2020)")
def _fid_inf(ctx: Context) -> dict[str, float]:
    ref, p = ctx.ref(), ctx.protocol
    stats = ref.stats if ref.stats is not None else statistics(ref.features["pool3"])
    return {"fid_inf": fid_infinity(ctx.samples.features["pool3"], stats, p.infinity_points,
                                    p.infinity_min_fraction, p.seed)}


@metric("is_inf", columns=(Column("is_inf", "IS∞", "higher"),), features=("logits",),
        space="inception-logits-unbiased", needs_reference=False,
        description="IS extrapolated to infinitely many samples (Chong & Forsyth 2020)")
def _is_inf(ctx: Context) -> dict[str, float]:
    if not ctx.has_head:
        raise Unavailable(no_head(ctx))
    p = ctx.protocol
    return {"is_inf": is_infinity(ctx.samples.features["logits"], p.infinity_points, p.infinity_min_fraction, p.seed)}
