"""kill -9 at ten moments of a real (tiny) ``ganbench run``: a training step, G sampling, a feature batch, an
SQLite commit, and the atomic writes of the table, a checkpoint, the eval log, a reference cache entry, the sample
grid and the trainer's status. After each kill the same command, run again, gives the uninterrupted run's rows
exactly and leaves no temporary file behind.

Everything is real except the feature network (a small stand-in for Inception), and the runs are forked from a
process that imported torch and ganbench once (tests/bench/kill_driver.py), so each costs a fraction of a second.
scripts/kill_run.py is the long version (more kills, also at random wall-clock times).
"""

import multiprocessing

import pytest

from . import kill_driver as kd


@pytest.mark.slow
def test_killed_at_ten_moments_reruns_give_the_same_rows_and_no_temp_file(tmp_path):
    ctx = multiprocessing.get_context("spawn")  # a clean process to fork the runs from
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=kd.report_to, args=(send, str(tmp_path)))
    proc.start()
    send.close()
    assert recv.poll(240), "the kill test hung"
    report = recv.recv()
    proc.join(30)
    assert report["status"] == 0
    want = report["rows"]
    assert [r["model"] for r in want] == ["tiny-dcgan", "real-data"] and want[0]["steps"] == 6
    assert len(want[0]["curve"]) == 3 and all(r["status"] == "ok" for r in want)
    assert sorted(report["counts"]) == sorted(kd.MOMENTS)  # the run reaches every moment
    assert len(report["kills"]) == 10
    for k in report["kills"]:
        assert k["killed"] == -9, k["kill"]  # it died there
        assert k["rerun"] == 0 and k["rows"] == want and k["leftovers"] == [], k["kill"]
