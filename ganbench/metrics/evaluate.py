"""One pass: samples -> features -> every requested metric, with provenance.

Samples and reference are anything ``metrics.sources.as_source`` takes (an ImageSet, a uint8 or
[-1, 1] float tensor, a dataset name, a folder, an array file, for the reference also a mu/sigma
``.npz``, or a generator callable). The metrics are ``metrics.registry``'s; their features are
extracted once per side by ``metrics.pipeline`` (the reference through the cache). Under a
torch.distributed group every rank extracts its shard and all ranks return the same result.
"""

from __future__ import annotations

import dataclasses
import platform
import sys
import time
from typing import Any, Sequence

import numpy as np
import torch

from .. import dist
from ..config import DEFAULT_PROTOCOL, EvalProtocol, check_protocol
from ..devices import keep_freed_memory
from ..errors import BadInput, MissingAsset
from ..io import cache_dir
from ..version import __version__
from . import registry
from .features import Networks, networks_of
from .networks import NETWORKS
from .inception import EXTRACTOR_VERSION, Inception, get_resize
from .inception_score import no_head
from .pipeline import feature_names, moments_only, reference_count, side_of
from .prdc import PR_SPACES
from .registry import METRICS, Context, compute_metrics, needed_features
from .sources import GeneratorSource, ImageSource, StatsSource, as_source


def requested_metrics(metrics: Sequence[str] | str | None, p: EvalProtocol) -> tuple[str, ...]:
    """The metric names to compute (the protocol's when None); an unknown name is an error listing the known."""
    return registry.parse(metrics, p.metrics)


@dataclasses.dataclass(frozen=True)
class EvaluateOptions:
    """How ``evaluate`` reads its inputs and where its feature networks come from, not what it measures: the
    reference cache, how files, folders and a generator are read, local weight files, and networks to reuse."""

    cache: bool = True  # read and write the reference features' cache, and a stopped extraction's progress
    z_dim: int | None = None  # a generator callable's latent size (default: its .z_dim)
    value_range: tuple[float, float] | None = None  # float arrays given as files: their value range
    resize: int | None = None  # folders of images: every image brought to NxN first
    weights: dict[str, str] | None = None  # local weight files by feature network ({"dinov2": PATH})
    inception_weights: str | None = None  # Inception's weights file (else $GANBENCH_INCEPTION_WEIGHTS, the download)
    model: Inception | None = None  # a prebuilt Inception to reuse across calls (its resize mode must match)
    networks: Networks | None = None  # feature networks to reuse across calls (``features.Networks``)


