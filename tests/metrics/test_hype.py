"""HYPE∞ and its bootstrap intervals on a hand-made answer table, against a computation by hand; per-image rates;
the chance that a random guesser passes the qualification."""

import math

import numpy as np
import pytest

from ganbench.metrics import registry
from ganbench.metrics.hype import (answer_table, bootstrap_ci, evaluator_summary, guesser_pass_probability, hype,
                                   hype_scores, image_results, right_needed)

# Three evaluators, six images (x1, x3, x5 generated; x2, x4, x6 real), four answers each, six of them wrong.
ROWS = [
    ("a", "x1", "fake", "real"), ("a", "x2", "real", "real"), ("a", "x3", "fake", "fake"), ("a", "x4", "real", "fake"),
    ("b", "x1", "fake", "fake"), ("b", "x2", "real", "real"), ("b", "x5", "fake", "real"), ("b", "x6", "real", "real"),
    ("c", "x3", "fake", "real"), ("c", "x4", "real", "real"), ("c", "x5", "fake", "real"), ("c", "x6", "real", "fake"),
]


def test_scores_by_hand():
    s = hype_scores(answer_table(ROWS))
    assert s["hype_inf"] == pytest.approx(6 / 12)  # a: x1, x4; b: x5; c: x3, x5, x6
    assert s["hype_fakes"] == pytest.approx(4 / 6)  # fakes judged real: a-x1, b-x5, c-x3, c-x5
    assert s["hype_reals"] == pytest.approx(2 / 6)  # reals judged fake: a-x4, c-x6


def test_evaluator_bootstrap_by_hand():
    """The paper's bootstrap: evaluators resampled with replacement, each replicate the share of wrong answers among
    the drawn evaluators' answers. Per evaluator (4 answers each: 2 fakes, 2 reals), wrong answers overall / on
    fakes / on reals: a 2/1/1, b 1/1/0, c 3/2/1."""
    # numpy.random.default_rng(0).integers(0, 3, 3), replicate after replicate (evaluators in order of appearance:
    # a b c):
    #   1: [2 1 1] -> b twice, c once: overall (2*1 + 3)/12 = 5/12, fakes (2*1 + 2)/6 = 2/3, reals (0 + 1)/6 = 1/6
    #   2: [0 0 0] -> a thrice: 2/4 = 1/2, fakes 1/2, reals 1/2
    #   3: [0 0 0] -> the same: 1/2, 1/2, 1/2
    #   4: [2 1 2] -> b once, c twice: overall (1 + 2*3)/12 = 7/12, fakes (1 + 2*2)/6 = 5/6, reals (0 + 2*1)/6 = 1/3
    # 50% interval = 25th and 75th percentiles of four values (linear: positions 0.75 and 2.25 of the sorted ones).
    rng = np.random.default_rng(0)
    assert [tuple(int(v) for v in rng.integers(0, 3, 3)) for _ in range(4)] == [(2, 1, 1), (0, 0, 0), (0, 0, 0),
                                                                                  (2, 1, 2)]
    ci = bootstrap_ci(answer_table(ROWS), replicates=4, seed=0, confidence=0.5)  # method="evaluators": the default
    # overall, sorted 5/12 1/2 1/2 7/12: 5/12 + 0.75 (1/2 - 5/12) = 23/48; 1/2 + 0.25 (7/12 - 1/2) = 25/48
    assert ci["hype_inf"] == pytest.approx((23 / 48, 25 / 48), abs=1e-15)
    # fakes, sorted 1/2 1/2 2/3 5/6: 1/2; 2/3 + 0.25 (5/6 - 2/3) = 17/24
    assert ci["hype_fakes"] == pytest.approx((1 / 2, 17 / 24), abs=1e-15)
    # reals, sorted 1/6 1/3 1/2 1/2: 1/6 + 0.75 (1/3 - 1/6) = 7/24; 1/2
    assert ci["hype_reals"] == pytest.approx((7 / 24, 1 / 2), abs=1e-15)


