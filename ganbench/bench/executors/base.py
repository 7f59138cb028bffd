"""What every executor shares: options, failures, the registry, and the retry loop of one job in this process.

Executors run jobs and hand back result records; only the driver writes the store.

An executor is ``(fn, jobs, options) -> iterator of (job, outcome)`` in completion order, where
``fn(job) -> record`` is picklable (a module-level function or a ``functools.partial`` of one)
and ``outcome`` is the record, or a :class:`JobFailure` once the job has failed
``1 + options.retries`` times (an exception in the job, or its worker process dying).
A ``GanbenchError`` (a user error: every job would fail the same way) is not retried: it stops
the sweep. ``local`` runs jobs one after the other in this process, or in ``options.workers``
processes (``ganbench.bench.pool``); ``ray`` (``ganbench.bench.ray_executor``) on a Ray cluster.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Protocol

from ...config import DEFAULT_RETRIES
from ...errors import BadInput, GanbenchError
from ...registry import Registry
from ..jobs import Job

JobFn = Callable[[Job], dict]


@dataclass(frozen=True)
class ExecOptions:
    """How to run a sweep: worker processes (local), retries per job, the Ray cluster, shipped data.

    ``shared``: read-only data every job needs, computed once by the driver (reference features:
    ``{cache key: (features, meta)}``); executors that cross machines ship it (Ray object store).
    """

    workers: int = 1
    retries: int = DEFAULT_RETRIES
    address: str | None = None
    shared: Any = None
    progress: bool = True


@dataclass(frozen=True)
class JobFailure:
    """A job that failed on its every attempt: the last error in one line, its traceback, the attempts."""

    error: str
    traceback: str
    attempts: int


class Executor(Protocol):
    def __call__(self, fn: JobFn, jobs: Iterable[Job], options: ExecOptions) -> Iterator[tuple[Job, dict | JobFailure]]:
        ...


EXECUTORS: Registry[Executor] = Registry("executor")


def executor(name: str) -> Callable[[Executor], Executor]:
    """Register the decorated function as the executor ``name``."""
    return EXECUTORS.register(name)


def get_executor(name: str) -> Executor:
    """The executor ``name``; an unknown name is a ``BadInput`` listing the known ones."""
    return EXECUTORS.get(name)


def check_options(options: ExecOptions) -> None:
    if options.workers < 1:
        raise BadInput(f"--jobs must be >= 1, got {options.workers}")
    if options.retries < 0:
        raise BadInput(f"--retries must be >= 0, got {options.retries}")


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def job_label(job: Job) -> str:
    """How the driver's lines name a job."""
    return f"{job.spec.name} seed {job.seed}"


def worker_setup(job: Job, beat: bool) -> None:
    """In a worker process (the pool's or Ray's), before the job: its progress lines, named for the job when
    ``beat`` (``progress.heartbeat``), and ganbench's warnings on one line."""
    from ... import progress
    from ...errors import one_line_warnings

    progress.heartbeat(job_label(job) if beat else None)
    one_line_warnings()


def note_attempt(job: Job, attempt: int, options: ExecOptions, error: str) -> None:
    """One stderr line per failed attempt, so a flaky job is visible even when a retry succeeds."""
    total = options.retries + 1
    then = "retrying" if attempt < total else "giving up"
    print(f"ganbench: job {job_label(job)}: attempt {attempt}/{total} failed ({error}); {then}",
          file=sys.stderr, flush=True)


def attempts(fn: JobFn, job: Job, options: ExecOptions) -> dict | JobFailure:
    """Run ``fn(job)`` in this process up to ``1 + retries`` times; a ``GanbenchError`` is raised at once."""
    error, tb = "", ""
    for attempt in range(1, options.retries + 2):
        try:
            return fn(job)
        except GanbenchError:
            raise
        except Exception as e:  # noqa: BLE001 - the job is retried, then recorded as failed
            error, tb = describe(e), traceback.format_exc(limit=8)
            note_attempt(job, attempt, options, error)
    return JobFailure(error, tb, options.retries + 1)
