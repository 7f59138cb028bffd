"""SQLite results store: one row per evaluated job, its status, every metric and its provenance.

Rows are keyed by the job key (config hash + seed + dataset + budget + protocol), so a job
whose row exists is skipped on the next run. Each row is written in one transaction after
evaluation, so a killed run leaves whole rows only. Concurrent writers (several processes
or a ray driver) wait on SQLite's lock instead of failing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any, Iterable

from ..config import DEFAULT_STORE
from ..errors import BadInput

#: Where `ganbench run`, `compare` and `results` keep their rows unless `--store` says otherwise.
#: Seconds a writer waits for another writer's lock before giving up.
LOCK_TIMEOUT_S = 120.0

#: Metric columns, in table order (the keys of ``evaluate(...)["metrics"]``).
METRIC_COLUMNS = ("fid", "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall", "density", "coverage")
STATUSES = ("ok", "diverged", "failed")

_COLUMNS: dict[str, str] = {
    "job_key": "TEXT NOT NULL UNIQUE",
    "run": "TEXT",  # run folder the job belongs to
    "model": "TEXT NOT NULL",
    "config_hash": "TEXT",
    "seed": "INTEGER",
    "dataset": "TEXT",
    "split": "TEXT",  # reference split
    "budget": "TEXT",
    "protocol_hash": "TEXT",
    "status": "TEXT NOT NULL",
    "reason": "TEXT",
    **{m: "REAL" for m in METRIC_COLUMNS},
    "num_samples": "INTEGER",
    "ref_samples": "INTEGER",
    "steps": "INTEGER",
    "kimg": "REAL",
    "train_time_s": "REAL",
    "eval_time_s": "REAL",
    "images_per_s": "REAL",
    "peak_memory_mb": "REAL",
    "device": "TEXT",
    "weights_sha256": "TEXT",  # the feature extractor's (Inception) weights
    "checkpoint_sha256": "TEXT",  # the evaluated generator's checkpoint
    "resize_mode": "TEXT",
    "git_rev": "TEXT",
    "ganbench_version": "TEXT",
    "torch_version": "TEXT",
    "out_dir": "TEXT",
    "groups": "TEXT",  # JSON: grid axes of this job, e.g. {"loss": "hinge", "arch": "dcgan"}
    "provenance": "TEXT",  # JSON: everything else (versions, spec, protocol, budget, dataset, ...)
    "created_at": "TEXT",
}
COLUMNS = tuple(_COLUMNS)
_JSON_COLUMNS = ("groups", "provenance")


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
    con.row_factory = sqlite3.Row
    return con


class Store:
    """The results table in one SQLite file. Cheap to create; every call opens its own connection."""

    def __init__(self, path: str | os.PathLike = DEFAULT_STORE):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise BadInput(f"--store {self.path} is a folder; give a file path such as runs/results.sqlite")
        with closing(_connect(self.path)) as con:
            cols = ", ".join(f'"{c}" {t}' for c, t in _COLUMNS.items())
            try:
                con.execute(f"CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY AUTOINCREMENT, {cols})")
            except sqlite3.DatabaseError as e:
                raise BadInput(f"--store {self.path} is not a ganbench results database ({e})") from None
            have = {r["name"] for r in con.execute("PRAGMA table_info(results)")}
            missing = [c for c in COLUMNS if c not in have]
            for c in missing:  # an older store: add new columns, keep old rows
                kind = _COLUMNS[c].replace(" NOT NULL", "").replace(" UNIQUE", "")
                con.execute(f'ALTER TABLE results ADD COLUMN "{c}" {kind}')

    def put(self, record: dict[str, Any]) -> None:
        """Insert (or replace, same job key) one result row, in one transaction."""
        unknown = set(record) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown result fields: {sorted(unknown)}")
        if record.get("status") not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {record.get('status')!r}")
        row = dict(record)
        row.setdefault("created_at", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        for c in _JSON_COLUMNS:
            if c in row and not isinstance(row[c], str):
                row[c] = json.dumps(row[c], sort_keys=True, default=str)
        names = list(row)
        quoted = ", ".join('"' + n + '"' for n in names)
        sql = f"INSERT OR REPLACE INTO results ({quoted}) VALUES ({', '.join('?' for _ in names)})"
        with closing(_connect(self.path)) as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute(sql, [row[n] for n in names])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def get(self, job_key: str) -> dict[str, Any] | None:
        rows = self.query(job_key=job_key)
        return rows[0] if rows else None

    def done(self, job_key: str) -> bool:
        """True when the job has a final row (ok or diverged); failed jobs are retried."""
        row = self.get(job_key)
        return row is not None and row["status"] in ("ok", "diverged")

    def query(self, **filters: Any) -> list[dict[str, Any]]:
        """Rows whose columns equal the given values (a list/tuple value means any of them), oldest first."""
        where, params = [], []
        for col, value in filters.items():
            if value is None:
                continue
            if col not in COLUMNS:
                raise BadInput(f"cannot filter results on {col!r}; columns: {', '.join(COLUMNS)}")
            if isinstance(value, (list, tuple, set)):
                values = list(value)
                where.append(f'"{col}" IN ({", ".join("?" for _ in values)})')
                params += values
            else:
                where.append(f'"{col}" = ?')
                params.append(value)
        sql = "SELECT * FROM results" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        with closing(_connect(self.path)) as con:
            rows = [dict(r) for r in con.execute(sql, params)]
        for r in rows:
            for c in _JSON_COLUMNS:
                r[c] = json.loads(r[c]) if r.get(c) else {}
        return rows

    def delete(self, job_keys: Iterable[str]) -> int:
        keys = list(job_keys)
        if not keys:
            return 0
        with closing(_connect(self.path)) as con:
            con.execute("BEGIN IMMEDIATE")
            cur = con.execute(f"DELETE FROM results WHERE job_key IN ({', '.join('?' for _ in keys)})", keys)
            con.execute("COMMIT")
            return cur.rowcount
