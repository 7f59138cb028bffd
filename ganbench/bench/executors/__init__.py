"""Executors: where a sweep's jobs run. ``local`` (this process, or a process pool) and ``ray`` (a Ray cluster),
registered by name in ``EXECUTORS``; ``get_executor(name)`` is the entry point."""

from . import local, ray_cluster  # noqa: F401  (each registers its executor)
from .base import DEFAULT_RETRIES, EXECUTORS, ExecOptions, Executor, JobFailure, JobFn, get_executor

__all__ = ["DEFAULT_RETRIES", "EXECUTORS", "ExecOptions", "Executor", "JobFailure", "JobFn", "get_executor"]
