"""``ganbench cache warm``: the reference features a study's (or a budget's) jobs will evaluate against, extracted
before the jobs start, with every thread, through ``reference.prepare_reference`` (the sweep driver's own path, so
the cache keys are the ones the jobs look up)."""

from __future__ import annotations

import dataclasses
import tempfile
from typing import Any

from ..config import DEFAULT_DATASET, Budget, get_budget
from ..errors import BadInput
from ..metrics import cache
from ..studies import get_study
from .backend import Backend
from .jobs import plan, protocol_for
from .reference import prepare_reference
from .runner import curve_protocol, resolve_models
from .search.driver import check_search, trial_budget


def warm(study: str | None = None, budget: str | Budget | None = None, dataset: str | None = None,
         device: str | None = None, data_root: str | None = None, backend: Any = None,
         progress: bool = True) -> list[dict]:
    """Extract now, and cache, every reference set that a study's jobs (``--protocol``; or a budget's) will evaluate
    against: its final evaluation's, its FID curve's, and its search trials' validation split. Returns each entry's
    description (split, count, key, whether it was already cached).

    Run before long jobs start, with every thread: each job then finds its reference in the cache. Otherwise the
    first evaluation of every process extracts it, each on its own thread, the same features several times."""
    b = (backend or Backend()).resolve()
    st = get_study(study) if study else None
    if st is not None and budget not in (None, st.budget):
        raise BadInput(f"--protocol {study} fixes the budget ({st.budget}); leave out --budget {budget}")
    final = budget if isinstance(budget, Budget) else get_budget((st.budget if st else budget) or "quick")
    dataset = dataset or (st.datasets[0] if st else DEFAULT_DATASET)
    spec = resolve_models([st.models[0] if st else "dcgan"], b)[0]  # the reference does not depend on the model
    with tempfile.TemporaryDirectory() as tmp:
        job = plan([(spec, {})], (0,), dataset, final, protocol_for(final), tmp, device=device,
                   data_root=data_root)[0]
    jobs = [job]
    if final.eval_every_kimg:
        jobs.append(dataclasses.replace(job, protocol=dataclasses.replace(curve_protocol(job), metrics=("fid",))))
    if st is not None and st.search is not None:
        p = check_search(st.search)
        tb = trial_budget(final, p, len(b.get_dataset(dataset, final.train_split, root=data_root, download=True)))
        jobs.append(dataclasses.replace(job, budget=tb, protocol=protocol_for(tb, (p.rung_metric,))))
    before = {e["key"] for e in cache.entries()}
    shared = prepare_reference(jobs, b, progress)
    return [{"key": k, "split": meta["source"].get("split"), "n": meta["n"], "features": meta["features"],
             "was_cached": k in before} for k, (_, meta) in shared.items()]
