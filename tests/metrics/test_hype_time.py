"""HYPE_time's numbers against hand computations: the staircase's moves, an evaluator's modal exposure, the mean
over evaluators and its bootstrap interval over evaluators (Zhou et al. 2019)."""

import itertools
import math

import numpy as np
import pytest

from ganbench.metrics.hype_time import Staircase, bootstrap_ci, hype_time, threshold, thresholds


def test_three_right_in_a_row_shorten_one_wrong_lengthens_a_drop_does_nothing():
    s = Staircase(start_ms=500, step_ms=30)
    # by hand: 3 right -> 470; right (run 1), wrong -> 500 (run reset); dropped: no move, no count; 3 right -> 470
    outcomes = [True, True, True, True, False, None, True, True, True]
    assert s.targets(outcomes) == [500, 500, 500, 470, 470, 500, 500, 500, 500, 470]
    # the run of right answers restarts after a move down, and a drop does not break it
    assert s.targets([True, True, None, True, True, True, True]) == [500, 500, 500, 500, 470, 470, 470, 440]


def test_the_staircase_stays_in_the_papers_range():
    assert Staircase().min_ms == 100 and Staircase().max_ms == 1000
    assert Staircase(start_ms=110, step_ms=30).targets([True] * 6) == [110, 110, 110, 100, 100, 100, 100]
    assert Staircase(start_ms=980, step_ms=30).targets([False, False]) == [980, 1000, 1000]
    assert Staircase().targets([]) == [500]


def test_an_evaluators_threshold_is_their_modal_exposure():
    assert threshold([500, 470, 470, 500, 440, 470]) == 470
    assert threshold([500, 470, 500, 470]) == 470  # a tie goes to the shortest
    assert math.isnan(threshold([]))
    # dropped trials do not count; an evaluator with none counted is left out
    trials = [("a", 500, True), ("a", 470, True), ("a", 470, True), ("a", 500, False), ("a", 500, False),
              ("b", 300, True), ("c", 400, False)]
    assert thresholds(trials) == {"a": 470, "b": 300}


def test_the_mean_and_its_interval_equal_a_hand_computation():
    # two evaluators at 200 and 400 ms: a bootstrap mean is 200 (1/4), 300 (1/2) or 400 (1/4), so with 10,000
    # replicates the 2.5% and 97.5% percentiles are 200 and 400
    out = hype_time({"a": 200.0, "b": 400.0}, dropped=3, replicates=10_000, seed=0)
    assert out == {"hype_time": 300.0, "hype_time_lo": 200.0, "hype_time_hi": 400.0, "hype_time_evaluators": 2.0,
                   "hype_time_dropped": 3.0}
    # three evaluators: the 27 equally likely draws give the exact distribution of the bootstrap mean; the interval
    # of 40,000 replicates lies within 0.5 ms of its 2.5% and 97.5% quantiles (numpy's interpolation)
    v = [100.0, 250.0, 700.0]
    exact = sorted(np.mean([v[i] for i in draw]) for draw in itertools.product(range(3), repeat=3))
    lo, hi = bootstrap_ci(v, replicates=40_000, seed=1)
    weights = np.full(27, 1 / 27)
    cdf = np.cumsum(weights)
    q = lambda p: exact[int(np.searchsorted(cdf, p - 1e-12))]  # noqa: E731
    assert lo == pytest.approx(q(0.025), abs=0.5) and hi == pytest.approx(q(0.975), abs=0.5)
    # the stream: replicate r draws integers(0, E, E) of one default_rng(seed)
    rng = np.random.default_rng(7)
    means = [np.mean([v[i] for i in rng.integers(0, 3, 3)]) for _ in range(500)]
    assert bootstrap_ci(v, replicates=500, seed=7) == (np.percentile(means, 2.5), np.percentile(means, 97.5))


def test_no_evaluator_gives_nan():
    out = hype_time({})
    assert math.isnan(out["hype_time"]) and math.isnan(out["hype_time_lo"]) and out["hype_time_evaluators"] == 0
