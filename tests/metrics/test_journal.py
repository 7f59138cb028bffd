"""A stopped extraction resumes where it stood (``metrics/journal.py``), and gives the numbers of one pass.

The features are the offline Fashion-MNIST CNN's (128-d, fast on a CPU) of 300 test images in batches of 32; the
extraction is stopped by an exception from the extractor after a few batches, as a SIGTERM or Ctrl-C would stop
it, with a journal written after every batch (``SAVE_EVERY_S = 0``). The reference is the same evaluation run
once without a stop: its values must be equal exactly (same batches, same order, the float64 moments restored).
"""

import dataclasses
import time

import pytest
import torch

from ganbench.config import DEFAULT_PROTOCOL
from ganbench.io import cache_dir
from ganbench.metrics import journal, pipeline
from ganbench.metrics.evaluate import EvaluateOptions, evaluate

P = dataclasses.replace(DEFAULT_PROTOCOL, features="fmnist", feature_batch_size=32, kid_subset_size=100)
N, BATCHES = 300, 10  # 9 batches of 32 and one of 12


class Stop(Exception):
    pass


@pytest.fixture
def images(fmnist):
    return fmnist.uint8(slice(0, N)), fmnist.uint8(slice(2000, 2000 + N))


@pytest.fixture
def counted(monkeypatch):
    """The extractor's batches counted; ``calls["stop_after"] = k`` raises ``Stop`` on the batch after k."""
    calls = {"n": 0, "stop_after": None}
    real = pipeline.extractor

    def wrapped(names, nets):
        run = real(names, nets)

        def counting(x):
            if calls["stop_after"] is not None and calls["n"] >= calls["stop_after"]:
                raise Stop
            calls["n"] += 1
            return run(x)
        return counting
    monkeypatch.setattr(pipeline, "extractor", wrapped)
    monkeypatch.setattr(journal, "SAVE_EVERY_S", 0.0)
    return calls


def run(samples, reference, metrics, cache=True):
    return evaluate(samples, reference, metrics=metrics, device="cpu", protocol=P, progress=False,
                    options=EvaluateOptions(cache=cache))


def journals():
    return sorted(cache_dir("partial").glob("*.pt"))


@pytest.mark.parametrize("metrics", [("fid", "kid"), ("fid",)], ids=["rows", "moments"])
def test_a_stopped_extraction_resumes_after_its_saved_rows_with_equal_numbers(images, counted, metrics):
    samples, reference = images
    whole = run(samples, reference, metrics)
    assert not journals()  # a finished extraction leaves no journal
    if metrics == ("fid",):  # N > 128: FD alone keeps the samples' features as moments
        assert whole["provenance"]["samples"]["moments_only"] == ["fmnist"]

    counted.update(n=0, stop_after=4)
    with pytest.raises(Stop):
        run(samples, reference, metrics)
    assert len(journals()) == 1
    saved = torch.load(journals()[0], weights_only=True)
    assert saved["rows"] == 4 * 32

    counted.update(n=0, stop_after=None)
    resumed = run(samples, reference, metrics)
    assert counted["n"] == BATCHES - 4  # the samples' six batches left; the reference comes from the cache
    assert resumed["provenance"]["samples"]["resumed_at"] == 128
    # the stopped pass's extraction time is carried into the result (a job's hours count it)
    assert resumed["provenance"]["resumed_seconds"] == resumed["provenance"]["samples"]["resumed_seconds"] > 0
    assert abs(resumed["provenance"]["resumed_seconds"] - saved["seconds"]) < 1e-3
    assert whole["provenance"]["resumed_seconds"] == 0
    assert resumed["metrics"] == whole["metrics"]
    assert not journals()


