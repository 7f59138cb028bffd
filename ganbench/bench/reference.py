"""Reference features for a sweep, computed once by the driver and handed to every worker.

The driver extracts (or loads from its cache) each distinct reference set the jobs evaluate
against, through the same pipeline and under the same cache key as ``metrics.evaluate``, so a
job's evaluation finds them in the cache instead of extracting them again. Local workers share
the driver's on-disk cache; Ray workers get the features through the object store and
``install_reference`` writes them into their node's cache.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..metrics import cache
from ..metrics.features import Networks
from ..errors import BadInput
from ..metrics.pipeline import cache_key, cache_meta, feature_names, reference_count, reference_features
from ..metrics.registry import parse
from ..metrics.sources import ImageSource
from .jobs import Job

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
