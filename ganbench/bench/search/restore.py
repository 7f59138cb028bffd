"""A search's trial rows restored from its published trials table, when the store that held them is lost
(``scripts/restore_search_trials.py``).

A search's trials take days of CPU; their table (``NAME-trials.csv``: each trial's drawn values, its score at every
rung it reached, its status, its job key) is what a leaderboard publishes. ``restore`` rebuilds each trial's job as
``search`` does (its values drawn by the same seeded samplers), refuses unless the table's job key equals the rebuilt
one and the table's values equal the draws, and writes a row per trial with the table's rung scores (to the table's
4 decimals). Each row's provenance says it was restored and from which file (its sha256 and commit); what the table
does not hold (training and evaluation times, the trainer's provenance) is left empty, and the report gives no CPU
hours for such rows. The search then resumes from these rows: its Optuna journal is told their results and only
what is missing runs. Leaderboards published since ``rows.jsonl`` ships beside them need none of this:
``ganbench results --import`` restores their rows whole.
"""

from __future__ import annotations

import csv
import subprocess
import time
from pathlib import Path

from ...config import DEFAULT_DATASET, Budget, get_budget
from ...errors import BadInput
from ...io import check_writable, sha256_file
from ...studies import SearchProtocol
from ..backend import Backend
from ..jobs import protocol_for
from ..runner import base_record, provenance_of, resolve_models
from ..store import Store
from .driver import SearchOptions, _reconcile, _study_defaults, _trial_jobs, check_search, trial_budget
from .manifest import JOURNAL
from .space import load_space
from .trial import OptunaRef, step_of

NOTE = ("rebuilt from the published trials table after the store that held the trial was lost; the table holds "
        "the drawn values, the rung scores (4 decimals), the status and the job key, not the times or the "
        "trainer's provenance")


def _git_rev(path: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(path.resolve().parent), "log", "-1", "--format=%H", "--", path.name],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _rung_log(row: dict, rungs: tuple[float, ...]) -> list[dict]:
    """The trial's rungs as ``execute_trial`` logs them: each score, and what the pruner decided there."""
    scores = [(k, float(row[f"score_{k:g}kimg"])) for k in rungs if row.get(f"score_{k:g}kimg")]
    last = {"ok": "end", "pruned": "pruned"}.get(row["status"], "promoted")
    return [{"kimg": k, "score": s, "decision": last if i == len(scores) - 1 else "promoted"}
            for i, (k, s) in enumerate(scores)]


def restore(table: Path, out: Path, store_path: Path, study: str | None = None, protocol: SearchProtocol | None = None,
            budget: str | Budget | None = None, dataset: str | None = None,
            backend: Backend | None = None) -> tuple[int, int]:
    """Write the table's trials missing from the store: ``(restored, already there)``. ``study`` (or ``protocol``,
    ``budget`` and ``dataset``) as the search was run."""
    if not table.is_file():
        raise BadInput(f"{table} does not exist; give a search leaderboard's NAME-trials.csv")
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    need = {"model", "trial", "status", "kimg", "job_key"}
    if not rows or not need <= set(rows[0]):
        raise BadInput(f"{table} is not a search trials table (it needs the columns {', '.join(sorted(need))})")
    models = list(dict.fromkeys(r["model"] for r in rows))
    models, protocol, budget, dataset = _study_defaults(study, models, protocol, budget, dataset)
    protocol, dataset = check_search(protocol), dataset or DEFAULT_DATASET
    b = (backend or Backend()).resolve()
    final = budget if isinstance(budget, Budget) else get_budget(budget or "quick")
    space = load_space(protocol.space)
    specs = resolve_models(models, b)
    store = Store(check_writable(store_path, "--store"))
    train_set = b.get_dataset(dataset, final.train_split)
    tb = trial_budget(final, protocol, len(train_set))
    rungs = tuple(protocol.rungs(tb.kimg))
    tp = protocol_for(tb, (protocol.rung_metric,))
    trial_data = b.get_dataset(dataset, tb.train_split)
    ref = OptunaRef(str(out / JOURNAL), step_of(rungs[0]), protocol.reduction)
    options = SearchOptions(out=str(out), store=str(store_path))
    jobs = {s.name: _trial_jobs(ref, space, s, protocol, dataset, tb, tp, out, options, trial_data) for s in specs}
    source = {"from": str(table), "sha256": sha256_file(table), "git_rev": _git_rev(table), "note": NOTE,
              "restored_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    records, there = [], 0
    for row in rows:
        model, k = row["model"], int(row["trial"])
        if k >= len(jobs[model]):
            raise BadInput(f"{table}: {model} trial {k} is beyond the protocol's {len(jobs[model])} trials")
        job = jobs[model][k]
        if job.key != row["job_key"]:
            raise BadInput(f"{table}: {model} trial {k} has job key {row['job_key']}, this code makes {job.key}: the "
                           "table was made under another spec, budget or protocol; restore it with that code")
        for name, value in job.groups["params"].items():
            if str(value) != row.get(name):
                raise BadInput(f"{table}: {model} trial {k} has {name}={row.get(name)}, the seeded draw is {value}")
        if store.done(job.key):
            there += 1
            continue
        log = _rung_log(row, rungs)
        metric = tp.metrics[0]
        record = base_record(job)
        record.update(status=row["status"], kimg=float(row["kimg"]), reason=None)
        if log and row["status"] != "diverged":
            record["metrics"] = {metric: log[-1]["score"]}
        record["provenance"] = provenance_of(job, {
            "trial": {"model": model, "number": k, "params": job.groups["params"], "rungs": log,
                      "rung_kimg": list(rungs), "metric": metric, "optuna_study": model, "journal": ref.journal},
            "restored": source})
        records.append(record)
    store.put_many(records)
    _reconcile(ref, jobs, store)  # the journal's trials told their results, as a resumed search would
    return len(records), there


