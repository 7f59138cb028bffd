"""Jobs: one (model spec, seed) to train and evaluate under one budget and protocol.

A ``Job`` is a frozen, picklable dataclass so that any executor (local now, ray later)
can ship it; its ``key`` names the result exactly, so a job whose row is in the store
is skipped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..config import MAX_JOBS, MAX_SEEDS, Budget, EvalProtocol, ModelSpec, hash_dict
from ..data.base import ImageSet
from ..errors import BadInput
from ..metrics import registry
from ..train.checkpoint import CHECKPOINT_NAME
from ..zoo.nets import check_buildable
from ..zoo.view import View, view_for

def digest(obj) -> str:
    """Short stable hash of a JSON-able object."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def protocol_for(budget: Budget, metrics: tuple[str, ...] | None = None,
                 base: EvalProtocol | None = None) -> EvalProtocol:
    """The evaluation protocol of a budget: its sample counts and split, the requested metrics."""
    base = base or EvalProtocol()
    p = dataclasses.replace(base, num_samples=budget.num_samples, ref_samples=budget.ref_samples,
                            ref_split=budget.ref_split)
    if metrics:
        p = dataclasses.replace(p, metrics=tuple(metrics))
    # KID subsets cannot be larger than the sample sets they are drawn from.
    size = min(p.kid_subset_size, p.num_samples, p.ref_samples or p.num_samples)
    return dataclasses.replace(p, kid_subset_size=size)


def protocol_hash(protocol: EvalProtocol, dataset: str) -> str:
    return digest({"dataset": dataset, "protocol": hash_dict(protocol)})


def parse_metrics(text: str | None) -> tuple[str, ...] | None:
    """``--metrics fid,kid``: names from the metric registry (None: the protocol's default set)."""
    if text is None:
        return None
    return registry.parse(text, ())


def parse_seeds(text: str | None) -> tuple[int, ...]:
    """``0,1,2`` or a range ``0-4``."""
    if not text:
        return (0,)
    seeds: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if re.fullmatch(r"\d+-\d+", part):
                lo, hi = (int(v) for v in part.split("-"))
                if hi - lo + 1 + len(seeds) > MAX_SEEDS:  # before expanding it
                    raise BadInput(f"--seeds {text}: at most {MAX_SEEDS} seeds per command; split a larger sweep "
                                   "into several commands (they share one store)")
                seeds += range(lo, hi + 1)
            else:
                seeds.append(int(part))
    except ValueError:
        raise BadInput(f"--seeds takes integers such as 0,1,2 or 0-4, got {text!r}") from None
    if len(seeds) > MAX_SEEDS:
        raise BadInput(f"--seeds: at most {MAX_SEEDS} seeds per command, got {len(seeds)}")
    return check_seeds(seeds, text)


def seed_plan(models: Sequence[str], default: tuple[int, ...], per_model: dict | None = None,
              overrides: Sequence[str] = ()) -> list[tuple[tuple[int, ...], list[str]]]:
    """Which seeds each model runs: ``default`` unless ``per_model`` ({model: seeds}, e.g. a study's
    leaderboard plan) or an ``overrides`` item ``MODEL=SEEDS`` (``--seeds-for lucic-ns=0-2``) says otherwise.

    Returns ``[(seeds, [models...]), ...]``: models grouped by their seed tuple, in first-seen model order.
    """
    chosen = {m: check_seeds(tuple((per_model or {}).get(m, default))) for m in models}
    for item in overrides:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name or not text.strip():
            raise BadInput(f"--seeds-for takes MODEL=SEEDS such as lucic-ns=0-2, got {item!r}")
        if name not in chosen:
            raise BadInput(f"--seeds-for names {name!r}, which is not among the models of this run "
                           f"({', '.join(models)}); add it to --models or fix the name")
        chosen[name] = parse_seeds(text)
    groups: dict[tuple[int, ...], list[str]] = {}
    for m in models:
        groups.setdefault(chosen[m], []).append(m)
    return list(groups.items())


