"""Reference features for a sweep, computed once by the driver and handed to every worker.

The driver extracts (or loads from its cache) each distinct reference set the jobs evaluate
against, through the same pipeline and under the same cache key as ``metrics.evaluate``, so a
job's evaluation finds them in the cache instead of extracting them again. Local workers share
the driver's on-disk cache; Ray workers get the features through the object store and
``install_reference`` writes them into their node's cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from ..metrics import cache
from ..metrics.features import Networks
from ..errors import BadInput
from ..metrics.pipeline import cache_key, cache_meta, feature_names, reference_count, reference_features
from ..metrics.registry import parse
from ..metrics.sources import ImageSource
from .jobs import Job

if TYPE_CHECKING:
    from ..config import Budget

#: {cache key: (features by name, cache description)}
Shared = dict[str, tuple[dict, dict]]


def prepare_reference(jobs: Sequence[Job], backend: Any, progress: bool = True) -> Shared:
    """Every distinct reference set of ``jobs``: features from the cache, or extracted now and cached."""
    out: Shared = {}
    nets: dict = {}
    for job in jobs:
        p = job.protocol
        # the native split: runner.execute_job maps samples back to it before evaluating
        images = backend.get_dataset(job.dataset, p.ref_split, root=job.data_root)
        n = reference_count(p, p.num_samples, len(images))
        if n > len(images):  # evaluate() refuses it too; here before any job has started
            raise BadInput(f"reference {job.dataset}/{p.ref_split}: asked for {n} images but it holds {len(images)}; "
                           "lower the protocol's ref_samples")
        source = ImageSource(images, n)
        if (p.resize_mode, job.device) not in nets:
            nets[(p.resize_mode, job.device)] = Networks(None, p.resize_mode, job.device)
        net = nets[(p.resize_mode, job.device)]
        _, names = feature_names(parse(p.metrics, p.metrics), p, net)
        key = cache_key(source, names, p, net)
        if key in out:
            continue
        feats = reference_features(source, names, net, p, progress)
        out[key] = (feats, cache_meta(source, names, p, net))
    return out


def install_reference(shared: Shared) -> int:
    """Write shipped reference features into this machine's cache where missing; returns how many were written."""
    written = 0
    for key, (feats, meta) in shared.items():
        if cache.load(key, meta["n"]) is None:
            cache.save(key, feats, meta)
            written += 1
    return written


def warm(study: str | None = None, budget: "str | Budget | None" = None, dataset: str | None = None,
         device: str | None = None, data_root: str | None = None, backend: Any = None,
         progress: bool = True) -> list[dict]:
    """Extract now, and cache, every reference set that a study's jobs (``--protocol``; or a budget's) will evaluate
    against: its final evaluation's, its FID curve's, and its search trials' validation split. Returns each entry's
    description (split, count, key, whether it was already cached).

    Run before long jobs start, with every thread: each job then finds its reference in the cache. Otherwise the
    first evaluation of every process extracts it, each on its own thread, the same features several times."""
    import dataclasses
    import tempfile

    from ..config import DEFAULT_DATASET, Budget, get_budget
    from ..studies import get_study
    from .backend import Backend
    from .jobs import plan, protocol_for
    from .runner import curve_protocol, resolve_models

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
        from .search.driver import check_search, trial_budget

        p = check_search(st.search)
        tb = trial_budget(final, p, len(b.get_dataset(dataset, final.train_split, root=data_root, download=True)))
        jobs.append(dataclasses.replace(job, budget=tb, protocol=protocol_for(tb, (p.rung_metric,))))
    before = {e["key"] for e in cache.entries()}
    shared = prepare_reference(jobs, b, progress)
    return [{"key": k, "split": meta["source"].get("split"), "n": meta["n"], "features": meta["features"],
             "was_cached": k in before} for k, (_, meta) in shared.items()]
