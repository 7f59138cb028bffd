"""The ``local`` executor: jobs one after the other in this process, or ``--jobs N`` worker processes."""

from __future__ import annotations

from typing import Iterable, Iterator

from ..jobs import Job
from .base import ExecOptions, JobFailure, JobFn, attempts, check_options, executor
from .pool import process_pool


@executor("local")
def local(fn: JobFn, jobs: Iterable[Job], options: ExecOptions = ExecOptions()) -> Iterator[tuple[Job, dict | JobFailure]]:
    """One job after the other in this process (each uses every core through torch), or
    ``options.workers`` worker processes at a time."""
    check_options(options)
    if options.workers > 1:
        yield from process_pool(fn, jobs, options)
        return
    for job in jobs:
        yield job, attempts(fn, job, options)