def test_identical_evaluators_give_a_point_interval():
    """Every evaluator answers alike: every evaluator-bootstrap replicate is the point score, so is the interval."""
    pattern = [("x1", "fake", "real"), ("x2", "real", "real"), ("x3", "fake", "fake"), ("x4", "real", "fake"),
               ("x5", "fake", "real"), ("x6", "real", "real"), ("x7", "fake", "fake"), ("x8", "real", "real")]
    rows = [(who, *answer) for who in "abcde" for answer in pattern]
    ci = bootstrap_ci(answer_table(rows), replicates=1000, seed=7)
    assert ci == {"hype_inf": (3 / 8, 3 / 8), "hype_fakes": (2 / 4, 2 / 4), "hype_reals": (1 / 4, 1 / 4)}
    two_way = bootstrap_ci(answer_table(rows), replicates=1000, seed=7, method="two-way")
    assert two_way["hype_inf"][0] < 3 / 8 < two_way["hype_inf"][1]  # images resampled: not a point


def test_two_way_bootstrap_by_hand():
    # numpy.random.default_rng(0) draws, per replicate, 3 evaluators then 6 images (indices in order of appearance:
    # a b c; x1 x2 x3 x4 x5 x6):
    #   1: evaluators [2 1 1] -> b twice, c once; images [1 1 0 0 0 1] -> x1 3x, x2 3x. Only b-x1 (6) and b-x2 (6)
    #      weigh: both right -> overall 0, fakes 0, reals 0.
    #   2: evaluators [2 1 2] -> b 1, c 2; images [3 3 5 4 3 3] -> x4 4x, x5 1x, x6 1x. b-x5 1 (wrong), b-x6 1,
    #      c-x4 8, c-x5 2 (wrong), c-x6 2 (wrong): overall 5/14, fakes 3/3, reals 2/11.
    #   3: evaluators [1 2 0] -> a, b, c once; images [4 4 0 2 5 3] -> x5 2x, x1, x3, x4, x6 1x, x2 0x.
    #      overall: weight 12, wrong a-x1 1 + a-x4 1 + b-x5 2 + c-x3 1 + c-x5 2 + c-x6 1 = 8 -> 2/3;
    #      fakes: weight 8, wrong 6 -> 3/4; reals: weight 4, wrong 2 -> 1/2.
    # 50% interval = 25th and 75th percentiles of three values (linear): v0 + (v1 - v0)/2 and v1 + (v2 - v1)/2.
    assert [tuple(d) for d in _draws(0, 3)] == [((2, 1, 1), (1, 1, 0, 0, 0, 1)), ((2, 1, 2), (3, 3, 5, 4, 3, 3)),
                                                ((1, 2, 0), (4, 4, 0, 2, 5, 3))]
    ci = bootstrap_ci(answer_table(ROWS), replicates=3, seed=0, confidence=0.5, method="two-way")
    assert ci["hype_inf"] == pytest.approx((5 / 28, (5 / 14 + 2 / 3) / 2))
    assert ci["hype_fakes"] == pytest.approx((3 / 8, 7 / 8))
    assert ci["hype_reals"] == pytest.approx((1 / 11, (2 / 11 + 1 / 2) / 2))


def _draws(seed, n):
    rng = np.random.default_rng(seed)
    return [(tuple(int(v) for v in rng.integers(0, 3, 3)), tuple(int(v) for v in rng.integers(0, 6, 6)))
            for _ in range(n)]


