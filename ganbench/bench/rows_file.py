"""A store's rows as a text file: ``ganbench results --export FILE`` and ``--import FILE``.

A results store is one SQLite file on one machine. Its rows as a file travel where SQLite does not: into git beside
the leaderboard built from them (so anyone rebuilds the table from the rows, and a study's results outlive the
machine that ran it), and between the stores of several machines, merged by job key.

The format (``ganbench-rows/1``) is JSON lines: a header ``{"format", "rows", "ganbench_version"}``, then one row per
line, ``{"row": {column: value}, "metrics": {name: value}, "sha256": ...}``, where ``sha256`` hashes the row and
its metrics as canonical JSON. Reading checks the header, the count and every line's hash before anything is
written, so a truncated or hand-edited file is refused whole, with the line at fault.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..io import write_text_atomic
from .store import COLUMNS, Store

FORMAT = "ganbench-rows/1"


def content(row: dict[str, Any]) -> dict[str, Any]:
    """What a row is, whichever store holds it: its columns (not the store's own ``id``) and metric values."""
    return {"row": {c: row.get(c) for c in COLUMNS}, "metrics": dict(row.get("metrics") or {})}


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str, allow_nan=False)


def _digest(c: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(c).encode()).hexdigest()


def dump_rows(rows: list[dict[str, Any]]) -> str:
    from ..version import __version__

    lines = [_canonical({"format": FORMAT, "rows": len(rows), "ganbench_version": __version__})]
    for r in rows:
        c = content(r)
        lines.append(_canonical({**c, "sha256": _digest(c)}))
    return "\n".join(lines) + "\n"


def export_rows(store: Store, path: str | Path, **filters: Any) -> int:
    """Write the store's rows matching ``filters`` (``Store.query``'s) to ``path``, atomically; their number."""
    rows = store.query(**filters)
    write_text_atomic(path, dump_rows(rows))
    return len(rows)


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a rows file as records ``Store.put`` takes, every line checked; a ``BadInput`` naming the line
    at fault otherwise."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"--import: {path} does not exist; give a file written by `ganbench results --export`")
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        header = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BadInput(f"--import: {path} is not a ganbench rows file (its first line is not a {FORMAT} header)")
    body = [line for line in lines[1:] if line.strip()]
    if header.get("rows") != len(body):
        raise BadInput(f"--import: {path} names {header.get('rows')} rows but holds {len(body)}; it is truncated or "
                       "edited: export it again")
    records, seen = [], set()
    for i, line in enumerate(body, start=2):
        try:
            item = json.loads(line)
            c = {"row": item["row"], "metrics": item["metrics"]}
            ok = isinstance(c["row"], dict) and isinstance(c["metrics"], dict) and item.get("sha256") == _digest(c)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise BadInput(f"--import: {path} line {i} does not match its sha256 (edited or damaged); export it again")
        key = c["row"].get("job_key")
        if not key or key in seen:
            raise BadInput(f"--import: {path} line {i} has {'no job key' if not key else f'job key {key} twice'}")
        seen.add(key)
        records.append({**{k: v for k, v in c["row"].items() if v is not None}, "metrics": c["metrics"]})
    return records


#: A row's columns that name and file a job rather than say what it trained or scored.
LABELS = ("model", "groups", "run")


def _differing(old: dict[str, Any], new: dict[str, Any]) -> str:
    """What differs between two rows of one job, for the refusal: ``"labels (model, groups; results equal)"`` when
    only ``LABELS`` do (the same trained job published under another name, as a search's re-run is when it is also
    the model's default row), else ``"results (fid, status, ...)"``, the metrics and columns that differ."""
    a, b = content(old), content(new)
    fields = [c for c in COLUMNS if _canonical(a["row"][c]) != _canonical(b["row"][c])]
    fields += sorted(k for k in set(a["metrics"]) | set(b["metrics"])
                     if _canonical(a["metrics"].get(k)) != _canonical(b["metrics"].get(k)))
    if fields and all(f in LABELS for f in fields):
        return f"labels ({', '.join(fields)}; results equal)"
    return f"results ({', '.join(f for f in fields if f not in LABELS)})"


def import_rows(store: Store, path: str | Path, replace: bool = False) -> tuple[int, int]:
    """Add a rows file's rows to ``store`` in one transaction: ``(added, already there)``; see ``import_records``."""
    return import_records(store, read_rows(path), str(path), replace)


def import_records(store: Store, records: list[dict[str, Any]], source: str, replace: bool = False) -> tuple[int, int]:
    """Add rows read by ``read_rows`` (from ``source``) to ``store`` in one transaction: ``(added, already there)``.
    A row the store holds with other content is refused (nothing written) unless the store's is ``failed`` (a job
    that will be retried) or ``replace``."""
    held = {r["job_key"]: r for r in store.rows(r["job_key"] for r in records)}
    new, same = [], 0
    for rec in records:
        old = held.get(rec["job_key"])
        if old is not None and _canonical(content(old)) == _canonical(content(rec)):
            same += 1
            continue
        if old is not None and old["status"] != "failed" and not replace:
            raise BadInput(f"--import: the store already holds job {rec['job_key']} ({old['model']}, seed "
                           f"{old['seed']}) with other {_differing(old, rec)}; pass --replace to take the file's")
        new.append(rec)
    try:
        store.put_many(new)
    except ValueError as e:
        raise BadInput(f"--import: {source} holds a row the store cannot take ({e})") from None
    return len(new), same
