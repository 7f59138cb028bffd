"""The training loop on tiny data: every baseline runs, resume is exact, divergence and corruption are caught."""

import csv
import dataclasses
import json
import sys

import pytest
import torch

from ganbench.errors import BadInput
from ganbench.train.checkpoint import load_checkpoint
from ganbench.train.trainer import DivergenceRule, TrainOptions, steps_for, train, training_view
from ganbench.zoo.baselines import list_baselines, load_baseline
from ganbench.zoo.losses import LOSSES, LossPair

QUIET = dict(progress=False)
QUIET_OPTIONS = dict(tensorboard=False)


@pytest.mark.parametrize("name", sorted(list_baselines()))
def test_every_baseline_trains_20_steps(name, tiny_data, tmp_path, tiny):
    r = train(tiny(load_baseline(name)), tiny_data, tmp_path, steps=20, **QUIET,
              options=TrainOptions(log_every=10, sample_every=20, **QUIET_OPTIONS))
    assert r.status == "ok" and r.steps == 20, r.reason
    assert r.losses and all(torch.isfinite(torch.tensor(v)) for v in r.losses.values())
    rows = list(csv.DictReader(open(tmp_path / "train_log.csv")))
    assert [int(row["step"]) for row in rows] == [10, 20] and float(rows[-1]["images_per_s"]) > 0
    assert (tmp_path / "samples" / "step_000020.png").is_file()
    provenance = json.loads((tmp_path / "status.json").read_text())["provenance"]
    assert provenance["spec_hash"] == tiny(load_baseline(name)).hash()
    assert provenance["double_backward"] == "zoo"  # the penalties' second derivatives (zoo.double_backward)
    assert provenance["malloc"] == ("kept" if sys.platform == "linux" else "default")  # devices.keep_freed_memory


@pytest.mark.parametrize("name,n_critic", [("dcgan", 1), ("wgan-gp", 2), ("sngan-ema-diffaug", 1)])
def test_resume_equals_straight_run(name, n_critic, tiny_data, tmp_path, tiny):
    # covers BN statistics, Adam/RMSProp state, the penalty's and DiffAugment's RNG, SN vectors and the EMA
    spec = tiny(load_baseline(name))
    spec = dataclasses.replace(spec, tricks=dataclasses.replace(spec.tricks, n_critic=n_critic))
    a = train(spec, tiny_data, tmp_path / "a", steps=20, **QUIET, options=TrainOptions(**QUIET_OPTIONS))
    train(spec, tiny_data, tmp_path / "b", steps=10, **QUIET, options=TrainOptions(**QUIET_OPTIONS))
    b = train(spec, tiny_data, tmp_path / "b", steps=20, **QUIET, options=TrainOptions(**QUIET_OPTIONS))
    sa, sb = load_checkpoint(a.checkpoint)["model"], load_checkpoint(b.checkpoint)["model"]
    for part in ("G", "D"):
        for key in sa[part]:
            assert torch.equal(sa[part][key], sb[part][key]), (part, key)
    if sa["ema"]:
        assert all(torch.equal(v, sb["ema"]["module"][k]) for k, v in sa["ema"]["module"].items())
    assert b.steps == 20 and b.kimg == a.kimg
    # finished: a second call returns the stored result without training
    again = train(spec, tiny_data, tmp_path / "b", steps=20, **QUIET, options=TrainOptions(**QUIET_OPTIONS))
    assert again.steps == 20 and again.wall_time_s == b.wall_time_s


def test_a_resumed_run_records_each_session_that_trained_it(tiny_data, tmp_path, tiny, monkeypatch):
    """Provenance says which process trained which steps, on how many threads, with which code: a run trained in
    several sittings (a study's re-run across working sessions) is not passed off as one."""
    from ganbench.train import trainer
    from ganbench.train.checkpoint import save_checkpoint

    spec, opts = tiny(load_baseline("dcgan")), TrainOptions(**QUIET_OPTIONS)
    first = train(spec, tiny_data, tmp_path / "a", steps=4, **QUIET, options=opts)
    assert [(s["from_step"], s["to_step"]) for s in first.provenance["sessions"]] == [(0, 4)]
    # the same process training on (a curve's next segment, a trial's next rung) is the same sitting
    on = train(spec, tiny_data, tmp_path / "a", steps=5, **QUIET, options=opts)
    assert on.provenance["sessions"] == [{**first.provenance["sessions"][0], "to_step": 5}]
    monkeypatch.setattr(trainer, "_process_id", lambda: "another")  # the second sitting: another process ...
    monkeypatch.setattr(trainer, "git_revision", lambda: "f" * 40)  # ... running other code
    second = train(spec, tiny_data, tmp_path / "a", steps=6, **QUIET, options=opts)
    one, two = second.provenance["sessions"]
    assert (one["from_step"], one["to_step"], two["from_step"], two["to_step"]) == (0, 5, 5, 6)
    assert one == on.provenance["sessions"][0] and two["git_rev"] == "f" * 40 and two["process"] == "another"
    assert two["torch_threads"] == torch.get_num_threads() and two["device_name"] == first.provenance["device_name"]
    assert load_checkpoint(tmp_path / "a")["sessions"] == second.provenance["sessions"]
    # a checkpoint written before sessions were recorded: its steps are one session that says so
    state = load_checkpoint(tmp_path / "a")
    del state["sessions"], state["payload_sha256"], state["file_sha256"]
    save_checkpoint(tmp_path / "a" / "checkpoint.pt", state)
    (tmp_path / "a" / "status.json").unlink()  # not finished: the next call trains
    third = train(spec, tiny_data, tmp_path / "a", steps=7, **QUIET, options=opts)
    assert [(s["from_step"], s["to_step"], s.get("recorded", True)) for s in third.provenance["sessions"]] == [
        (0, 6, False), (6, 7, True)]


