"""SQLite results store: one row per evaluated job (status, provenance) and its metric values in long form.

``results`` holds a job's row, keyed by the job key (config hash + seed + dataset + budget +
protocol), so a job whose row exists is skipped on the next run; ``metric_values`` holds one row
per job x metric value (``fid``, ``kid_mean``, ``precision``, ...), so a new metric needs no schema
change. Each job is written in one transaction after evaluation, so a killed run leaves whole
jobs only. Concurrent writers (several processes, a ray driver) wait on SQLite's lock.

Schema versions: 1 kept metric values as columns of ``results``; opening such a store copies them
into ``metric_values`` in one transaction, losing nothing (the old columns stay, unused).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..config import DEFAULT_STORE
from ..errors import BadInput
from ..metrics import registry

#: Seconds a writer waits for another writer's lock before giving up.
LOCK_TIMEOUT_S = 120.0
SCHEMA_VERSION = 2
#: "pruned": a search trial that early stopping ended (``ganbench search``); it counts as done.
STATUSES = ("ok", "diverged", "failed", "pruned")
#: Metric value columns of schema 1, moved into ``metric_values`` by the migration.
LEGACY_METRIC_COLUMNS = ("fid", "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall", "density",
                         "coverage")

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

#: Human studies (``ganbench human``): a study per run; its images (PNG bytes behind opaque ids, never a
#: path); one session per evaluator (a random token, the model it judges, its image sequence); one row per
#: answer, unique per evaluator and position and per evaluator and image, so no answer is stored twice; one
#: row per scored model (``human score``: which bootstrap made its interval, with what settings).
HUMAN_TABLES = (
    "CREATE TABLE IF NOT EXISTS human_studies (study TEXT PRIMARY KEY, run_dir TEXT, dataset TEXT, "
    "protocol TEXT, created_at TEXT)",
    "CREATE TABLE IF NOT EXISTS human_images (image_id TEXT PRIMARY KEY, study TEXT NOT NULL, model TEXT, "
    "truth TEXT NOT NULL, role TEXT NOT NULL, source TEXT, png BLOB NOT NULL, created_at TEXT)",
    "CREATE INDEX IF NOT EXISTS human_images_study ON human_images (study, role, truth, model)",
    "CREATE TABLE IF NOT EXISTS human_sessions (evaluator TEXT PRIMARY KEY, study TEXT NOT NULL, "
    "model TEXT NOT NULL, sequence TEXT NOT NULL, tutorial INTEGER NOT NULL, state TEXT NOT NULL, "
    "created_at TEXT, finished_at TEXT)",
    "CREATE TABLE IF NOT EXISTS human_answers (evaluator TEXT NOT NULL, position INTEGER NOT NULL, "
    "image_id TEXT NOT NULL, study TEXT NOT NULL, model TEXT NOT NULL, role TEXT NOT NULL, truth TEXT NOT NULL, "
    "answer TEXT NOT NULL, time_ms REAL, answered_at TEXT, PRIMARY KEY (evaluator, position), "
    "UNIQUE (evaluator, image_id))",
    "CREATE INDEX IF NOT EXISTS human_answers_study ON human_answers (study, model, role)",
    "CREATE TABLE IF NOT EXISTS human_scores (study TEXT NOT NULL, model TEXT NOT NULL, bootstrap TEXT NOT NULL, "
    "replicates INTEGER, seed INTEGER, confidence REAL, evaluators INTEGER, answers INTEGER, settings TEXT, "
    "scored_at TEXT, PRIMARY KEY (study, model))",
)
#: Columns added to the human tables after they first shipped (issue 21: the qualification's size, and what
#: replays a session's draw: its ordinal in the study, the study's seed, the draw's other inputs as JSON). Older
#: rows hold NULL there; older code names its columns when it writes, so it ignores them.
HUMAN_COLUMNS = {"human_sessions": {"qualification": "INTEGER", "ordinal": "INTEGER", "seed": "INTEGER",
                                    "draw": "TEXT", "variant": "TEXT"},
                 # HYPE_time's timed answers: the exposure asked for, the one shown, the display's frame, whether it
                 # counts (NULL on untimed answers)
                 "human_answers": {"target_ms": "REAL", "exposure_ms": "REAL", "frame_ms": "REAL", "valid": "INTEGER"}}


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
    con.row_factory = sqlite3.Row
    return con


@contextmanager
def _committed(con: sqlite3.Connection, path: Path) -> Iterator[None]:
    """End the transaction ``con`` has begun: COMMIT when the block ends, ROLLBACK when it raises (a damaged
    database as the one-line ``damaged`` error)."""
    try:
        yield
        con.execute("COMMIT")
    except sqlite3.DatabaseError as e:
        con.execute("ROLLBACK")
        raise damaged(path, e) from None
    except BaseException:
        con.execute("ROLLBACK")
        raise


def damaged(path: Path, error: Exception) -> BadInput:
    """The one line for a store SQLite cannot read (damaged pages, undecodable text)."""
    what = str(error).splitlines()[0]
    return BadInput(f"--store {path} is damaged ({what[:80]}{'...' if len(what) > 80 else ''}); restore it from a "
                    "backup, or give another --store")


def is_metric_value(key: str) -> bool:
    """A registered metric's value (``fid``, ``kid_mean``), or a per-part value of one (``intra_fid/3``)."""
    return registry.column(key.split("/")[0]) is not None


