"""The metric registry: each metric registers once, next to its maths, with everything the rest derives from it.

A metric declares its protocol name (``--metrics NAME``), the value columns it produces (label,
which direction is better, display scale), the features it reads (``pool3``, ``logits``,
``vgg16``, ... from ``metrics.features``), the feature space it names in provenance, and whether
it needs a reference set or class labels. ``evaluate``, the results store, the tables and the
CLI's choices and help all read this registry: adding a metric is its module plus its test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from ..config import EvalProtocol
from ..errors import BadInput
from ..registry import Registry
from .moments import statistics


@dataclass(frozen=True)
class Column:
    """One value a metric produces, and how tables show it."""

    key: str  # the value's name in results and the store, e.g. "fid", "kid_mean"
    label: str  # table header, e.g. "FID", "KID×10³"
    #: "lower" | "higher"; "neither": a table column never ranked (C_T: 0 is ideal, either sign says something);
    #: None: stored and listed, not a table column (a spread)
    better: str | None = None
    scale: float = 1.0
    digits: int = 2
    sample_size: bool = False  # biased at small N: the header says "(N=...)"
    # A value with its own confidence interval, not a spread over seeds (a human study): the keys of its lower
    # and upper bounds, and of the count it rests on (e.g. evaluators), stored beside it and shown in its cell.
    interval: tuple[str, str] | None = None
    count: str | None = None
    #: Its label outside Inception's space, ``{space}`` standing for the space's label (``FD_{space}``: FD_DINOv2);
    #: None: the label does not change with ``--features``.
    spaced: str | None = None
    #: The values it can take (None: unbounded on that side). A t interval over few seeds can reach past them (a
    #: recall of 0.002 ± 0.001 over 3 seeds: [-0.000, 0.005]); tables clip a seeds' interval to them.
    bounds: tuple[float | None, float | None] = (None, None)

    def label_in(self, space: str | None) -> str:
        """The header of this column for results in feature space ``space`` (a network label; None: Inception)."""
        return self.spaced.format(space=space) if self.spaced and space and space != "Inception" else self.label


@dataclass(frozen=True)
class Metric:
    name: str
    compute: Callable[["Context"], dict[str, float]]
    columns: tuple[Column, ...]
    features: Callable[[EvalProtocol], tuple[str, ...]]  # the features it reads (metrics.features names)
    space: Callable[[EvalProtocol], str]  # the feature space, named in provenance
    needs_reference: bool = True
    needs_labels: bool = False
    description: str = ""
    #: Reads only the mean and covariance of its feature (FD): with enough samples the pipeline keeps those alone,
    #: as they arrive, instead of every feature vector (constant memory in N).
    moments_only: bool = False
    needs_train: bool = False  # reads the training images' features too (a memorization test)
    # "features": computed by ``evaluate`` from features; "people": measured in a human study and written into
    # the store by its own command (``ganbench human score``); "checkpoints": the runner's, from the evaluations
    # of several checkpoints of one run (``fid_best``). Only "features" metrics can be asked for with --metrics.
    source: str = "features"


METRICS: Registry[Metric] = Registry("metric")


def metric(name: str, *, columns: Sequence[Column], features: Sequence[str] | Callable[[EvalProtocol], tuple],
           space: str | Callable[[EvalProtocol], str], needs_reference: bool = True, needs_labels: bool = False,
           description: str = "", source: str = "features", moments_only: bool = False,
           needs_train: bool = False) -> Callable:
    """Register the decorated ``compute(ctx) -> {column key: value}`` as metric ``name``."""
    feats = features if callable(features) else (lambda p, f=tuple(features): f)
    sp = space if callable(space) else (lambda p, s=space: s)

    def deco(fn: Callable[["Context"], dict[str, float]]) -> Callable:
        METRICS.add(name, Metric(name, fn, tuple(columns), feats, sp, needs_reference=needs_reference,
                                 needs_labels=needs_labels, description=description, moments_only=moments_only,
                                 needs_train=needs_train, source=source))
        return fn
    return deco


class Unavailable(Exception):
    """A requested metric cannot be computed from what we have; the message says why."""


@dataclass
class Side:
    """Features (or only FID statistics) of one input, its class labels, and how it was obtained."""

    features: dict[str, torch.Tensor] = field(default_factory=dict)
    stats: tuple[torch.Tensor, torch.Tensor] | None = None  # (mu, sigma) of pool3 when only statistics exist
    n: int = 0
    labels: torch.Tensor | None = None  # (n,) int64 class labels, when the input has them
    info: dict[str, Any] = field(default_factory=dict)
    #: (mu, sigma) of features kept as moments only (``Metric.moments_only``), float64
    moments: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)

    def need(self, name: str, why: str) -> torch.Tensor:
        if name not in self.features:
            raise Unavailable(why)
        return self.features[name]

    def moments_of(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and unbiased covariance of feature ``name``: kept as moments, from the rows, or a statistics file's."""
        if name in self.moments:
            return self.moments[name]
        if name in self.features:
            return statistics(self.features[name])
        if self.stats is not None and name == "pool3":
            return self.stats
        raise Unavailable(f"no {name} features or statistics")


