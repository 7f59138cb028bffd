"""Fréchet Inception Distance (Heusel et al. 2017), in float64, without ``scipy.linalg.sqrtm``.

tr sqrt(S1 S2) is the sum of the square roots of the eigenvalues of L^T S2 L for any factor
S1 = L L^T (the matrix is symmetric PSD and similar to S1 S2): a Cholesky factor when S1 is
positive definite, else the centred features themselves (N < D) or an eigendecomposition.
"""

from __future__ import annotations

import torch

from ..errors import BadInput
from .moments import statistics  # noqa: F401  (fid.statistics, as before)
from .networks.base import space_feature, space_name
from .registry import Column, Context, metric


def _sqrt_eig_sum(m: torch.Tensor) -> torch.Tensor:
    """Sum of square roots of the eigenvalues of symmetric PSD ``m`` (tiny negative round-off clamped to 0)."""
    m = (m + m.T) / 2
    return torch.linalg.eigvalsh(m).clamp_min(0).sqrt().sum()


def trace_sqrt_product(sigma1: torch.Tensor, sigma2: torch.Tensor, factor1: torch.Tensor | None = None) -> torch.Tensor:
    """tr sqrt(sigma1 sigma2) for covariances ``(D, D)``; ``factor1`` (``(D, K)``, sigma1 = F F^T) skips factoring.

    Without a factor: Cholesky of sigma1, else of sigma2 (the trace is symmetric in the two),
    else the eigendecomposition sigma1 = V diag(w) V^T, i.e. the factor V sqrt(w).
    """
    if factor1 is not None:
        return _sqrt_eig_sum(factor1.T @ sigma2 @ factor1)
    for a, b in ((sigma1, sigma2), (sigma2, sigma1)):
        chol, info = torch.linalg.cholesky_ex(a)
        if int(info) == 0:
            return _sqrt_eig_sum(chol.T @ b @ chol)
    w, v = torch.linalg.eigh(sigma1)
    f = v * w.clamp_min(0).sqrt()
    return _sqrt_eig_sum(f.T @ sigma2 @ f)


def _check(mu1, sigma1, mu2, sigma2) -> None:
    d = mu1.shape[-1]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise BadInput(f"FID statistics disagree in shape: mu {tuple(mu1.shape)} / {tuple(mu2.shape)}, "
                       f"sigma {tuple(sigma1.shape)} / {tuple(sigma2.shape)}")
    for t in (mu1, sigma1, mu2, sigma2):
        if not torch.isfinite(t).all():
            raise BadInput("FID statistics contain NaN/Inf; recompute the features")


def frechet_distance(mu1, sigma1, mu2, sigma2, factor1: torch.Tensor | None = None) -> float:
    """||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr sqrt(S1 S2), in float64 on the tensors' device."""
    mu1, sigma1, mu2, sigma2 = (torch.as_tensor(t).double() for t in (mu1, sigma1, mu2, sigma2))
    _check(mu1, sigma1, mu2, sigma2)
    dev = sigma1.device
    mu2, sigma2 = mu2.to(dev), sigma2.to(dev)
    diff = mu1 - mu2
    tr = trace_sqrt_product(sigma1, sigma2, factor1)
    return float(diff @ diff + sigma1.trace() + sigma2.trace() - 2 * tr)


def fid_from_features(f1: torch.Tensor, f2: torch.Tensor | None,
                      stats2: tuple[torch.Tensor, torch.Tensor] | None = None) -> float:
    """FID of feature sets ``(N1, D)`` and ``(N2, D)``; ``stats2`` (mu, sigma) replaces ``f2`` when given.

    When a set has no more rows than D, its centred features C are an exact low-rank factor
    (S = C^T C / (N - 1)): with both sets available, tr sqrt(S1 S2) is then read off the
    eigenvalues of the small symmetric matrix B B^T, B = C1 C2^T, and no D x D matrix is formed.
    """
    if f1.ndim != 2 or f1.shape[0] < 2 or (f2 is not None and (f2.ndim != 2 or f2.shape[0] < 2)):
        raise BadInput(f"FID needs at least 2 feature vectors per set, got {tuple(f1.shape)} and "
                       f"{None if f2 is None else tuple(f2.shape)}")
    d = f1.shape[1]
    if f2 is not None and stats2 is None and min(f1.shape[0], f2.shape[0]) <= d:
        x, y = f1.double(), f2.double().to(f1.device)
        mu1, mu2 = x.mean(0), y.mean(0)
        c1, c2 = x - mu1, y - mu2
        for t in (mu1, mu2):
            if not torch.isfinite(t).all():
                raise BadInput("FID features contain NaN/Inf; recompute the features")
        b = c1 @ c2.T
        small = b @ b.T if b.shape[0] <= b.shape[1] else b.T @ b
        tr = _sqrt_eig_sum(small) / ((x.shape[0] - 1) * (y.shape[0] - 1)) ** 0.5
        diff = mu1 - mu2
        tr1, tr2 = (c1 * c1).sum() / (x.shape[0] - 1), (c2 * c2).sum() / (y.shape[0] - 1)
        return float(diff @ diff + tr1 + tr2 - 2 * tr)
    mu1, sigma1 = statistics(f1)
    mu2, sigma2 = stats2 if stats2 is not None else statistics(f2)
    factor = None
    if f1.shape[0] <= d:
        factor = (f1.double().to(sigma1.device) - mu1).T / (f1.shape[0] - 1) ** 0.5
    return frechet_distance(mu1, sigma1, mu2, sigma2, factor1=factor)


fid = frechet_distance


@metric("fid", columns=(Column("fid", "FID", "lower", sample_size=True, spaced="FD_{space}", bounds=(0, None)),),
        features=lambda p: (space_feature(p),), space=space_name, moments_only=True,
        description="Frechet Inception Distance (Heusel et al. 2017) on pool3, or the Frechet distance in the "
                    "--features space (FD_DINOv2, ...); needs only a mean and a covariance: constant memory in N")
def _fid(ctx: Context) -> dict[str, float]:
    ref, f = ctx.ref(), space_feature(ctx.protocol)
    rows = ctx.samples.features.get(f)
    if rows is not None and (f in ref.features or (ref.stats is not None and not ref.features)):
        # both sets' rows (or a statistics file): the exact low-rank path when N <= D
        return {"fid": fid_from_features(rows, ref.features.get(f), stats2=None if f in ref.features else ref.stats)}
    return {"fid": frechet_distance(*ctx.samples.moments_of(f), *ref.moments_of(f))}


#: The column of the best FID over a run's checkpoint evaluations, and of the training length it was reached at.
BEST_COLUMNS = (Column("fid_best", "FID best ckpt", "lower", sample_size=True, bounds=(0, None)),
                Column("fid_best_kimg", "at kimg"))


@metric("fid_best", columns=BEST_COLUMNS, features=(), space="inception-pool3", source="checkpoints",
        description="the lowest FID of the checkpoints a budget evaluates along training under its full protocol "
                    "(Lucic et al. 2018 report it: compare_gan v1 scores every checkpoint, every 3,906 D steps, "
                    "eval_gan_lib.py, and picks the best, generate_tasks_lib.py BestFIDPerModel)")
def _fid_best(ctx: Context) -> dict[str, float]:
    raise NotImplementedError("fid_best is written by the runner from its checkpoint evaluations (bench.runner)")
