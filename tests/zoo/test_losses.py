"""Each loss against a hand computation on fixed D outputs (tolerance 1e-6)."""

import math

import pytest
import torch

from ganbench.zoo.losses import LOSSES

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def sig(x):
    return 1 / (1 + math.exp(-x))


def mean(xs):
    return sum(xs) / len(xs)


def bce(xs, t):  # hand-written: -t log s(x) - (1 - t) log(1 - s(x))
    return mean([-t * math.log(sig(x)) - (1 - t) * math.log(1 - sig(x)) for x in xs])


R, F = REAL.tolist(), FAKE.tolist()
CASES = {
    "minimax": (bce(R, 1) + bce(F, 0), mean([math.log(1 - sig(x)) for x in F])),
    "ns": (bce(R, 1) + bce(F, 0), mean([-math.log(sig(x)) for x in F])),
    "lsgan": (0.5 * mean([(x - 1) ** 2 for x in R]) + 0.5 * mean([x ** 2 for x in F]),
              0.5 * mean([(x - 1) ** 2 for x in F])),
    # compare_gan v1 LSGAN.py: least squares on the sigmoid output
    "lsgan_sigmoid": (0.5 * mean([(sig(x) - 1) ** 2 for x in R]) + 0.5 * mean([sig(x) ** 2 for x in F]),
                      0.5 * mean([(sig(x) - 1) ** 2 for x in F])),
    "wgan": (mean(F) - mean(R), -mean(F)),
    "hinge": (mean([max(0, 1 - x) for x in R]) + mean([max(0, 1 + x) for x in F]), -mean(F)),
    "ragan": (bce([x - mean(F) for x in R], 1) + bce([x - mean(R) for x in F], 0),
              bce([x - mean(R) for x in F], 1) + bce([x - mean(F) for x in R], 0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_values(name):
    pair = LOSSES.get(name)
    d_ref, g_ref = CASES[name]
    assert pair.d_loss(REAL, FAKE).item() == pytest.approx(d_ref, abs=1e-6)
    assert pair.g_loss(FAKE, REAL).item() == pytest.approx(g_ref, abs=1e-6)


def test_every_registered_loss_is_checked():
    assert set(LOSSES) == set(CASES)


def test_label_smoothing_target():
    d = LOSSES.get("ns").d_loss(REAL, FAKE, real_target=0.9)
    assert d.item() == pytest.approx(bce(R, 0.9) + bce(F, 0), abs=1e-6)
    d = LOSSES.get("lsgan").d_loss(REAL, FAKE, real_target=0.9)
    assert d.item() == pytest.approx(0.5 * mean([(x - 0.9) ** 2 for x in R]) + 0.5 * mean([x ** 2 for x in F]), abs=1e-6)


def test_large_logits_stay_finite():
    big = torch.tensor([80.0, -80.0])
    for name in CASES:
        pair = LOSSES.get(name)
        assert torch.isfinite(pair.d_loss(big, -big)) and torch.isfinite(pair.g_loss(-big, big))
