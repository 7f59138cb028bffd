"""A search's trial rows restored from its published trials table, when the store that held them is lost
(``scripts/restore_search_trials.py``).

A search's trials take days of CPU; their table (``NAME-trials.csv``: each trial's drawn values, its score at every
rung it reached, its status, its job key) is what a leaderboard publishes. ``restore`` rebuilds each trial's job as
``search`` does (its values drawn by the same seeded samplers), refuses unless the table's job key equals the rebuilt
one and the table's values equal the draws, and writes a row per trial with the table's rung scores (to the table's
4 decimals). Each row's provenance says it was restored and from which file (its sha256 and commit); what the table
does not hold (training and evaluation times, the trainer's provenance) is left empty, and the report gives no CPU
hours for such rows. The search then resumes from these rows: its Optuna journal is told their results and only
what is missing runs. ``restore_reruns`` does the same for a re-run whose leaderboard row rests on one run (its
mean is that run's value) when the caller names its seed (the table does not hold it): its metrics as published,
its curve and times left empty. Leaderboards published since ``rows.jsonl`` ships beside them need none of this:
``ganbench results --import`` restores their rows whole.
"""

from __future__ import annotations

import csv
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ...config import DEFAULT_DATASET, Budget, get_budget
from ...errors import BadInput
from ...io import check_writable, sha256_file
from ...studies import SearchProtocol
from ..backend import Backend
from ..jobs import Job
from ..runner import base_record, provenance_of, resolve_models
from ..store import Store
from .driver import (SearchOptions, _reconcile, _rerun_jobs, _study_defaults, _trial_jobs, check_search,
                     trial_setup)
from .report import chosen_trial
from .space import load_space
from .trial import OptunaRef

RERUN_NOTE = ("rebuilt from the published search table (one run: its mean is the run's value) after the store that "
              "held the re-run was lost; its curve, times and trainer's provenance were not published")
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


@dataclass
class _Search:
    """A search rebuilt as ``search`` builds it: its trial jobs (same seeded draws), and what re-runs need."""
    specs: list
    protocol: SearchProtocol
    dataset: str
    final: Budget
    train_set: object
    ref: OptunaRef
    options: SearchOptions
    jobs: dict[str, list[Job]]
    metric: str
    rungs: tuple[float, ...]


def _rebuild(models: list[str], out: Path, store_path: Path, study, protocol, budget, dataset, backend) -> _Search:
    models, protocol, budget, dataset = _study_defaults(study, models, protocol, budget, dataset)
    protocol, dataset = check_search(protocol), dataset or DEFAULT_DATASET
    b = (backend or Backend()).resolve()
    final = budget if isinstance(budget, Budget) else get_budget(budget or "quick")
    space = load_space(protocol.space)
    specs = resolve_models(models, b)
    t = trial_setup(b, protocol, final, dataset, out)
    options = SearchOptions(out=str(out), store=str(store_path))
    jobs = {s.name: _trial_jobs(t.ref, space, s, protocol, dataset, t.budget, t.protocol, out, options, t.data)
            for s in specs}
    return _Search(specs, protocol, dataset, final, t.train_set, t.ref, options, jobs, t.protocol.metrics[0], t.rungs)


