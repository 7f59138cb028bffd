"""Progress of long work: a tqdm bar in an interactive run; in a worker of ``--jobs N``, whose bar would garble the
driver's output, one line every ``HEARTBEAT_S`` seconds instead, naming the job.

A job that trains for an hour and then extracts 10,000 images' features for another would otherwise show
nothing between its start and its end. The pool's worker process turns heartbeats on (:func:`heartbeat`) for
the job it runs; every bar the job opens with :func:`bar` and ``enabled=False`` then prints a line such as
``ganbench: lucic-dragan.t00 seed 0: train lucic-dragan.t00 9136/15625 step (58%), 2.35 step/s, about 46 min
left`` (from the lucic2018 search's log).
"""

from __future__ import annotations

import os
import sys
import time

from tqdm import tqdm

#: Seconds between two heartbeat lines of one bar ($GANBENCH_HEARTBEAT_S).
HEARTBEAT_S = float(os.environ.get("GANBENCH_HEARTBEAT_S", 600))

_label: str | None = None
_every_s = HEARTBEAT_S


def heartbeat(label: str | None, every_s: float | None = None) -> None:
    """Bars opened with ``enabled=False`` in this process print a line naming ``label`` every ``every_s``
    seconds (``None``: they print nothing)."""
    global _label, _every_s
    _label, _every_s = label, HEARTBEAT_S if every_s is None else every_s


def bar(total: int, desc: str, unit: str, enabled: bool, initial: int = 0, **tqdm_kwargs):
    """A tqdm bar when ``enabled``; else heartbeat lines where this process has them on; else nothing."""
    if not enabled and _label is not None:
        return Heartbeat(total, desc, unit, initial, _label, _every_s)
    return tqdm(total=total, desc=desc, unit=unit, initial=initial, disable=not enabled, **tqdm_kwargs)


def duration(seconds: float) -> str:
    """``seconds`` as a person reads a wait: "40 s", "25 min", "14.2 h"."""
    if seconds >= 90 * 60:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


class Heartbeat:
    """The part of tqdm's interface the callers use (``update``, ``set_postfix``, ``close``, a context), writing a
    line to stderr at most every ``every_s`` seconds; the rate is over the time since the previous line."""

    def __init__(self, total: int, desc: str, unit: str, initial: int, label: str, every_s: float):
        self.total, self.desc, self.unit, self.label, self.every_s = total, desc, unit, label, every_s
        self.n = self._n_line = initial
        self._t_line = time.perf_counter()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.perf_counter()
        if now - self._t_line >= self.every_s:
            self._line(now)

    def _line(self, now: float) -> None:
        rate = (self.n - self._n_line) / max(now - self._t_line, 1e-9)
        share = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        going = self.total and 0 < self.n < self.total and rate > 0
        left = f", about {duration((self.total - self.n) / rate)} left" if going else ""
        print(f"ganbench: {self.label}: {self.desc} {self.n}/{self.total} {self.unit}{share}, "
              f"{rate:.3g} {self.unit}/s{left}", file=sys.stderr, flush=True)
        self._t_line, self._n_line = now, self.n

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "Heartbeat":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
