"""Seed statistics against hand computations."""

import math

import pytest

from ganbench.bench.stats import holm, summarize, welch


def test_summary_matches_hand_computation():
    s = summarize([1.0, 2.0, 3.0])
    # mean 2, sample std 1, 95% t interval half-width t(0.975, df=2) / sqrt(3); t(0.975, 2) = 4.302652729911275
    assert s.n == 3 and s.mean == pytest.approx(2.0, abs=1e-12) and s.std == pytest.approx(1.0, abs=1e-12)
    assert s.ci == pytest.approx(4.302652729911275 / math.sqrt(3), rel=1e-9)


def test_summary_skips_missing_and_handles_one_seed():
    s = summarize([5.0, None, float("nan")])
    assert s.n == 1 and s.mean == 5.0 and math.isnan(s.std) and math.isnan(s.ci)
    assert summarize([]).n == 0 and math.isnan(summarize([]).mean)


def test_welch_matches_hand_formula():
    a, b = [10.0, 11.0, 12.5, 10.5], [13.0, 14.0, 13.5]
    ma, mb = sum(a) / 4, sum(b) / 3
    va = sum((x - ma) ** 2 for x in a) / 3
    vb = sum((x - mb) ** 2 for x in b) / 2
    t = (ma - mb) / math.sqrt(va / 4 + vb / 3)
    c = welch(a, b)
    assert c.t == pytest.approx(t, rel=1e-12) and c.diff == pytest.approx(ma - mb)
    # Welch-Satterthwaite df; p = 2 * P(T_df > |t|) (regularised incomplete beta via scipy.special)
    from scipy.special import betainc
    df = (va / 4 + vb / 3) ** 2 / ((va / 4) ** 2 / 3 + (vb / 3) ** 2 / 2)
    p = betainc(df / 2, 0.5, df / (df + t * t))
    assert c.p == pytest.approx(p, rel=1e-9)
    assert c.significant is bool(p < 0.05) and c.significant


def test_welch_not_testable_with_one_seed():
    c = welch([1.0], [2.0, 3.0])
    assert c.significant is None and "needs >= 2 seeds" in c.describe()


def test_holm_matches_hand_computation():
    # sorted: 0.005, 0.01, 0.03, 0.04 (m = 4) -> 4 * 0.005 = 0.02, 3 * 0.01 = 0.03, 2 * 0.03 = 0.06,
    # 1 * 0.04 = 0.04 raised to the running maximum 0.06; back in the given order. The NaN is not counted in m.
    assert holm([0.01, 0.04, float("nan"), 0.03, 0.005]) == pytest.approx([0.03, 0.06, math.nan, 0.06, 0.02],
                                                                          nan_ok=True, rel=1e-12)
    assert holm([0.3, 0.6]) == pytest.approx([0.6, 0.6])  # 2 * 0.3 = 0.6, then max(0.6, 1 * 0.6)
    assert holm([0.02]) == [0.02] and holm([0.9, 0.8]) == [1.0, 1.0] and holm([]) == []
