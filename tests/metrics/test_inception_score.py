"""Inception Score: closed forms and torch-fidelity's implementation."""

import math

import pytest
import torch

from ganbench.errors import BadInput
from ganbench.metrics.inception_score import inception_score


def test_closed_forms():
    # Confident, evenly spread predictions over C classes: IS = C. Identical predictions: IS = 1.
    confident = torch.full((40, 8), -1e4)
    confident[torch.arange(40), torch.arange(40) % 8] = 0.0
    assert inception_score(confident, splits=1, seed=None)[0] == pytest.approx(8.0, rel=1e-9)
    same = torch.randn(1, 8).repeat(40, 1)
    mean, std = inception_score(same, splits=4)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_matches_torch_fidelity():
    from torch_fidelity.metric_isc import isc_features_to_metric

    logits = torch.randn(103, 1008, generator=torch.Generator().manual_seed(0)) * 3
    ref = isc_features_to_metric(logits, splits=10, shuffle=True, rng_seed=2020)
    mean, std = inception_score(logits, splits=10, seed=2020)
    assert mean == pytest.approx(ref["inception_score_mean"], rel=1e-9)
    assert std == pytest.approx(ref["inception_score_std"], rel=1e-6)
    assert not math.isclose(mean, inception_score(logits, splits=10, seed=1)[0], rel_tol=1e-9)  # the seed matters


def test_bad_inputs():
    with pytest.raises(BadInput, match="N >= splits"):
        inception_score(torch.zeros(5, 10), splits=10)
    with pytest.raises(BadInput, match="NaN"):
        inception_score(torch.full((20, 10), float("nan")), splits=2)
