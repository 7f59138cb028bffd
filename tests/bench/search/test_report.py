"""The search report's statistics by hand: Spearman's rho (1 - 6 sum d^2 / (n (n^2 - 1)), no ties), first rung vs
final over the trials that reached the end and rung by rung over every finished trial; the expected best score
over n trials (the paper's central plot) by enumerating every draw, and against a bootstrap over the trials."""

import itertools

import numpy as np
import pytest

from ganbench.bench.search.report import _hours, expected_best, kept_score, rank_agreement, rung_agreement


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


def _trial(*scores):
    """A trial scored at the first len(scores) rungs (a pruned one stops early)."""
    return _row("ok" if len(scores) == 3 else "pruned", *scores)


def _enumerated(rows, n):
    """E[kept score] and every draw's kept score, over all K^n ordered draws of n trials with replacement (the
    draws where no trial reached a rung left out, as the curve conditions on one having reached it)."""
    kept = [kept_score(d) for d in itertools.product(rows, repeat=n)]
    kept = [v for v in kept if v == v]
    return sum(kept) / len(kept), kept


def test_expected_best_over_n_trials_by_hand():
    # three finishers 30, 10, 20: two draws keep 10 unless both miss it (5/9), 30 only when both are it (1/9):
    # (5 * 10 + 3 * 20 + 1 * 30) / 9 = 140 / 9, the mean of the nine ordered pairs' minima
    rows = [_trial(1, 1, 30), _trial(1, 1, 10), _trial(1, 1, 20)]
    mean, band = expected_best(rows)
    assert mean == pytest.approx([20.0, 140 / 9, _enumerated(rows, 3)[0]])
    assert mean[1] == pytest.approx(_enumerated(rows, 2)[0]) and band[0].tolist() == [10.0, 30.0]


def test_the_halving_keeps_the_trial_that_went_furthest_not_the_lowest_score():
    # a trial pruned at the first rung with 5 loses to a finisher's 50: with two draws, 50 whenever the finisher
    # is drawn (3/4), else 5; a trial with no rung (it failed) is never kept and a draw of only it does not count:
    # of the 8 other ordered pairs, 5 hold the finisher
    pruned, finisher, failed = _trial(5), _trial(80, 60, 50), {"status": "failed",
                                                               "provenance": {"trial": {"rungs": []}}}
    mean, _ = expected_best([pruned, finisher])
    assert mean == pytest.approx([27.5, 0.75 * 50 + 0.25 * 5])
    mean, _ = expected_best([pruned, finisher, failed])
    assert mean[1] == pytest.approx((5 * 50 + 3 * 5) / 8) == _enumerated([pruned, finisher, failed], 2)[0]


def test_expected_best_and_its_band_agree_with_a_bootstrap_over_the_trials():
    rng = np.random.default_rng(0)
    rows = [_trial(*rng.uniform(20, 400, size=int(rng.integers(1, 4)))) for _ in range(7)]
    mean, band = expected_best(rows)
    for n in (1, 3, 7):
        draws = np.array([kept_score([rows[i] for i in rng.integers(0, len(rows), n)]) for _ in range(20_000)])
        se = draws.std() / np.sqrt(len(draws))
        assert abs(mean[n - 1] - draws.mean()) < 4 * se + 1e-9  # Monte Carlo tolerance: 4 standard errors
        assert band[n - 1].tolist() == np.percentile(draws, [5, 95], method="inverted_cdf").tolist()
    assert np.all(np.diff(mean) <= 1e-12)  # more trials never make the expected best worse