def _prepare(record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]]:
    """A record checked and split into its ``results`` row (JSON columns as text) and its metric values."""
    row = {k: v for k, v in record.items() if k != "metrics"}
    values = {k: row.pop(k) for k in [k for k in row if k not in COLUMNS and is_metric_value(k)]}
    values.update(record.get("metrics") or {})  # an explicit metrics dict wins over top-level keys
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown result fields: {sorted(unknown)}")
    if row.get("status") not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {row.get('status')!r}")
    values = {k: float(v) for k, v in values.items() if v is not None}
    if any(not math.isfinite(v) for v in values.values()):
        raise ValueError(f"non-finite metric value in {values}")
    row.setdefault("created_at", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    for c in _JSON_COLUMNS:
        if c in row and not isinstance(row[c], str):
            row[c] = json.dumps(row[c], sort_keys=True, default=str)
    return row, values


class Store:
    """The results in one SQLite file. Cheap to create; every call opens its own connection."""

    def __init__(self, path: str | os.PathLike = DEFAULT_STORE):
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise BadInput(f"--store {self.path} is a folder; give a file path such as runs/results.sqlite")
        with closing(_connect(self.path)) as con:
            try:
                con.execute("BEGIN IMMEDIATE")  # schema changes under the write lock: concurrent openers wait
            except sqlite3.DatabaseError as e:
                raise BadInput(f"--store {self.path} is not a ganbench results database ({e})") from None
            with _committed(con, self.path):
                check = con.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise BadInput(f"--store {self.path} is damaged ({check}); restore it from a backup, or give "
                                   "another --store (its results are lost, the run folders keep the checkpoints)")
                self._create_or_migrate(con)
                for _ in con.execute("SELECT * FROM results"):  # every row decodes: a damaged text fails here,
                    pass  # before a command writes anything anywhere
                if Path(f"{self.path}-journal").exists():
                    # A writer killed mid-transaction left a journal that SQLite found it did not need to roll
                    # back; we hold the write lock, so it is stale: one real write makes SQLite remove it.
                    con.execute("INSERT INTO schema_version (version) VALUES (-1)")
                    con.execute("DELETE FROM schema_version WHERE version = -1")

    @staticmethod
    def _create_or_migrate(con: sqlite3.Connection) -> None:
        cols = ", ".join(f'"{c}" {t}' for c, t in _COLUMNS.items())
        try:
            con.execute(f"CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY AUTOINCREMENT, {cols})")
        except sqlite3.DatabaseError as e:
            raise BadInput(f"the store is not a ganbench results database ({e})") from None
        con.execute("CREATE TABLE IF NOT EXISTS metric_values (job_key TEXT NOT NULL, name TEXT NOT NULL, "
                    "value REAL, PRIMARY KEY (job_key, name))")
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        for ddl in HUMAN_TABLES:  # additive: code that does not know these tables ignores them
            con.execute(ddl)
        for table, columns in HUMAN_COLUMNS.items():
            present = {r["name"] for r in con.execute(f"PRAGMA table_info({table})")}
            for c, kind in columns.items():
                if c not in present:
                    con.execute(f'ALTER TABLE {table} ADD COLUMN "{c}" {kind}')
        have = {r["name"] for r in con.execute("PRAGMA table_info(results)")}
        for c in [c for c in COLUMNS if c not in have]:  # an older store: add new columns, keep old rows
            kind = _COLUMNS[c].replace(" NOT NULL", "").replace(" UNIQUE", "")
            con.execute(f'ALTER TABLE results ADD COLUMN "{c}" {kind}')
        # Schema 1 kept metric values as columns. Rows written by schema-1 code (an older ganbench still
        # running on this store) are copied into metric_values at every open; rows written since leave
        # those columns NULL, so the copy never overwrites them.
        for c in (c for c in LEGACY_METRIC_COLUMNS if c in have):
            con.execute(f'INSERT OR REPLACE INTO metric_values (job_key, name, value) '
                        f'SELECT job_key, ?, "{c}" FROM results WHERE "{c}" IS NOT NULL', (c,))
        version = con.execute("SELECT max(version) AS v FROM schema_version").fetchone()["v"]
        if version is None or version < SCHEMA_VERSION:
            con.execute("DELETE FROM schema_version")
            con.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    def put(self, record: dict[str, Any]) -> None:
        """Insert (or replace, same job key) one job's row and metric values, in one transaction.

        Metric values come as ``record["metrics"]`` or as top-level keys named like a registered metric
        column; ``None`` values are not stored.
        """
        self.put_many([record])

    def put_many(self, records: Iterable[dict[str, Any]]) -> None:
        """``put`` of several records in one transaction: all of them land, or (any one invalid) none."""
        prepared = [_prepare(r) for r in records]
        with self.write() as con:
            for row, values in prepared:
                names = list(row)
                quoted = ", ".join('"' + n + '"' for n in names)
                con.execute(f"INSERT OR REPLACE INTO results ({quoted}) VALUES ({', '.join('?' for _ in names)})",
                            [row[n] for n in names])
                con.execute("DELETE FROM metric_values WHERE job_key = ?", (row["job_key"],))
                con.executemany("INSERT INTO metric_values (job_key, name, value) VALUES (?, ?, ?)",
                                [(row["job_key"], k, v) for k, v in values.items()])

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one write transaction (``BEGIN IMMEDIATE``): committed when the block ends,
        rolled back when it raises, so the block's writes land together or not at all."""
        with closing(_connect(self.path)) as con:
            con.execute("BEGIN IMMEDIATE")
            with _committed(con, self.path):
                yield con

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading (rows as ``sqlite3.Row``); a damaged database is a one-line ``BadInput``."""
        with closing(_connect(self.path)) as con:
            try:
                yield con
            except sqlite3.DatabaseError as e:
                raise damaged(self.path, e) from None

    def put_values(self, values: dict[str, dict[str, float]],
                   also: Callable[[sqlite3.Connection], Any] | None = None) -> None:
        """Add (or replace) metric values of existing rows, ``{job_key: {name: value}}``, in one transaction.

        For values measured apart from a job's evaluation (a human study's score); other values stay. ``also(con)``
        writes inside the same transaction (how the values were made: ``human_scores``)."""
        rows = [(k, name, float(v)) for k, vs in values.items() for name, v in vs.items() if v is not None]
        bad = [r for r in rows if not is_metric_value(r[1]) or not math.isfinite(r[2])]
        if bad:
            raise ValueError(f"not registered metric columns or not finite: {bad}")
        with self.write() as con:
            con.executemany("INSERT OR REPLACE INTO metric_values (job_key, name, value) VALUES (?, ?, ?)", rows)
            if also is not None:
                also(con)

    def rows(self, job_keys: Iterable[str]) -> list[dict[str, Any]]:
        """The rows of these job keys, in the order given (keys without a row left out)."""
        keys = list(job_keys)
        by_key = {r["job_key"]: r for r in self.query(job_key=keys)}
        return [by_key[k] for k in keys if k in by_key]

    def get(self, job_key: str) -> dict[str, Any] | None:
        rows = self.query(job_key=job_key)
        return rows[0] if rows else None

    def done(self, job_key: str) -> bool:
        """True when the job has a final row (ok or diverged); failed jobs are retried."""
        row = self.get(job_key)
        return row is not None and row["status"] in ("ok", "diverged", "pruned")

    def query(self, **filters: Any) -> list[dict[str, Any]]:
        """Rows whose columns equal the given values (a list/tuple value means any of them), oldest first.

        Each row carries its metric values twice: under ``row["metrics"]`` and as top-level keys (every
        registered metric column is a key, None when the job has no such value).
        """
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
        select = ", ".join(f'"{c}"' for c in ("id", *COLUMNS))
        sql = f"SELECT {select} FROM results" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        with closing(_connect(self.path)) as con:
            rows = [dict(r) for r in con.execute(sql, params)]
            keys = [r["job_key"] for r in rows]
            values: dict[str, dict[str, float]] = {}
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                for v in con.execute(f"SELECT job_key, name, value FROM metric_values WHERE job_key IN "
                                     f"({', '.join('?' for _ in chunk)})", chunk):
                    values.setdefault(v["job_key"], {})[v["name"]] = v["value"]
        blank = {c.key: None for c in registry.columns()}
        for r in rows:
            for c in _JSON_COLUMNS:
                r[c] = json.loads(r[c]) if r.get(c) else {}
            r["metrics"] = values.get(r["job_key"], {})
            r.update(blank)
            r.update(r["metrics"])
        return rows

    def delete(self, job_keys: Iterable[str]) -> int:
        keys = list(job_keys)
        if not keys:
            return 0
        marks = ", ".join("?" for _ in keys)
        with closing(_connect(self.path)) as con:
            con.execute("BEGIN IMMEDIATE")
            cur = con.execute(f"DELETE FROM results WHERE job_key IN ({marks})", keys)
            con.execute(f"DELETE FROM metric_values WHERE job_key IN ({marks})", keys)
            con.execute("COMMIT")
            return cur.rowcount


# ------------------------------------------------------------------------------------------------------ job claims
# The queries of ``claims.py`` (several runs sharing a store): a claim is a row of ``job_claims`` naming its owner and
# when its lease runs out. The table is created by the first claim of a store, not at open: code that does not
# know it ignores it.
CLAIMS_TABLE = ("CREATE TABLE IF NOT EXISTS job_claims (job_key TEXT PRIMARY KEY, owner TEXT NOT NULL, "
                "expires REAL NOT NULL, claimed_at REAL)")


@contextmanager
def claims_transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection inside one write transaction (``BEGIN IMMEDIATE``) on the store at ``path``, ``job_claims``
    created first if missing: committed when the block ends, rolled back when it raises. SQLite's own errors pass
    through as they are (the claims' heartbeat retries on them)."""
    with closing(_connect(path)) as con:
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute(CLAIMS_TABLE)
            yield con
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def job_status(con: sqlite3.Connection, job_key: str) -> str | None:
    """The status of the job's row in ``results`` (``ok``, ``diverged``, ...); None when it has no row."""
    row = con.execute("SELECT status FROM results WHERE job_key = ?", (job_key,)).fetchone()
    return None if row is None else row["status"]


