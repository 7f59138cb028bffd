"""A search folder's manifest (``search.json``: its trials, re-runs and settings, by job key), its Optuna journal
(``optuna.journal``, shared by every worker) and its result."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ...config import Budget
from ...studies import SearchProtocol
from ...errors import BadInput
from ...io import write_text_atomic
from ..jobs import Job
from ..store import Store
from .space import SearchSpace

MANIFEST = "search.json"
#: The Optuna journal beside the manifest: every model's study (its trials' drawn values and rung scores).
JOURNAL = "optuna.journal"


def trial_dir(run_dir: str | Path, model: str, number: int) -> Path:
    """The folder where ``model``'s trial ``number`` trains (its checkpoint, train_log.csv, rungs.csv)."""
    return Path(run_dir) / "trials" / model / f"t{number:02d}"


def journal_storage(path: str | Path):
    """The Optuna storage of the journal file at ``path`` (every process and machine of a search shares it)."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(path)))


@dataclass
class SearchResult:
    run_dir: Path
    trials: dict[str, list[dict]]  # model -> its trials' rows, in trial order (missing ones left out)
    reruns: dict[str, list[dict]]  # model -> the re-run rows of its chosen setting
    floor: dict | None
    markdown: str
    chosen: dict[str, int] = field(default_factory=dict)  # model -> the chosen trial's number


def write_manifest(run_dir: Path, store: Store, trial_jobs: dict[str, list[Job]], rerun_jobs: dict[str, list[Job]],
                   floor: Job | None, p: SearchProtocol, space: SearchSpace, final: Budget, tb: Budget,
                   rungs: Sequence[float], dataset: str, study: str | None) -> None:
    """search.json: what the search folder holds, so its report can be rebuilt from the store alone. Models of an
    earlier search in this folder under the same settings and store are kept: several ``ganbench search`` processes,
    one model each, share one folder, and each one's report shows them all."""
    manifest = {
        "kind": "search", "store": str(store.path.resolve()), "dataset": dataset, "study": study,
        "protocol": dataclasses.asdict(p), "space": {"name": space.name, "path": space.path, "source": space.source,
                                                     "params": {m: space.describe(m) for m in trial_jobs}},
        "budget": dataclasses.asdict(final), "trial_budget": dataclasses.asdict(tb), "rungs": list(rungs),
        "trials": {m: [j.key for j in jobs] for m, jobs in trial_jobs.items()},
        "reruns": {m: [j.key for j in jobs] for m, jobs in rerun_jobs.items()},
        # where each re-run trains, relative to the folder: its curve so far (eval_log.csv) before it has a row
        "rerun_dirs": {m: {j.key: {"seed": j.seed, "dir": os.path.relpath(j.out_dir, run_dir)} for j in jobs}
                       for m, jobs in rerun_jobs.items()},
        "floor": floor.key if floor is not None else None,
    }
    manifest = _in_study_order(_merged(run_dir / MANIFEST, manifest))
    write_text_atomic(run_dir / MANIFEST, json.dumps(manifest, indent=2) + "\n")


#: What two searches in one folder must share for one report to hold both.
SAME_SEARCH = ("kind", "store", "dataset", "study", "protocol", "budget", "trial_budget", "rungs")


def _merged(path: Path, manifest: dict) -> dict:
    """``manifest`` plus the models of the manifest at ``path`` that it does not search, when both are the same
    search (``SAME_SEARCH`` and the space's name); otherwise ``manifest`` alone, as a new search replaces the old."""
    try:
        old = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return manifest
    manifest = json.loads(json.dumps(manifest))  # tuples as the file has them, lists
    same = all(old.get(k) == manifest[k] for k in SAME_SEARCH)
    if not same or old.get("space", {}).get("name") != manifest["space"]["name"]:
        return manifest
    merged = {**manifest, "trials": {}, "reruns": {}, "rerun_dirs": {}, "space": {**manifest["space"], "params": {}}}
    for key in ("trials", "reruns", "rerun_dirs"):  # the folder's models first, in their order
        mine = manifest.get(key, {})
        for m, v in old.get(key, {}).items():  # a model this search runs has its entries, or none (not chosen)
            if m not in manifest["trials"] or m in mine:
                merged[key][m] = mine.get(m, v)
        merged[key].update(mine)
    for src in (old, manifest):
        merged["space"]["params"].update(src["space"].get("params", {}))
    merged["floor"] = manifest["floor"] or old.get("floor")
    return merged


def _in_study_order(manifest: dict) -> dict:
    """A study's models in the order of its paper's table (lucic2018: MM, NS, LSGAN, WGAN, WGAN-GP, DRAGAN),
    whatever order its searches ran them in (a study searched over several sittings, or restored on a new machine,
    had its tables in the order the processes happened to start); other models after them, in the folder's order."""
    if not manifest.get("study"):
        return manifest
    from ...studies import get_study

    order = {m: i for i, m in enumerate(get_study(manifest["study"]).models)}
    rank = lambda item: order.get(item[0], len(order))  # noqa: E731 - sorted() is stable: the rest keep their order
    return {**manifest, **{key: dict(sorted(manifest.get(key, {}).items(), key=rank))
                           for key in ("trials", "reruns", "rerun_dirs")}}


def read_manifest(run_dir: str | Path) -> dict:
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        raise BadInput(f"{run_dir} is not a ganbench search folder (no {MANIFEST}); pass the --out of `ganbench search`")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise BadInput(f"{path} is not valid JSON ({e}); re-run `ganbench search` to rewrite it") from None
