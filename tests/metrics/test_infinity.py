"""FID-infinity / IS-infinity: exact extrapolation of a 1/N line, and less bias than plain FID."""

import pytest
import torch

from ganbench.metrics.fid import frechet_distance, statistics
from ganbench.metrics.infinity import extrapolate, fid_infinity, is_infinity, subset_sizes


def test_extrapolate_recovers_intercept():
    sizes = subset_sizes(5000)
    assert sizes[0] == 500 and sizes[-1] == 5000 and len(sizes) == 15
    assert extrapolate(sizes, [3.25 + 70.0 / n for n in sizes]) == pytest.approx(3.25, abs=1e-9)


def test_fid_infinity_removes_most_of_the_bias():
    # Samples of N(0, I) against its exact statistics: the true FID is 0, plain FID is all 1/N bias.
    d, n = 32, 2000
    f = torch.randn(n, d, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    mu2, s2 = torch.zeros(d, dtype=torch.float64), torch.eye(d, dtype=torch.float64)
    mu1, s1 = statistics(f)
    plain = frechet_distance(mu1, s1, mu2, s2)
    inf = fid_infinity(f, (mu2, s2), seed=0)
    assert plain > 0.1
    assert abs(inf) < 0.2 * plain


def test_is_infinity_of_confident_uniform_predictions():
    logits = torch.full((400, 4), -1e4)
    logits[torch.arange(400), torch.arange(400) % 4] = 0.0
    assert is_infinity(logits, seed=0) == pytest.approx(4.0, abs=0.05)