def claim_of(con: sqlite3.Connection, job_key: str) -> tuple[str, float] | None:
    """``(owner, expires)`` of the job's claim (expiry in ``time.time()`` seconds); None when it is unclaimed."""
    row = con.execute("SELECT owner, expires FROM job_claims WHERE job_key = ?", (job_key,)).fetchone()
    return None if row is None else (row["owner"], row["expires"])


def put_claim(con: sqlite3.Connection, job_key: str, owner: str, expires: float, claimed_at: float) -> None:
    """Claim the job for ``owner`` until ``expires``, replacing any claim it had."""
    con.execute("INSERT OR REPLACE INTO job_claims (job_key, owner, expires, claimed_at) VALUES (?, ?, ?, ?)",
                (job_key, owner, expires, claimed_at))


def renew_claims(con: sqlite3.Connection, job_keys: list[str], owner: str, expires: float) -> None:
    """Move the expiry of ``owner``'s claims on ``job_keys`` to ``expires`` (others' claims are left alone)."""
    marks = ", ".join("?" for _ in job_keys)
    con.execute(f"UPDATE job_claims SET expires = ? WHERE owner = ? AND job_key IN ({marks})",
                [expires, owner, *job_keys])


def drop_claims(con: sqlite3.Connection, job_keys: list[str], owner: str) -> None:
    """Remove ``owner``'s claims on ``job_keys`` (others' claims are left alone)."""
    marks = ", ".join("?" for _ in job_keys)
    con.execute(f"DELETE FROM job_claims WHERE owner = ? AND job_key IN ({marks})", [owner, *job_keys])


def all_claims(path: Path) -> dict[str, tuple[str, float]]:
    """Every claim of the store at ``path``: ``{job_key: (owner, expires)}``; empty when no claim was ever made."""
    with closing(_connect(path)) as con:
        try:
            return {r["job_key"]: (r["owner"], r["expires"])
                    for r in con.execute("SELECT job_key, owner, expires FROM job_claims")}
        except sqlite3.OperationalError:  # no claim was ever made in this store: no table
            return {}
