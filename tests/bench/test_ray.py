"""The ray executor on a local Ray instance (2 CPUs): same rows as the local executor, retries, dead workers.

One Ray instance per module. Its workers get their own cache folder (the "node's" cache), so a
job can only find the reference features there if the driver shipped them.
"""

import dataclasses
import os

import pytest

from ganbench.bench.executors import ExecOptions, JobFailure, get_executor
from ganbench.bench.runner import RunOptions, run
from ganbench.bench.store import Store


from ..helpers import flaky_job, make_jobs, tiny_budget

ray = pytest.importorskip("ray")

TINY = tiny_budget(samples=8)
#: Same (spec, seed, budget) on the same CPU: training and sampling are deterministic. Ray tasks run
#: torch on one thread (their one CPU), so the local run below does too; FID is compared to 1e-6 relative.
FID_RTOL = 1e-6


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    node_cache = tmp_path_factory.mktemp("ray-node-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANBENCH_CACHE", str(node_cache))  # the workers' cache, not the driver's
        # as a user sets it for long jobs: Ray then leaves it to its workers, and the tasks must still run on 1
        mp.setenv("OMP_NUM_THREADS", "2")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield node_cache
    finally:
        ray.shutdown()


def test_sweep_on_ray_gives_the_local_rows(ray_cluster, tmp_path, one_thread):
    args = dict(models=["gan", "dcgan"], seeds=(0, 1), budget=TINY, metrics=("fid", "kid"))
    where = RunOptions(device="cpu", progress=False)
    local = run(**args, options=dataclasses.replace(where, out=tmp_path / "local", store=tmp_path / "local.sqlite"))
    on_ray = dataclasses.replace(where, out=tmp_path / "ray", store=tmp_path / "ray.sqlite", executor="ray")
    remote = run(**args, options=on_ray)
    key = lambda r: (r["model"], r["seed"])  # noqa: E731
    a, b = sorted(local.rows, key=key), sorted(remote.rows, key=key)
    assert [key(r) for r in b] == [("dcgan", 0), ("dcgan", 1), ("gan", 0), ("gan", 1)]
    assert [r["status"] for r in b] == ["ok"] * 4 and len(Store(tmp_path / "ray.sqlite").query()) == 4
    for ra, rb in zip(a, b):
        assert rb["fid"] == pytest.approx(ra["fid"], rel=FID_RTOL), key(ra)
        assert rb["kid_mean"] == pytest.approx(ra["kid_mean"], rel=1e-5, abs=1e-9), key(ra)
        assert rb["steps"] == ra["steps"] and rb["checkpoint_sha256"] is not None
        assert "ray" in rb["out_dir"]
    # the workers found the driver's reference features in their own cache: shipped, not recomputed
    assert all(r["provenance"]["evaluation"]["reference"]["cache_hit"] for r in b)
    # one reference set: every job is evaluated at the native 28 px (the lead's change: samples of nets
    # trained on the padded 32 px view are cropped back before the metrics, as in Lucic et al. 2018)
    assert len(list((ray_cluster / "reference").glob("*.pt"))) == 1
    assert {f.stem for f in (ray_cluster / "reference").glob("*.pt")} == {
        r["provenance"]["evaluation"]["reference"]["cache_key"] for r in b}
    # a re-run (a driver that died and came back) skips what is done
    again = run(**args, options=on_ray)
    assert again.skipped == 4


def _threads(job):
    import torch

    return {"threads": torch.get_num_threads()}


def test_a_task_runs_torch_on_the_cpus_it_asked_for(ray_cluster, tmp_path):
    """The cluster's workers inherit OMP_NUM_THREADS=2 (the fixture); each 1-CPU task still runs on 1 thread."""
    out = [o for _, o in get_executor("ray")(_threads, make_jobs(tmp_path, ["ok", "ok2"]), ExecOptions())]
    assert out == [{"threads": 1}, {"threads": 1}]


def test_failing_and_dying_jobs_on_ray(ray_cluster, tmp_path):
    names = ["ok", "flaky", "broken", "dies-once", "dies"]
    out = {job.spec.name: o for job, o in get_executor("ray")(flaky_job, make_jobs(tmp_path, names),
                                                               ExecOptions(retries=1))}
    assert set(out) == set(names)
    assert out["ok"]["attempt"] == 1 and out["flaky"]["attempt"] == 2 and out["dies-once"]["attempt"] == 2
    assert out["ok"]["pid"] != os.getpid()
    assert isinstance(out["broken"], JobFailure) and out["broken"].error == "RuntimeError: boom 2"
    assert isinstance(out["dies"], JobFailure) and out["dies"].attempts == 2
    assert "WorkerCrashedError" in out["dies"].error or "died" in out["dies"].error.lower()
    assert (tmp_path / "dies" / "attempts").read_text() == "xx"


def test_a_search_on_ray_and_on_worker_processes_gives_the_same_trials(ray_cluster, tmp_path, one_thread):
    """``ganbench search`` with real (tiny) training and real Inception: the trials run as Ray tasks or in local
    worker processes, report to one Optuna journal and prune there; both executors give the same trials."""
    from ganbench.bench.search import SearchOptions, search
    from ganbench.studies import SearchProtocol

    space = tmp_path / "space.yaml"
    space.write_text("params:\n  learning_rate: {log_uniform: [1.0e-4, 1.0e-2], set: [optim_g.lr, optim_d.lr]}\n")
    p = SearchProtocol(space=str(space), trials=4, min_kimg=0.032, reduction=2, rung_samples=8, validation=16,
                       rerun_seeds=(1,))
    results = {}
    for executor, jobs in (("ray", 1), ("local", 2)):
        results[executor] = search(["gan"], protocol=p, budget=TINY, backend=None, options=SearchOptions(
            out=str(tmp_path / executor), store=str(tmp_path / f"{executor}.sqlite"), executor=executor, jobs=jobs,
            device="cpu", progress=False))
    ray_res, local_res = results["ray"], results["local"]
    rows = ray_res.trials["gan"]
    assert [r["provenance"]["trial"]["number"] for r in rows] == [0, 1, 2, 3]
    assert rows[0]["status"] == "ok" and {r["status"] for r in rows} <= {"ok", "pruned"}
    assert all(r["provenance"]["trial"]["rungs"][0]["kimg"] == 0.032 for r in rows)
    assert [r["provenance"]["trial"]["params"] for r in rows] == \
        [r["provenance"]["trial"]["params"] for r in local_res.trials["gan"]]
    assert ray_res.reruns["gan"][0]["status"] == "ok" and ray_res.reruns["gan"][0]["seed"] == 1
