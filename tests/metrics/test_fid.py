"""FID: closed forms, scipy's sqrtm-based formula, torch-fidelity's formula."""

import numpy as np
import pytest
import scipy.linalg
import torch

from ganbench.errors import BadInput
from ganbench.metrics.fid import fid_from_features, frechet_distance, statistics


def sqrtm_fid(mu1, s1, mu2, s2):
    """pytorch-fid's textbook formula with scipy.linalg.sqrtm (the independent reference)."""
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_closed_form_commuting_gaussians():
    # Diagonal covariances: FID = |m1 - m2|^2 + sum (sqrt(a) - sqrt(b))^2.
    a, b = torch.tensor([1.0, 4.0, 9.0, 0.25]), torch.tensor([4.0, 1.0, 9.0, 1.0])
    m1, m2 = torch.tensor([0.0, 1.0, 2.0, 3.0]), torch.tensor([1.0, 1.0, 0.0, 3.0])
    expected = 1 + 4 + (1 + 1 + 0 + 0.25)
    assert frechet_distance(m1, torch.diag(a), m2, torch.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_closed_form_rotated_covariance():
    # S2 = R S1 R^T with the same spectrum; tr sqrt(S1 S2) computed by scipy as the reference.
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(32, 32)))
    s1 = np.diag(rng.uniform(0.5, 2.0, 32))
    s2 = q @ s1 @ q.T
    mu = np.zeros(32)
    got = frechet_distance(torch.from_numpy(mu), torch.from_numpy(s1), torch.from_numpy(mu), torch.from_numpy(s2))
    assert got == pytest.approx(sqrtm_fid(mu, s1, mu, s2), rel=1e-9)


def test_matches_scipy_sqrtm_on_real_features(real_weights, samples, reference):
    from ganbench.metrics.features import inception_features

    f = inception_features(torch.cat([samples, reference]), progress=False, device="cpu",
                           weights=real_weights.path, batch_size=44)["pool3"].double()
    f1, f2 = f[:20, :12], f[20:, :12]  # N > D so that sqrtm is well defined
    mu1, s1 = statistics(f1)
    mu2, s2 = statistics(f2)
    ref = sqrtm_fid(mu1.numpy(), s1.numpy(), mu2.numpy(), s2.numpy())
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-6)
    assert fid_from_features(f1, f2) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("n", [50, 400])  # N < D (low-rank factor path) and N > D (Cholesky path)
def test_matches_torch_fidelity_formula(n):
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    g = torch.Generator().manual_seed(n)
    f1 = torch.randn(n, 256, generator=g) * torch.rand(256, generator=g) + 0.3
    f2 = torch.randn(n + 7, 256, generator=g).abs()
    ref = fid_statistics_to_metric(fid_features_to_statistics(f1.double()), fid_features_to_statistics(f2.double()),
                                   False)["frechet_inception_distance"]
    assert fid_from_features(f1, f2) == pytest.approx(ref, rel=1e-6)
    mu1, s1 = statistics(f1)
    mu2, s2 = statistics(f2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-6)  # eigh / Cholesky paths


def test_fid_of_a_set_with_itself_is_zero():
    f = torch.randn(300, 64, generator=torch.Generator().manual_seed(1))
    mu, s = statistics(f)
    assert abs(fid_from_features(f, f)) < 1e-9 * float(s.trace())
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-9 * float(s.trace())


def test_bad_inputs():
    with pytest.raises(BadInput, match="at least 2"):
        statistics(torch.zeros(1, 4))
    mu, s = torch.zeros(3), torch.eye(3)
    with pytest.raises(BadInput, match="shape"):
        frechet_distance(mu, s, torch.zeros(4), torch.eye(4))
    with pytest.raises(BadInput, match="NaN"):
        frechet_distance(mu, s, mu, s * float("nan"))
