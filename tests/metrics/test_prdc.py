"""Precision/recall vs torch-fidelity; density/coverage vs a brute-force hand computation of Naeem et al."""

import numpy as np
import pytest
import torch

import ganbench.metrics.prdc as prdc_mod
from ganbench.errors import BadInput
from ganbench.metrics.prdc import density_coverage, precision_recall, prdc


@pytest.fixture(scope="module")
def feats():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(70, 16, generator=g)
    fake = torch.randn(55, 16, generator=g) * 1.3 + 0.4
    return real, fake


def test_precision_recall_matches_torch_fidelity(feats):
    from torch_fidelity.metric_prc import prc_features_to_metric

    real, fake = feats
    ref = prc_features_to_metric(fake, real, prc_neighborhood=3, prc_batch_size=10000, save_cpu_ram=False,
                                 verbose=False)
    p, r = precision_recall(real, fake, k=3)
    assert p == pytest.approx(ref["precision"], abs=1e-4)
    assert r == pytest.approx(ref["recall"], abs=1e-4)
    assert 0 < p < 1 and 0 < r < 1  # a case that can fail


def test_density_coverage_by_hand(feats):
    real, fake = (f.double().numpy() for f in feats)
    k = 5
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=2)
    radius = np.sort(d_rr, axis=1)[:, k]  # column 0 is the point itself
    d_rf = np.linalg.norm(real[:, None] - fake[None], axis=2)  # (real, fake)
    density = (d_rf < radius[:, None]).sum() / (k * fake.shape[0])
    coverage = (d_rf.min(axis=1) < radius).mean()
    got = density_coverage(*feats, k=k)
    assert got == pytest.approx((density, coverage), abs=1e-12)


def test_identical_sets_have_precision_recall_one(feats):
    real = feats[0]
    assert precision_recall(real, real.clone(), k=3) == (1.0, 1.0)
    assert density_coverage(real, real.clone(), k=5)[1] == 1.0


def test_chunking_does_not_change_results(feats, monkeypatch):
    whole = prdc(*feats, pr_k=3, dc_k=5)
    monkeypatch.setattr(prdc_mod, "CHUNK_ELEMENTS", 37)  # about one row per chunk
    assert prdc(*feats, pr_k=3, dc_k=5) == whole


def test_too_few_samples_for_k():
    with pytest.raises(BadInput, match="more than 3"):
        precision_recall(torch.zeros(3, 2), torch.zeros(10, 2), k=3)
