"""Feature extraction in progress, kept on disk so that a stopped evaluation resumes where it stood.

Inception on a CPU reads 10k samples in 12 to 20 minutes; a job stopped during that pass (a session's end, a
SIGTERM, kill -9) used to start it again from the first image. While one process extracts the features of a
set of images, the pipeline (``pipeline.side_of``) saves the rows extracted so far, and the running sums of the
features kept as moments only, at most every ``SAVE_EVERY_S`` seconds, atomically, as
``cache_dir("partial")/KEY.pt``. The key hashes the images' content (their decoded pixels), the networks'
signatures, the features, the batch size, which features are moments and the kind of device, so a later extraction of the same
pixels in the same way continues after the saved rows: the same batches in the same order, so the same numbers
as one uninterrupted pass. An entry is verified on load (format, key, checksum, shapes, finite values); a bad
one is removed and counts as a miss. It is removed once its features are complete; entries older than
``MAX_AGE_S`` (images never evaluated again) and the temporary file of a writer killed mid-write are removed when
the next journal opens.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..io import atomic_path, cache_dir, clean_orphans
from . import cache
from .moments import Moments

FORMAT = "ganbench-partial-v1"
#: How often, at most, the rows extracted so far are written (seconds of extraction between two saves).
SAVE_EVERY_S = 60.0
#: A journal untouched for this long stands for images that were never evaluated again: removed.
MAX_AGE_S = 7 * 24 * 3600.0


def journal_key(features_key: str, batch_size: int, moments: set[str] | frozenset[str], device: str = "cpu") -> str:
    """The key of a journal: the features' cache key (content, count, networks, names), the batch size, which
    features are kept as moments (both change how the saved state continues) and the kind of device (a pass
    begun on a GPU is not continued on a CPU, whose float rounding differs; left out for a CPU, so journals written
    before it was keyed stay valid)."""
    parts = {"format": FORMAT, "features": features_key, "batch_size": int(batch_size), "moments": sorted(moments),
             **({"device": device} if device != "cpu" else {})}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class Saved:
    """What a journal held: the first ``rows`` rows' features, and the moments' state after them."""

    rows: int
    features: dict[str, torch.Tensor] = field(default_factory=dict)
    moments: dict[str, Moments] = field(default_factory=dict)
    seconds: float = 0.0  # the extraction time those rows took (the compute a resumed evaluation spent before)


def _moments_state(m: Moments) -> dict:
    return {"n": m.n, "sum": m.sum.detach().cpu().clone(), "outer": m.outer.detach().cpu().clone()}


def _moments_from(state: dict) -> Moments:
    m = Moments()
    m.n, m.sum, m.outer = int(state["n"]), state["sum"], state["outer"]
    return m


def _checksum(rows: int, features: dict[str, torch.Tensor], moments: dict[str, dict]) -> str:
    tensors = {**{f"features/{k}": v for k, v in features.items()},
               **{f"moments/{k}/{part}": s[part] for k, s in moments.items() for part in ("sum", "outer")}}
    counts = {k: s["n"] for k, s in moments.items()}
    return hashlib.sha256(f"{rows}|{sorted(counts.items())}|{cache.checksum(tensors)}".encode()).hexdigest()


class Journal:
    """The on-disk progress of one extraction of ``n`` rows: ``load`` what an earlier, stopped one saved, ``record``
    after every batch (written when ``SAVE_EVERY_S`` has passed), ``clear`` once complete."""

    def __init__(self, key: str, n: int, names: tuple[str, ...], moments: set[str] | frozenset[str],
                 about: dict | None = None):
        self.key, self.n, self.names, self.moment_names = key, int(n), tuple(names), set(moments)
        self.about = dict(about or {})  # what the images are (``Source.describe``), for ``ganbench cache list``
        self.path = cache_dir("partial") / f"{key}.pt"
        self.last = self.started = time.monotonic()
        self.saves = 0
        self.base: Saved | None = None  # what ``load`` found: the rows the extraction continues after

    def load(self) -> Saved | None:
        """The saved progress, verified; None (and the entry removed) when there is none or it does not check."""
        _prune(self.path)
        self.started = time.monotonic()
        if not self.path.is_file():
            return None
        try:
            data = torch.load(self.path, map_location="cpu", weights_only=True)
            saved = self._verified(data)
        except Exception:  # noqa: BLE001 - any unreadable entry is a miss
            saved = None
        if saved is None:
            self.path.unlink(missing_ok=True)
        self.base = saved
        return saved

    def _verified(self, data) -> Saved | None:
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != self.key:
            return None
        rows, feats, moments = int(data["rows"]), data["features"], data["moments"]
        if not 0 < rows <= self.n or set(feats) != set(self.names) - self.moment_names \
                or set(moments) != self.moment_names or data.get("checksum") != _checksum(rows, feats, moments):
            return None
        if any(v.ndim != 2 or v.shape[0] != rows or not torch.isfinite(v).all() for v in feats.values()):
            return None
        if any(s["n"] != rows or not torch.isfinite(s["outer"]).all() for s in moments.values()):
            return None
        return Saved(rows, dict(feats), {k: _moments_from(s) for k, s in moments.items()},
                     float(data.get("seconds", 0.0)))

    def record(self, done: int, features: dict[str, list[torch.Tensor]], moments: dict[str, Moments]) -> None:
        """After a batch: ``done`` rows extracted since the loaded ones (``features``: those rows, in parts;
        ``moments``: the running sums, the loaded ones included); written when ``SAVE_EVERY_S`` has passed since the
        last write (or since the extraction began), never once every row is done (``clear`` follows)."""
        base = self.base or Saved(0)
        rows = base.rows + done
        if time.monotonic() - self.last < SAVE_EVERY_S or rows >= self.n:
            return
        feats = {k: torch.cat(([base.features[k]] if k in base.features else []) + v).detach().cpu().contiguous()
                 for k, v in features.items() if v}
        state = {k: _moments_state(m) for k, m in moments.items() if m.sum is not None}
        if set(feats) != set(self.names) - self.moment_names or set(state) != self.moment_names:
            return  # nothing of some feature yet (cannot happen after a whole batch; never a partial entry)
        with atomic_path(self.path) as tmp:
            torch.save({"format": FORMAT, "key": self.key, "rows": rows, "n": self.n, "source": self.about,
                        "features": feats, "moments": state,
                        "checksum": _checksum(rows, feats, state), "saved": time.strftime("%Y-%m-%dT%H:%M:%S"),
                        "seconds": base.seconds + time.monotonic() - self.started},
                       tmp)
        self.saves += 1
        self.last = time.monotonic()

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def _prune(keep: Path) -> None:
    """Remove journals older than ``MAX_AGE_S`` (but ``keep``) and what a writer killed mid-write left."""
    clean_orphans(keep.parent)
    now = time.time()
    for p in keep.parent.glob("*.pt"):
        try:
            if p != keep and now - p.stat().st_mtime > MAX_AGE_S:
                p.unlink(missing_ok=True)
        except OSError:
            pass


def entries() -> list[dict]:
    """Every journal's description (``ganbench cache list``): its key, rows saved of how many, features, what the
    images are, when it was saved, its size in bytes; an unreadable one says so."""
    out = []
    for path in sorted(cache_dir("partial").glob("*.pt")):
        e = {"key": path.stem, "kind": "stopped extraction", "path": str(path), "bytes": path.stat().st_size}
        try:
            data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            e.update(rows=int(data["rows"]), n=data.get("n"), features=sorted([*data["features"], *data["moments"]]),
                     source=data.get("source") or {}, saved=data.get("saved"))
        except Exception:  # noqa: BLE001 - listed as it is: unreadable
            e["error"] = "unreadable"
        out.append(e)
    return out


def clear_all() -> int:
    """Remove every journal (``ganbench cache clear``); returns how many there were."""
    paths = list(cache_dir("partial").glob("*.pt"))
    for p in paths:
        p.unlink(missing_ok=True)
    return len(paths)
