"""Reference features for a sweep, computed once by the driver and handed to every worker.

The driver extracts (or loads from its cache) each distinct reference set the jobs evaluate
against, under the same cache key ``metrics.evaluate`` uses, so a job's evaluation finds them
in the cache instead of extracting them again. Local workers share the driver's on-disk cache;
Ray workers get the features through the object store and ``install_reference`` writes them
into their node's cache.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from ..io import cache_dir
from ..metrics import cache
from .jobs import Job

#: {cache key: (features by name, cache description)}
Shared = dict[str, tuple[dict, dict]]


def spaces_for(protocol) -> tuple[str, ...]:
    """The feature spaces ``evaluate`` extracts for these metrics (VGG16 only for PR/DC in VGG16 space)."""
    if protocol.pr_features == "vgg16" and {"pr", "dc"} & set(protocol.metrics):
        return ("inception", "vgg16")
    return ("inception",)


def prepare_reference(jobs: Sequence[Job], backend: Any, progress: bool = True) -> Shared:
    """Every distinct reference set of ``jobs``: features from the cache, or extracted now and cached."""
    from ..metrics.features import default_device, extract, imageset_batches, inception_extractor, vgg16_extractor
    from ..metrics.inception import EXTRACTOR_VERSION, build_inception
    from ..metrics.weights import resolve_weights

    weights = resolve_weights(None)
    out: Shared = {}
    nets: dict = {}
    for job in jobs:
        p = job.protocol
        # the native split: runner.execute_job maps samples back to it before evaluating
        view = backend.get_dataset(job.dataset, p.ref_split, root=job.data_root)
        n = min(p.ref_samples or min(p.num_samples, len(view)), len(view))
        spaces = spaces_for(p)
        key = cache.reference_key(view.key, n, p.resize_mode, weights.sha256, spaces)
        if key in out:
            continue
        meta = {"dataset_key": view.key, "n": n, "resize_mode": p.resize_mode, "weights_sha256": weights.sha256,
                "extractor": EXTRACTOR_VERSION, "spaces": list(spaces), "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        feats = cache.load(key)
        if feats is None:
            dev = default_device(job.device)
            if (p.resize_mode, str(dev)) not in nets:
                nets[(p.resize_mode, str(dev))] = build_inception(weights, p.resize_mode, dev)
            ex = {"inception": inception_extractor(nets[(p.resize_mode, str(dev))])}
            if "vgg16" in spaces:
                ex["vgg16"] = vgg16_extractor(dev)
            feats = extract(imageset_batches(view, n, p.feature_batch_size), n, ex, dev, progress,
                            "reference features", p.allow_tf32)
            cache.save(key, feats, meta)
        out[key] = (feats, meta)
    return out


def install_reference(shared: Shared) -> int:
    """Write shipped reference features into this machine's cache where missing; returns how many were written."""
    written = 0
    for key, (feats, meta) in shared.items():
        if not (cache_dir("reference") / f"{key}.pt").is_file():
            cache.save(key, feats, meta)
            written += 1
    return written