def evaluate(samples, reference=None, metrics=None, num_samples: int | None = None,
             device: str | torch.device | None = None, protocol: EvalProtocol | None = None,
             progress: bool = True, *, train=None, options: EvaluateOptions = EvaluateOptions()) -> dict:
    """Compute ``metrics`` of ``samples`` against ``reference``; returns {"metrics", "unavailable", "provenance"}.

    ``train``: the training images (any input a reference takes), for memorization tests (``ct``).
    ``options`` (``EvaluateOptions``): the reference cache, how inputs are read (value range, resize, latent size),
    local weight files, and networks to reuse across calls.
    Asking only for metrics that cannot be computed is an error; asked together with others,
    they are listed under "unavailable" with the reason.
    """
    o = options
    t0 = time.perf_counter()
    # Every input is checked before any work (weights, features, cache): bad input costs nothing and leaves nothing.
    p = check_protocol(protocol or DEFAULT_PROTOCOL)
    chosen = requested_metrics(metrics, p)
    if p.pr_features not in PR_SPACES:
        raise BadInput(f"unknown pr_features {p.pr_features!r}; use one of {', '.join(PR_SPACES)}")
    NETWORKS.get(p.features)  # an unknown --features is a one-line error listing the networks
    get_resize(p.resize_mode)
    need_ref = [m for m in chosen if METRICS.get(m).needs_reference]
    if reference is None and need_ref:
        raise BadInput(f"{', '.join(need_ref)} need a reference set (INPUT2); give one")
    d = dist.current()
    dev = dist.rank_device(device, d)
    if o.cache:
        cache_dir("reference")  # a cache location that cannot be written fails now, not after the features
    keep_freed_memory()  # glibc keeps freed tensors' memory for reuse (devices.keep_freed_memory)

    src, rsrc, tsrc = _sources(samples, reference, train, chosen, p, num_samples, o.z_dim, o.value_range, o.resize)
    files = {**(o.weights or {}), **({"inception": str(o.inception_weights)} if o.inception_weights else {})}
    nets = o.networks if o.networks is not None else Networks(None, p.resize_mode, dev, inception=o.model, files=files)
    wanted = needed_features(chosen, p)
    uses_inception = "inception" in networks_of(wanted)
    has_head = nets.weights.has_head if uses_inception else True  # resolving the weights may fail: before any work
    ctx_name = f"{nets.weights.origin}, sha256 {nets.weights.sha256[:12]}" if uses_inception else ""
    logits_only = [m for m in chosen if METRICS.get(m).features(p) == ("logits",)]
    if not has_head and len(logits_only) == len(chosen):  # fail before any extraction work
        raise MissingAsset(f"{', '.join(chosen)}: " + no_head(Context(None, None, p, False, ctx_name)))
    computable = [m for m in chosen if has_head or m not in logits_only]  # the others are "unavailable"
    registry.check_sizes(computable, p, src.n, None if rsrc is None or isinstance(rsrc, StatsSource) else rsrc.n)
    for net in networks_of(wanted):  # every other network built now: missing weights fail before any extraction
        nets.get(net)
    names, ref_names = feature_names(chosen, p, nets)
    s_side = side_of(src, names, nets, p, progress, use_cache=False, desc="samples features",
                     moments=moments_only(chosen, p, names, src.n), resumable=o.cache)
    r_side = side_of(rsrc, ref_names, nets, p, progress, use_cache=o.cache,
                     desc="reference features", resumable=o.cache) if rsrc is not None else None
    t_side = side_of(tsrc, needed_features([m for m in chosen if METRICS.get(m).needs_train], p), nets, p, progress,
                     use_cache=o.cache, desc="training features", resumable=o.cache) if tsrc is not None else None

    values, unavailable = compute_metrics(chosen, Context(s_side, r_side, p, has_head, ctx_name, train=t_side))
    if not values:
        raise MissingAsset("; ".join(f"{k}: {v}" for k, v in unavailable.items()))
    provenance = _provenance(p, chosen, nets, uses_inception, names, ref_names, (s_side, r_side, t_side), d.world_size,
                             time.perf_counter() - t0)
    return {"metrics": values, "unavailable": unavailable, "provenance": provenance}


def _sources(samples, reference, train, chosen: Sequence[str], p: EvalProtocol, num_samples, z_dim, value_range,
             resize):
    """The samples, reference and training sources, checked against what the chosen metrics need (labels,
    statistics of the right network, a generator's output on two samples) before any real work."""
    src = as_source(samples, p, "samples", num_samples, z_dim, value_range, seed=p.seed, resize=resize)
    if isinstance(src, StatsSource):
        raise BadInput("samples: a statistics file (mu/sigma) can only be the reference")
    rsrc = _reference(reference, p, src.n, z_dim, value_range, resize) if reference is not None else None
    tsrc = _training(train, p, rsrc, value_range, resize) if train is not None and any(
        METRICS.get(m).needs_train for m in chosen) else None
    if isinstance(rsrc, StatsSource) and p.features != "inception":
        raise BadInput(f"the reference is Inception pool3 statistics (mu/sigma); --features {p.features} needs "
                       "reference images")
    if isinstance(rsrc, StatsSource) and rsrc.mu.shape[-1] != NETWORKS.get("inception").features["pool3"]:
        raise BadInput(f"the reference statistics are {rsrc.mu.shape[-1]}-d, Inception pool3 is "
                       f"{NETWORKS.get('inception').features['pool3']}-d: they come from another network or layer; "
                       "give pool3 statistics (pytorch-fid's, clean-fid's) or reference images")
    labelled = [m for m in chosen if METRICS.get(m).needs_labels]
    if labelled and rsrc is not None and (isinstance(rsrc, StatsSource) or rsrc.labels() is None):
        raise BadInput(f"{', '.join(labelled)} need class labels on the reference, and it has none; give a labelled "
                       "reference (a dataset such as fashion-mnist:test, a folder with one sub-folder per class, or "
                       "arrays with a labels array)")
    if labelled and len(labelled) == len(chosen) and src.labels() is None:
        raise BadInput(f"{', '.join(labelled)} need class labels on the samples (a conditional model's samples, or "
                       "a labelled image set); these have none")
    for s in (src, rsrc):  # a generator's signature and output range, on two samples, before any real work
        if isinstance(s, GeneratorSource):
            next(iter(s.batches(2, rows=(0, 2))))
    return src, rsrc, tsrc


