"""The real line, tiny: train dcgan and wgan for a few steps, evaluate 16 samples through Inception,
store rows, print the table; then reuse, resume after an interruption, and the CLI's exit codes.

Shared module fixture: one real two-model run (~20 s on 2 CPU cores).
"""

import json
import os

import numpy as np
import pytest

from ganbench.bench.runner import Backend, RunOptions, run
from ganbench.bench.store import Store
from ganbench.cli import main


from ..helpers import tiny_budget

# 0.128 kimg: 2 DCGAN steps of 64 images, 1 WGAN step (5 critic updates of 64 images)
TINY = tiny_budget("e2e", real_row=True, description="test budget")
METRICS = ("fid", "kid", "pr")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANBENCH_CACHE", str(root / "cache"))
        mp.delenv("GANBENCH_DATA", raising=False)
        res = run(models=["dcgan", "wgan"], budget=TINY, metrics=METRICS,
                  options=RunOptions(out=root / "run", store=root / "r.sqlite", device="cpu", progress=False))
        yield root, res


@pytest.fixture
def cache(env, monkeypatch):
    monkeypatch.setenv("GANBENCH_CACHE", str(env[0] / "cache"))  # reuse the reference features


def test_two_models_end_to_end(env):
    root, res = env
    rows = Store(root / "r.sqlite").query()
    assert [(r["model"], r["status"]) for r in rows] == [("dcgan", "ok"), ("wgan", "ok"), ("real-data", "ok")]
    floor = rows.pop()
    # the floor: 16 training images scored as samples; real images beat 2-step GANs on every metric
    assert floor["provenance"]["samples"] == "first 16 images of fashion-mnist/train"
    assert all(floor["fid"] < r["fid"] and floor["precision"] >= r["precision"] for r in rows)
    assert "real data (floor)" in res.markdown and "Real data (floor): the first 16" in res.markdown
    for r in rows:
        assert r["fid"] > 0 and np.isfinite(r["fid"]) and r["kid_mean"] is not None and 0 <= r["precision"] <= 1
        assert r["num_samples"] == 16 and r["ref_samples"] == 16 and r["device"] == "cpu"
        assert len(r["weights_sha256"]) == 64 and len(r["checkpoint_sha256"]) == 64
        # steps = ceil(kimg * 1000 / (batch * n_critic)); WGAN shows 5 x 64 images per step
        assert (r["steps"], r["kimg"]) == {"dcgan": (2, 0.128), "wgan": (1, 0.32)}[r["model"]]
        p = r["provenance"]
        assert p["versions"]["torch"] and p["spec"]["name"] == r["model"] and p["budget"]["kimg"] == 0.128
        # trained on the padded 32 px view, evaluated at the native 28 px
        assert p["train_view"] == "pad28to32" and p["dataset"]["transform"] == "none"
        assert p["evaluation"]["num_samples"] == 16
        assert (root / "run" / "jobs").exists() and os.path.isfile(os.path.join(r["out_dir"], "samples.png"))
    assert "| dcgan" in res.markdown and "FID (N=16)" in res.markdown and "biased upward" in res.markdown
    assert not list(root.rglob("*.tmp"))


def test_rerun_reuses_results(env, cache):
    root, first = env

    def no_training(*a, **k):
        raise AssertionError("a finished job must not train again")

    res = run(models=["dcgan", "wgan"], budget=TINY, metrics=METRICS, backend=Backend(train=no_training),
              options=RunOptions(out=root / "run", store=root / "r.sqlite", device="cpu", progress=False))
    assert res.skipped == 2 and [r["fid"] for r in res.rows] == [r["fid"] for r in first.rows]
    assert [r["model"] for r in res.rows] == ["dcgan", "wgan", "real-data"]  # the floor is reused too


