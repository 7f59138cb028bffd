"""HYPE∞: the rate at which people mistake fakes for reals and reals for fakes, with a bootstrap CI.

Zhou, Gordon, Krishna, Narcomey, Fei-Fei & Bernstein, "HYPE: A Benchmark for Human eYe Perceptual
Evaluation of Generative Models", NeurIPS 2019 (arXiv:1904.01121). HYPE∞, the paper's cheaper
variant, shows each evaluator real and generated images one at a time with no time limit and
scores the share judged wrongly: 50% means people cannot tell them apart, above 50% the fakes look
more real than the reals ("hyper-realism"). The paper splits the score into the error on fakes and
the error on reals, and reports it with a 95% bootstrap confidence interval (10,000 replicates that resample
its evaluators; a two-way bootstrap over evaluators and images is here as a wider option).

Here are only the numbers of an answer table. The study (images, pages, answers) lives in
``ganbench.human``, and ``ganbench human score`` writes the values into the store: ``evaluate``
never computes this metric, so its registration has ``source="people"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from .registry import Column, Context, Unavailable, metric

#: The three scores: every answer, the answers on generated images, the answers on real images.
SCORES = ("hype_inf", "hype_fakes", "hype_reals")


@dataclass(frozen=True)
class AnswerTable:
    """One model's answers as arrays, one entry per answer: who answered, on which image, the truth, the answer."""

    evaluator: np.ndarray  # (n,) int64: evaluator index, 0..E-1
    image: np.ndarray  # (n,) int64: image index, 0..I-1
    fake: np.ndarray  # (n,) bool: the image was generated
    said_fake: np.ndarray  # (n,) bool: the evaluator answered "fake"

    @property
    def wrong(self) -> np.ndarray:
        return self.fake != self.said_fake

    @property
    def num_evaluators(self) -> int:
        return int(self.evaluator.max()) + 1 if self.evaluator.size else 0

    @property
    def num_images(self) -> int:
        return int(self.image.max()) + 1 if self.image.size else 0


def answer_table(rows: Iterable[tuple[str, str, str, str]]) -> AnswerTable:
    """``(evaluator, image, truth, answer)`` rows (truth and answer are ``"real"``/``"fake"``) as an AnswerTable.

    Evaluators and images are numbered in order of first appearance."""
    evaluators: dict[str, int] = {}
    images: dict[str, int] = {}
    e, i, f, s = [], [], [], []
    for who, image, truth, answer in rows:
        if truth not in ("real", "fake") or answer not in ("real", "fake"):
            raise ValueError(f"truth and answer must be 'real' or 'fake', got {truth!r}, {answer!r}")
        e.append(evaluators.setdefault(who, len(evaluators)))
        i.append(images.setdefault(image, len(images)))
        f.append(truth == "fake")
        s.append(answer == "fake")
    return AnswerTable(np.asarray(e, dtype=np.int64), np.asarray(i, dtype=np.int64), np.asarray(f, dtype=bool),
                       np.asarray(s, dtype=bool))


def hype_scores(table: AnswerTable) -> dict[str, float]:
    """HYPE∞ and its two parts, as fractions in [0, 1] (NaN when a part has no answer).

    ``hype_inf``: wrong answers / answers; ``hype_fakes``: fakes judged real / fakes; ``hype_reals``: reals judged
    fake / reals. With every evaluator seeing as many reals as fakes (the study's design), ``hype_inf`` is also the
    mean of the two parts and of the evaluators' own error rates."""
    wrong = table.wrong
    out = {}
    for key, mask in zip(SCORES, _masks(table)):
        out[key] = float(wrong[mask].mean()) if mask.any() else math.nan
    return out


