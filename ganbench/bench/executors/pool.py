"""The local process pool: ``--jobs N`` runs up to N jobs at once, each attempt in its own process.

One process per attempt (not a ``concurrent.futures`` pool) so that a worker that dies (killed
for memory, a segfault, ``os._exit``) is charged to its own job alone: a broken shared pool
would fail every job running beside it. Processes come from a ``forkserver`` that has imported
ganbench and torch once, so starting one costs milliseconds, and torch's threads in this
process are never forked. Workers read reference features from the on-disk cache, which the
driver fills before the sweep.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import sys
import time
import signal
import traceback
from collections import deque
from multiprocessing.connection import wait
from typing import Iterable, Iterator

from ...devices import threads_each
from ...errors import GanbenchError
from ..jobs import Job
from .base import ExecOptions, JobFailure, JobFn, describe, note_attempt, worker_setup

#: Modules the forkserver imports once, so each job's process starts with them loaded.
PRELOAD = ["torch", "torch._dynamo", "ganbench.bench.runner"]  # Adam imports torch._dynamo: 2.5 s per worker otherwise


#: What the forkserver's environment changes (``_same_import_path``); each worker gets the driver's back.
IMPORT_ENV = ("PYTHONPATH", "PYTHONSAFEPATH")


def _context():
    """The forkserver context, its server started (once per process) importing what this process imports."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    with _same_import_path():
        multiprocessing.forkserver.ensure_running()
    return ctx


@contextlib.contextmanager
def _same_import_path():
    """The environment the forkserver starts in: this process's ``sys.path`` as ``PYTHONPATH``, nothing put before it
    (``PYTHONSAFEPATH``). The server starts as ``python -c``, which puts the working directory first on its path
    (Python 3.11's forkserver ignores the path the driver sends it), and preloads ganbench from there; each worker
    inherits those modules, and a module it imports later follows the preloaded package. A driver that imports
    ganbench from one place (an install, ``PYTHONPATH``) while its working directory holds another (a checkout)
    thus had workers run the checkout's code, and an edit to the checkout during a run reached them half-way
    (2026-12-04: every job started after one such edit died importing it)."""
    saved = {k: os.environ.get(k) for k in IMPORT_ENV}
    os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p or os.curdir) for p in sys.path)
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        yield
    finally:
        _set_env(saved)


def _set_env(values: dict[str, str | None]) -> None:
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


#: How often a worker checks that its driver is alive (seconds).
WATCH_S = 1.0
#: How long a stopped worker may take to checkpoint the step it stands at before it is killed (seconds).
STOP_GRACE_S = 60.0


def _exit_with(driver: int) -> None:
    """A daemon thread of the worker: exit once the driver process is gone (killed by -9, its ``finally`` never
    ran), instead of training on for a driver that will never read the result; a model training here first
    checkpoints the step it stands at (``train.stop``), for up to ``STOP_GRACE_S``."""
    import threading

    from ...train.stop import request_stop

    def watch() -> None:
        while True:
            time.sleep(WATCH_S)
            try:
                os.kill(driver, 0)
            except ProcessLookupError:
                if request_stop():
                    time.sleep(STOP_GRACE_S)  # the loop raises Stopped at its next step and the process ends
                os._exit(0)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="ganbench-driver-watch", daemon=True).start()


def _stop_on_signal() -> None:
    """In the worker: SIGTERM (the driver stopping its workers) and SIGINT (Ctrl-C reaches the whole process
    group) ask a training loop to checkpoint the step it stands at and stop; a repeat while it does so is
    ignored (the driver's terminate follows Ctrl-C at once); without a loop to ask, the worker stops at once."""
    from ...train.stop import answer_signal

    def stop(signum, frame):
        answer_signal(wait_if_asked=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def _child(fn: JobFn, job: Job, conn, threads: int, driver: int | None = None, beat: bool = False,
           env: dict[str, str | None] | None = None) -> None:
    """Runs in the worker: send back ``("ok", record)``, ``("fatal", GanbenchError)`` or ``("error", msg, tb)``.
    ``beat``: the job's training and feature extraction print a line now and then (``progress.heartbeat``).
    ``env``: the driver's values of ``IMPORT_ENV``, for the processes the job starts."""
    import torch

    if env is not None:
        _set_env(env)
    worker_setup(job, beat)
    _stop_on_signal()
    if driver is not None:
        _exit_with(driver)
    torch.set_num_threads(threads)  # the workers share the cores instead of each using all of them
    try:
        msg = ("ok", fn(job))
    except GanbenchError as e:
        msg = ("fatal", e)
    except BaseException as e:  # noqa: BLE001 - reported to the driver, which retries
        msg = ("error", describe(e), traceback.format_exc(limit=8))
    conn.send(msg)
    conn.close()


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"worker process died (killed by {signal.Signals(-exitcode).name})"
        except ValueError:
            pass
    return f"worker process died (exit code {exitcode}) before returning a result"


def _collect(proc, conn) -> tuple:
    """The finished worker's message, or an ``error`` saying how it died."""
    msg = None
    if conn.poll():
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            msg = None
    proc.join()
    conn.close()
    return msg if msg is not None else ("error", _death(proc.exitcode), "")


def process_pool(fn: JobFn, jobs: Iterable[Job], options: ExecOptions) -> Iterator[tuple[Job, dict | JobFailure]]:
    """Up to ``options.workers`` jobs at once; failed attempts go back to the front of the queue."""
    ctx = _context()
    pending = iter(jobs)
    retry: deque[tuple[Job, int]] = deque()
    running: dict = {}  # proc.sentinel -> (proc, conn, job, attempt)
    total = options.retries + 1
    threads = threads_each(options.workers)

    def start(job: Job, attempt: int) -> None:
        recv, send = ctx.Pipe(duplex=False)
        env = {k: os.environ.get(k) for k in IMPORT_ENV}
        proc = ctx.Process(target=_child, args=(fn, job, send, threads, os.getpid(), options.progress, env),
                           daemon=True, name=f"ganbench-{job.spec.name}-seed{job.seed}")
        proc.start()
        send.close()  # the child holds the only write end: EOF on recv when it dies
        running[proc.sentinel] = (proc, recv, job, attempt)

    try:
        while True:
            while len(running) < options.workers:
                if retry:
                    start(*retry.popleft())
                    continue
                job = next(pending, None)
                if job is None:
                    break
                start(job, 1)
            if not running:
                return
            ready = set(wait([e[1] for e in running.values()] + list(running)))
            for sentinel, (proc, conn, job, attempt) in list(running.items()):
                if conn not in ready and sentinel not in ready:
                    continue
                del running[sentinel]
                msg = _collect(proc, conn)
                if msg[0] == "ok":
                    yield job, msg[1]
                elif msg[0] == "fatal":
                    raise msg[1]
                else:
                    note_attempt(job, attempt, options, msg[1])
                    if attempt < total:
                        retry.append((job, attempt + 1))
                    else:
                        yield job, JobFailure(msg[1], msg[2], attempt)
    finally:
        for proc, conn, _, _ in running.values():  # the driver stopped (error, Ctrl-C): stop our workers,
            proc.terminate()  # each checkpointing the step its model stands at (train.stop)
        for proc, conn, _, _ in running.values():
            proc.join(STOP_GRACE_S)
            if proc.is_alive():
                proc.kill()
                proc.join()
            conn.close()