def test_resume_after_an_interrupted_run(env, cache, tmp_path):
    """Killed during the second job's evaluation: the re-run keeps job 1 and finishes job 2 without retraining.

    The run folder is a copy of the module run's (trained) folder with a fresh store, so that no
    training is repeated here; resuming a half-trained checkpoint is the trainer's own test.
    """
    import shutil

    from ganbench.bench.backend import SharedEvaluate

    root, first = env
    shutil.copytree(root / "run", tmp_path / "run")
    real, seen = SharedEvaluate(), []

    def interrupted(samples, reference, **kw):
        seen.append(1)
        if len(seen) == 2:
            raise KeyboardInterrupt
        return real(samples, reference, **kw)

    from ganbench.train.trainer import train

    args = dict(models=["dcgan", "wgan"], budget=TINY, metrics=METRICS,
                options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", device="cpu", progress=False))
    with pytest.raises(KeyboardInterrupt):
        run(**args, backend=Backend(evaluate=interrupted, train=train))
    assert [r["model"] for r in Store(tmp_path / "r.sqlite").query()] == ["dcgan"]  # no floor row yet
    ckpt = next((tmp_path / "run" / "jobs").glob("wgan-*/fashion-mnist-0.128kimg-seed0/checkpoint.pt"))
    before = ckpt.stat().st_mtime_ns
    res = run(**args, backend=Backend(evaluate=real))
    assert res.skipped == 1 and [r["status"] for r in res.rows] == ["ok", "ok", "ok"]
    assert ckpt.stat().st_mtime_ns == before  # training was finished, not redone
    # same samples, same reference: the same numbers as the uninterrupted run
    assert [r["fid"] for r in res.rows] == pytest.approx([r["fid"] for r in first.rows], rel=1e-6)
    assert not list(tmp_path.rglob("*.tmp"))


def test_cli_run_results_report(env, cache, capsys):
    root, _ = env
    assert main(["results", "--store", str(root / "r.sqlite"), "--model", "wgan", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in rows] == ["wgan"]
    assert main(["report", str(root / "run")]) == 0
    assert "report:" in capsys.readouterr().out and (root / "run" / "report.html").is_file()


def test_compare_real_samples(env, cache):
    from ganbench.bench.compare import CompareOptions, compare

    root, _ = env
    from ganbench.data import get_dataset
    real = get_dataset("fashion-mnist", "train").uint8(slice(0, 16)).numpy()  # training images as "samples"
    np.save(root / "real.npy", real)
    res = compare("train-images", samples=str(root / "real.npy"), budget=TINY, metrics=METRICS,
                  options=CompareOptions(store=root / "r.sqlite", device="cpu", progress=False))
    # dcgan, wgan, train-images and the run's floor (the first 16 training images: the same images)
    assert len(res.leaderboard) == 4 and res.rank == 1  # real images beat 2-step GANs
    assert res.leaderboard.loc["train-images", "fid_mean"] == pytest.approx(
        res.leaderboard.loc["real-data", "fid_mean"], rel=1e-6)


@pytest.mark.parametrize("argv, message", [
    (["run", "--models", "dcgan,stylegan9"], "unknown model 'stylegan9'; known models: "),
    (["run", "--models", "dcgan", "--budget", "huge"], "unknown budget 'huge'; known budgets: quick"),
    (["run", "--models", "dcgan", "--seeds", "a,b"], "--seeds takes integers"),
    (["run", "--models", "dcgan", "--metrics", "fid,zz"], "unknown metric(s) zz"),
    (["run", "--grid", "loss=ns,nope"], "unknown loss 'nope'"),
    (["compare", "--name", "x", "--generator", "no_such_pkg_xyz.nets:make"], "cannot import 'no_such_pkg_xyz.nets'"),
    (["report", "/nonexistent/run"], "not a ganbench run folder"),
])
def test_cli_bad_input_exits_2(argv, message, tmp_path, capsys):
    assert main([*argv, "--store", str(tmp_path / "r.sqlite")] if argv[0] != "report" else argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ganbench: error: ") and message in err and "\n" not in err


def test_cli_compare_wrong_shape_exits_2(tmp_path, capsys):
    np.save(tmp_path / "bad.npy", np.zeros((20, 3, 64, 64), np.uint8))
    assert main(["compare", "--name", "x", "--samples", str(tmp_path / "bad.npy"),
                 "--store", str(tmp_path / "r.sqlite")]) == 2
    assert "3 channel(s), fashion-mnist images have 1" in capsys.readouterr().err


def test_the_floor_is_copied_to_a_budget_with_the_same_evaluation(env, tmp_path):
    """The real-data row scores the training images as stored: another budget (name, length, view) with the same
    dataset and evaluation protocol takes a copy instead of scoring them again; another protocol does not."""
    import dataclasses
    import shutil

    from ganbench.bench.jobs import Job, protocol_for
    from ganbench.bench.runner import adopt_floor, real_data_job
    from ganbench.config import ModelSpec, check_protocol

    root, _ = env
    shutil.copy(root / "r.sqlite", tmp_path / "r.sqlite")
    store = Store(tmp_path / "r.sqlite")
    (original,) = store.query(model="real-data")

    def floor_of(budget):
        proto = check_protocol(protocol_for(budget, METRICS))
        return real_data_job(Job(ModelSpec(name="x"), "fashion-mnist", 0, budget, proto, str(tmp_path / "x"),
                                 run=str(tmp_path / "run2")))

    longer = floor_of(dataclasses.replace(TINY, name="e2e-longer", kimg=1.0, view="native", description="other"))
    assert longer.key != original["job_key"] and not store.done(longer.key)
    assert adopt_floor(store, longer)
    copy = store.get(longer.key)
    assert copy["budget"] == "e2e-longer" and copy["status"] == "ok" and copy["run"] == str(tmp_path / "run2")
    assert copy["metrics"] == original["metrics"] and copy["fid"] == original["fid"]
    assert copy["provenance"]["same_floor_as"] == {"job_key": original["job_key"], "budget": "e2e"}
    assert adopt_floor(store, longer)  # its own row now
    assert not adopt_floor(store, floor_of(dataclasses.replace(TINY, name="e2e-8", num_samples=8, ref_samples=8)))
