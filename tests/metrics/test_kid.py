"""KID against torch-fidelity's implementation (same subsets, same seed)."""

import pytest
import torch

from ganbench.errors import BadInput
from ganbench.metrics.kid import kid


def _tf_kid(f1, f2, subsets, size, seed):
    from torch_fidelity.metric_kid import kid_features_to_metric

    out = kid_features_to_metric(f1, f2, kid_subsets=subsets, kid_subset_size=size, rng_seed=seed, verbose=False,
                                 kid_kernel="poly", kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None,
                                 kid_kernel_poly_coef0=1)
    return out["kernel_inception_distance_mean"], out["kernel_inception_distance_std"]


@pytest.mark.parametrize("n1,n2,size", [(60, 50, 40), (300, 40, 20)])  # both code paths (full Gram / per subset)
def test_matches_torch_fidelity(n1, n2, size):
    g = torch.Generator().manual_seed(n1)
    f1 = torch.rand(n1, 128, generator=g)
    f2 = torch.rand(n2, 128, generator=g) * 1.2
    mean, std = kid(f1, f2, num_subsets=10, subset_size=size, seed=7)
    ref_mean, ref_std = _tf_kid(f1, f2, 10, size, 7)
    assert mean == pytest.approx(ref_mean, abs=1e-6)
    assert std == pytest.approx(ref_std, abs=1e-6)


def test_same_distribution_is_near_zero_and_subset_size_capped():
    g = torch.Generator().manual_seed(3)
    f = torch.rand(200, 32, generator=g)
    mean, _ = kid(f[:100], f[100:], num_subsets=20, subset_size=1000, seed=0)  # capped at 100
    far, _ = kid(f[:100], f[100:] + 0.5, num_subsets=20, subset_size=1000, seed=0)
    assert abs(mean) < 0.01 * far


def test_bad_inputs():
    with pytest.raises(BadInput, match="at least 2"):
        kid(torch.zeros(1, 4), torch.zeros(5, 4))
    with pytest.raises(BadInput, match="equal D"):
        kid(torch.zeros(5, 4), torch.zeros(5, 3))
