"""No silently wrong number from a run: a corrupted checkpoint is never evaluated, a row names the checkpoint file
actually evaluated, concurrent runs on one store share their jobs (a dead claimant's job is taken over), bad input
leaves nothing, and compare reads --against before any work."""

import dataclasses
import os
import threading
import time

import pytest
import torch

from ganbench.bench import claims
from ganbench.bench.compare import CompareOptions, compare
from ganbench.bench.runner import Backend, RunOptions, run
from ganbench.bench.store import Store
from ganbench.config import ModelSpec
from ganbench.data import TensorImageSet
from ganbench.errors import BadInput
from ganbench.io import sha256_file
from ganbench.train.checkpoint import load_checkpoint, save_checkpoint

from ..helpers import tiny_budget

from ..train.test_checkpoint import flip_tensor_bytes
from ..fakes import Calls, fake_backend

# batch 8: 2 steps of a shrunk DCGAN
TINY = tiny_budget(kimg=0.016, view="native")
SPEC = ModelSpec(name="dcgan")
SPEC = dataclasses.replace(SPEC, batch_size=8, arch=dataclasses.replace(SPEC.arch, width=4, z_dim=8))


def real_training(calls: Calls) -> Backend:
    """Real training, checkpoints, generator loading and sampling; fake data and metrics (no Inception)."""
    fake = fake_backend(calls)

    def get_dataset(name, split="train", root=None, download=True, **kw):
        g = torch.Generator().manual_seed(0 if split == "train" else 1)
        return TensorImageSet(torch.randint(0, 256, (32, 1, 28, 28), generator=g, dtype=torch.uint8), name, split, "fake")

    def evaluate(samples, reference, **kw):
        calls.evaluate.append(samples.shape)
        return fake.evaluate(samples, reference, **kw)

    return Backend(get_dataset=get_dataset, load_baseline=lambda name: SPEC, list_baselines=lambda: {"dcgan": SPEC},
                   evaluate=evaluate)


def _run(tmp_path, calls, **kw):
    return run(models=["dcgan"], budget=TINY, metrics=("fid",), backend=real_training(calls), **kw,
               options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False, device="cpu"))


def test_a_corrupted_checkpoint_is_never_evaluated(tmp_path, one_thread):
    calls = Calls()
    first = _run(tmp_path, calls)
    ckpt = os.path.join(first.rows[0]["out_dir"], "checkpoint.pt")
    Store(tmp_path / "r.sqlite").delete([first.rows[0]["job_key"]])  # the job runs again: training is finished
    flip_tensor_bytes(__import__("pathlib").Path(ckpt))
    calls.evaluate.clear()
    with pytest.raises(BadInput, match="is corrupt"):
        _run(tmp_path, calls)
    assert calls.evaluate == [] and Store(tmp_path / "r.sqlite").query() == []


def test_the_row_names_the_checkpoint_file_evaluated(tmp_path, one_thread):
    first = _run(tmp_path, Calls())
    row = first.rows[0]
    ckpt = os.path.join(row["out_dir"], "checkpoint.pt")
    assert row["checkpoint_sha256"] == sha256_file(ckpt)
    # the file changes after training (another valid checkpoint of the same run): the row must name the new one
    state = load_checkpoint(ckpt)
    state["model"]["G"] = {k: v + 0.01 if v.is_floating_point() else v for k, v in state["model"]["G"].items()}
    save_checkpoint(ckpt, {k: v for k, v in state.items() if k not in ("format", "payload_sha256", "file_sha256")})
    Store(tmp_path / "r.sqlite").delete([row["job_key"]])
    again = _run(tmp_path, Calls()).rows[0]
    assert again["checkpoint_sha256"] == sha256_file(ckpt) != row["checkpoint_sha256"]


def test_two_runs_on_one_store_share_the_work(tmp_path):
    calls = Calls()
    backend = fake_backend(calls)
    train = backend.train

    def slow_train(*a, **k):
        time.sleep(0.3)
        return train(*a, **k)
    backend = dataclasses.replace(backend, train=slow_train)
    results = {}

    def one(i):
        results[i] = run(models=["dcgan", "wgan", "lsgan"], seeds=(0, 1), budget=TINY, metrics=("fid",),
                         backend=backend, options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite",
                                                             progress=False))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(calls.train) == 6  # each of the 6 jobs trained once, by one run or the other
    assert len({(name, seed) for name, seed, _ in calls.train}) == 6
    assert [r["status"] for r in results[0].rows] == ["ok"] * 6 and results[0].rows == results[1].rows
    assert claims.holders(Store(tmp_path / "r.sqlite")) == {}  # every claim released


