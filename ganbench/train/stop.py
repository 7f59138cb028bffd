"""Stopping a training run where it stands, without losing the steps since its last checkpoint.

A stop request (SIGTERM from a session's end or a scheduler preempting the job, Ctrl-C) that arrives while a
training loop runs in this process is honoured at the next step boundary: the loop checks divergence, logs a
row, writes its checkpoint there and raises ``Stopped``, so the resumed run continues from that step exactly as
if it had never stopped. A request that arrives while no loop honours it (evaluating, loading data, a DDP run,
whose ranks could not agree on the step) is refused, and the caller stops at once as before.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator


class Stopped(KeyboardInterrupt):
    """Training stopped on request after writing its checkpoint; re-running the command resumes it."""


# re-entrant: a signal handler runs in the main thread between two bytecodes, possibly while that thread holds it
_lock = threading.RLock()
_honouring = 0  # training loops in this process that check for a request at each step boundary
_requested = False


def request_stop() -> bool:
    """Ask the training loop running in this process to stop at its next step boundary. True when one will;
    False when none runs, or one was asked already (the caller should stop at once)."""
    global _requested
    with _lock:
        if not _honouring or _requested:
            return False
        _requested = True
        return True


def answer_signal(wait_if_asked: bool) -> None:
    """What a stop signal's handler does: ask the training loop to stop at its next step, or, without a loop to
    ask, raise ``KeyboardInterrupt`` to stop at once. A repeat while the loop finishes its step either stops at once
    (a user pressing Ctrl-C again) or, with ``wait_if_asked``, is ignored (a pool worker, whose driver's
    terminate follows the Ctrl-C the worker already saw)."""
    if not request_stop() and not (wait_if_asked and stop_pending()):
        raise KeyboardInterrupt


def stop_requested() -> bool:
    return _requested


def stop_pending() -> bool:
    """A loop runs that has been asked to stop and has not yet (a second signal waits for it, not kills it)."""
    return bool(_honouring and _requested)


@contextmanager
def honouring_stop() -> Iterator[None]:
    """Around a training loop that honours stop requests at step boundaries. A request is cleared when the last
    such loop ends; one that landed on the loop's last step (which ends the run, checkpointed, without stopping)
    is honoured as the loop returns, with ``Stopped``: the request was accepted, so the process must not go on."""
    global _honouring, _requested
    with _lock:
        _honouring += 1
    pending = False
    try:
        yield
    finally:
        with _lock:
            _honouring -= 1
            if not _honouring:
                pending, _requested = _requested, False
    if pending:  # the loop returned (no exception on its way out) with the request still unanswered
        raise Stopped("stopped on request as its training ended, checkpointed there")
