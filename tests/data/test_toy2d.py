"""Toy mixtures and their mode metrics against hand-built samples."""

import pytest
import torch

from ganbench.data.toy2d import get_mixture
from ganbench.errors import BadInput
from ganbench.metrics.toy2d import mode_metrics


def test_mixture_geometry_and_samples():
    ring, grid = get_mixture("ring"), get_mixture("grid")
    assert ring.centers.shape == (8, 2) and torch.allclose(ring.centers.norm(dim=1), torch.full((8,), 2.0))
    assert grid.centers.shape == (25, 2) and set(grid.centers[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    x = ring.sample(4000, torch.Generator().manual_seed(0))
    m = mode_metrics(x, ring.centers, ring.std)
    assert m["modes"] == 8 and m["high_quality"] > 0.98  # 3 sigma in 2-D holds 98.9% of the mass
    with pytest.raises(BadInput, match="known toy mixtures: ring"):
        get_mixture("spiral")


def test_mode_metrics_by_hand():
    centers = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    samples = torch.tensor([[0.01, 0.0], [0.0, -0.02], [2.05, 0.0], [1.0, 1.0], [float("nan"), 0.0]])
    m = mode_metrics(samples, centers, std=0.02, min_count=1)  # 3 sigma = 0.06: [2.05, 0] is in, [1, 1] is not
    assert m["counts"] == [2, 1, 0] and m["modes"] == 2 and m["high_quality"] == pytest.approx(3 / 5)
    assert mode_metrics(samples, centers, std=0.02, min_count=2)["modes"] == 1
