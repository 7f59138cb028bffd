"""Statistics over seeds: mean, std, a t-based 95% confidence interval, Welch's t-test, and Holm's adjustment of
a family of tests' p-values.

Pure functions of numbers (scipy.stats does the distributions); the tables call them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

#: Confidence level of intervals and significance level of tests.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Summary:
    """Mean over seeds; ``std`` (ddof=1) and ``ci`` (half-width of the 95% t interval) are NaN below 2 seeds."""

    n: int
    mean: float
    std: float
    ci: float


def summarize(values: Sequence[float]) -> Summary:
    """Summary of the finite values (a diverged seed has no value and does not count)."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    n = int(x.size)
    if n == 0:
        return Summary(0, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n < 2:
        return Summary(n, mean, math.nan, math.nan)
    std = float(x.std(ddof=1))
    ci = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * std / math.sqrt(n))
    return Summary(n, mean, std, ci)


@dataclass(frozen=True)
class Comparison:
    """Welch's t-test of two models' per-seed values: ``p`` is NaN when either has fewer than 2 seeds."""

    diff: float  # mean(a) - mean(b)
    t: float
    p: float
    significant: bool | None  # None: not testable

    def describe(self, alpha: float = 1 - CONFIDENCE) -> str:
        if self.significant is None:
            return "not testable (needs >= 2 seeds per model)"
        verdict = "significant" if self.significant else "not significant"
        return f"{verdict} (Welch t = {self.t:.2f}, p = {self.p:.3g}, alpha = {alpha:g})"


def welch(a: Sequence[float], b: Sequence[float], alpha: float = 1 - CONFIDENCE) -> Comparison:
    """Is mean(a) != mean(b)? Welch's unequal-variance t-test over seeds (two-sided)."""
    xa = np.asarray([v for v in a if v is not None and math.isfinite(v)], dtype=np.float64)
    xb = np.asarray([v for v in b if v is not None and math.isfinite(v)], dtype=np.float64)
    diff = float(xa.mean() - xb.mean()) if xa.size and xb.size else math.nan
    if xa.size < 2 or xb.size < 2:
        return Comparison(diff, math.nan, math.nan, None)
    if xa.var(ddof=1) == 0 and xb.var(ddof=1) == 0:  # identical seeds: t undefined, difference exact
        return Comparison(diff, math.inf if diff else 0.0, 0.0 if diff else 1.0, bool(diff))
    res = stats.ttest_ind(xa, xb, equal_var=False)
    return Comparison(diff, float(res.statistic), float(res.pvalue), bool(res.pvalue < alpha))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment (Holm 1979) of a family of p-values, in their given order: sorted ascending,
    the i-th smallest (1-based) of the m finite ones becomes max over j <= i of min(1, (m - j + 1) * p_(j)).
    Rejecting where the adjusted p < alpha keeps the chance of any false rejection in the family at or below
    alpha, whatever the tests' dependence. NaN (a test that could not be run) stays NaN and is not counted in m."""
    finite = sorted((p, i) for i, p in enumerate(pvalues) if p is not None and math.isfinite(p))
    out = [math.nan] * len(pvalues)
    m, running = len(finite), 0.0
    for rank, (p, i) in enumerate(finite):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out
