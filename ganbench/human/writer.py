"""One thread writes a study's sessions and answers, committing whatever has queued up together (group commit).

A commit of the store waits for the disk (fsync, about 20 ms on a busy virtual disk), and SQLite lets one
writer in at a time. Answers that arrive while a commit is under way would each wait for their own; here
they queue, and the next transaction takes them all: each is checked and written in arrival order inside
that transaction (so each sees the ones before it, and a twin of an answer is refused), then one commit
makes the batch durable, and only then is every request answered. A crash before that commit loses the
batch, none of which has been acknowledged: what a client was told is stored, is stored.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable

from ..bench.store import Store


class GroupWriter:
    """``submit(fn)`` runs ``fn(con)`` inside a store write transaction shared with the other queued calls; it
    returns ``fn``'s result once the transaction is committed, or raises what ``fn`` raised. ``refusals`` are the
    exception types that refuse one call without touching the others (``fn`` must raise them before it writes)."""

    def __init__(self, store: Store, refusals: tuple[type[BaseException], ...] = ()):
        self.store, self.refusals = store, refusals
        self._queue: queue.Queue = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="ganbench-study-writer", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[Any], Any]) -> Any:
        if self._closed:
            raise RuntimeError("the study's writer is closed")
        future: Future = Future()
        self._queue.put((fn, future))
        return future.result()

    def close(self) -> None:
        """Stop the thread once the calls queued so far are done."""
        self._closed = True
        self._queue.put(None)
        self._thread.join()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list) -> None:
        outcomes = []
        try:
            with self.store.write() as con:
                for fn, future in batch:
                    try:
                        outcomes.append((future, fn(con), None))
                    except self.refusals as e:
                        outcomes.append((future, None, e))
        except BaseException as e:  # the transaction was rolled back: nothing of the batch is stored
            for _, future in batch:
                future.set_exception(e)
            return
        for future, value, error in outcomes:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
