"""The Vendi score against the authors' package (vendi-score: ``vendi.score_X``, ``score_dual``) on the same features."""

import numpy as np
import pytest
import torch

from ganbench.metrics.vendi import vendi_score

vendi = pytest.importorskip("vendi_score.vendi")


@pytest.mark.parametrize("n,d", [(30, 8), (6, 20)])  # N > D (the D x D route) and N < D (the N x N one)
def test_vendi_equals_the_authors_package(n, d):
    x = np.random.default_rng(n).normal(size=(n, d))
    ours = vendi_score(torch.from_numpy(x).float())
    assert ours == pytest.approx(vendi.score_X(x), rel=1e-5)
    assert ours == pytest.approx(vendi.score_dual(x), rel=1e-5)


def test_vendi_counts_distinct_samples():
    assert vendi_score(torch.ones(10, 4)) == pytest.approx(1.0)  # ten copies of one image
    assert vendi_score(torch.eye(5)) == pytest.approx(5.0)  # five orthogonal ones
