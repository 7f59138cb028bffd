"""The one feature pipeline: a source -> its features (from the cache, or extracted and cached) -> a ``Side``.

``evaluate`` calls it for both inputs, the runner's driver calls it to fill the cache before a parallel
sweep, and under a torch.distributed group (``torchrun``, ``ganbench metrics --nproc``) it extracts
each rank's shard of the rows and gathers them in rank order, so every rank ends with the same
features; rank 0 alone writes the cache.
"""

from __future__ import annotations

import time

import torch

from .. import dist
from ..config import EvalProtocol
from . import cache, journal
from .features import FEATURES, Networks, extract, extractor
from .moments import Moments
from .networks import NETWORKS
from .registry import METRICS, Side, needed_features
from .sources import Source, StatsSource


def feature_names(chosen, protocol: EvalProtocol, nets: Networks) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The features to extract for the chosen metrics: ``(of the samples, of the reference)``. The reference
    needs only what metrics with a reference read; features of a missing classifier head are left out (Inception's
    weights are looked at only when such a feature is asked for)."""
    def usable(names):
        return tuple(f for f in names if not FEATURES.get(f).needs_head or nets.weights.has_head)

    with_ref = [m for m in chosen if METRICS.get(m).needs_reference]
    return usable(needed_features(chosen, protocol)), usable(needed_features(with_ref, protocol))


def reference_count(protocol: EvalProtocol, num_samples: int, available: int) -> int:
    """How many reference images an evaluation reads (the first ones): ``ref_samples``, or as many as the samples
    capped at what the reference holds. The one rule ``evaluate`` and the sweep driver's shared reference
    (``bench.reference``) both follow, so the driver's cache entry is the one a job looks up."""
    return protocol.ref_samples or min(num_samples, available)


def cache_key(source: Source, names: tuple[str, ...], protocol: EvalProtocol, nets: Networks) -> str | None:
    """The cache key of ``source``'s features ``names``, or None for sources that are never cached."""
    content = source.content_key() if hasattr(source, "content_key") else None
    if content is None:
        return None
    return cache.reference_key(content, source.n, nets.signature(names), names)


def cache_meta(source: Source, names: tuple[str, ...], protocol: EvalProtocol, nets: Networks) -> dict:
    """What a cache entry records about itself (the networks' signatures, the images, when)."""
    return {"n": source.n, "source": source.describe(), "resize_mode": protocol.resize_mode,
            "networks": nets.signature(names), "features": list(names),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S")}


def moments_only(chosen, protocol: EvalProtocol, names: tuple[str, ...], n: int) -> set[str]:
    """Of features ``names``, those to keep as mean and covariance alone: every chosen metric that reads them needs
    only those (FD), and ``n`` exceeds their dimension (below it, FD's exact low-rank path uses the rows, which
    then cost less than a covariance)."""
    readers: dict[str, list[bool]] = {}
    for m in chosen:
        metric = METRICS.get(m)
        for f in metric.features(protocol):
            readers.setdefault(f, []).append(metric.moments_only)
    dims = {f: FEATURES.get(f) for f in names}
    return {f for f in names if readers.get(f) and all(readers[f])
            and n > NETWORKS.get(dims[f].network).features.get(f, 0) > 0}


def side_of(source: Source, names: tuple[str, ...], nets: Networks, protocol: EvalProtocol, progress: bool = True,
            use_cache: bool = False, desc: str = "features", moments: set[str] = frozenset(),
            resumable: bool = False) -> Side:
    """Features ``names`` of ``source`` (``use_cache``: read and write the reference cache); those in ``moments``
    kept as mean and covariance only (never cached: a reference keeps its rows for every metric). ``resumable``:
    images extracted by one process keep their progress on disk (``journal``), so a stopped extraction of the same
    pixels continues where it stood."""
    if isinstance(source, StatsSource):
        return Side(stats=(source.mu, source.sigma), n=0, info=source.describe())
    d = dist.current()
    key = cache_key(source, names, protocol, nets) if use_cache else None
    feats = cache.load(key, source.n) if key else None
    hit = dist.all_agree(feats is not None, d)
    acc: dict[str, Moments] = {}
    resumed, saved = 0, None
    if not hit:
        start, end = dist.shard(source.n, d.rank, d.world_size)
        acc = {} if key else {f: Moments() for f in moments}
        jr = _journal(source, names, protocol, nets, acc) if resumable and not d.enabled else None
        saved = jr.load() if jr else None
        if saved:
            resumed = saved.rows
            acc.update(saved.moments)
            desc = f"{desc} (resumed at image {resumed:,})"
        local = extract(source.batches(protocol.feature_batch_size, rows=(start + resumed, end)), end - start - resumed,
                        extractor(names, nets), nets.device, progress and d.is_main, desc, protocol.allow_tf32,
                        moments=acc, after_batch=jr.record if jr else None)
        if saved:
            local = {k: torch.cat([v, local[k]]) if k in local else v for k, v in saved.features.items()}
        feats = {k: dist.gather_rows(v, d) for k, v in sorted(local.items())}
        if key and d.is_main:  # only after extract() checked them finite
            cache.save(key, feats, cache_meta(source, names, protocol, nets))
        if jr:
            jr.clear()
        dist.barrier(d)
    labels = source.labels()
    return Side(feats, n=source.n, labels=labels, moments={k: m.merged(d).mean_cov() for k, m in sorted(acc.items())},
                info={**source.describe(), **({"cache_key": key, "cache_hit": hit} if use_cache else {}),
                      **({"moments_only": sorted(acc)} if acc else {}),
                      **({"resumed_at": resumed, "resumed_seconds": round(saved.seconds, 3)} if resumed else {})})


def _journal(source: Source, names: tuple[str, ...], protocol: EvalProtocol, nets: Networks,
             moments: dict[str, Moments]) -> journal.Journal | None:
    """The journal of this extraction, for images (a generator's samples are not keyed by content)."""
    features_key = cache_key(source, names, protocol, nets)
    if features_key is None:
        return None
    key = journal.journal_key(features_key, protocol.feature_batch_size, set(moments), nets.device.type)
    return journal.Journal(key, source.n, names, set(moments), about=source.describe())


def reference_features(source: Source, names: tuple[str, ...], nets: Networks, protocol: EvalProtocol,
                       progress: bool = True) -> dict[str, torch.Tensor]:
    """A reference set's features through the cache (what a sweep's driver prepares for its workers)."""
    return side_of(source, names, nets, protocol, progress, use_cache=True, desc="reference features",
                   resumable=True).features