def test_the_target_reads_the_published_mean_plus_its_std():
    import pandas as pd

    from ganbench.bench.search.report import _against_paper
    from ganbench.studies import Published

    ns = Published(26.5, 1.6, "Lucic et al. 2018, table 2")  # the target: mean best-ckpt FID <= 28.1
    frame = lambda mean, n: pd.DataFrame([{"fid_best_mean": mean, "fid_best_n": n}])  # noqa: E731
    assert _against_paper(frame(28.1, 3), ns, 3) == "yes" and _against_paper(frame(20.0, 3), ns, 3) == "yes"
    assert _against_paper(frame(29.0, 3), ns, 3) == "no, +0.90 above"
    assert _against_paper(frame(27.0, 1), ns, 3) == "yes (n=1 of 3)"
    assert _against_paper(frame(27.0, 3), None, 3) == _against_paper(None, ns, 3) == "–"
    assert _against_paper(frame(27.0, 0), ns, 3) == "–"


def test_hours_leave_restored_rows_out_of_the_sum_and_say_so():
    timed = [{"train_time_s": 3600.0, "eval_time_s": 900.0, "provenance": {}},
             {"train_time_s": 1800.0, "eval_time_s": None, "provenance": None}]
    restored = {"train_time_s": None, "eval_time_s": None, "provenance": {"restored": {"from": "t.csv"}}}
    assert _hours(timed) == "1.8"  # (3600 + 900 + 1800) / 3600 = 1.75
    assert _hours([*timed, restored]) == "1.8 + ? (1 restored)"
    assert _hours([restored, restored]) == "? (2 restored)"
    # a re-run stored before its checkpoints' evaluations were timed: counted without them, and the cell says so
    points = [{"kimg": k, "fid": 50.0} for k in (250, 500, 750, 1000)]
    old = {"train_time_s": 3600.0, "eval_time_s": 600.0,
           "provenance": {"curve": {"points": points, "checkpoint_scores": True}}}
    new = {"train_time_s": 3600.0, "eval_time_s": 2400.0,
           "provenance": {"curve": {"points": points, "checkpoint_scores": True, "untimed_points": 0}}}
    assert _hours([old, new]) == "2.8 (evaluations during training not timed in 1)"  # (4200 + 6000) / 3600 = 2.83
    assert _hours([new, restored]) == "1.7 + ? (1 restored)"
    one_point = {"train_time_s": 3600.0, "provenance": {"curve": {"points": points[:1], "checkpoint_scores": True}}}
    assert _hours([one_point]) == "1.0"  # its only point is the final evaluation, timed as eval_time_s
    rung = {"kimg": 40.0, "steps": 625, "score": 300.0, "decision": "promoted"}
    trial_then = {"train_time_s": 1800.0, "eval_time_s": 0.0, "provenance": {"trial": {"rungs": [rung]}}}
    trial_now = {"train_time_s": 1800.0, "eval_time_s": 1800.0,
                 "provenance": {"trial": {"rungs": [{**rung, "eval_s": 1800.0}]}}}
    assert _hours([trial_then, trial_now]) == "1.5 (evaluations during training not timed in 1)"


def test_a_studys_models_are_reported_in_its_papers_order():
    """However its searches were started (WGAN-GP first here, NS and LSGAN added by a later process), a study's
    folder lists its models as the paper's table does; a model outside the study goes after them."""
    from ganbench.bench.search.manifest import _in_study_order
    from ganbench.studies import get_study

    ran = ["lucic-wgan-gp", "lucic-mm", "mine", "lucic-wgan", "lucic-ns", "lucic-lsgan"]
    m = {"study": "lucic2018", "trials": {k: [k] for k in ran}, "reruns": {k: [k] for k in ran[:2]},
         "rerun_dirs": {"lucic-ns": {}, "lucic-wgan-gp": {}}}
    out = _in_study_order(m)
    assert list(out["trials"]) == ["lucic-mm", "lucic-ns", "lucic-lsgan", "lucic-wgan", "lucic-wgan-gp", "mine"]
    assert list(out["trials"])[:5] == [x for x in get_study("lucic2018").models if x in ran]
    assert list(out["reruns"]) == ["lucic-mm", "lucic-wgan-gp"] and list(out["rerun_dirs"]) == ["lucic-ns", "lucic-wgan-gp"]
    assert out["trials"]["mine"] == ["mine"]
    assert list(_in_study_order({**m, "study": None})["trials"]) == ran  # no study: the folder's order