@dataclass
class Context:
    """What a metric's ``compute`` sees: both sides' features, the protocol, the Inception weights."""

    samples: Side
    reference: Side | None
    protocol: EvalProtocol
    has_head: bool = True
    weights_name: str = ""
    train: Side | None = None  # the training images, for memorization tests

    def ref(self) -> Side:
        if self.reference is None:
            raise Unavailable("needs a reference set")
        return self.reference

    def ref_features(self, name: str) -> torch.Tensor:
        return self.ref().need(name, "the reference is FID statistics only (mu/sigma); give images for this metric")

    def train_features(self, name: str) -> torch.Tensor:
        if self.train is None:
            raise Unavailable("needs the training images: give them (evaluate(..., train=...), `ganbench metrics "
                              "... --train fashion-mnist:train`; a run gives its own)")
        return self.train.need(name, "the training images have no such features")


# ------------------------------------------------------------------------------ derived
def names() -> list[str]:
    """The metrics ``evaluate`` computes (those measured by people are left out)."""
    return [n for n, m in METRICS.items() if m.source == "features"]


def parse(metrics: Sequence[str] | str | None, default: Sequence[str]) -> tuple[str, ...]:
    """Requested metric names (``default`` when None; a comma string is split); unknown ones are an error."""
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    chosen = tuple(metrics) if metrics is not None else tuple(default)
    unknown = [m for m in chosen if m not in METRICS]
    if unknown or not chosen:
        raise BadInput(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; known metrics: {', '.join(names())}")
    for m in chosen:
        source = METRICS.get(m).source
        if source == "people":
            raise BadInput(f"{m} is measured by people, not computed from images: run a study with "
                           "`ganbench human serve RUN_DIR`, then `ganbench human score RUN_DIR`")
        if source != "features":
            raise BadInput(f"{m} is not computed from one set of images: the runner records it from the checkpoints "
                           "a budget evaluates along training (e.g. --protocol lucic2018); ask for fid")
    if len(set(chosen)) != len(chosen):
        raise BadInput(f"metric(s) given twice: {', '.join(sorted({m for m in chosen if chosen.count(m) > 1}))}")
    return chosen


def needed_features(chosen: Sequence[str], protocol: EvalProtocol) -> tuple[str, ...]:
    """The features the chosen metrics read, in a stable order."""
    out: list[str] = []
    for name in chosen:
        for f in METRICS.get(name).features(protocol):
            if f not in out:
                out.append(f)
    return tuple(out)


def compute_metrics(chosen: Sequence[str], ctx: Context) -> tuple[dict[str, float], dict[str, str]]:
    """Every chosen metric from the shared features: ``(values, {name: why it is unavailable})``."""
    values: dict[str, float] = {}
    unavailable: dict[str, str] = {}
    for name in chosen:
        m = METRICS.get(name)
        try:
            if m.needs_labels and (ctx.samples.labels is None or ctx.reference is None
                                   or ctx.reference.labels is None):
                raise Unavailable("n/a for unconditional models, whose samples have no labels (it needs labelled "
                                  "samples and a labelled reference)")
            values.update(m.compute(ctx))
        except Unavailable as e:
            unavailable[name] = str(e)
    return values, unavailable


def columns() -> list[Column]:
    """Every column of every metric, in registration order."""
    return [c for m in METRICS.items() for c in m[1].columns]


def table_columns() -> list[Column]:
    """The columns tables show (those with a direction), in registration order."""
    return [c for c in columns() if c.better]


def column(key: str) -> Column | None:
    return next((c for c in columns() if c.key == key), None)


def metric_of(key: str) -> Metric | None:
    """The metric that produces column ``key``."""
    return next((m for _, m in METRICS.items() if any(c.key == key for c in m.columns)), None)


def help_text() -> str:
    return "; ".join(f"{m.name}: {m.description}" for _, m in METRICS.items() if m.source == "features")


#: The fewest images per set a metric needs under a protocol, where that is more than 2 (k-NN metrics need more
#: than k): ``{metric name: protocol -> count}``; ``evaluate`` checks it before extracting any feature.
MIN_IMAGES: dict[str, Callable[[EvalProtocol], int]] = {}


def needs_images(name: str, least: Callable[[EvalProtocol], int]) -> None:
    """Declare that metric ``name`` needs at least ``least(protocol)`` images in each set."""
    MIN_IMAGES[name] = least


def check_sizes(chosen: Sequence[str], protocol: EvalProtocol, n_samples: int, n_reference: int | None) -> None:
    """A ``BadInput`` when a chosen metric needs more images than a set holds (``n_reference`` None: no images)."""
    for name in chosen:
        least = MIN_IMAGES[name](protocol) if name in MIN_IMAGES else 2
        sides = [("samples", n_samples)] + ([("reference", n_reference)] if n_reference is not None
                                            and METRICS.get(name).needs_reference else [])
        for side, n in sides:
            if n < least:
                raise BadInput(f"{name} needs at least {least} images per set under this protocol, and the {side} "
                               f"are {n}; pass more images (or a smaller k / fewer splits)")
