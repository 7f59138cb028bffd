"""Runner orchestration with injected fakes: plan, skip, retry, divergence, grid tables, bad input."""

import dataclasses
import json

import pytest

from ganbench.bench.runner import RunOptions, run
from ganbench.bench.store import Store
from ganbench.config import Budget, ModelSpec
from ganbench.errors import BadInput

from ..helpers import tiny_budget

from ..fakes import Calls, fake_backend

TINY = tiny_budget()


def _run(tmp_path, calls, **kw):
    kw.setdefault("models", ["dcgan", "wgan"])
    backend = fake_backend(calls, **{k: kw.pop(k) for k in ("diverge", "crash") if k in kw})
    return run(budget=TINY, metrics=("fid", "kid"), backend=backend, **kw,
               options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))


def test_two_models_two_seeds_then_everything_reused(tmp_path):
    calls = Calls()
    res = _run(tmp_path, calls, seeds=(0, 1))
    assert len(res.rows) == 4 and res.skipped == 0
    assert sorted(calls.train) == sorted([(m, s, 0.128) for m in ("dcgan", "wgan") for s in (0, 1)])
    assert all(ev == (("fid", "kid"), 16, "fashion-mnist/test/none") for ev in calls.evaluate)  # native 28 px
    rows = Store(tmp_path / "r.sqlite").query()
    assert {(r["model"], r["seed"], r["status"]) for r in rows} == {(m, s, "ok") for m in ("dcgan", "wgan")
                                                                      for s in (0, 1)}
    r = rows[0]
    assert r["provenance"]["spec"]["name"] == r["model"] and r["provenance"]["protocol"]["num_samples"] == 16
    assert r["provenance"]["train_view"] == "pad28to32" and r["provenance"]["dataset"]["transform"] == "none"
    assert r["weights_sha256"] == "f" * 64
    assert r["kid_mean"] == pytest.approx(r["fid"] / 1000)
    for ext in ("md", "csv", "tex", "html"):
        assert (tmp_path / "run" / f"table.{ext}").is_file()
    assert (tmp_path / "run" / "jobs").is_dir() and "| dcgan" in res.markdown and "| wgan" in res.markdown
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert len(manifest["jobs"]) == 4 and manifest["store"].endswith("r.sqlite")

    again = Calls()
    res2 = _run(tmp_path, again, seeds=(0, 1))
    assert again.train == [] and again.evaluate == [] and res2.skipped == 4
    assert [r["fid"] for r in res2.rows] == [r["fid"] for r in res.rows]


def test_diverged_and_failed_jobs(tmp_path):
    calls = Calls()
    res = _run(tmp_path, calls, models=["dcgan", "wgan", "lsgan"], diverge=("wgan",), crash=("lsgan",))
    status = {r["model"]: r for r in res.rows}
    assert status["wgan"]["status"] == "diverged" and status["wgan"]["fid"] is None
    assert "NaN" in status["wgan"]["reason"]
    assert status["lsgan"]["status"] == "failed" and "RuntimeError: boom" in status["lsgan"]["reason"]
    line = next(line for line in res.markdown.splitlines() if line.startswith("| wgan"))
    assert "diverged" in line and "nan" not in line.lower()
    # a failed job is retried on the next run; the finished ones are not
    again = Calls()
    _run(tmp_path, again, models=["dcgan", "wgan", "lsgan"])
    assert [c[0] for c in again.train] == ["lsgan"]
    assert {r["model"]: r["status"] for r in Store(tmp_path / "r.sqlite").query()}["lsgan"] == "ok"


def test_grid_run_prints_grouped_tables(tmp_path):
    calls = Calls()
    res = _run(tmp_path, calls, models=(), grid=["loss=ns,hinge", "trick=none,sn"])
    assert len(res.rows) == 4 and {r["groups"]["loss"] for r in res.rows} == {"ns", "hinge"}
    assert "By loss" in res.markdown and "By trick" in res.markdown


@pytest.mark.parametrize("kw, message", [
    ({"models": ["dcgan", "stylegan9"]}, "unknown model 'stylegan9'; known models: dcgan, wgan, lsgan"),
    ({"models": []}, "no models to run"),
    ({"models": ["dcgan"], "grid": ["loss=ns"]}, "either --models or --grid"),
    ({"models": ["dcgan", "dcgan"]}, "given twice"),
    ({"models": [ModelSpec(name="mine", loss="wgan"), "wgan"]}, r"mine and wgan train the same model \(spec hash"),
])
def test_bad_input(tmp_path, kw, message):
    calls = Calls()
    with pytest.raises(BadInput, match=message):
        _run(tmp_path, calls, **kw)
    assert not calls.train and not any(tmp_path.iterdir())  # refused before any work or write


