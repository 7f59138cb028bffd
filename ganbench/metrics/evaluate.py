"""One pass: samples -> features -> every requested metric, with provenance.

Samples and reference may be an ImageSet, a uint8 tensor ``(N, C, H, W)``, a float tensor in
[-1, 1], a string (dataset name, ``NAME:SPLIT``, ``folder:P``, ``arrays:P``, a folder, a
``.npy``/``.npz`` file; for the reference also a pytorch-fid ``.npz`` with mu/sigma) or a
generator callable ``z -> images in [-1, 1]``. Metrics are a registry of name -> function.
"""

from __future__ import annotations

import dataclasses
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .. import __version__
from ..config import DEFAULT_PROTOCOL, EvalProtocol
from ..data import DATASETS, ImageSet, array_image_set, get_dataset
from ..errors import BadInput, MissingAsset
from . import cache
from .features import default_device, extract, generator_batches, imageset_batches, inception_extractor, vgg16_extractor
from .fid import fid_from_features
from .inception import EXTRACTOR_VERSION, Inception, build_inception
from .inception_score import inception_score
from .infinity import fid_infinity, is_infinity
from .kid import kid
from .prdc import prdc
from .weights import resolve_weights

PR_SPACES = {"inception-pool3": "pool3", "vgg16": "vgg16"}


class Unavailable(Exception):
    """A requested metric cannot be computed from what we have; the message says why."""


@dataclass
class Side:
    """Features (or only FID statistics) of one input, and how they were obtained."""

    features: dict[str, torch.Tensor] = field(default_factory=dict)
    stats: tuple[torch.Tensor, torch.Tensor] | None = None
    n: int = 0
    info: dict[str, Any] = field(default_factory=dict)

    def need(self, name: str, why: str) -> torch.Tensor:
        if name not in self.features:
            raise Unavailable(why)
        return self.features[name]


@dataclass
class Context:
    samples: Side
    reference: Side | None
    protocol: EvalProtocol
    has_head: bool
    weights_path: str


# ------------------------------------------------------------------------ metric registry
MetricFn = Callable[[Context], dict[str, float]]
METRICS: dict[str, MetricFn] = {}
#: The feature space each metric is computed in (recorded in provenance).
SPACES: dict[str, Callable[[EvalProtocol], str]] = {}


def metric(name: str, space: Callable[[EvalProtocol], str]) -> Callable[[MetricFn], MetricFn]:
    def deco(fn: MetricFn) -> MetricFn:
        if name in METRICS:
            raise ValueError(f"metric {name!r} registered twice")
        METRICS[name], SPACES[name] = fn, space
        return fn
    return deco


def _ref(ctx: Context) -> Side:
    if ctx.reference is None:
        raise Unavailable("needs a reference set")
    return ctx.reference


def _ref_features(ctx: Context, name: str) -> torch.Tensor:
    return _ref(ctx).need(name, "the reference is FID statistics only (mu/sigma); give images for this metric")


def _no_head(ctx: Context) -> str:
    return (f"the Inception weights {ctx.weights_path} have no classifier head (pool3 only); pass "
            "--inception-weights with torch-fidelity's or pytorch-fid's .pth (or set GANBENCH_INCEPTION_WEIGHTS)")


@metric("fid", lambda p: "inception-pool3")
def _fid(ctx: Context) -> dict[str, float]:
    ref = _ref(ctx)
    f2 = ref.features.get("pool3")
    return {"fid": fid_from_features(ctx.samples.features["pool3"], f2, stats2=None if f2 is not None else ref.stats)}


@metric("fid_inf", lambda p: "inception-pool3")
def _fid_inf(ctx: Context) -> dict[str, float]:
    ref, p = _ref(ctx), ctx.protocol
    stats = ref.stats
    if stats is None:
        from .fid import statistics
        stats = statistics(ref.features["pool3"])
    return {"fid_inf": fid_infinity(ctx.samples.features["pool3"], stats, p.infinity_points,
                                    p.infinity_min_fraction, p.seed)}


@metric("kid", lambda p: "inception-pool3")
def _kid(ctx: Context) -> dict[str, float]:
    p = ctx.protocol
    mean, std = kid(ctx.samples.features["pool3"], _ref_features(ctx, "pool3"), p.kid_subsets, p.kid_subset_size,
                    p.kid_degree, seed=p.seed)
    return {"kid_mean": mean, "kid_std": std}


@metric("is", lambda p: "inception-logits-unbiased")
def _is(ctx: Context) -> dict[str, float]:
    if not ctx.has_head:
        raise Unavailable(_no_head(ctx))
    mean, std = inception_score(ctx.samples.features["logits"], ctx.protocol.is_splits, ctx.protocol.seed)
    return {"is_mean": mean, "is_std": std}


@metric("is_inf", lambda p: "inception-logits-unbiased")
def _is_inf(ctx: Context) -> dict[str, float]:
    if not ctx.has_head:
        raise Unavailable(_no_head(ctx))
    p = ctx.protocol
    return {"is_inf": is_infinity(ctx.samples.features["logits"], p.infinity_points, p.infinity_min_fraction, p.seed)}


