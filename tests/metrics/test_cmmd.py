"""CMMD against google-research/cmmd's ``distance.mmd``, transcribed in NumPy on the same embeddings (float64)."""

import numpy as np
import pytest
import torch

from ganbench.metrics import cmmd as cmmd_module
from ganbench.metrics.cmmd import cmmd


def reference_mmd(x: np.ndarray, y: np.ndarray, sigma: float = 10.0, scale: float = 1000.0) -> float:
    """distance.py ``mmd``: means over every pair (i = j included) of exp(-gamma * squared distance)."""
    gamma = 1 / (2 * sigma ** 2)
    xx, yy = np.diag(x @ x.T), np.diag(y @ y.T)
    k_xx = np.mean(np.exp(-gamma * (-2 * x @ x.T + xx[:, None] + xx[None, :])))
    k_xy = np.mean(np.exp(-gamma * (-2 * x @ y.T + xx[:, None] + yy[None, :])))
    k_yy = np.mean(np.exp(-gamma * (-2 * y @ y.T + yy[:, None] + yy[None, :])))
    return scale * (k_xx + k_yy - 2 * k_xy)


def test_cmmd_equals_the_reference_estimator(monkeypatch):
    g = np.random.default_rng(0)
    # unit-norm embeddings, as CLIP's are, with a shift between the sets
    x = g.normal(size=(60, 16))
    y = g.normal(size=(45, 16)) + 0.3
    x, y = (a / np.linalg.norm(a, axis=1, keepdims=True) * 8 for a in (x, y))
    want = reference_mmd(x, y)
    assert cmmd(torch.from_numpy(x).float(), torch.from_numpy(y).float()) == pytest.approx(want, rel=1e-5)
    monkeypatch.setattr(cmmd_module, "BLOCK", 7)  # block by block gives the same sums
    assert cmmd(torch.from_numpy(x), torch.from_numpy(y)) == pytest.approx(want, rel=1e-12)
    assert cmmd(torch.from_numpy(x), torch.from_numpy(x)) == pytest.approx(0.0, abs=1e-12)
