"""The ``ray`` executor: one Ray task per job attempt on a local or existing Ray cluster.

Each task asks for 1 GPU when the cluster has GPUs (and the job is not pinned to the CPU), else
1 CPU, and runs torch on as many threads as it asked CPUs for, so a node runs as many jobs as it has
cores without oversubscribing them. (Ray sets OMP_NUM_THREADS for its workers only where the driver's
environment does not: with OMP_NUM_THREADS=2 there, every task used to run on 2 threads beside the
others, and trained with other float rounding than the same job on 1 thread.) The
driver's reference features go into the object store once (``ray.put``) and every task installs
them into its node's cache before it evaluates. Tasks are submitted with ``max_retries=0``: the
driver retries itself, so an exception and a dead worker cost the job one attempt alike.
Ray is imported only when this executor is used (``pip install 'ganbench[ray]'``).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ...errors import BadInput, GanbenchError, MissingAsset
from ..jobs import Job
from .base import ExecOptions, JobFailure, JobFn, check_options, describe, executor, note_attempt, worker_setup


def import_ray():
    try:
        import ray
    except ImportError:
        raise MissingAsset("the ray executor needs Ray: pip install 'ganbench[ray]' (or pip install ray)") from None
    return ray


def _run_task(fn: JobFn, job: Job, shared: Any, threads: int = 1, beat: bool = False) -> dict:
    """Runs on a Ray worker: torch on the task's ``threads`` (its CPUs), the shipped reference features put in this
    node's cache, then the job (printing a line now and then with ``beat``, which Ray forwards to the driver)."""
    import torch

    worker_setup(job, beat)
    torch.set_num_threads(threads)
    if shared:
        from ..reference import install_reference
        install_reference(shared)
    return fn(job)


def connect(ray, address: str | None) -> bool:
    """Join ``address`` (``auto``, ``ray://HOST:PORT``) or start a local instance; True if we started Ray."""
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=True)
    except ConnectionError as e:
        raise BadInput(f"cannot reach a Ray cluster at {address!r} ({e}); start one with `ray start --head` "
                       "or leave out --address for a local instance") from None
    except ImportError as e:  # ray:// needs the Ray Client's extra packages
        raise MissingAsset(f"--address {address}: {e}; pip install 'ray[client]' on the driver") from None
    return True


def resources(ray, job: Job) -> dict:
    """1 GPU per job where the cluster has GPUs (unless the job is pinned to the CPU), else 1 CPU."""
    gpus = ray.cluster_resources().get("GPU", 0)
    if gpus and not str(job.device or "").startswith("cpu"):
        return {"num_gpus": 1, "num_cpus": 1}
    return {"num_cpus": 1}


def _outcome(ray, ref) -> tuple[str, Any, str]:
    """``("ok", record, "")`` or ``("error", message, traceback)``; a GanbenchError is raised."""
    try:
        return "ok", ray.get(ref), ""
    except ray.exceptions.RayTaskError as e:
        cause = getattr(e, "cause", None)
        if isinstance(cause, GanbenchError):
            raise cause from None
        return "error", describe(cause) if cause is not None else str(e).splitlines()[0], str(e)
    except ray.exceptions.RayError as e:  # the worker or its node died, the object was lost
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return "error", f"{type(e).__name__}: {first}", str(e)


@executor("ray")
def ray_jobs(fn: JobFn, jobs: Iterable[Job], options: ExecOptions = ExecOptions()) -> Iterator[tuple[Job, dict | JobFailure]]:
    """Every job as a Ray task; results come back in completion order."""
    check_options(options)
    ray = import_ray()
    started = connect(ray, options.address)
    task = ray.remote(_run_task)
    shared = ray.put(options.shared) if options.shared else None
    total = options.retries + 1
    running: dict = {}  # ObjectRef -> (job, attempt)

    def submit(job: Job, attempt: int) -> None:
        res = resources(ray, job)
        ref = task.options(max_retries=0, retry_exceptions=False, **res).remote(fn, job, shared, res["num_cpus"],
                                                                                options.progress)
        running[ref] = (job, attempt)

    try:
        for job in jobs:
            submit(job, 1)
        while running:
            (ref,), _ = ray.wait(list(running), num_returns=1)
            job, attempt = running.pop(ref)
            kind, value, tb = _outcome(ray, ref)
            if kind == "ok":
                yield job, value
                continue
            note_attempt(job, attempt, options, value)
            if attempt < total:
                submit(job, attempt + 1)
            else:
                yield job, JobFailure(value, tb, attempt)
    finally:
        for ref in running:  # the driver stopped early: do not leave our tasks running
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()
