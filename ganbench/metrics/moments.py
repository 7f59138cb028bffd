"""Means and covariances of feature rows: from the rows at once (``statistics``) or as they arrive (``Moments``)."""

from __future__ import annotations

import torch

from .. import dist
from ..errors import BadInput


def statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of ``features`` ``(N, D)``, float64."""
    if features.ndim != 2 or features.shape[0] < 2:
        raise BadInput(f"FID needs at least 2 feature vectors, got shape {tuple(features.shape)}")
    f = features.double()
    mu = f.mean(0)
    c = f - mu
    return mu, (c.T @ c) / (f.shape[0] - 1)


class Moments:
    """The count, sum and sum of outer products of feature rows in float64, as they arrive (stylegan2-ada's
    ``FeatureStats(capture_mean_cov=True)``): FD at 50k or 1M samples costs D + D^2 numbers, not N x D."""

    def __init__(self):
        self.n, self.sum, self.outer = 0, None, None

    def add(self, rows: torch.Tensor) -> None:
        x = rows.double()
        if self.sum is None:
            self.sum = torch.zeros(x.shape[1], dtype=torch.float64, device=x.device)
            self.outer = torch.zeros(x.shape[1], x.shape[1], dtype=torch.float64, device=x.device)
        self.n += x.shape[0]
        self.sum += x.sum(0)
        self.outer += x.T @ x

    def merged(self, d) -> "Moments":
        """Every rank's moments summed (a collective call; this rank's alone outside a process group)."""
        if not d.enabled:
            return self
        packed = torch.cat([torch.tensor([float(self.n)], dtype=torch.float64, device=self.sum.device), self.sum,
                            self.outer.flatten()])[None]
        total = dist.gather_rows(packed, d).sum(0)
        dim = self.sum.shape[0]
        out = Moments()
        out.n, out.sum, out.outer = int(total[0]), total[1:1 + dim], total[1 + dim:].view(dim, dim)
        return out

    def mean_cov(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean ``(D,)`` and unbiased covariance ``(D, D)``, float64 on the CPU."""
        if self.n < 2:
            raise BadInput(f"FD needs at least 2 feature vectors, got {self.n}")
        mu = self.sum / self.n
        cov = (self.outer - self.n * torch.outer(mu, mu)) / (self.n - 1)
        return mu.cpu(), cov.cpu()
