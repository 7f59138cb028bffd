"""Progress without a bar: a worker of ``--jobs N`` prints a line naming its job now and then, from training and
from feature extraction; an interactive run keeps its tqdm bar, and ``--quiet`` prints nothing."""

import multiprocessing
import re
import signal

import pytest
import torch
from tqdm import tqdm

from ganbench import progress
from ganbench.bench.executors import pool
from ganbench.data import array_image_set
from ganbench.metrics.features import extract
from ganbench.train.trainer import TrainOptions, train
from ganbench.zoo.baselines import load_baseline
from tests.train.conftest import shrink


@pytest.fixture
def beating():
    progress.heartbeat("dcgan seed 3", every_s=0.0)
    yield
    progress.heartbeat(None)


def lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("ganbench: dcgan seed 3: ")]


def test_a_heartbeat_line_gives_the_count_the_share_the_rate_and_the_time_left(beating, capsys):
    with progress.bar(200, "features", "img", enabled=False, initial=50) as b:
        assert isinstance(b, progress.Heartbeat)
        b.update(50)
    (line,) = lines(capsys.readouterr().err)
    assert re.fullmatch(r"ganbench: dcgan seed 3: features 100/200 img \(50%\), [0-9.e+]+ img/s, "
                        r"about (\d+ (s|min)|\d+\.\d h) left", line), line


def test_a_wait_reads_in_seconds_minutes_or_hours():
    """Heartbeat lines and a report's unfinished jobs give a wait as a person reads it: 14 h is not "852 min"."""
    assert [progress.duration(s) for s in (0, 40, 89, 90, 25 * 60, 89 * 60, 90 * 60, 14.2 * 3600)] == [
        "0 s", "40 s", "89 s", "2 min", "25 min", "89 min", "1.5 h", "14.2 h"]


def test_lines_wait_for_their_interval_and_bars_stay_bars(capsys):
    progress.heartbeat("dcgan seed 3", every_s=3600.0)
    try:
        b = progress.bar(10, "train", "step", enabled=False)
        b.update(10)
        assert isinstance(progress.bar(10, "train", "step", enabled=True), tqdm)
    finally:
        progress.heartbeat(None)
    quiet = progress.bar(10, "train", "step", enabled=False)  # no heartbeat in this process: --quiet, or no pool
    assert isinstance(quiet, tqdm) and quiet.disable
    quiet.update(10)
    assert not lines(capsys.readouterr().err)


def test_training_and_feature_extraction_beat_in_a_worker(beating, one_thread, capsys, tmp_path):
    g = torch.Generator().manual_seed(0)
    data = array_image_set(torch.randint(0, 256, (32, 1, 28, 28), generator=g, dtype=torch.uint8).numpy(), "tiny")
    r = train(shrink(load_baseline("dcgan")), data, tmp_path, steps=3, progress=False,
              options=TrainOptions(tensorboard=False))
    assert r.steps == 3
    batches = (torch.zeros(4, 1, 8, 8, dtype=torch.uint8) for _ in range(3))
    extract(batches, 12, lambda x: {"mean": x.float().mean((1, 2, 3))[:, None]}, torch.device("cpu"),
            progress=False, desc="features")
    got = lines(capsys.readouterr().err)
    assert [ln.split(",")[0] for ln in got] == [
        *(f"ganbench: dcgan seed 3: train dcgan {k}/3 step ({100 * k / 3:.0f}%)" for k in (1, 2, 3)),
        *(f"ganbench: dcgan seed 3: features {k}/12 img ({100 * k / 12:.0f}%)" for k in (4, 8, 12))]


def test_a_segment_of_a_longer_run_says_where_the_segment_ends(beating, one_thread, capsys, tmp_path):
    """The runner trains a Lucic curve in 250-kimg segments and a search trial to its rung; a line counting
    toward the segment's end says so, with the run's length beside it."""
    g = torch.Generator().manual_seed(0)
    data = array_image_set(torch.randint(0, 256, (32, 1, 28, 28), generator=g, dtype=torch.uint8).numpy(), "tiny")
    spec = shrink(load_baseline("dcgan"))
    kimg = 2 * spec.batch_size * spec.tricks.n_critic / 1000  # two steps
    train(spec, data, tmp_path, kimg=kimg, progress=False,
          options=TrainOptions(tensorboard=False, schedule_kimg=3 * kimg))
    got = lines(capsys.readouterr().err)
    assert [ln.split(",")[0] for ln in got] == [
        f"ganbench: dcgan seed 3: train dcgan (to {kimg:.4g} of {3 * kimg:.4g} kimg) {k}/2 step ({50 * k}%)"
        for k in (1, 2)]


class _Job:
    spec = type("Spec", (), {"name": "dcgan"})()
    seed = 3


def _label_of_job(job):
    return {"label": progress._label}


@pytest.mark.parametrize("beat, label", [(True, "dcgan seed 3"), (False, None)])
def test_the_pool_worker_turns_heartbeats_on_for_its_job_unless_quiet(beat, label):
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    recv, send = multiprocessing.Pipe(duplex=False)
    try:
        pool._child(_label_of_job, _Job(), send, threads=torch.get_num_threads(), beat=beat)
        assert recv.recv() == ("ok", {"label": label})
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
        progress.heartbeat(None)
