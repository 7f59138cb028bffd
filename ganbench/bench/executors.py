"""Executors run jobs and hand back result records; only the driver writes the store.

An executor is ``(fn, jobs) -> iterator of (job, record)`` in completion order, where
``fn(job) -> record`` is picklable (a module-level function or a ``functools.partial``
of one). ``local`` runs them one after the other in this process; a ``ray`` executor can
be registered beside it without touching the runner.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, Protocol

from ..errors import BadInput
from .jobs import Job

JobFn = Callable[[Job], dict]


class Executor(Protocol):
    def __call__(self, fn: JobFn, jobs: Iterable[Job]) -> Iterator[tuple[Job, dict]]: ...


EXECUTORS: dict[str, Executor] = {}


def executor(name: str) -> Callable[[Executor], Executor]:
    def deco(fn: Executor) -> Executor:
        if name in EXECUTORS:
            raise ValueError(f"executor {name!r} registered twice")
        EXECUTORS[name] = fn
        return fn
    return deco


def get_executor(name: str) -> Executor:
    if name not in EXECUTORS:
        raise BadInput(f"unknown executor {name!r}; known executors: {', '.join(EXECUTORS)}")
    return EXECUTORS[name]


@executor("local")
def local(fn: JobFn, jobs: Iterable[Job]) -> Iterator[tuple[Job, dict]]:
    """One job after the other, in this process (each job uses every core through torch)."""
    for job in jobs:
        yield job, fn(job)