@metric("pr", lambda p: p.pr_features)
def _pr(ctx: Context) -> dict[str, float]:
    space = PR_SPACES[ctx.protocol.pr_features]
    r = prdc(_ref_features(ctx, space), ctx.samples.features[space], pr_k=ctx.protocol.pr_k, dc_k=None)
    return {"precision": r["precision"], "recall": r["recall"]}


@metric("dc", lambda p: p.pr_features)
def _dc(ctx: Context) -> dict[str, float]:
    space = PR_SPACES[ctx.protocol.pr_features]
    r = prdc(_ref_features(ctx, space), ctx.samples.features[space], pr_k=None, dc_k=ctx.protocol.dc_k)
    return {"density": r["density"], "coverage": r["coverage"]}


UNARY = {"is", "is_inf"}  # metrics that need no reference


# ------------------------------------------------------------------------------ inputs
def requested_metrics(metrics: Sequence[str] | None, p: EvalProtocol) -> tuple[str, ...]:
    """The metric names to compute (the protocol's when None); an unknown name is an error listing the known."""
    names = tuple(metrics) if metrics is not None else p.metrics
    unknown = [m for m in names if m not in METRICS]
    if unknown or not names:
        raise BadInput(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(METRICS)}")
    return names


def compute_metrics(names: Sequence[str], ctx: Context) -> tuple[dict[str, float], dict[str, str]]:
    """Every requested metric from the shared features: ``(values, {name: why it is unavailable})``."""
    values: dict[str, float] = {}
    unavailable: dict[str, str] = {}
    for name in names:
        try:
            values.update(METRICS[name](ctx))
        except Unavailable as e:
            unavailable[name] = str(e)
    return values, unavailable


def as_source(obj: Any, protocol: EvalProtocol, what: str, z_dim: int | None = None,
              value_range: tuple[float, float] | None = None) -> ImageSet | Callable | tuple:
    """An ImageSet, a generator callable, or ``("stats", mu, sigma, path)`` for a statistics file."""
    if isinstance(obj, ImageSet):
        return obj
    if torch.is_tensor(obj) or isinstance(obj, np.ndarray):
        a = obj.detach().cpu().numpy() if torch.is_tensor(obj) else obj
        rng = None if a.dtype == np.uint8 else (value_range or (-1.0, 1.0))
        return array_image_set(a, what, rng, source="memory")
    if isinstance(obj, (str, Path)):
        text = str(obj)
        name, sep, split = text.partition(":")
        if text in DATASETS:
            return get_dataset(text, protocol.ref_split)
        if sep and name in DATASETS:
            return get_dataset(name, split)
        path = Path(text).expanduser()
        if cache.is_stats_file(path):
            mu, sigma = cache.load_stats(path)
            return ("stats", mu, sigma, str(path))
        if path.is_dir():
            return get_dataset(f"folder:{path}")
        if path.is_file() and path.suffix in (".npy", ".npz"):
            return get_dataset(f"arrays:{path}", value_range=value_range)
        return get_dataset(text, protocol.ref_split, value_range=value_range)  # folder:/arrays: or a clear error
    if callable(obj):
        return obj
    raise BadInput(f"{what}: cannot evaluate a {type(obj).__name__}; give a dataset name, a folder, an array file, "
                   "a tensor or a generator callable")


def _count(src, requested: int | None, default: int, what: str) -> int:
    if callable(src) and not isinstance(src, ImageSet):
        n = requested or default
    else:
        n = requested or len(src)
        if n > len(src):
            raise BadInput(f"{what}: asked for {n} images but it holds {len(src)}; lower --num-samples")
    if n < 2:
        raise BadInput(f"{what}: needs at least 2 images, got {n}")
    return n