def _source(table: Path, note: str) -> dict:
    return {"from": str(table), "sha256": sha256_file(table), "git_rev": _git_rev(table), "note": note,
            "restored_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _read_csv(table: Path, need: set[str], what: str) -> list[dict]:
    if not table.is_file():
        raise BadInput(f"{table} does not exist; give {what}")
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or not need <= set(rows[0]):
        raise BadInput(f"{table} is not {what} (it needs the columns {', '.join(sorted(need))})")
    return rows


def restore(table: Path, out: Path, store_path: Path, study: str | None = None, protocol: SearchProtocol | None = None,
            budget: str | Budget | None = None, dataset: str | None = None,
            backend: Backend | None = None) -> tuple[int, int]:
    """Write the table's trials missing from the store: ``(restored, already there)``. ``study`` (or ``protocol``,
    ``budget`` and ``dataset``) as the search was run."""
    rows = _read_csv(table, {"model", "trial", "status", "kimg", "job_key"}, "a search leaderboard's NAME-trials.csv")
    store = Store(check_writable(store_path, "--store"))
    se = _rebuild(list(dict.fromkeys(r["model"] for r in rows)), out, store_path, study, protocol, budget, dataset,
                  backend)
    source = _source(table, NOTE)
    records, there = [], 0
    for row in rows:
        model, k = row["model"], int(row["trial"])
        if k >= len(se.jobs[model]):
            raise BadInput(f"{table}: {model} trial {k} is beyond the protocol's {len(se.jobs[model])} trials")
        job = se.jobs[model][k]
        if job.key != row["job_key"]:
            raise BadInput(f"{table}: {model} trial {k} has job key {row['job_key']}, this code makes {job.key}: the "
                           "table was made under another spec, budget or protocol; restore it with that code")
        for name, value in job.groups["params"].items():
            if str(value) != row.get(name):
                raise BadInput(f"{table}: {model} trial {k} has {name}={row.get(name)}, the seeded draw is {value}")
        if store.done(job.key):
            there += 1
            continue
        log = _rung_log(row, se.rungs)
        record = base_record(job)
        record.update(status=row["status"], kimg=float(row["kimg"]), reason=None)
        if log and row["status"] != "diverged":
            record["metrics"] = {se.metric: log[-1]["score"]}
        record["provenance"] = provenance_of(job, {
            "trial": {"model": model, "number": k, "params": job.groups["params"], "rungs": log,
                      "rung_kimg": list(se.rungs), "metric": se.metric, "optuna_study": model,
                      "journal": se.ref.journal},
            "restored": source})
        records.append(record)
    store.put_many(records)
    _reconcile(se.ref, se.jobs, store)  # the journal's trials told their results, as a resumed search would
    return len(records), there


def restore_reruns(table: Path, seeds: dict[str, int], out: Path, store_path: Path, study: str | None = None,
                   protocol: SearchProtocol | None = None, budget: str | Budget | None = None,
                   dataset: str | None = None, backend: Backend | None = None) -> tuple[int, int]:
    """Write the re-run of each ``model: seed`` from the search's published table (``NAME.csv``, one row per model:
    mean, std, CI and count over its re-runs), where that row rests on exactly one run, whose seed the caller names
    (the table does not hold it): ``(restored, already there)``. The trials must be in the store (``restore``):
    the re-run is the chosen trial's, and its job is rebuilt as ``search`` plans it."""
    rows = {r["model"]: r for r in _read_csv(table, {"model", "runs", "ok"}, "a search leaderboard's NAME.csv")}
    store = Store(check_writable(store_path, "--store"))
    se = _rebuild(list(seeds), out, store_path, study, protocol, budget, dataset, backend)
    chosen = {m: chosen_trial(store.rows(j.key for j in jobs)) for m, jobs in se.jobs.items()}
    missing = [m for m, k in chosen.items() if k is None]
    if missing:
        raise BadInput(f"{', '.join(missing)}: no trial of the store reached the end; restore the trials first")
    planned = _rerun_jobs(se.specs, chosen, se.jobs, se.protocol, se.dataset, se.final, out, se.options, se.train_set)
    source = _source(table, RERUN_NOTE)
    records, there = [], 0
    for model, seed in seeds.items():
        name = f"{model}-searched"
        row = rows.get(name)
        if row is None or row["runs"] != "1" or row["ok"] != "1":
            raise BadInput(f"{table}: {name} must have one run, ok, to be restored (a mean over several seeds is not a "
                           "row); got " + ("none" if row is None else f"runs={row['runs']}, ok={row['ok']}"))
        job = next((j for j in planned[model] if j.seed == seed), None)
        if job is None:
            raise BadInput(f"{model}: seed {seed} is not one of the protocol's re-run seeds "
                           f"{', '.join(str(j.seed) for j in planned[model])}")
        if store.done(job.key):
            there += 1
            continue
        metrics = {c[:-len("_mean")]: float(v) for c, v in row.items()
                   if c.endswith("_mean") and v not in ("", None) and row.get(c[:-len("_mean")] + "_n") == "1"}
        if "fid" not in metrics:
            raise BadInput(f"{table}: {name} has no FID to restore")
        record = base_record(job)
        record.update(status="ok", kimg=job.budget.kimg, metrics=metrics)
        record["provenance"] = provenance_of(job, {"restored": {**source, "seed_named_by": "the caller"}})
        records.append(record)
    store.put_many(records)
    return len(records), there
