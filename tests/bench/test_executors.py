"""Executor semantics with injected job functions: retries, failure records, dead workers, user errors.

The job functions count their attempts in files (the pool runs each attempt in another process).
"""

import os
import signal
from pathlib import Path

import pytest

from ganbench.bench.executors import ExecOptions, JobFailure, get_executor
from ganbench.errors import BadInput

from ..helpers import flaky_job, make_jobs

def outcomes(name, tmp_path, names, **kw):
    return {job.spec.name: out for job, out in get_executor(name)(flaky_job, make_jobs(tmp_path, names),
                                                                   ExecOptions(**kw))}


def test_local_retries_then_records_failure(tmp_path):
    out = outcomes("local", tmp_path, ["ok", "flaky", "broken"], retries=2)
    assert out["ok"]["attempt"] == 1 and out["flaky"]["attempt"] == 2
    assert isinstance(out["broken"], JobFailure) and out["broken"].attempts == 3
    assert out["broken"].error == "RuntimeError: boom 3" and "flaky_job" in out["broken"].traceback
    assert (tmp_path / "broken" / "attempts").read_text() == "xxx"
    assert out["ok"]["pid"] == os.getpid()  # serial: in this process


def test_pool_survives_dead_workers(tmp_path):
    out = outcomes("local", tmp_path, ["dies", "ok", "dies-once", "flaky", "broken", "exits"], workers=2, retries=1)
    assert set(out) == {"dies", "ok", "dies-once", "flaky", "broken", "exits"}
    assert out["ok"]["attempt"] == 1 and out["dies-once"]["attempt"] == 2 and out["flaky"]["attempt"] == 2
    assert out["ok"]["pid"] != os.getpid()
    assert isinstance(out["dies"], JobFailure) and out["dies"].attempts == 2
    assert out["dies"].error == "worker process died (killed by SIGKILL)"
    assert isinstance(out["exits"], JobFailure) and "exit code 3" in out["exits"].error
    assert isinstance(out["broken"], JobFailure) and out["broken"].error == "RuntimeError: boom 2"
    assert (tmp_path / "dies" / "attempts").read_text() == "xx"


@pytest.mark.parametrize("workers", [1, 2])
def test_user_error_stops_the_sweep_without_retry(tmp_path, workers):
    with pytest.raises(BadInput, match="no such dataset"):
        outcomes("local", tmp_path, ["user"], workers=workers, retries=3)
    assert (tmp_path / "user" / "attempts").read_text() == "x"


def test_bad_options(tmp_path):
    with pytest.raises(BadInput, match="--jobs must be >= 1"):
        outcomes("local", tmp_path, ["ok"], workers=0)
    with pytest.raises(BadInput, match="unknown executor 'slurm'; known executors: local, ray"):
        get_executor("slurm")


def sleepy_job(job):
    """Writes its process id next to the job, then works for a minute (a long training)."""
    Path(job.out_dir).mkdir(parents=True, exist_ok=True)
    (Path(job.out_dir) / "pid").write_text(str(os.getpid()))
    import time
    time.sleep(60)
    return {"status": "ok"}


def _drive(tmp_path):
    """A driver with two worker processes on sleepy jobs (run in its own process, then killed)."""
    from ganbench.bench.executors.pool import process_pool

    list(process_pool(sleepy_job, make_jobs(tmp_path, ["a", "b"]), ExecOptions(workers=2, retries=0)))


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_stop_with_their_driver(tmp_path, how):
    """A driver killed mid-sweep (kill -9, or SIGTERM, whose default handler skips every ``finally``) leaves no
    worker training on for nobody: each watches its driver and exits within a couple of seconds."""
    import multiprocessing
    import time

    proc = multiprocessing.get_context("spawn").Process(target=_drive, args=(tmp_path,))
    proc.start()
    pids = []
    deadline = time.time() + 120
    while len(pids) < 2 and time.time() < deadline:
        pids = [int(p.read_text()) for p in tmp_path.glob("*/pid") if p.read_text()]
        time.sleep(0.2)
    assert len(pids) == 2, "the workers did not start"
    os.kill(proc.pid, how)
    proc.join(10)

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    deadline = time.time() + 10
    while any(alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in pids)


def test_driver_extracts_the_reference_with_the_threads_its_workers_will_share(tmp_path, monkeypatch):
    """No local worker runs while the driver extracts the reference features, so it uses the threads they will
    share (under OMP_NUM_THREADS=1 the other cores sat idle for the 14 minutes of a 10k reference); then its own
    count is put back. A Ray driver's count is left alone."""
    import torch

    from ganbench.bench import runner
    from ganbench.bench.backend import Backend

    class Enough(Exception):
        pass

    seen = []

    def prepare(jobs, b, progress=True):
        seen.append(torch.get_num_threads())
        raise Enough

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for executor, workers in [("local", 2), ("local", 3), ("ray", 2)]:
            with pytest.raises(Enough):
                runner.execute_jobs(flaky_job, make_jobs(tmp_path, ["ok"]), None, executor,
                                    ExecOptions(workers=workers), Backend(prepare_reference=prepare))
            assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert seen == [4, 3, 1]  # 2 workers x 2 threads; 3 x 1; the driver's own


def test_pool_workers_import_ganbench_from_where_the_driver_does(tmp_path):
    """A driver that imports ganbench from PYTHONPATH while its working directory holds another ganbench: its
    workers import the driver's. The forkserver, started as ``python -c``, put the working directory first and
    preloaded that ganbench, which every worker then inherited (2026-12-04)."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    decoy = tmp_path / "checkout"
    (decoy / "ganbench").mkdir(parents=True)
    (decoy / "ganbench" / "__init__.py").write_text("DECOY = True\n")  # imports: the forkserver kept it loaded
    driver = tmp_path / "bin" / "driver.py"  # a script, as the `ganbench` command is: its folder goes first
    driver.parent.mkdir()
    driver.write_text("import os, pathlib, sys\n"
                      "from ganbench.bench.executors import ExecOptions, get_executor\n"
                      "from tests.helpers import ganbench_file, make_jobs\n"
                      "if __name__ == '__main__':\n"
                      "    jobs = make_jobs(pathlib.Path(sys.argv[1]), ['a'])\n"
                      "    pool = get_executor('local')(ganbench_file, jobs, ExecOptions(workers=2))\n"
                      "    out = [o for _, o in pool][0]\n"
                      "    print(out['file'] if isinstance(out, dict) else out.error)\n"
                      "    print(out['env'] == [os.environ.get('PYTHONPATH'), os.environ.get('PYTHONSAFEPATH')])\n")
    env = {**os.environ, "PYTHONPATH": str(repo), "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONSAFEPATH", None)
    done = subprocess.run([sys.executable, str(driver), str(tmp_path / "jobs")], cwd=decoy, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    # the driver's ganbench; and the driver's import settings for what the job starts, not the forkserver's
    assert done.stdout.split() == [str(repo / "ganbench" / "__init__.py"), "True"], done.stdout + done.stderr[-2000:]


def test_starting_the_forkserver_leaves_the_drivers_environment_as_it_was(monkeypatch):
    from ganbench.bench.executors import pool

    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.delenv("PYTHONSAFEPATH", raising=False)
    pool._context()
    assert os.environ["PYTHONPATH"] == "/somewhere" and "PYTHONSAFEPATH" not in os.environ