def test_a_bad_or_foreign_journal_is_a_miss(images, counted):
    samples, reference = images
    whole = run(samples, reference, ("fid", "kid"))
    counted.update(n=0, stop_after=3)
    with pytest.raises(Stop):
        run(samples, reference, ("fid", "kid"))
    path = journals()[0]
    data = torch.load(path, weights_only=True)
    data["features"]["fmnist"][5, 7] += 1.0  # the checksum no longer holds
    torch.save(data, path)

    counted.update(n=0, stop_after=None)
    again = run(samples, reference, ("fid", "kid"))
    assert counted["n"] == BATCHES and "resumed_at" not in again["provenance"]["samples"]
    assert again["metrics"] == whole["metrics"] and not journals()

    counted.update(n=0, stop_after=3)  # other pixels: another key, so the journal of these is not read
    with pytest.raises(Stop):
        run(samples, reference, ("fid", "kid"))
    other = samples.clone()
    other[0, 0, 0, 0] ^= 1
    counted.update(n=0, stop_after=None)
    run(other, reference, ("fid", "kid"))
    assert counted["n"] == BATCHES and len(journals()) == 1  # the first images' journal stays for them


def test_without_the_cache_nothing_is_written(images, counted):
    samples, reference = images
    counted.update(stop_after=4)
    with pytest.raises(Stop):
        run(samples, reference, ("fid",), cache=False)
    assert not journals()


def test_cache_list_shows_and_clear_removes_stopped_extractions(images, counted, capsys):
    import json

    from ganbench.cli import main

    samples, reference = images
    counted.update(stop_after=2)
    with pytest.raises(Stop):
        run(samples, reference, ("fid",))
    assert len(journals()) == 1
    capsys.readouterr()
    assert main(["cache", "list"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "stopped extraction" in line and "64/300 images fmnist" in line
    assert main(["cache", "list", "--json"]) == 0
    (entry,) = [e for e in json.loads(capsys.readouterr().out) if e.get("kind") == "stopped extraction"]
    assert (entry["rows"], entry["n"], entry["features"], entry["source"]["n"]) == (64, N, ["fmnist"], N)
    assert main(["cache", "clear"]) == 0
    assert "and 1 stopped extraction(s)" in capsys.readouterr().out and not journals()


def test_a_jobs_evaluation_time_counts_the_stopped_pass():
    from ganbench.bench.jobs import eval_seconds

    started = time.perf_counter() - 2.0
    assert 2.0 <= eval_seconds({"metrics": {}, "provenance": {"resumed_seconds": 30.5}}, started) - 30.5 < 3.0
    assert 2.0 <= eval_seconds({"metrics": {}}, started) < 3.0  # a fake backend's result has no provenance


def test_old_journals_and_a_killed_writers_file_are_removed_when_a_journal_opens(images, counted):
    import os
    import subprocess
    import sys

    samples, reference = images
    folder = cache_dir("partial")
    old = folder / ("0" * 32 + ".pt")
    old.write_bytes(b"x")
    os.utime(old, (time.time() - journal.MAX_AGE_S - 60,) * 2)
    code = ("import os, sys; from ganbench.io import atomic_path\n"
            "cm = atomic_path(sys.argv[1]); tmp = cm.__enter__(); tmp.write_bytes(b'half'); os._exit(9)")
    subprocess.run([sys.executable, "-c", code, str(folder / ("1" * 32 + ".pt"))], check=False)
    assert len(list(folder.glob(".*.tmp"))) == 1
    run(samples, reference, ("fid",))
    assert not old.exists() and not list(folder.glob(".*.tmp"))


def test_a_journal_is_keyed_by_the_kind_of_device():
    cpu = journal.journal_key("f" * 32, 32, {"pool3"})
    assert journal.journal_key("f" * 32, 32, {"pool3"}, "cpu") == cpu  # CPU keys as before the device was keyed
    assert journal.journal_key("f" * 32, 32, {"pool3"}, "cuda") != cpu
    assert journal.journal_key("f" * 32, 64, {"pool3"}) != cpu and journal.journal_key("f" * 32, 32, set()) != cpu