# ---------------------------------------------------------------------------- evaluate
def evaluate(samples, reference=None, metrics=None, num_samples: int | None = None,
             device: str | torch.device | None = None, protocol: EvalProtocol | None = None,
             progress: bool = True, cache: bool = True, z_dim: int | None = None, *,
             inception_weights: str | None = None, model: Inception | None = None,
             value_range: tuple[float, float] | None = None) -> dict:
    """Compute ``metrics`` of ``samples`` against ``reference``; returns {"metrics", "unavailable", "provenance"}.

    ``model``: a prebuilt :class:`Inception` to reuse across calls (its resize mode must match).
    Asking only for metrics that cannot be computed is an error; asked together with others,
    they are listed under "unavailable" with the reason.
    """
    import ganbench.metrics.cache as cache_mod

    t0 = time.perf_counter()
    p = protocol or DEFAULT_PROTOCOL
    names = requested_metrics(metrics, p)
    if p.pr_features not in PR_SPACES:
        raise BadInput(f"unknown pr_features {p.pr_features!r}; use one of {', '.join(PR_SPACES)}")
    if reference is None and not set(names) <= UNARY:
        raise BadInput(f"{', '.join(sorted(set(names) - UNARY))} need a reference set (INPUT2); give one")

    dev = default_device(device)
    weights = resolve_weights(inception_weights)
    if model is not None and model.resize_mode != p.resize_mode:
        raise BadInput(f"the given model resizes with {model.resize_mode!r} but the protocol says {p.resize_mode!r}")
    if not weights.has_head and set(names) <= UNARY:  # fail before any extraction work
        raise MissingAsset(f"{', '.join(names)}: " + _no_head(Context(Side(), None, p, False, weights.path)))
    net = model or build_inception(weights, p.resize_mode, dev)
    spaces = ("inception", "vgg16") if p.pr_features == "vgg16" and {"pr", "dc"} & set(names) else ("inception",)

    def extractors() -> dict:
        ex = {"inception": inception_extractor(net)}
        if "vgg16" in spaces:
            ex["vgg16"] = vgg16_extractor(dev)
        return ex

    # --- samples
    src = as_source(samples, p, "samples", z_dim, value_range)
    if isinstance(src, tuple):
        raise BadInput("samples: a statistics file (mu/sigma) can only be the reference")
    n = _count(src, num_samples, p.num_samples, "samples")
    if isinstance(src, ImageSet):
        batches = imageset_batches(src, n, p.feature_batch_size)
        s_info = {**src.describe(), "kind": "images"}
    else:
        zd = z_dim or getattr(src, "z_dim", None)
        if not zd:
            raise BadInput("samples: a generator callable needs its latent size: pass z_dim= or set .z_dim on it")
        batches = generator_batches(src, n, p.feature_batch_size, int(zd), p.seed, dev)
        s_info = {"kind": "generator", "z_dim": int(zd), "latents": f"randn, torch.Generator seed {p.seed}"}
    s_side = Side(extract(batches, n, extractors(), dev, progress, "samples features", p.allow_tf32), n=n, info=s_info)

    # --- reference
    r_side = None
    if reference is not None:
        rsrc = as_source(reference, p, "reference", z_dim, value_range)
        if isinstance(rsrc, tuple):
            _, mu, sigma, path = rsrc
            r_side = Side(stats=(mu, sigma), n=0, info={"kind": "statistics", "path": path})
        elif isinstance(rsrc, ImageSet):
            rn = p.ref_samples or min(n, len(rsrc))
            rn = _count(rsrc, rn, rn, "reference")
            key = cache_mod.reference_key(rsrc.key, rn, p.resize_mode, weights.sha256, spaces)
            feats = cache_mod.load(key) if cache else None
            hit = feats is not None
            if feats is None:
                feats = extract(imageset_batches(rsrc, rn, p.feature_batch_size), rn, extractors(), dev, progress,
                                "reference features", p.allow_tf32)
            r_side = Side(feats, n=rn, info={**rsrc.describe(), "kind": "images", "cache_key": key, "cache_hit": hit})
            pending_cache = (key, feats, {"dataset_key": rsrc.key, "n": rn, "resize_mode": p.resize_mode,
                                          "weights_sha256": weights.sha256, "extractor": EXTRACTOR_VERSION,
                                          "spaces": list(spaces), "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
            if cache and not hit:  # only after the features were checked finite by extract()
                cache_mod.save(*pending_cache)
        else:
            zd = z_dim or getattr(rsrc, "z_dim", None)
            if not zd:
                raise BadInput("reference: a generator callable needs its latent size: pass z_dim= or set .z_dim")
            rn = p.ref_samples or n
            feats = extract(generator_batches(rsrc, rn, p.feature_batch_size, int(zd), p.seed + 1, dev), rn,
                            extractors(), dev, progress, "reference features", p.allow_tf32)
            r_side = Side(feats, n=rn, info={"kind": "generator", "z_dim": int(zd)})

    # --- metrics
    values, unavailable = compute_metrics(names, Context(s_side, r_side, p, weights.has_head, weights.path))
    if not values:
        raise MissingAsset("; ".join(f"{k}: {v}" for k, v in unavailable.items()))

    provenance = {
        "ganbench": __version__, "python": platform.python_version(), "torch": torch.__version__,
        "torch_fidelity": _version("torch_fidelity"), "numpy": np.__version__,
        "device": str(dev), "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor(),
        "weights_sha256": weights.sha256, "weights_path": weights.path, "weights_format": weights.format,
        "weights_origin": weights.origin, "classifier_head": weights.has_head,
        "extractor": EXTRACTOR_VERSION, "resize_mode": p.resize_mode,
        "feature_spaces": {m: SPACES[m](p) for m in names},
        "num_samples": n, "ref_samples": r_side.n if r_side else 0,
        "kid_subset_size": min(p.kid_subset_size, n, r_side.n) if r_side and r_side.n else None,
        "samples": s_info, "reference": r_side.info if r_side else None,
        "protocol": dataclasses.asdict(p), "seconds": round(time.perf_counter() - t0, 3),
        "command": " ".join(sys.argv),
    }
    return {"metrics": values, "unavailable": unavailable, "provenance": provenance}


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except (ImportError, AttributeError):
        return None
