"""Kernel Inception Distance (Binkowski et al. 2018): unbiased MMD^2 with a polynomial kernel, over subsets.

Subsets are drawn exactly as torch-fidelity draws them (``numpy.random.RandomState(seed)``,
one ``choice`` without replacement per set per subset), so the same seed gives its numbers.
When that is cheaper, the Gram matrices of the full sets are computed once and indexed.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import BadInput
from .networks.base import space_feature, space_name
from .registry import Column, Context, metric


def subsets(n1: int, n2: int, num: int, size: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``num`` pairs of index arrays ``(size,)`` into the two sets, torch-fidelity's sampling order."""
    rng = np.random.RandomState(seed)
    return [(rng.choice(n1, size, replace=False), rng.choice(n2, size, replace=False)) for _ in range(num)]


def mmd2_unbiased(kxx: torch.Tensor, kxy: torch.Tensor, kyy: torch.Tensor) -> torch.Tensor:
    """Unbiased MMD^2 from kernel matrices ``(m, m)``: diagonals of K_XX and K_YY excluded, K_XY kept whole."""
    m = kxx.shape[0]
    within = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return within - 2 * kxy.sum() / (m * m)


def kid(f1: torch.Tensor, f2: torch.Tensor, num_subsets: int = 100, subset_size: int = 1000, degree: int = 3,
        gamma: float | None = None, coef0: float = 1.0, seed: int = 0) -> tuple[float, float]:
    """KID mean and (population) std over subsets of features ``(N1, D)``, ``(N2, D)``.

    Kernel k(x, y) = (gamma x.y + coef0)^degree, gamma = 1/D by default. ``subset_size`` is
    capped at the smaller set (recorded by the caller), in float64.
    """
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise BadInput(f"KID needs two feature sets (N, D) of equal D, got {tuple(f1.shape)} and {tuple(f2.shape)}")
    m = min(subset_size, f1.shape[0], f2.shape[0])
    if m < 2:
        raise BadInput(f"KID needs at least 2 samples per set, got {f1.shape[0]} and {f2.shape[0]}")
    gamma = 1.0 / f1.shape[1] if gamma is None else gamma
    x, y = f1.double(), f2.double().to(f1.device)
    n1, n2 = x.shape[0], y.shape[0]

    def kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a @ b.T * gamma + coef0) ** degree

    picks = subsets(n1, n2, num_subsets, m, seed)
    full_cost = n1 * n1 + n2 * n2 + n1 * n2
    if full_cost <= 3 * m * m * num_subsets and full_cost <= 4e8:  # one Gram of each pair, indexed per subset
        kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
        values = []
        for i1, i2 in picks:
            a, b = torch.from_numpy(i1).to(x.device), torch.from_numpy(i2).to(x.device)
            values.append(mmd2_unbiased(kxx[a][:, a], kxy[a][:, b], kyy[b][:, b]))
    else:
        values = []
        for i1, i2 in picks:
            xs, ys = x[torch.from_numpy(i1).to(x.device)], y[torch.from_numpy(i2).to(x.device)]
            values.append(mmd2_unbiased(kernel(xs, xs), kernel(xs, ys), kernel(ys, ys)))
    v = torch.stack(values)
    return float(v.mean()), float(v.std(unbiased=False))


@metric("kid", columns=(Column("kid_mean", "KID×10³", "lower", scale=1e3, sample_size=True, spaced="KID×10³ ({space})"),
                        Column("kid_std", "KID std")),
        features=lambda p: (space_feature(p),), space=space_name,
        description="Kernel Inception Distance (Binkowski et al. 2018), unbiased, on subsets of the --features space "
                    "(pool3 by default); keeps every feature: N x D floats per side (50k x 2048 = 400 MB)")
def _kid(ctx: Context) -> dict[str, float]:
    p = ctx.protocol
    f = space_feature(p)
    mean, std = kid(ctx.samples.features[f], ctx.ref_features(f), p.kid_subsets, p.kid_subset_size,
                    p.kid_degree, seed=p.seed)
    return {"kid_mean": mean, "kid_std": std}
