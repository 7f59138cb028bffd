"""What a search has left, by hand: expected kimg of the trials yet to end from the ended ones that got as far, hours
from the timed rows' hours per kimg (restored and untimed rows give kimg, not hours), re-runs to the full budget."""

import pytest

from ganbench.bench.search.left import Left, left, left_markdown, rerun_trained

M = {"protocol": {"trials": 6, "rerun_seeds": [1, 2]}, "trial_budget": {"kimg": 100.0}, "budget": {"kimg": 100.0}}


def _row(status, kimg, train_s=None, eval_s=0.0, restored=False, seed=0):
    prov = {"restored": {"from": "t.csv"}} if restored else {}
    return {"status": status, "kimg": kimg, "train_time_s": train_s, "eval_time_s": eval_s, "provenance": prov,
            "seed": seed, "job_key": f"{status}{kimg}{seed}"}


A = [_row("ok", 100.0, 3600.0),                 # 1.0 h
     _row("pruned", 10.0, 360.0, 360.0),        # 0.2 h
     _row("pruned", 10.0, restored=True),       # kimg only
     _row("diverged", 50.0, 1800.0)]            # 0.5 h: ended, counted
B = [_row("pruned", 10.0, 720.0),               # 0.2 h
     _row("failed", 0.0)]                       # not ended: tried again


def test_trials_and_reruns_by_hand():
    running = {"a": [{"status": "running", "kimg": 20.0}]}
    reruns = {"a": [_row("ok", 100.0, 7200.0, seed=1)]}  # 0.02 h per kimg
    out = left(M, {"a": A, "b": B}, reruns, running, {"a": {2: 30.0}})
    # a (4 ended, its own): not started: mean of 100 10 10 50 = 42.5 kimg at (1 + 0.2 + 0.5) h / 160 kimg;
    # at 20 kimg: the two that got that far, mean 75 - 20 = 55 kimg at 1.5 h / 150 kimg;
    # seed 2 from 30 kimg: 70 kimg at 0.02 h per kimg
    a = out["a"]
    assert (a.trials, a.reruns) == (2, 1)
    assert a.trial_kimg == pytest.approx(42.5 + 55) and a.rerun_kimg == pytest.approx(70)
    assert a.hours == pytest.approx(42.5 * 1.7 / 160 + 55 * 0.01 + 70 * 0.02)
    # b (1 ended, under OWN): every model's ended trials, 180 kimg / 5 each, at 1.9 h / 170 kimg, five of them (its
    # failed one among them); not chosen yet: both re-runs, 200 kimg at a's rate
    b = out["b"]
    assert (b.trials, b.reruns) == (5, 2)
    assert b.trial_kimg == pytest.approx(180) and b.rerun_kimg == pytest.approx(200)
    assert b.hours == pytest.approx(180 * 1.9 / 170 + 200 * 0.02)


def test_no_timed_rerun_leaves_the_hours_unknown_and_says_so():
    reruns = {"a": [_row("ok", 100.0, restored=True, seed=1)]}
    out = left({**M, "protocol": {"trials": 4, "rerun_seeds": [1, 2]}}, {"a": A}, reruns)
    assert out["a"] == Left(0, 0.0, 1, 100.0, None)
    md = left_markdown(out, {"a": "A GAN"})
    assert "| A GAN | 0 | 0 | 1 | 100 | ? |" in md and md.rstrip().endswith("| total | 0 | 0 | 1 | 100 | ? |")


def test_an_untimed_curve_gives_no_rate():
    points = [{"kimg": k, "fid": 50.0} for k in (50, 100)]
    old = {**_row("ok", 100.0, 3600.0, seed=1), "provenance": {"curve": {"points": points, "checkpoint_scores": True}}}
    out = left({**M, "protocol": {"trials": 4, "rerun_seeds": [1, 2]}}, {"a": A}, {"a": [old]})
    assert out["a"].hours is None


def test_nothing_left_writes_nothing():
    reruns = {"a": [_row("ok", 100.0, 7200.0, seed=s) for s in (1, 2)]}
    out = left({**M, "protocol": {"trials": 4, "rerun_seeds": [1, 2]}}, {"a": A}, reruns)
    assert out["a"] == Left(0, 0.0, 0, 0.0, 0.0) and left_markdown(out, {}) == ""