def _provenance(p: EvalProtocol, chosen: Sequence[str], nets: Networks, uses_inception: bool, names, ref_names,
                sides, world_size: int, seconds: float) -> dict:
    """What an evaluation records beside its values: versions, device, networks and weights, features, counts."""
    s_side, r_side, t_side = sides
    n_ref = r_side.n if r_side else 0
    return {
        "ganbench": __version__, "python": platform.python_version(), "torch": torch.__version__,
        "torch_fidelity": _version("torch_fidelity"), "numpy": np.__version__,
        "device": str(nets.device), "device_name": torch.cuda.get_device_name(nets.device)
        if nets.device.type == "cuda" else platform.processor(),
        "world_size": world_size,
        **(_inception_provenance(nets.weights) if uses_inception else {}),
        "networks": nets.signature(names + tuple(n for n in ref_names if n not in names)),
        "feature_space": NETWORKS.get(p.features).label,
        "resize_mode": p.resize_mode, "features": list(names),
        "reference_features": list(ref_names),
        "feature_spaces": {m: METRICS.get(m).space(p) for m in chosen},
        "num_samples": s_side.n, "ref_samples": n_ref,
        "kid_subset_size": min(p.kid_subset_size, s_side.n, n_ref) if n_ref else None,
        "samples": s_side.info, "reference": r_side.info if r_side else None,
        **({"train": t_side.info} if t_side else {}),
        "protocol": dataclasses.asdict(p), "seconds": round(seconds, 3),
        # extraction a stopped evaluation did before it resumed (``journal``): compute this result cost, not timed here
        "resumed_seconds": round(sum((s.info.get("resumed_seconds", 0.0) for s in sides if s)), 3),
        "command": " ".join(sys.argv),
    }


def _inception_provenance(w) -> dict:
    return {"weights_sha256": w.sha256, "weights_path": w.path, "weights_format": w.format, "weights_origin": w.origin,
            "classifier_head": w.has_head, "extractor": EXTRACTOR_VERSION}


def _reference(reference, p: EvalProtocol, n_samples: int, z_dim, value_range, resize=None):
    """The reference source: ``ref_samples`` images (default: as many as the samples, capped at its size),
    a generator's ``ref_samples`` (default as many as the samples, latents seeded seed + 1), or statistics."""
    whole = as_source(reference, p, "reference", None, z_dim, value_range, seed=p.seed + 1, resize=resize)
    if isinstance(whole, StatsSource):
        return whole
    if isinstance(whole, ImageSource):
        return as_source(whole.images, p, "reference", reference_count(p, n_samples, whole.n))
    return as_source(whole.G, p, "reference", p.ref_samples or n_samples, whole.z_dim, seed=p.seed + 1)


def _training(train, p: EvalProtocol, rsrc, value_range=None, resize=None):
    """The training images a memorization test reads: ``train_samples`` of them (default: as many as the
    reference); float arrays in ``value_range``, as the samples and the reference."""
    whole = as_source(train, p, "train", None, None, value_range, resize=resize)
    if not isinstance(whole, ImageSource):
        raise BadInput("train: give the training images (a dataset such as fashion-mnist:train, a folder, arrays)")
    n = p.train_samples or (rsrc.n if rsrc is not None and not isinstance(rsrc, StatsSource) else whole.n)
    return as_source(whole.images, p, "train", min(n, whole.n))


def _version(module: str) -> Any:
    try:
        return __import__(module).__version__
    except (ImportError, AttributeError):
        return None
