"""HYPE∞ and its bootstrap interval on a hand-made answer table, against a computation by hand."""

import math

import numpy as np
import pytest

from ganbench.metrics import registry
from ganbench.metrics.hype import answer_table, bootstrap_ci, evaluator_summary, hype, hype_scores

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


def test_bootstrap_by_hand():
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
    ci = bootstrap_ci(answer_table(ROWS), replicates=3, seed=0, confidence=0.5)
    assert ci["hype_inf"] == pytest.approx((5 / 28, (5 / 14 + 2 / 3) / 2))
    assert ci["hype_fakes"] == pytest.approx((3 / 8, 7 / 8))
    assert ci["hype_reals"] == pytest.approx((1 / 11, (2 / 11 + 1 / 2) / 2))


def _draws(seed, n):
    rng = np.random.default_rng(seed)
    return [(tuple(int(v) for v in rng.integers(0, 3, 3)), tuple(int(v) for v in rng.integers(0, 6, 6)))
            for _ in range(n)]


def test_bootstrap_equals_a_loop_over_answers():
    """The vectorised weights equal weights counted answer by answer, over many replicates and a 95% interval."""
    rng = np.random.default_rng(5)
    rows = [(f"e{e}", f"i{i}", "fake" if i % 2 else "real", "fake" if rng.random() < 0.6 else "real")
            for e in range(7) for i in rng.choice(20, 8, replace=False)]
    table = answer_table(rows)
    ci = bootstrap_ci(table, replicates=300, seed=11)
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
    values.sort()
    lo_pos, hi_pos = 0.025 * (len(values) - 1), 0.975 * (len(values) - 1)

    def interp(p):
        lo, hi = math.floor(p), math.ceil(p)
        return values[lo] + (values[hi] - values[lo]) * (p - lo)

    assert ci["hype_inf"] == pytest.approx((interp(lo_pos), interp(hi_pos)))
    point = hype_scores(table)["hype_inf"]
    assert ci["hype_inf"][0] <= point <= ci["hype_inf"][1]


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
    empty = answer_table([])
    assert math.isnan(hype_scores(empty)["hype_inf"]) and all(math.isnan(v) for v in bootstrap_ci(empty)["hype_inf"])


def test_evaluator_summary():
    s = evaluator_summary(["fake", "fake", "real", "real"], ["real", "fake", "real", "fake"])
    assert s == {"answers": 4, "right": 2, "fakes": 2, "fakes_judged_real": 1, "reals": 2, "reals_judged_fake": 1,
                 "error_rate": 0.5}
    assert evaluator_summary([], [])["error_rate"] is None


def test_measured_by_people_not_requested_with_metrics():
    assert "hype" not in registry.names()
    with pytest.raises(Exception, match="measured by people"):
        registry.parse("fid,hype", ())