def check_seeds(seeds, text: str | None = None) -> tuple[int, ...]:
    """``seeds`` as a tuple of distinct non-negative integers, else a ``BadInput``."""
    seeds = tuple(seeds) if isinstance(seeds, (list, tuple)) else (seeds,)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds) \
            or len(set(seeds)) != len(seeds):
        raise BadInput(f"--seeds: give distinct non-negative integers, got {text if text is not None else seeds!r}")
    return seeds


@dataclass(frozen=True)
class Job:
    """Train ``spec`` with ``seed`` on ``dataset`` for ``budget``, then evaluate with ``protocol``."""

    spec: ModelSpec
    dataset: str
    seed: int
    budget: Budget
    protocol: EvalProtocol
    out_dir: str  # trainer folder: checkpoints, train_log.csv, samples
    run: str = ""  # the run folder, for the store
    groups: dict = field(default_factory=dict)  # grid axes, e.g. {"loss": "hinge"}
    device: str | None = None
    data_root: str | None = None
    #: How the nets see the data (resolution, padding, value range), decided once by ``plan`` (``zoo.view``);
    #: not part of the key, which already holds what decides it (the spec and the budget's view policy).
    view: View | None = None

    @property
    def key(self) -> str:
        """What makes two results the same: config, seed, dataset, budget and protocol."""
        return digest({"config": self.spec.hash(), "seed": self.seed, "dataset": self.dataset,
                       "budget": hash_dict(self.budget), "protocol": hash_dict(self.protocol)})

    def __hash__(self) -> int:  # groups is a dict: hash by key
        return hash(self.key)

    @property
    def started(self) -> bool:
        """Its folder holds a checkpoint: the job was stopped part-way (a kill, a session's end) and resumes there."""
        return (Path(self.out_dir) / CHECKPOINT_NAME).is_file()


def started_first(jobs: Sequence[Job]) -> list[Job]:
    """``jobs`` with the started ones ahead of the fresh, each group in its own order: what is half done finishes
    first, so that a run stopped again loses as little training as it can."""
    return sorted(jobs, key=lambda j: not j.started)  # sorted is stable


def named_rows(rows: Sequence[dict], names: Mapping[str, tuple[str, dict]]) -> list[dict]:
    """Rows named as a run names its jobs (``names``: job key -> (model, groups)). A result is keyed by what was
    trained (config, seed, data, budget, protocol), not by a name, so a run may reuse one stored under another
    name or grid cell; its numbers stay, and this run's tables show it under this run's name and groups."""
    out = []
    for r in rows:
        model, groups = names.get(r["job_key"], (r["model"], r.get("groups")))
        out.append({**r, "model": model, "groups": groups})
    return out


def record_base(job_key: str, model: str, config_hash: str, seed: int, dataset: str, budget: Budget,
                protocol: EvalProtocol, run: str = "", out_dir: str | None = None, groups: dict | None = None) -> dict:
    """The store row fields known before a job (or an external model's evaluation) runs: what it is, under
    which protocol, and the software that made it."""
    from .provenance import git_revision, versions

    return {
        "job_key": job_key, "run": run, "model": model, "config_hash": config_hash, "seed": seed, "dataset": dataset,
        "split": protocol.ref_split, "budget": budget.name, "protocol_hash": protocol_hash(protocol, dataset),
        "num_samples": protocol.num_samples, "ref_samples": protocol.ref_samples, "resize_mode": protocol.resize_mode,
        "out_dir": out_dir, "groups": groups or {}, "git_rev": git_revision(),
        "ganbench_version": versions()["ganbench"], "torch_version": versions()["torch"],
    }


def eval_seconds(ev: dict, started: float) -> float:
    """The compute an evaluation ``ev`` cost: the seconds since ``started`` (``time.perf_counter()``) and, when it
    resumed a stopped extraction (``metrics.journal``), the seconds that one had spent."""
    return time.perf_counter() - started + float((ev.get("provenance") or {}).get("resumed_seconds") or 0.0)


