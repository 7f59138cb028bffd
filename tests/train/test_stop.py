"""A stop request (SIGTERM, Ctrl-C; ``ganbench.train.stop``) checkpoints the step a training run stands at: the
resumed run continues from there, exactly as the run that never stopped, instead of from its last periodic
checkpoint. In-process (the step chosen), through the CLI (a real SIGTERM) and in a pool worker (the driver's
terminate)."""

import itertools
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ganbench.train import loop as loop_module
from ganbench.train import stop
from ganbench.train.checkpoint import load_checkpoint
from ganbench.train.trainer import TrainOptions, train
from ganbench.zoo.baselines import load_baseline

QUIET = dict(progress=False)
NO_PERIODS = dict(tensorboard=False, ckpt_every=10_000, sample_every=10_000, log_every=5)
ROOT = Path(__file__).resolve().parents[2]


def test_a_request_is_refused_without_a_loop_to_honour_it_and_taken_once_inside_one():
    assert not stop.request_stop() and not stop.stop_requested()  # nothing trains: the caller stops at once
    with pytest.raises(stop.Stopped, match="as its training ended"), stop.honouring_stop():
        assert stop.request_stop() and stop.stop_requested() and stop.stop_pending()
        assert not stop.request_stop()  # asked already: a second signal does not wait
    assert not stop.stop_requested() and not stop.stop_pending()  # cleared
    assert not stop.request_stop()  # and no loop is left to honour one
    with stop.honouring_stop():  # no request: the loop returns as it would
        pass


def test_a_stop_request_checkpoints_the_step_it_lands_on_and_the_resume_equals_a_straight_run(
        tiny_data, tmp_path, tiny, monkeypatch):
    spec = tiny(load_baseline("wgan-gp"))  # n_critic 5, the penalty's RNG, Adam state
    opts = TrainOptions(**NO_PERIODS)
    straight = train(spec, tiny_data, tmp_path / "a", steps=20, **QUIET, options=opts)
    calls = itertools.count(1)

    def asked_after_step_7() -> bool:  # the loop asks once per step; the request arrives during step 7
        if next(calls) == 7:
            assert stop.request_stop()  # a loop honours it
        return stop.stop_requested()

    monkeypatch.setattr(loop_module, "stop_requested", asked_after_step_7)
    with pytest.raises(stop.Stopped, match="stopped on request at step 7 of 20, checkpointed there"):
        train(spec, tiny_data, tmp_path / "b", steps=20, **QUIET, options=opts)
    monkeypatch.undo()
    assert not stop.stop_requested()
    state = load_checkpoint(tmp_path / "b")
    assert state["step"] == 7 and state["log"][-1]["step"] == 7  # not a period: the stop wrote both
    assert json.loads((tmp_path / "b" / "status.json").read_text())["status"] == "running"
    from ganbench.train import trainer

    monkeypatch.setattr(trainer, "_process_id", lambda: "the next process")  # a stopped run resumes in another
    resumed = train(spec, tiny_data, tmp_path / "b", steps=20, **QUIET, options=opts)
    assert [(s["from_step"], s["to_step"]) for s in resumed.provenance["sessions"]] == [(0, 7), (7, 20)]
    a, b = load_checkpoint(straight.checkpoint)["model"], load_checkpoint(resumed.checkpoint)["model"]
    for part in ("G", "D"):
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), (part, key)
    assert resumed.kimg == straight.kimg and resumed.steps == 20


def test_a_request_on_the_last_step_stops_the_process_once_training_has_ended(tiny_data, tmp_path, tiny,
                                                                              monkeypatch):
    """The last step ends the run (checkpointed) instead of stopping it; the request, accepted, is still answered:
    ``Stopped`` as the loop returns, so the process does not go on to evaluate. The next call finds it finished."""
    spec, opts = tiny(load_baseline("dcgan")), TrainOptions(**NO_PERIODS)
    calls = itertools.count(1)

    def asked_during_the_last_step() -> bool:
        if next(calls) == 6:
            assert stop.request_stop()
        return stop.stop_requested()

    monkeypatch.setattr(loop_module, "stop_requested", asked_during_the_last_step)
    with pytest.raises(stop.Stopped, match="as its training ended"):
        train(spec, tiny_data, tmp_path, steps=6, **QUIET, options=opts)
    monkeypatch.undo()
    assert load_checkpoint(tmp_path)["step"] == 6 and not stop.stop_requested()
    assert train(spec, tiny_data, tmp_path, steps=6, **QUIET, options=opts).steps == 6


def _started(folder: Path, proc, timeout: float = 90.0) -> None:
    """Wait until the run in ``folder`` is inside its training loop: its log has a row."""
    t, log = time.monotonic(), folder / "train_log.csv"
    while not (log.is_file() and len(log.read_text().splitlines()) >= 2):
        assert proc.poll() is None if hasattr(proc, "poll") else proc.is_alive(), "the run ended before training"
        assert time.monotonic() - t < timeout, "the run did not start"
        time.sleep(0.05)


def test_sigterm_to_ganbench_train_checkpoints_where_it_stands_and_the_command_resumes(tmp_path):
    data = tmp_path / "x.npy"
    np.save(data, np.random.default_rng(0).integers(0, 256, (80, 28, 28), dtype=np.uint8))
    out = tmp_path / "run"
    args = [sys.executable, "-m", "ganbench.cli", "train", "--model", "gan", "--dataset", f"arrays:{data}", "--out",
            str(out), "--no-progress", "--ckpt-every", "1000000", "--log-every", "5"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([*args, "--steps", "1000000"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        _started(out, proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    step = load_checkpoint(out)["step"]
    assert 0 < step < 1_000_000 and err.strip().splitlines()[-1] == (
        f"ganbench: stopped on request at step {step} of 1000000, checkpointed there; finished results are saved, "
        "re-run the command to resume")
    done = subprocess.run([*args, "--steps", str(step + 3), "--resume", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["steps"] == step + 3
    sessions = load_checkpoint(out)["sessions"]
    assert [(s["from_step"], s["to_step"]) for s in sessions] == [(0, step), (step, step + 3)]


def train_forever(job: dict) -> dict:
    """A pool job (tests/train/test_stop.py): train the MLP GAN on a tiny set until stopped."""
    from ganbench.data.arrays import array_image_set

    images = np.random.default_rng(0).integers(0, 256, (80, 1, 28, 28), dtype=np.uint8)
    train(load_baseline("gan"), array_image_set(images, "tiny"), job["out"], steps=1_000_000, **QUIET,
          options=TrainOptions(**NO_PERIODS))
    return {"status": "ok"}


def test_a_pool_worker_told_to_stop_checkpoints_where_it_stands(tmp_path):
    """The driver ends its workers with SIGTERM (Ctrl-C, an error, its own SIGTERM): a worker that is training
    checkpoints the step it stands at and reports how it stopped, instead of dying at once."""
    from ganbench.bench.executors.pool import _child, _context

    ctx = _context()
    recv, send = ctx.Pipe(duplex=False)
    out = tmp_path / "run"
    proc = ctx.Process(target=_child, args=(train_forever, {"out": str(out)}, send, 1, os.getpid()), daemon=True)
    proc.start()
    send.close()
    try:
        _started(out, proc)
        proc.terminate()
        proc.join(60)
    finally:
        proc.kill()
    assert proc.exitcode == 0  # it returned its message and ended, not killed by the signal
    kind, message, _ = recv.recv()
    step = load_checkpoint(out)["step"]
    assert kind == "error" and f"stopped on request at step {step} of 1000000" in message and step > 0
