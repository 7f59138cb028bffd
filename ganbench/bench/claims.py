"""Job claims in the results store, so that several ``ganbench run`` on one store share the work.

Before a run starts a job it claims it: a row of ``job_claims`` naming the run (its owner: host, process
and a random token) with a lease that the run's heartbeat renews every ``LEASE_S / 3`` seconds. A job
claimed by another live run is left to it, and this run waits for its row; a claim whose lease ran out, or
whose owner is a dead process on this machine (kill -9), is taken over. The table is additive: code that
does not know it ignores it. This module is the protocol; its queries are the store's (``store.py``, job claims).
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import sys
import threading
import time
from typing import Iterable, Iterator, TypeVar

from .store import Store, all_claims, claim_of, claims_transaction, drop_claims, job_status, put_claim, renew_claims

#: Seconds a claim lasts without a heartbeat; a run renews its claims every third of it.
LEASE_S = 90.0
#: Seconds between two looks at a job another run holds.
POLL_S = 2.0
MINE, BUSY, DONE = "mine", "busy", "done"
T = TypeVar("T")


def new_owner() -> str:
    """``HOST:PID:TOKEN``: who holds a claim (the token tells apart two runs in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def owner_alive(owner: str) -> bool:
    """False when ``owner`` is a process of this machine that no longer exists; True otherwise (another machine's
    owner is trusted until its lease runs out)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim(store: Store, job_key: str, owner: str, lease_s: float = LEASE_S) -> tuple[str, str | None]:
    """Try to claim ``job_key`` for ``owner``, in one transaction: ``(DONE, None)`` when it already has a final
    row (ok or diverged), ``(BUSY, holder)`` when another live run holds it, else ``(MINE, None)``."""
    now = time.time()
    with claims_transaction(store.path) as con:
        if job_status(con, job_key) in ("ok", "diverged"):
            return DONE, None
        held = claim_of(con, job_key)
        if held is not None and held[0] != owner and held[1] > now and owner_alive(held[0]):
            return BUSY, held[0]
        put_claim(con, job_key, owner, now + lease_s, now)
        return MINE, None


def renew(store: Store, job_keys: Iterable[str], owner: str, lease_s: float = LEASE_S) -> None:
    """The heartbeat: extend ``owner``'s claims on ``job_keys``."""
    keys = list(job_keys)
    if not keys:
        return
    with claims_transaction(store.path) as con:
        renew_claims(con, keys, owner, time.time() + lease_s)


def release(store: Store, job_keys: Iterable[str], owner: str) -> None:
    keys = list(job_keys)
    if not keys:
        return
    with claims_transaction(store.path) as con:
        drop_claims(con, keys, owner)


def holders(store: Store) -> dict[str, tuple[str, float]]:
    """Every claim: ``{job_key: (owner, expires)}``."""
    return all_claims(store.path)


class Leases:
    """This run's claims and their heartbeat (a daemon thread); ``close()`` releases what is still held."""

    def __init__(self, store: Store, lease_s: float = LEASE_S, poll_s: float = POLL_S):
        self.store, self.lease_s, self.poll_s = store, lease_s, poll_s
        self.owner = new_owner()
        self.held: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="ganbench-claims", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            with self._lock:
                keys = list(self.held)
            try:
                renew(self.store, keys, self.owner, self.lease_s)
            except sqlite3.Error as e:  # a busy or unreachable store: try again at the next beat
                print(f"ganbench: could not renew job claims ({e}); retrying", file=sys.stderr)

    def take(self, job_key: str) -> tuple[str, str | None]:
        status, holder = claim(self.store, job_key, self.owner, self.lease_s)
        if status == MINE:
            with self._lock:
                self.held.add(job_key)
        return status, holder

    def release(self, job_key: str) -> None:
        with self._lock:
            self.held.discard(job_key)
        release(self.store, [job_key], self.owner)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        with self._lock:
            keys, self.held = list(self.held), set()
        release(self.store, keys, self.owner)

    def claimed(self, items: Iterable[T], key=lambda item: item.key, on_wait=None) -> Iterator[T]:
        """The items whose jobs this run gets to do, as it claims them: first every free one, then, one by one,
        those another run held whose owner died or gave them up; jobs finished meanwhile are left out.
        ``on_wait(item, holder)`` is called once for each item found held by another run."""
        waiting: list[T] = []
        for item in items:
            status, holder = self.take(key(item))
            if status == MINE:
                yield item
            elif status == BUSY:
                waiting.append(item)
                if on_wait is not None:
                    on_wait(item, holder)
        while waiting:
            time.sleep(self.poll_s)
            for item in list(waiting):
                status, _ = self.take(key(item))
                if status != BUSY:
                    waiting.remove(item)
                if status == MINE:
                    yield item
