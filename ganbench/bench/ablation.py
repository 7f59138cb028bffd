"""Ablation grids: ``loss=ns,hinge arch=dcgan,resnet trick=none,sn`` -> the cross product of specs; and
leave-one-out ablations: ``sn ema loss=ns`` -> the base spec, then the base with each one change.

Each axis is a registered way of changing a base spec (``AXES``): ``loss`` sets the loss
(a preset such as ``wgan-gp`` also sets its regulariser), ``arch`` the net, ``trick`` a
named training trick (``sn+ema`` combines several). Any dotted field of ModelSpec works
too (``tricks.n_critic=1,5``, ``arch.width=32,64``). Impossible combinations fail before
anything trains.

An ablation (``expand_ablation``) takes items of one change each, ``[LABEL:]CHANGE[+CHANGE...]``: a named
trick alone removes it from the base (its fields back to the spec's defaults: ``ema``, ``sn``, ``diffaug``),
``AXIS=VALUE`` is one cell of a grid axis (``loss=ns``, ``trick=lecam`` adds LeCam, ``tricks.ema=0``). Its
rows are grouped under the ``ablation`` axis, the base's as ``base``, and its table tests each against the base.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import typing
from typing import Any, Callable

from ..config import MAX_JOBS, ModelSpec, _coerce
from ..zoo.specs import validate_spec
from ..errors import BadInput
from ..registry import Registry
from .tables import ABLATION_AXIS, ABLATION_BASE

#: Loss presets: a name that is not itself a loss of the zoo -> spec changes.
LOSS_PRESETS: dict[str, dict[str, Any]] = {
    # Gulrajani et al. 2017: lambda 10, 5 critic steps, Adam(1e-4, 0, 0.9), no batch norm in the critic.
    "wgan-gp": {"loss": "wgan", "tricks.gradient_penalty": 10.0, "tricks.n_critic": 5,
                "optim_g.lr": 1e-4, "optim_g.betas": (0.0, 0.9), "optim_d.lr": 1e-4, "optim_d.betas": (0.0, 0.9)},
    "wgan-clip": {"loss": "wgan", "tricks.weight_clip": 0.01, "tricks.n_critic": 5,
                  "optim_g.name": "rmsprop", "optim_g.lr": 5e-5, "optim_d.name": "rmsprop", "optim_d.lr": 5e-5},
}
#: Named training tricks (Lucic et al. 2018; Kurach et al. 2019) -> spec changes.
TRICKS: dict[str, dict[str, Any]] = {
    "none": {},
    "sn": {"tricks.spectral_norm_d": True},
    "sn-g": {"tricks.spectral_norm_g": True, "tricks.spectral_norm_d": True},
    "gp": {"tricks.gradient_penalty": 10.0},
    "r1": {"tricks.r1": 10.0},
    "dragan": {"tricks.dragan": 10.0},
    "ema": {"tricks.ema": 0.999},
    "ls": {"tricks.label_smoothing": 0.1},
    "noise": {"tricks.instance_noise": 0.1},
    "diffaug": {"tricks.diffaugment": "translation,cutout"},
    "lecam": {"tricks.lecam": 0.3},  # Tseng et al. 2021, BigGAN CIFAR-10
    "bcr": {"tricks.bcr": 10.0},  # Zhao et al. 2021: lambda_real = lambda_fake = 10
    "ada": {"tricks.ada_target": 0.6},  # Karras et al. 2020's target; gates the spec's ops (diffaug+ada if none)
    "ttur": {"optim_d.lr": 4e-4, "optim_g.lr": 1e-4},
}

Changes = dict[str, Any]
AXES: Registry[Callable[[str], Changes]] = Registry("grid axis")


def axis(name: str) -> Callable:
    """Register the decorated ``value -> spec changes`` as the grid axis ``name``."""
    return AXES.register(name)


def _known(kind: str) -> list[str]:
    """Loss / net names of the zoo (empty when the zoo does not expose them)."""
    try:
        if kind == "loss":
            from ..zoo.losses import LOSSES
            return list(LOSSES)
        from ..zoo.nets import NETS
        return list(NETS)
    except ImportError:
        return []


@axis("loss")
def _loss(value: str) -> Changes:
    if value in LOSS_PRESETS:
        return dict(LOSS_PRESETS[value])
    known = _known("loss")
    if known and value not in known:
        raise BadInput(f"grid: unknown loss {value!r}; known: {', '.join([*known, *LOSS_PRESETS])}")
    return {"loss": value}


@axis("arch")
def _arch(value: str) -> Changes:
    known = _known("arch")
    if known and value not in known:
        raise BadInput(f"grid: unknown arch {value!r}; known: {', '.join(known)}")
    return {"arch.name": value}


@axis("trick")
def _trick(value: str) -> Changes:
    changes: Changes = {}
    for part in value.split("+"):
        if part not in TRICKS:
            raise BadInput(f"grid: unknown trick {part!r}; known: {', '.join(TRICKS)} (combine with +)")
        changes.update(TRICKS[part])
    return changes


#: Values of the ``conditioning`` axis: how labels enter (G, D) (ganbench.zoo.conditioning).
CONDITIONING = {
    "none": ("none", "none"),
    "concat": ("concat", "concat"),  # Mirza & Osindero 2014
    "ac": ("concat", "ac"),  # Odena et al. 2017
    "projection": ("none", "projection"),
    "pd": ("cbn", "projection"),  # Miyato & Koyama 2018
    "cbn": ("cbn", "none"),
}


@axis("conditioning")
def _conditioning(value: str) -> Changes:
    if value not in CONDITIONING:
        raise BadInput(f"grid: unknown conditioning {value!r}; known: {', '.join(CONDITIONING)}")
    g, d = CONDITIONING[value]
    return {"arch.g_conditioning": g, "arch.d_conditioning": d}


def apply_changes(spec: ModelSpec, changes: Changes) -> ModelSpec:
    """A copy of ``spec`` with dotted fields replaced (values coerced and checked like YAML)."""
    for path, value in changes.items():
        spec = _replace(spec, path.split("."), value, path)
    return spec


def _replace(obj: Any, parts: list[str], value: Any, path: str) -> Any:
    fields = {f.name for f in dataclasses.fields(obj)}
    if parts[0] not in fields:
        raise BadInput(f"grid: {path!r} is not a field of the model spec; fields here: {', '.join(sorted(fields))}")
    if len(parts) == 1:
        hint = typing.get_type_hints(type(obj))[parts[0]]
        return dataclasses.replace(obj, **{parts[0]: _coerce(hint, value, f"grid {path}")})
    return dataclasses.replace(obj, **{parts[0]: _replace(getattr(obj, parts[0]), parts[1:], value, path)})


def _fit_arch(spec: ModelSpec) -> ModelSpec:
    """After an ``arch`` change, drop the base's D norm / variant if the new net family has no such option."""
    try:
        from ..zoo.nets import NETS
        family = NETS.get(spec.arch.name)
    except (ImportError, BadInput):
        return spec
    arch = spec.arch
    if arch.d_norm != "default" and arch.d_norm not in family.d_norms:
        arch = dataclasses.replace(arch, d_norm="default")
    if arch.variant not in family.variants:
        arch = dataclasses.replace(arch, variant=family.variants[0])
    return dataclasses.replace(spec, arch=arch)