def test_rerun_trained_reads_the_last_train_log_line_of_reruns_not_ended(tmp_path):
    for d, rows in (("s1", "0,0.0\n500,32.0\n"), ("s2", "0,0.0\n900,57.6\n")):
        (tmp_path / d).mkdir()
        (tmp_path / d / "train_log.csv").write_text("step,kimg\n" + rows)
    m = {"rerun_dirs": {"a": {"k1": {"dir": "s1", "seed": 1}, "k2": {"dir": "s2", "seed": 2},
                              "k3": {"dir": "missing", "seed": 3}}}}
    ended = {"a": [{"job_key": "k2", "status": "ok"}]}
    assert rerun_trained(tmp_path, m, ended) == {"a": {1: 32.0}}


def test_a_rerun_trained_to_the_end_still_owes_its_final_evaluation():
    # one finished re-run: 3600 s of training, 1800 s of evaluation of which 600 s were its checkpoint FIDs, so
    # 4200 s per 100 kimg of training (checkpoints included) and 1200 s (1/3 h) for the final evaluation
    done = {**_row("ok", 100.0, 3600.0, 1800.0, seed=1),
            "provenance": {"curve": {"points": [{"kimg": 50.0, "fid": 9.0, "eval_s": 600.0}], "eval_time_s": 600.0,
                                     "untimed_points": 0, "checkpoint_scores": True}}}
    m = {**M, "protocol": {"trials": 4, "rerun_seeds": [1, 2, 3]}}
    out = left(m, {"a": A}, {"a": [done]}, None, {"a": {2: 100.0, 3: 30.0}})["a"]
    assert (out.reruns, out.rerun_kimg) == (2, pytest.approx(70.0))
    assert out.hours == pytest.approx(1 / 3 + 70 * 4200 / 3600 / 100 + 1 / 3)
    fresh = left(m, {"a": A}, {"a": [done]})["a"]  # a fresh re-run costs what the finished one did: 1.5 h
    assert fresh.hours == pytest.approx(2 * 1.5)


def test_a_default_setting_row_costs_what_a_rerun_does():
    """--with-defaults: the start line prices each default-setting row at the finished re-runs' rates, by hand:
    re-runs of 2.0 h (1.5 h training and checkpoint evaluations, 0.5 h final evaluation) and 1.0 h (0.6 + 0.4)
    over 100 kimg each give 2.1 h / 200 kimg and a 0.45 h final evaluation: 100 kimg -> 1.5 h, 50 kimg -> 0.975 h.
    A restored row gives no rate."""
    import dataclasses

    from ganbench.bench.search.driver import _defaults_text
    from ganbench.bench.search.left import fresh_job_hours
    from tests.bench.search.fakes import BUDGET

    def rerun(seed, hours, final_h):
        curve = {"points": [{"kimg": 100.0, "fid": 1.0}], "checkpoint_scores": True, "untimed_points": 0,
                 "eval_time_s": 0.0}
        return {**_row("ok", 100.0, (hours - final_h) * 3600, final_h * 3600, seed=seed),
                "provenance": {"curve": curve}}

    rows = [rerun(1, 2.0, 0.5), rerun(2, 1.0, 0.4), _row("ok", 100.0, restored=True, seed=3)]
    assert fresh_job_hours(rows, 100.0) == pytest.approx(1.5) and fresh_job_hours(rows, 50.0) == pytest.approx(0.975)
    assert fresh_job_hours(rows[2:], 100.0) is None

    class Job:
        def __init__(self, name):
            self.spec = type("Spec", (), {"name": name})()

    budget = dataclasses.replace(BUDGET, kimg=100.0)
    assert _defaults_text([Job("a"), Job("b")], rows, budget) == (
        "; then 2 default-setting row(s) (about 3.0 job-hours at the re-runs' rate) as workers free up: a, b")
    assert _defaults_text([Job("a")], rows[2:], budget) == "; then 1 default-setting row(s) as workers free up: a"