def _masks(table: AnswerTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.ones_like(table.fake), table.fake, ~table.fake


#: How a HYPE∞ interval resamples (a study's ``--bootstrap``): "evaluators" (the paper's: evaluators with replacement,
#: each replicate the share of wrong answers among the drawn evaluators' answers) or "two-way" (evaluators and images
#: together, Owen 2007: a defensible extra for a design where evaluators share images, wider than the paper's).
BOOTSTRAPS = ("evaluators", "two-way")
#: How each names itself in tables, reports and the CLI.
BOOTSTRAP_LABELS = {"evaluators": "percentile bootstrap over evaluators (the paper's)",
                    "two-way": "two-way percentile bootstrap over evaluators and images (Owen 2007; wider than the "
                               "paper's)"}


def bootstrap_ci(table: AnswerTable, replicates: int = 10_000, seed: int = 0, confidence: float = 0.95,
                 method: str = "evaluators") -> dict[str, tuple[float, float]]:
    """Percentile bootstrap interval of each score.

    ``method="evaluators"`` (the paper's): each replicate draws E evaluators with replacement
    (``integers(0, E, E)`` of one ``numpy.random.default_rng(seed)`` stream, replicate after replicate); an answer
    counts as often as its evaluator was drawn, and the replicate's score is the share of wrong answers among the
    drawn evaluators' answers. ``method="two-way"`` (a defensible extra, wider): each replicate draws E evaluators
    then I images with replacement (``integers(0, E, E)`` then ``integers(0, I, I)``); an answer counts as often
    as its evaluator was drawn times its image was drawn (the "pigeonhole" bootstrap of Owen 2007, for crossed
    designs like this one, where evaluators share images). A replicate that keeps no answer of a part is left out
    of that part. The interval is the (1 - confidence)/2 and (1 + confidence)/2 percentiles (numpy's linear
    interpolation).
    """
    check_bootstrap(replicates, confidence)
    if method not in BOOTSTRAPS:
        raise ValueError(f"method must be one of {BOOTSTRAPS}, got {method!r}")
    n_e, n_i = table.num_evaluators, table.num_images
    if not n_e:
        return {key: (math.nan, math.nan) for key in SCORES}
    rng = np.random.default_rng(seed)
    wrong = table.wrong.astype(np.float64)
    draws: dict[str, list[float]] = {key: [] for key in SCORES}
    if method == "evaluators":  # per evaluator and part: answers and wrong answers; a replicate is a weighted sum
        totals = {key: (np.bincount(table.evaluator[m], minlength=n_e).astype(np.float64),
                        np.bincount(table.evaluator[m], weights=wrong[m], minlength=n_e))
                  for key, m in zip(SCORES, _masks(table))}
        for _ in range(replicates):
            w_e = np.bincount(rng.integers(0, n_e, n_e), minlength=n_e).astype(np.float64)
            for key, (answers, wrongs) in totals.items():
                total = w_e @ answers
                if total > 0:
                    draws[key].append(float(w_e @ wrongs / total))
    else:
        parts = [(key, np.flatnonzero(mask)) for key, mask in zip(SCORES, _masks(table))]
        for _ in range(replicates):
            w_e = np.bincount(rng.integers(0, n_e, n_e), minlength=n_e)
            w_i = np.bincount(rng.integers(0, n_i, n_i), minlength=n_i)
            weight = (w_e[table.evaluator] * w_i[table.image]).astype(np.float64)
            for key, idx in parts:
                total = weight[idx].sum()
                if total > 0:
                    draws[key].append(float(weight[idx] @ wrong[idx] / total))
    return {key: percentile_interval(v, confidence) for key, v in draws.items()}


def check_bootstrap(replicates: int, confidence: float) -> None:
    """A bootstrap's settings: at least one replicate, a confidence in (0, 1)."""
    if replicates < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def percentile_interval(draws: Sequence[float], confidence: float) -> tuple[float, float]:
    """The (1 - confidence)/2 and (1 + confidence)/2 percentiles of the replicates (numpy's linear interpolation);
    NaN for no replicate."""
    if not len(draws):
        return math.nan, math.nan
    q = (100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2)
    return float(np.percentile(draws, q[0])), float(np.percentile(draws, q[1]))


def hype(table: AnswerTable, replicates: int = 10_000, seed: int = 0, confidence: float = 0.95,
         method: str = "evaluators") -> dict[str, float]:
    """Every stored value of the metric: the three scores, the interval of ``hype_inf`` and the evaluator count."""
    out = hype_scores(table)
    ci = bootstrap_ci(table, replicates, seed, confidence, method)
    out["hype_inf_lo"], out["hype_inf_hi"] = ci["hype_inf"]
    out["hype_evaluators"] = float(table.num_evaluators)
    return out


def evaluator_summary(truths: Sequence[str], answers: Sequence[str]) -> dict[str, int | float | None]:
    """One evaluator's own result (their thank-you page): counts right and wrong, their own error rate (None
    without answers)."""
    fakes = [a for t, a in zip(truths, answers) if t == "fake"]
    reals = [a for t, a in zip(truths, answers) if t == "real"]
    fakes_wrong = sum(a == "real" for a in fakes)
    reals_wrong = sum(a == "fake" for a in reals)
    n = len(fakes) + len(reals)
    return {"answers": n, "right": n - fakes_wrong - reals_wrong, "fakes": len(fakes), "fakes_judged_real": fakes_wrong,
            "reals": len(reals), "reals_judged_fake": reals_wrong,
            "error_rate": (fakes_wrong + reals_wrong) / n if n else None}


@dataclass(frozen=True)
class ImageResult:
    """One image's answers: how many, and how many were wrong (a fake judged real, a real judged fake)."""

    image: str
    truth: str
    answers: int
    wrong: int

    @property
    def rate(self) -> float:
        return self.wrong / self.answers


def image_results(rows: Iterable[tuple[str, str, str, str]]) -> list[ImageResult]:
    """Per image, from ``(evaluator, image, truth, answer)`` rows: its answers and wrong answers, most often wrong
    first (ties: more answers first, then the image id). A fake's rate is how often people judged it real, a
    real's how often they judged it fake."""
    counts: dict[str, list] = {}
    for _, image, truth, answer in rows:
        c = counts.setdefault(image, [truth, 0, 0])
        if c[0] != truth:
            raise ValueError(f"image {image} is both {c[0]} and {truth}")
        c[1] += 1
        c[2] += answer != truth
    out = [ImageResult(i, t, n, w) for i, (t, n, w) in counts.items()]
    return sorted(out, key=lambda r: (-r.rate, -r.answers, r.image))


def binomial_tail(n: int, k: int, p: float = 0.5) -> float:
    """P(X >= k) for X ~ Binomial(n, p), exactly (a sum of terms)."""
    return float(sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(max(k, 0), n + 1)))