def test_a_dead_or_silent_claimants_job_is_taken_over(tmp_path):
    import subprocess
    import sys

    store = Store(tmp_path / "r.sqlite")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{__import__('socket').gethostname()}:{gone.stdout.strip()}:0000"  # a process of this machine, exited
    assert claims.claim(store, "a", dead) == (claims.MINE, None)
    assert claims.claim(store, "b", "elsewhere:1:0000", lease_s=-1) == (claims.MINE, None)  # its lease ran out
    assert claims.claim(store, "c", "elsewhere:1:0000") == (claims.MINE, None)  # alive, on another machine
    me = claims.new_owner()
    assert claims.claim(store, "a", me) == (claims.MINE, None)
    assert claims.claim(store, "b", me) == (claims.MINE, None)
    assert claims.claim(store, "c", me) == (claims.BUSY, "elsewhere:1:0000")
    store.put({"job_key": "d", "model": "m", "status": "ok"})
    assert claims.claim(store, "d", me) == (claims.DONE, None)
    # a run finds a job held by a dead claimant: it takes it over at once, without waiting for the lease
    calls = Calls()
    backend = fake_backend(calls)
    first = run(models=["dcgan"], budget=TINY, metrics=("fid",), backend=backend,
                options=RunOptions(out=tmp_path / "run", store=tmp_path / "r2.sqlite", progress=False))
    key = first.rows[0]["job_key"]
    Store(tmp_path / "r2.sqlite").delete([key])
    claims.claim(Store(tmp_path / "r2.sqlite"), key, dead)
    calls.train.clear()
    again = run(models=["dcgan"], budget=TINY, metrics=("fid",), backend=backend,
                options=RunOptions(out=tmp_path / "run", store=tmp_path / "r2.sqlite", progress=False))
    assert len(calls.train) == 1 and again.rows[0]["status"] == "ok"


@pytest.mark.parametrize("kw, message", [
    ({"jobs": 0}, "--jobs must be >= 1"),
    ({"retries": -1}, "--retries must be >= 0"),
    ({"models": ["dcgan", "dcgan"]}, "given twice"),
    ({"metrics": "fid,zz"}, "unknown metric"),
    ({"seeds": (0, -1)}, "--seeds"),
])
def test_bad_input_leaves_no_store_and_no_run_folder(tmp_path, kw, message):
    kw = {"models": ["dcgan"], "metrics": ("fid",), **kw}
    where = {k: kw.pop(k) for k in ("jobs", "retries") if k in kw}  # where jobs run: RunOptions
    with pytest.raises(BadInput, match=message):
        run(budget=TINY, backend=fake_backend(Calls()), **kw,
            options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False, **where))
    assert list(tmp_path.iterdir()) == []


def test_run_takes_metrics_as_a_comma_string(tmp_path):
    res = run(models=["dcgan"], budget=TINY, metrics="fid,kid", backend=fake_backend(Calls()),
              options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))
    assert res.jobs[0].protocol.metrics == ("fid", "kid")


def test_compare_reads_against_before_any_work(tmp_path):
    import numpy as np

    np.save(tmp_path / "s.npy", np.zeros((20, 1, 28, 28), np.uint8))
    (tmp_path / "bad.csv").write_text("not,a,leaderboard\n1,2,3\n")
    calls = Calls()
    with pytest.raises(BadInput, match="--against .*bad.csv: not a ganbench leaderboard"):
        compare("x", samples=str(tmp_path / "s.npy"), against=tmp_path / "bad.csv", budget=TINY,
                options=CompareOptions(store=tmp_path / "r.sqlite", progress=False), backend=fake_backend(calls))
    assert calls.evaluate == [] and not (tmp_path / "r.sqlite").exists()


def test_cli_run_exits_3_when_a_job_failed(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    import ganbench.bench.runner as runner
    from ganbench.cli import main

    rows = [{"model": "dcgan", "seed": 0, "status": "ok"}, {"model": "wgan", "seed": 0, "status": "failed"}]
    monkeypatch.setattr(runner, "run", lambda **kw: runner.RunResult(Path(tmp_path), [], rows, 0, "| table |"))
    assert main(["run", "--models", "dcgan,wgan"]) == 3
    assert "1 job(s) failed (wgan seed 0)" in capsys.readouterr().err
