"""The search report's rank statistics against Spearman's rho computed by hand (1 - 6 sum d^2 / (n (n^2 - 1)),
no ties): first rung vs final over the trials that reached the end, and rung by rung over every finished trial."""

import pytest

from ganbench.bench.search.report import rank_agreement, rung_agreement


def _row(status, *scores):
    rungs = [{"kimg": k, "score": s, "decision": "promoted"} for k, s in zip((40.0, 200.0, 1000.0), scores)]
    return {"status": status, "provenance": {"trial": {"rungs": rungs}}}


ROWS = [_row("ok", 10, 20, 30), _row("ok", 20, 10, 10), _row("ok", 30, 30, 20),
        _row("pruned", 40, 40), _row("pruned", 50), _row("failed", 5, 5, 5)]


def test_first_rung_against_final_over_the_trials_that_finished():
    # first-rung ranks 1 2 3, final ranks 3 1 2: d = -2 1 1, sum d^2 = 6, rho = 1 - 36 / 24
    assert rank_agreement(ROWS) == (pytest.approx(-0.5), 3)


def test_rung_by_rung_counts_pruned_trials_and_leaves_failed_ones_out():
    (a1, b1, rho1, n1), (a2, b2, rho2, n2) = rung_agreement(ROWS, [40.0, 200.0, 1000.0])
    # 40 -> 200 over A B C D: ranks 1 2 3 4 against 2 1 3 4, sum d^2 = 2, rho = 1 - 12 / 60
    assert (a1, b1, n1) == (40.0, 200.0, 4) and rho1 == pytest.approx(0.8)
    # 200 -> 1000 over A B C: ranks 2 1 3 against 3 1 2, sum d^2 = 2, rho = 1 - 12 / 24
    assert (a2, b2, n2) == (200.0, 1000.0, 3) and rho2 == pytest.approx(0.5)


def test_fewer_than_three_pairs_give_no_rho():
    (_, _, rho, n), = rung_agreement(ROWS[:2], [40.0, 200.0])
    assert n == 2 and rho != rho  # NaN
