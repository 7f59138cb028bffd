"""Search spaces as data: YAML files that declare, per hyperparameter, its range and the spec fields it sets.

A space file (``ganbench/spaces/lucic2018-wide.yaml`` is the model) holds ``params`` shared by every model and
``models: {name: params}`` added or overridden per model, as compare_gan v1's ``params.py`` declares a range per
loss. A parameter is one of::

    learning_rate: {log_uniform: [1.0e-5, 1.0e-2], set: [optim_g.lr, optim_d.lr]}
    beta1:         {uniform: [0.0, 1.0], set: [optim_g.betas.0, optim_d.betas.0]}
    disc_iters:    {choice: [1, 5], set: [tricks.n_critic]}

``set`` names the spec fields the drawn value goes to (a dotted path; a number indexes a list such as
``betas``). Every path is checked against the spec when the space is loaded, so a typo is a one-line error
before any work. Values are drawn by Optuna's samplers from the distributions ``distributions()`` gives.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from ...config import ModelSpec, from_dict
from ...errors import BadInput
from ...zoo.specs import validate_spec

#: The spaces shipped with ganbench (package data), by name: ``lucic2018-wide``, ``lucic2018-narrow``.
SPACE_DIR = Path(str(files("ganbench") / "spaces"))
KINDS = ("uniform", "log_uniform", "choice")


@dataclass(frozen=True)
class Param:
    """One hyperparameter: its distribution and the spec fields its value sets."""

    name: str
    kind: str  # uniform | log_uniform | choice
    values: tuple  # (low, high) for uniform and log_uniform; the choices for choice
    targets: tuple[str, ...]

    def distribution(self):
        import optuna

        if self.kind == "choice":
            return optuna.distributions.CategoricalDistribution(list(self.values))
        low, high = self.values
        return optuna.distributions.FloatDistribution(low, high, log=self.kind == "log_uniform")

    def describe(self) -> str:
        if self.kind == "choice":
            return "{" + ", ".join(str(v) for v in self.values) + "}"
        low, high = self.values
        if self.kind == "log_uniform":
            return f"10^U[{math.log10(low):g}, {math.log10(high):g}]"
        return f"U[{low:g}, {high:g}]"


@dataclass(frozen=True)
class SearchSpace:
    """A named space: shared parameters and per-model ones (which override shared ones of the same name)."""

    name: str
    params: dict[str, Param]
    models: dict[str, dict[str, Param]] = field(default_factory=dict)
    source: str = ""
    #: Trials that draw batch norm in D together with a gradient penalty train anyway (compare_gan's wide range).
    penalty_through_batch_norm: bool = False
    path: str = ""

    def for_model(self, model: str) -> dict[str, Param]:
        """The parameters a model is searched over, in a stable order (shared first, then the model's own)."""
        return {**self.params, **self.models.get(model, {})}

    def distributions(self, model: str) -> dict[str, Any]:
        return {name: p.distribution() for name, p in self.for_model(model).items()}

    def defaults(self, spec: ModelSpec) -> dict[str, Any]:
        """The spec's own values of the searched parameters: the setting compare_gan always includes as trial 0
        (generate_tasks_lib.py TuneParams: ``samples = [GetDefaultParams(gan_params)]``)."""
        d = _plain(spec)
        return {name: _get(d, p.targets[0]) for name, p in self.for_model(spec.name).items()}

    def apply(self, spec: ModelSpec, values: dict[str, Any], name: str) -> ModelSpec:
        """``spec`` with the drawn ``values`` written into their fields, renamed ``name``, validated. Its
        description says which values were drawn (the base spec's own describes the base's setting, which the trial's
        provenance must not claim; the description is prose, outside the spec's hash)."""
        d = _plain(spec)
        searched = self.for_model(spec.name)
        for pname, p in searched.items():
            for target in p.targets:
                _set(d, target, values[pname])
        d["name"] = name
        applied = param_text({pname: values[pname] for pname in searched})  # only what was written into the spec
        d["description"] = f"{spec.name} at values from the {self.name} search space ({applied}); " \
                           f"{spec.name} itself: {spec.description}"
        trial = from_dict(ModelSpec, d, f"trial {name}")
        if self.penalty_through_batch_norm and trial.arch.d_norm == "batch" and _penalised(trial):
            trial = dataclasses.replace(trial, tricks=dataclasses.replace(trial.tricks, penalty_through_batch_norm=True))
        return validate_spec(trial)

    def describe(self, model: str) -> dict[str, str]:
        return {name: p.describe() for name, p in self.for_model(model).items()}


def param_text(params: dict[str, Any]) -> str:
    """A setting as one line, by parameter name: ``beta1 0.473, disc_iters 5, learning_rate 0.00114``."""
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in sorted(params.items()))


