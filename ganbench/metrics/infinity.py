"""FID-infinity and IS-infinity (Chong & Forsyth 2020): the metric extrapolated to infinitely many samples.

Both metrics are biased in 1/N. They are computed on nested random subsets of growing size N
and a line is fitted in 1/N; its intercept is the bias-free value.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import BadInput
from .fid import fid_from_features
from .inception_score import inception_score


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
