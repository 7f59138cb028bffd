"""scripts/search_budget.py: the kimg a search's halving spends, against hand counts."""

import numpy as np
import pytest

from tests.helpers import load_script

RUNGS = [40.0, 200.0, 1000.0]


@pytest.fixture(scope="module")
def sb():
    return load_script("search_budget")


def test_synchronous_halving_by_hand(sb):
    # 16 trials to 40 kimg, 3 of them on to 200, 1 to 1000: (16*40 + 3*160 + 1*800) / 16000
    assert sb.synchronous_share(16, RUNGS, 5) == pytest.approx(1920 / 16000)
    # 32 -> 6 -> 1: (32*40 + 6*160 + 800) / 32000
    assert sb.synchronous_share(32, RUNGS, 5) == pytest.approx(3040 / 32000)


def test_optunas_pruner_on_studies_decided_by_hand(sb):
    # each trial better than all before it at every rung: asynchronous halving lets every one go to the end
    improving = -np.arange(16.0)[:, None] * np.ones((1, 3))
    assert sb.asha_share(improving, RUNGS, 5) == pytest.approx(1.0)
    # each trial worse than all before: trial 0 goes to the end (nothing to compare it with), the rest stop at 40
    worsening = np.arange(16.0)[:, None] * np.ones((1, 3))
    assert sb.asha_share(worsening, RUNGS, 5) == pytest.approx((1000 + 15 * 40) / 16000)