def right_needed(n: int, pass_rate: float) -> int:
    """Right answers a gate needs out of ``n``: the least k with k / n >= pass_rate (65% of 50: 33; of 5: 4)."""
    return math.ceil(pass_rate * n - 1e-9)


def guesser_pass_probability(images: int, pass_rate: float) -> float:
    """The chance that an evaluator answering at random (a fair coin per image) passes a gate of ``images`` images,
    half real and half fake, by getting ``pass_rate`` of the reals AND of the fakes right (at least
    ``right_needed(images / 2, pass_rate)`` of each). A coin biased towards one answer does worse: the product of the two
    tails is largest for a fair coin."""
    half = images // 2
    if not half:
        return 1.0
    return binomial_tail(half, right_needed(half, pass_rate)) ** 2


@metric("hype", columns=(
            Column("hype_inf", "HYPE∞ (%)", "higher", scale=100, digits=1, interval=("hype_inf_lo", "hype_inf_hi"),
                   count="hype_evaluators"),
            Column("hype_inf_lo", "HYPE∞ CI low (%)", scale=100, digits=1),
            Column("hype_inf_hi", "HYPE∞ CI high (%)", scale=100, digits=1),
            Column("hype_fakes", "HYPE∞ fakes (%)", scale=100, digits=1),
            Column("hype_reals", "HYPE∞ reals (%)", scale=100, digits=1),
            Column("hype_evaluators", "evaluators who finished", digits=0)),
        features=(), space="human judgement", needs_reference=False, source="people",
        description="HYPE∞ (Zhou et al. 2019): the share of real-vs-fake judgements people get wrong, no time limit "
                    "(50% = indistinguishable), with a 95% bootstrap CI")
def _hype(ctx: Context) -> dict[str, float]:
    raise Unavailable("HYPE∞ is measured by people: `ganbench human serve RUN_DIR`, then `ganbench human score`")