def test_unknown_budget(tmp_path):
    from ganbench.config import BUDGETS
    known = ", ".join(BUDGETS)
    assert known.startswith("quick, ") and "standard" in known and "paper" in known
    with pytest.raises(BadInput, match=f"unknown budget 'huge'; known budgets: {known}$"):
        run(models=["dcgan"], budget="huge", backend=fake_backend(Calls()),
            options=RunOptions(out=tmp_path, store=tmp_path / "r.sqlite"))


def test_budgets_and_datasets_train_in_separate_folders(tmp_path):
    calls = Calls()
    short = _run(tmp_path, calls, models=["dcgan"])
    longer = run(models=["dcgan"], budget=Budget("tiny2", kimg=0.256, num_samples=16, ref_samples=16),
                 metrics=("fid",), backend=fake_backend(calls),
                 options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))
    assert short.rows[0]["out_dir"] != longer.rows[0]["out_dir"]
    assert short.rows[0]["out_dir"].endswith("fashion-mnist-0.128kimg-seed0")


def test_a_curve_point_past_the_checkpoint_is_skipped_not_mislabelled(tmp_path):
    """A run whose checkpoint already lies past a curve point (a point lost before a resume) must not score the
    later G as that point: only the points the checkpoint can still reach are taken."""
    calls = Calls()
    b = fake_backend(calls)
    budget = Budget("scored", kimg=0.256, num_samples=16, ref_samples=16, eval_every_kimg=0.064, curve_samples=16,
                    real_row=False)

    def already_at_0_192(spec, dataset, out_dir, kimg=None, **kw):  # resumed from a checkpoint at 0.192 kimg
        return b.train(spec, dataset, out_dir, kimg=max(kimg, 0.192), **kw)

    res = run(models=["dcgan"], budget=budget, metrics=("fid",), backend=dataclasses.replace(b, train=already_at_0_192),
              options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))
    assert [p["kimg"] for p in res.rows[0]["provenance"]["curve"]["points"]] == [0.192, 0.256]
    assert len(calls.evaluate) == 2


def test_checkpoint_scores_at_the_full_protocol_give_fid_best(tmp_path):
    """A curve at the protocol's own N (lucic2018: every 250 kimg on the full 10k, as compare_gan scores every
    checkpoint) gives fid_best, the lowest of its points, the last of which is the final evaluation's FID rather
    than a second pass over the same samples."""
    calls = Calls()
    budget = Budget("scored", kimg=0.256, num_samples=16, ref_samples=16, eval_every_kimg=0.064, curve_samples=16,
                    real_row=False)
    res = run(models=["dcgan"], budget=budget, metrics=("fid",), backend=fake_backend(calls),
              options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))
    row = res.rows[0]
    points = row["provenance"]["curve"]["points"]
    assert [p["kimg"] for p in points] == [0.064, 0.128, 0.192, 0.256]
    assert points[-1]["fid"] == row["fid"]  # the final evaluation is the last checkpoint's score
    assert len(calls.evaluate) == 4  # three curve points and the final evaluation, no second pass at the end
    best = min(points, key=lambda p: p["fid"])
    assert (row["fid_best"], row["fid_best_kimg"]) == (best["fid"], best["kimg"])
    assert row["provenance"]["curve"]["checkpoint_scores"] is True
    # a cheaper curve (fewer samples than the protocol) is only a curve: no fid_best
    cheap = run(models=["wgan"], budget=dataclasses.replace(budget, curve_samples=8), metrics=("fid",),
                backend=fake_backend(Calls()),
                options=RunOptions(out=tmp_path / "run2", store=tmp_path / "r.sqlite", progress=False))
    assert cheap.rows[0].get("fid_best") is None and len(cheap.rows[0]["provenance"]["curve"]["points"]) == 4