def _interp(values, p):
    values = sorted(values)
    pos = p * (len(values) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def _random_rows():
    rng = np.random.default_rng(5)
    return [(f"e{e}", f"i{i}", "fake" if i % 2 else "real", "fake" if rng.random() < 0.6 else "real")
            for e in range(7) for i in rng.choice(20, 8, replace=False)]


def test_evaluator_bootstrap_equals_a_loop_over_answers():
    """Per-evaluator sums weighted by draw counts equal answers counted one by one, over 300 replicates at 95%."""
    rows = _random_rows()
    evaluators = list(dict.fromkeys(r[0] for r in rows))
    draw = np.random.default_rng(11)
    values = []
    for _ in range(300):
        drawn = list(draw.integers(0, len(evaluators), len(evaluators)))
        picked = [r for k in drawn for r in rows if r[0] == evaluators[k]]  # the drawn evaluators' answers
        values.append(sum(truth != answer for _, _, truth, answer in picked) / len(picked))
    ci = bootstrap_ci(answer_table(rows), replicates=300, seed=11)
    assert ci["hype_inf"] == pytest.approx((_interp(values, 0.025), _interp(values, 0.975)), abs=1e-12)


def test_two_way_bootstrap_equals_a_loop_over_answers():
    """The vectorised weights equal weights counted answer by answer, over many replicates and a 95% interval."""
    rows = _random_rows()
    table = answer_table(rows)
    ci = bootstrap_ci(table, replicates=300, seed=11, method="two-way")
    evaluators = list(dict.fromkeys(r[0] for r in rows))
    images = list(dict.fromkeys(r[1] for r in rows))
    draw = np.random.default_rng(11)
    values = []
    for _ in range(300):
        e = list(draw.integers(0, len(evaluators), len(evaluators)))
        i = list(draw.integers(0, len(images), len(images)))
        num = den = 0
        for who, img, truth, answer in rows:
            w = e.count(evaluators.index(who)) * i.count(images.index(img))
            num += w * (truth != answer)
            den += w
        if den:
            values.append(num / den)
    assert ci["hype_inf"] == pytest.approx((_interp(values, 0.025), _interp(values, 0.975)))
    point = hype_scores(table)["hype_inf"]
    assert ci["hype_inf"][0] <= point <= ci["hype_inf"][1]
    paper = bootstrap_ci(table, replicates=300, seed=11)["hype_inf"]
    assert paper[1] - paper[0] < ci["hype_inf"][1] - ci["hype_inf"][0]  # here the two-way interval is the wider


def test_seeded_and_stored_values():
    table = answer_table(ROWS)
    a, b = hype(table, replicates=500, seed=3), hype(table, replicates=500, seed=3)
    assert a == b and a["hype_evaluators"] == 3 and a["hype_inf"] == 0.5
    assert a["hype_inf_lo"] <= 0.5 <= a["hype_inf_hi"]
    assert set(a) == {c.key for c in registry.METRICS.get("hype").columns}


def test_bad_tables_and_settings():
    with pytest.raises(ValueError, match="real"):
        answer_table([("a", "x", "fake", "maybe")])
    with pytest.raises(ValueError):
        bootstrap_ci(answer_table(ROWS), replicates=0)
    with pytest.raises(ValueError, match="method"):
        bootstrap_ci(answer_table(ROWS), method="images")
    empty = answer_table([])
    assert math.isnan(hype_scores(empty)["hype_inf"]) and all(math.isnan(v) for v in bootstrap_ci(empty)["hype_inf"])


def test_image_results_by_hand():
    # fakes judged real: x1 1 of 2 (a), x3 1 of 2 (c), x5 2 of 2 (b, c); reals judged fake: x2 0 of 2, x4 1 of 2 (a),
    # x6 1 of 2 (c). Most often wrong first, ties by more answers, then by id.
    got = [(r.image, r.truth, r.wrong, r.answers) for r in image_results(ROWS)]
    assert got == [("x5", "fake", 2, 2), ("x1", "fake", 1, 2), ("x3", "fake", 1, 2), ("x4", "real", 1, 2),
                   ("x6", "real", 1, 2), ("x2", "real", 0, 2)]
    with pytest.raises(ValueError, match="both"):
        image_results([("a", "x", "fake", "real"), ("b", "x", "real", "real")])


def test_a_random_guesser_rarely_passes_the_qualification():
    """The paper's qualification (100 images, 65% of the 50 reals AND of the 50 fakes): at least 33 of each right, so
    a fair coin passes with P(Bin(50, 1/2) >= 33)^2 = 0.0164196^2 = 2.696e-4, about 1 in 3,709; ganbench's earlier
    tutorial gate (5 + 5 images, 4 of each) let (6/32)^2 = 9/256 through, 1 in 28."""
    assert right_needed(50, 0.65) == 33 and right_needed(5, 0.65) == 4 and right_needed(20, 0.65) == 13
    tail = sum(math.comb(50, k) for k in range(33, 51)) / 2 ** 50
    assert tail == pytest.approx(0.016419568782134242, rel=1e-12)
    assert guesser_pass_probability(100, 0.65) == pytest.approx(tail ** 2, rel=1e-12)
    assert round(1 / guesser_pass_probability(100, 0.65)) == 3709
    assert guesser_pass_probability(10, 0.65) == 9 / 256  # the study's gate agrees: tests/human/test_study.py


def test_evaluator_summary():
    s = evaluator_summary(["fake", "fake", "real", "real"], ["real", "fake", "real", "fake"])
    assert s == {"answers": 4, "right": 2, "fakes": 2, "fakes_judged_real": 1, "reals": 2, "reals_judged_fake": 1,
                 "error_rate": 0.5}
    assert evaluator_summary([], [])["error_rate"] is None


def test_measured_by_people_not_requested_with_metrics():
    assert "hype" not in registry.names()
    with pytest.raises(Exception, match="measured by people"):
        registry.parse("fid,hype", ())