def _norm_for_penalties(spec: ModelSpec) -> ModelSpec:
    """Gradient penalties need per-sample gradients of D: swap a batch-norm default for layer (or no) norm.

    Gulrajani et al. 2017, sec. 4. The swap is written into the spec, so it is hashed and recorded.
    """
    t = spec.tricks
    if not (t.gradient_penalty or t.dragan or t.r1) or spec.arch.d_norm not in ("default", "batch"):
        return spec
    try:
        from ..zoo.nets import NETS
        family = NETS.get(spec.arch.name)
    except (ImportError, BadInput):
        return spec
    if family.resolve_d_norm(spec.arch.d_norm) != "batch":
        return spec
    norm = "layer" if "layer" in family.d_norms else "none"
    return dataclasses.replace(spec, arch=dataclasses.replace(spec.arch, d_norm=norm))


def _parse_scalar(text: str) -> Any:
    import yaml
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_grid(items: list[str]) -> list[tuple[str, list[str]]]:
    """``["loss=ns,hinge", "arch=dcgan"]`` -> ``[("loss", ["ns", "hinge"]), ("arch", ["dcgan"])]``."""
    axes: list[tuple[str, list[str]]] = []
    for item in items:
        name, sep, values = item.partition("=")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not name or not vals:
            raise BadInput(f"--grid takes AXIS=V1,V2 such as loss=ns,hinge; got {item!r}")
        if name in [a for a, _ in axes]:
            raise BadInput(f"--grid: axis {name!r} given twice")
        if len(set(vals)) != len(vals):
            raise BadInput(f"--grid: axis {name!r} repeats a value: {values}")
        axes.append((name, vals))
    cells = math.prod(len(v) for _, v in axes)
    if cells > MAX_JOBS:
        raise BadInput(f"--grid has {cells:,} combinations; at most {MAX_JOBS:,} per command: fewer values per axis")
    return axes


def _changes(name: str, value: str) -> Changes:
    """The spec changes of one axis value: a registered axis's, or a dotted spec field set to ``value``."""
    if name in AXES:
        return AXES.get(name)(value)
    if "." in name or name in {f.name for f in dataclasses.fields(ModelSpec)}:
        return {name: _parse_scalar(value)}
    raise BadInput(f"grid: unknown axis {name!r}; use one of {', '.join(AXES)} "
                   "or a dotted spec field such as tricks.n_critic")


