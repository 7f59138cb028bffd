"""HYPE_time: the shortest exposure at which people tell a model's images from real ones, from an adaptive staircase.

Zhou, Gordon, Krishna, Narcomey, Fei-Fei & Bernstein, "HYPE: A Benchmark for Human eYe Perceptual Evaluation of
Generative Models", NeurIPS 2019 (arXiv:1904.01121). HYPE_time, the paper's primary measure, shows each image for a
limited time, followed by a mask, and moves the exposure with an adaptive staircase (from a 100 ms floor; the 1,000
ms ceiling as the paper's method is remembered, see the README); an evaluator's perceptual threshold is the exposure
they were shown most often (the modal exposure time), and a model's HYPE_time is the mean of its evaluators'
thresholds in milliseconds, with a 95% bootstrap interval over evaluators. Longer is better: people need more time
to see that the images are generated.

The staircase here is the transformed up-down rule of Levitt 1971 (3-up/1-down, as the paper's method is
remembered; the paper's text was not available offline): after ``down_after``
right answers in a row the exposure drops by ``step_ms``, after one wrong answer it rises by ``step_ms``, both
clipped to [``min_ms``, ``max_ms``]; with 3 in a row it settles where an evaluator is right 79.4% of the time. An
answer whose exposure was not shown as asked (``valid`` False: the browser missed its target by more than one
frame) neither moves the staircase nor counts towards the threshold; the study counts these drops.

Only the numbers are here: the study (pages, timing, answers) lives in ``ganbench.human`` and ``ganbench human
score`` writes the values, so the registration has ``source="people"``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

from .hype import check_bootstrap, percentile_interval
from .registry import Column, Context, Unavailable, metric

#: HYPE_time's exposures in milliseconds: the paper's range, the staircase's bounds (a study's ``--start-ms`` and
#: ``--step-ms`` are checked against it).
HYPE_TIME_RANGE_MS = (100.0, 1000.0)


@dataclass(frozen=True)
class Staircase:
    """The exposure ladder: where it starts, how far one move goes, its bounds, and how many right answers in a row
    make it harder."""

    start_ms: float = 500.0
    step_ms: float = 30.0
    min_ms: float = HYPE_TIME_RANGE_MS[0]
    max_ms: float = HYPE_TIME_RANGE_MS[1]
    down_after: int = 3

    def targets(self, outcomes: Sequence[bool | None]) -> list[float]:
        """The exposure of each trial ``k`` and of the next one (``len(outcomes) + 1`` values): trial ``k``'s comes
        from the outcomes before it (True right, False wrong, None dropped: no move, no count)."""
        level, run, out = self._clip(self.start_ms), 0, []
        for outcome in outcomes:
            out.append(level)
            if outcome is None:
                continue
            if outcome:
                run += 1
                if run == self.down_after:
                    level, run = self._clip(level - self.step_ms), 0
            else:
                level, run = self._clip(level + self.step_ms), 0
        out.append(level)
        return out

    def _clip(self, ms: float) -> float:
        return float(min(self.max_ms, max(self.min_ms, ms)))


def threshold(targets: Iterable[float]) -> float:
    """An evaluator's perceptual threshold: the exposure of most of their counted trials (the mode; a tie goes to
    the shortest of the tied exposures). NaN without trials."""
    counts = Counter(round(float(t), 6) for t in targets)
    if not counts:
        return math.nan
    most = max(counts.values())
    return min(t for t, n in counts.items() if n == most)


def thresholds(trials: Iterable[tuple[str, float, bool]]) -> dict[str, float]:
    """Each evaluator's threshold from ``(evaluator, target_ms, valid)`` trials (dropped ones left out), in order of
    first appearance; an evaluator with no counted trial is left out."""
    kept: dict[str, list[float]] = {}
    for who, target, valid in trials:
        kept.setdefault(who, [])
        if valid:
            kept[who].append(target)
    return {who: threshold(t) for who, t in kept.items() if t}


def bootstrap_ci(values: Sequence[float], replicates: int = 10_000, seed: int = 0,
                 confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (one per evaluator): each replicate draws E evaluators
    with replacement (``integers(0, E, E)`` of one ``numpy.random.default_rng(seed)`` stream, replicate after
    replicate), the interval is the (1 - confidence)/2 and (1 + confidence)/2 percentiles (numpy's linear
    interpolation)."""
    check_bootstrap(replicates, confidence)
    v = np.asarray(values, dtype=np.float64)
    if not v.size:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    return percentile_interval([v[rng.integers(0, v.size, v.size)].mean() for _ in range(replicates)], confidence)


def hype_time(by_evaluator: Mapping[str, float], dropped: int = 0, replicates: int = 10_000, seed: int = 0,
              confidence: float = 0.95) -> dict[str, float]:
    """Every stored value of the metric from the evaluators' thresholds: the mean, its interval, the evaluator count
    and the answers dropped for an exposure shown off target."""
    v = list(by_evaluator.values())
    lo, hi = bootstrap_ci(v, replicates, seed, confidence)
    return {"hype_time": float(np.mean(v)) if v else math.nan, "hype_time_lo": lo, "hype_time_hi": hi,
            "hype_time_evaluators": float(len(v)), "hype_time_dropped": float(dropped)}


@metric("hype_time", columns=(
            Column("hype_time", "HYPE_time (ms)", "higher", digits=0, interval=("hype_time_lo", "hype_time_hi"),
                   count="hype_time_evaluators"),
            Column("hype_time_lo", "HYPE_time CI low (ms)", digits=0),
            Column("hype_time_hi", "HYPE_time CI high (ms)", digits=0),
            Column("hype_time_evaluators", "HYPE_time evaluators who finished", digits=0),
            Column("hype_time_dropped", "HYPE_time answers dropped (exposure off target)", digits=0)),
        features=(), space="human judgement", needs_reference=False, source="people",
        description="HYPE_time (Zhou et al. 2019): the exposure (ms) at which people tell generated images from real "
                    "ones, from an adaptive staircase over 100-1000 ms (longer = more realistic), with a 95% "
                    "bootstrap CI over evaluators")
def _hype_time(ctx: Context) -> dict[str, float]:
    raise Unavailable("HYPE_time is measured by people: `ganbench human serve RUN_DIR --variant time`, then "
                      "`ganbench human score`")