def test_a_jobs_eval_time_counts_its_checkpoint_evaluations(tmp_path):
    """The compute a job spent includes its curve's evaluations (lucic2018 scores four checkpoints at 10k, as long as
    the training itself): each point records its seconds in eval_log.csv, the row's eval_time_s adds them to the
    final evaluation's, and a log written before the times were recorded still reads, its points counted untimed."""
    import time

    b = fake_backend(Calls())

    def slow_evaluate(*a, **kw):
        time.sleep(0.2)
        return b.evaluate(*a, **kw)

    budget = Budget("scored", kimg=0.256, num_samples=16, ref_samples=16, eval_every_kimg=0.064, curve_samples=16,
                    real_row=False)
    res = run(models=["dcgan"], budget=budget, metrics=("fid",), backend=dataclasses.replace(b, evaluate=slow_evaluate),
              options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))
    row = res.rows[0]
    curve = row["provenance"]["curve"]
    assert [("eval_s" in p) for p in curve["points"]] == [True, True, True, False]  # the last is the final's
    assert all(p["eval_s"] >= 0.2 for p in curve["points"][:3])
    assert curve["untimed_points"] == 0 and curve["eval_time_s"] == pytest.approx(
        sum(p["eval_s"] for p in curve["points"][:3]))
    assert row["eval_time_s"] >= 4 * 0.2  # three checkpoints and the final evaluation
    log = (tmp_path / "run" / row["out_dir"] / "eval_log.csv").read_text().splitlines()
    assert log[0] == "kimg,steps,fid,eval_s" and log[-1].endswith(",")
    # a log of the old three columns (a run resumed across the change) reads, its points untimed
    from ganbench.bench.runner import _read_eval_log
    old = tmp_path / "old.csv"
    old.write_text("kimg,steps,fid\n0.064,1,80.5\n")
    assert _read_eval_log(old) == [{"kimg": 0.064, "steps": 1.0, "fid": 80.5}]


def test_a_run_that_diverges_mid_curve_counts_every_checkpoint_it_scored(tmp_path):
    """A full curve's point at the budget's end is the final evaluation's, timed as the row's own; a run that
    diverges before reaching it has no such point, so each checkpoint it scored is its own compute."""
    b = fake_backend(Calls())

    def diverges_at_0_192(spec, dataset, out_dir, kimg=None, **kw):
        tr = b.train(spec, dataset, out_dir, kimg=kimg, **kw)
        return dataclasses.replace(tr, status="diverged", reason="loss is NaN") if kimg >= 0.192 else tr

    budget = Budget("scored", kimg=0.256, num_samples=16, ref_samples=16, eval_every_kimg=0.064, curve_samples=16,
                    real_row=False)
    res = run(models=["dcgan"], budget=budget, metrics=("fid",),
              backend=dataclasses.replace(b, train=diverges_at_0_192),
              options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))
    row = res.rows[0]
    curve = row["provenance"]["curve"]
    assert row["status"] == "diverged" and [p["kimg"] for p in curve["points"]] == [0.064, 0.128]
    assert curve["untimed_points"] == 0 and curve["eval_time_s"] == pytest.approx(
        sum(p["eval_s"] for p in curve["points"]))


def test_jobs_stopped_part_way_run_first(tmp_path):
    """A job whose folder holds a checkpoint (stopped by a kill or a session's end) runs before fresh ones, the rest
    in plan order: what is half done finishes first."""
    _run(tmp_path, Calls(), seeds=(0, 1))
    jobs = json.loads((tmp_path / "run" / "run.json").read_text())["jobs"]
    started = [j for j in jobs if (j["model"], j["seed"]) == ("wgan", 1)]
    for j in jobs:
        if j not in started:
            (tmp_path / "run" / j["out_dir"] / "checkpoint.pt").unlink()
    calls = Calls()
    run(budget=TINY, metrics=("fid",), backend=fake_backend(calls), models=["dcgan", "wgan"], seeds=(0, 1),
        options=RunOptions(out=tmp_path / "run", store=tmp_path / "new.sqlite", progress=False))
    order = [(j["model"], j["seed"]) for j in started + [j for j in jobs if j not in started]]
    assert (jobs[-1]["model"], jobs[-1]["seed"]) == ("wgan", 1)  # last in plan order, so first means it moved
    assert [(m, s) for m, s, _ in calls.train] == order


def test_each_result_is_logged_with_its_fid(tmp_path, capsys):
    """The line logged as each job lands names its FID (a record keeps it under "metrics"; the line used to read a
    top-level "fid" and so printed none)."""
    res = run(budget=TINY, metrics=("fid",), backend=fake_backend(Calls()), models=["dcgan"],
              options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=True))
    lines = capsys.readouterr().err.splitlines()
    line = next(x for x in lines if x.startswith("ganbench: [1/1 done] dcgan seed 0: ok"))
    assert line.endswith(f", FID {res.rows[0]['fid']:.2f}")