def _variant(base: ModelSpec, label: str, groups: dict[str, str], changes: Changes, what: str) -> ModelSpec:
    """``base`` with ``changes``, named ``label``, its net and D norm fitted, checked as a spec is."""
    spec = apply_changes(dataclasses.replace(base, name=label, description=f"{base.name} with {groups}"), changes)
    spec = _norm_for_penalties(_fit_arch(spec))
    try:
        validate_spec(spec)
    except BadInput as e:
        raise BadInput(f"{what} {label} is impossible: {e}") from None
    return spec


def _distinct(variants: list[tuple[ModelSpec, dict[str, str]]], what: str) -> list[tuple[ModelSpec, dict[str, str]]]:
    """Refuse two variants that train the same thing: they would waste a job."""
    hashes: dict[str, str] = {}
    for spec, _ in variants:
        if spec.hash() in hashes:
            raise BadInput(f"{what}: {spec.name} and {hashes[spec.hash()]} are the same configuration")
        hashes[spec.hash()] = spec.name
    return variants


def expand_grid(base: ModelSpec, axes: list[tuple[str, list[str]]]) -> list[tuple[ModelSpec, dict[str, str]]]:
    """The cross product of the axes applied to ``base``: [(spec named by its values, {axis: value})]."""
    variants = []
    for combo in itertools.product(*[vals for _, vals in axes]):
        groups = {name: value for (name, _), value in zip(axes, combo)}
        changes: Changes = {}
        for name, value in groups.items():
            changes.update(_changes(name, value))
        label = "/".join(groups.values())
        variants.append((_variant(base, label, groups, changes, "grid combination"), groups))
    return _distinct(variants, "grid")


def _field(obj: Any, path: str) -> Any:
    """The value of a dotted field (``tricks.ema``) of a spec."""
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _removal(base: ModelSpec, trick: str) -> Changes:
    """The changes that take the named trick out of ``base``: its fields back to the schema's defaults."""
    if trick not in TRICKS or trick == "none":
        known = ", ".join(t for t in TRICKS if t != "none")
        raise BadInput(f"--ablate: {trick!r} is not a trick to remove; known: {known} "
                       "(or give AXIS=VALUE such as loss=ns or tricks.ema=0)")
    default = ModelSpec(name="default")
    changes = {path: _field(default, path) for path in TRICKS[trick]}
    if all(_field(base, path) == value for path, value in changes.items()):
        raise BadInput(f"--ablate: the base {base.name} has no {trick} to remove "
                       f"({', '.join(f'{p}={_field(base, p)!r}' for p in changes)})")
    return changes


def parse_ablation(items: list[str]) -> list[tuple[str, list[str]]]:
    """``["sn+arch.d_norm=batch", "NS:loss=ns"]`` -> ``[("without sn + arch.d_norm=batch", [...]), ("NS", [...])]``."""
    parsed: list[tuple[str, list[str]]] = []
    for item in items:
        head, colon, rest = item.partition(":")
        label, text = (head.strip(), rest) if colon and "=" not in head else ("", item)
        parts = [p.strip() for p in text.split("+")]
        if not text.strip() or not all(parts):
            raise BadInput(f"--ablate takes [LABEL:]CHANGE[+CHANGE] with one value per change, such as ema, "
                           f"loss=ns or sn+arch.d_norm=batch; got {item!r}")
        label = label or " + ".join(p if "=" in p else f"without {p}" for p in parts)
        if label == ABLATION_BASE or label in [l for l, _ in parsed]:
            why = "reserved for the base's row" if label == ABLATION_BASE else "given twice"
            raise BadInput(f"--ablate: the label {label!r} is {why}")
        parsed.append((label, parts))
    if not parsed:
        raise BadInput("--ablate needs at least one change, such as: --ablate ema diffaug loss=ns")
    if len(parsed) + 1 > MAX_JOBS:
        raise BadInput(f"--ablate has {len(parsed)} changes; at most {MAX_JOBS - 1:,} per command")
    return parsed


def expand_ablation(base: ModelSpec, items: list[tuple[str, list[str]]]) -> list[tuple[ModelSpec, dict[str, str]]]:
    """The base, then the base with each item's changes: [(spec, {"ablation": label})], the base first."""
    variants = [(dataclasses.replace(base, description=base.description or base.name),
                 {ABLATION_AXIS: ABLATION_BASE})]
    for label, parts in items:
        changes: Changes = {}
        for part in parts:
            name, eq, value = part.partition("=")
            changes.update(_changes(name, value) if eq else _removal(base, part))
        groups = {ABLATION_AXIS: label}
        variants.append((_variant(base, label, groups, changes, "ablation"), groups))
    return _distinct(variants, "--ablate")