def _penalised(spec: ModelSpec) -> bool:
    t = spec.tricks
    return bool(t.gradient_penalty or t.r1 or t.dragan)


def _plain(spec: ModelSpec) -> dict:
    """The spec as nested dicts and lists (a tuple such as ``betas`` becomes a list a value can be set in)."""
    return json.loads(json.dumps(dataclasses.asdict(spec)))


def _steps(path: str) -> list[str | int]:
    return [int(s) if s.isdigit() else s for s in path.split(".")]


def _get(d: Any, path: str) -> Any:
    for s in _steps(path):
        d = d[s]
    return d


def _set(d: Any, path: str, value: Any) -> None:
    *head, last = _steps(path)
    for s in head:
        d = d[s]
    d[last] = value


def _param(name: str, raw: Any, where: str, spec_dict: dict) -> Param:
    if not isinstance(raw, dict):
        raise BadInput(f"{where}: parameter {name} must be a mapping such as "
                       "{log_uniform: [1.0e-5, 1.0e-2], set: [optim_g.lr, optim_d.lr]}")
    kinds = [k for k in KINDS if k in raw]
    unknown = sorted(set(raw) - {*KINDS, "set"})
    if len(kinds) != 1 or unknown:
        raise BadInput(f"{where}: parameter {name} needs exactly one of {', '.join(KINDS)} and a set: list"
                       + (f"; unknown key(s) {', '.join(unknown)}" if unknown else ""))
    kind, values = kinds[0], raw[kinds[0]]
    if not isinstance(values, list) or not values:
        raise BadInput(f"{where}: parameter {name}: {kind} takes a list, e.g. [0.0, 1.0]")
    if kind != "choice":
        if len(values) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values) \
                or not values[0] < values[1] or (kind == "log_uniform" and values[0] <= 0):
            raise BadInput(f"{where}: parameter {name}: {kind} takes [low, high] with low < high"
                           + (" and low > 0" if kind == "log_uniform" else "") + f", got {values}")
        values = [float(v) for v in values]
    targets = raw.get("set")
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
        raise BadInput(f"{where}: parameter {name} needs set: [spec.field, ...], e.g. set: [optim_g.lr, optim_d.lr]")
    for t in targets:
        try:
            _get(spec_dict, t)
        except (KeyError, IndexError, TypeError):
            raise BadInput(f"{where}: parameter {name} sets {t}, which is not a field of a model spec "
                           "(see `ganbench models show dcgan`)") from None
    return Param(name, kind, tuple(values), tuple(targets))


def load_space(name_or_path: str | Path) -> SearchSpace:
    """A shipped space by name (``lucic2018-wide``) or a YAML file of your own; checked strictly."""
    path = Path(name_or_path)
    if not path.suffix:
        shipped = SPACE_DIR / f"{name_or_path}.yaml"
        if not shipped.is_file():
            known = sorted(p.stem for p in SPACE_DIR.glob("*.yaml"))
            raise BadInput(f"unknown search space {name_or_path!r}; shipped spaces: {', '.join(known)} "
                           "(or give a .yaml file of your own)")
        path = shipped
    if not path.is_file():
        raise BadInput(f"search space {path} does not exist; give a .yaml file or a shipped space's name")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise BadInput(f"search space {path} is not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise BadInput(f"search space {path} must be a mapping with params: (and optionally models:)")
    unknown = sorted(set(data) - {"name", "source", "params", "models", "penalty_through_batch_norm"})
    if unknown:
        raise BadInput(f"search space {path}: unknown key(s) {', '.join(unknown)}; allowed: name, source, params, "
                       "models, penalty_through_batch_norm")
    spec_dict = _plain(ModelSpec(name="check"))
    params = {n: _param(n, r, path.name, spec_dict) for n, r in (data.get("params") or {}).items()}
    models = data.get("models") or {}
    if not isinstance(models, dict) or not all(isinstance(v, dict) for v in models.values()):
        raise BadInput(f"search space {path}: models: maps a model name to its own params")
    per_model = {m: {n: _param(n, r, f"{path.name} ({m})", spec_dict) for n, r in ps.items()}
                 for m, ps in models.items()}
    if not params and not per_model:
        raise BadInput(f"search space {path} declares no parameter; add params:")
    return SearchSpace(str(data.get("name") or path.stem), params, per_model, str(data.get("source") or ""),
                       bool(data.get("penalty_through_batch_norm", False)), str(path))