def test_git_revision_is_the_code_this_process_loaded(monkeypatch):
    """Read once at import: a long search whose checkout moves on (commits while it runs, workers forked hours
    later) records the commit of the code it runs, not the checkout's HEAD at the time of each call."""
    import subprocess

    from ganbench import version

    loaded = version.git_revision()
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("git_revision ran git again"))
    assert version.git_revision() == loaded and (loaded is None or len(loaded.split("+")[0]) == 40)


def test_truncated_checkpoint_is_a_clear_error(tiny_data, tmp_path, tiny):
    spec = tiny(load_baseline("dcgan"))
    r = train(spec, tiny_data, tmp_path, steps=2, **QUIET, options=TrainOptions(**QUIET_OPTIONS))
    data = (tmp_path / "checkpoint.pt").read_bytes()
    (tmp_path / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInput, match=r"checkpoint .*checkpoint.pt is truncated or corrupt.*delete it"):
        train(spec, tiny_data, tmp_path, steps=4, **QUIET, options=TrainOptions(**QUIET_OPTIONS))
    assert r.checkpoint.endswith("checkpoint.pt")


def test_resume_refuses_another_model(tiny_data, tmp_path, tiny):
    train(tiny(load_baseline("dcgan")), tiny_data, tmp_path, steps=1, **QUIET, options=TrainOptions(**QUIET_OPTIONS))
    with pytest.raises(BadInput, match="another model"):
        train(tiny(load_baseline("lsgan")), tiny_data, tmp_path, steps=2, **QUIET, options=TrainOptions(**QUIET_OPTIONS))


def _with_loss(monkeypatch, name, d_value):
    pair = LossPair(name, lambda r, f, t=1.0: (r.mean() + f.mean()) * 0 + d_value, lambda f, r=None: f.mean(), "test")
    monkeypatch.setitem(LOSSES._entries, name, pair)


def test_nan_loss_ends_as_diverged(monkeypatch, tiny_data, tmp_path, tiny):
    _with_loss(monkeypatch, "nan-test", float("nan"))
    spec = dataclasses.replace(tiny(load_baseline("dcgan")), loss="nan-test")
    r = train(spec, tiny_data, tmp_path, steps=10, **QUIET, options=TrainOptions(log_every=5, **QUIET_OPTIONS))
    # losses reach the host at log points only (no sync per step): the run stops at the first log point
    # after the bad step, and the reason names the step itself
    assert r.status == "diverged" and r.steps == 5 and "non-finite d_loss at step 1" in r.reason
    assert json.loads((tmp_path / "status.json").read_text())["status"] == "diverged"


def test_exploded_loss_ends_as_diverged(monkeypatch, tiny_data, tmp_path, tiny):
    _with_loss(monkeypatch, "big-test", 1e6)
    spec = dataclasses.replace(tiny(load_baseline("dcgan")), loss="big-test")
    r = train(spec, tiny_data, tmp_path, steps=10, **QUIET,
              options=TrainOptions(divergence=DivergenceRule(threshold=1e4, patience=3), **QUIET_OPTIONS))
    assert r.status == "diverged" and r.steps == 10 and "above 10000 for 3 steps in a row (step 3)" in r.reason


def test_kimg_to_steps_and_views(tiny_data):
    spec = load_baseline("wgan-gp")  # batch 64, n_critic 5: 320 real images per G step
    assert steps_for(spec, None, 1.0) == 4 and steps_for(spec, 7, None) == 7
    with pytest.raises(BadInput, match="exactly one"):
        steps_for(spec, 3, 1.0)
    assert training_view(spec, tiny_data).resolution == 32
    assert training_view(spec, tiny_data).transform == "pad28to32"
    assert training_view(load_baseline("gan"), tiny_data).resolution == 28


def test_public_train_stays_callable_after_the_subpackage_is_imported(tmp_path):
    # importing ganbench.train.trainer binds the package to ganbench.train; the public train() must still work
    import ganbench
    import ganbench.train.trainer  # noqa: F401
    from ganbench.errors import BadInput
    assert callable(ganbench.train)
    with pytest.raises(BadInput, match="steps"):
        ganbench.train(load_baseline("dcgan"), None, tmp_path / "x", steps=0)


def test_provenance_says_which_double_backward_trained_the_penalty(tiny_data, tmp_path, tiny):
    """fast=False trains on PyTorch's own second derivatives, and the run says so (numbers differ by float noise)."""
    r = train(tiny(load_baseline("wgan-gp")), tiny_data, tmp_path, steps=2, **QUIET,
              options=TrainOptions(fast=False, **QUIET_OPTIONS))
    assert r.status == "ok" and r.provenance["double_backward"] == "pytorch" and r.provenance["fast"] is False