def evaluated_record(base: dict, ev: dict, started: float, provenance: dict, **fields) -> dict:
    """The store row of a finished evaluation, the one builder every kind of job uses: ``base`` (``record_base``)
    and ``fields``, with ``evaluate``'s result ``ev`` (its metrics, the weights and resize mode it used) and the
    seconds since ``started`` (``time.perf_counter()``, plus what a stopped evaluation it resumed had spent:
    ``eval_seconds``); ``provenance`` gets ``ev``'s own and the metrics it could not compute."""
    prov = ev.get("provenance", {})
    return {**base, **fields, "status": "ok", "metrics": {k: float(v) for k, v in ev["metrics"].items()},
            "eval_time_s": eval_seconds(ev, started), "weights_sha256": prov.get("weights_sha256"),
            "resize_mode": prov.get("resize_mode", base["resize_mode"]),
            "provenance": {**provenance, "evaluation": prov, "unavailable": ev.get("unavailable", {})}}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", name)


def job_dir(run_dir: str | Path, spec: ModelSpec, seed: int, dataset: str, budget: Budget) -> str:
    """Where a job trains: one folder per training (spec, dataset, view, length, seed), so a folder is never
    resumed by a run of another length, view or dataset. Named for people, hashed for uniqueness.

    Versions before 0.1.0's views named the folder without the view; such a folder is resumed under a
    non-default view only when its status.json shows it trained on that view (so an upgrade mid-run resumes)."""
    base = Path(run_dir) / "jobs" / f"{_safe(spec.name)}-{spec.hash()[:8]}"
    legacy = base / f"{_safe(dataset)}-{budget.kimg:g}kimg-seed{seed}"
    if budget.view == "pad32":
        return str(legacy)
    named = base / f"{_safe(dataset)}-{budget.view}-{budget.kimg:g}kimg-seed{seed}"
    if not named.exists() and _trained_on_view(legacy, budget.view):
        return str(legacy)
    return str(named)


def _trained_on_view(folder: Path, view: str) -> bool:
    """Whether an older, view-less job folder trained on ``view``, as its status.json records it."""
    try:
        prov = json.loads((folder / "status.json").read_text())["provenance"]
        seen, stored = prov["training_view"]["transform"], prov["dataset"]["transform"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return view == "native" and seen == stored


def plan(specs: list[tuple[ModelSpec, dict]], seeds: tuple[int, ...], dataset: str, budget: Budget,
         protocol: EvalProtocol, run_dir: str | Path, device: str | None = None,
         data_root: str | None = None, data: ImageSet | None = None) -> list[Job]:
    """Models x seeds -> jobs, in the order they will run (all models of seed 0 first). ``data``: the training
    set, from which each spec's view is decided here (``zoo.view.view_for``), once for all its jobs."""
    names = [s.name for s, _ in specs]
    if len(names) * len(seeds) > MAX_JOBS:
        raise BadInput(f"{len(names)} model(s) x {len(seeds)} seed(s) = {len(names) * len(seeds):,} jobs; at most "
                       f"{MAX_JOBS:,} per command: split the sweep into several commands (they share one store)")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise BadInput(f"model name(s) given twice: {', '.join(dup)}")
    first: dict[str, str] = {}
    for spec, _ in specs:  # a job is keyed by what it trains: two names for one config would be one job, counted twice
        other = first.setdefault(spec.hash(), spec.name)
        if other != spec.name:
            raise BadInput(f"{other} and {spec.name} train the same model (spec hash {spec.hash()}): they would be one "
                           "job, its seeds counted twice; drop one, or change a training field of one")
    views = {spec.name: view_for(spec, data, budget.view) if data is not None else None for spec, _ in specs}
    for spec, _ in specs:  # nets too large to allocate fail here, before run.json or any folder is written
        v = views[spec.name]
        if v is not None:
            check_buildable(spec.arch, (data.channels, v.resolution, v.resolution))
    return [Job(spec, dataset, seed, budget, protocol, job_dir(run_dir, spec, seed, dataset, budget), run=str(run_dir),
                groups=dict(groups), device=device, data_root=data_root, view=views[spec.name])
            for seed in seeds for spec, groups in specs]
