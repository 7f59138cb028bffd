"""The benchmark: plan (models x seeds) -> jobs -> executor -> store -> comparative tables.

``run()`` is the one place that knows the whole line. Each job trains (resuming from its
last checkpoint), samples, evaluates against the reference split seen the way the nets
see it, and returns one record; the driver writes it to the store in one transaction.
A job whose row exists is skipped, so re-running a finished command takes seconds and
re-running a killed one finishes it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import torch

from ..config import (DEFAULT_BUDGET, DEFAULT_DATASET, DEFAULT_RUNS_DIR, DEFAULT_STORE, Budget, EvalProtocol,
                      ModelSpec, check_protocol, get_budget, spec_to_yaml)
from ..studies import get_study
from ..devices import resolve_device, threads_each
from ..errors import BadInput, Diverged
from ..data import TensorImageSet
from ..images import save_grid, to_uint8
from ..metrics import registry
from ..zoo.conditioning import conditional
from ..zoo.sampler import draw_inputs, value_range_of
from ..zoo.view import View, view_for
from ..io import cache_dir, check_writable, clean_orphans, write_log_csv, write_text_atomic
from ..train.trainer import TrainOptions, steps_for
from . import ablation
from .backend import Backend, log as _log
from .claims import LEASE_S, Leases
from .executors import DEFAULT_RETRIES, ExecOptions, JobFailure, get_executor
from .executors.base import check_options
from .jobs import (Job, check_seeds, digest, eval_seconds, evaluated_record, named_rows, plan, protocol_for,
                   protocol_hash, record_base, started_first)
from .provenance import git_revision, versions
from .human_records import human_notes
from .store import COLUMNS, Store
from .tables import GROUP_AXES, REAL_DATA, published_markdown, write_tables

#: Images in each model's sample grid (samples.png in its job folder).
GRID_IMAGES = 64
#: Samples per class in a conditional model's grid (samples_by_class.png: one row per class).
CLASS_ROW = 10
#: Metrics added to a run's table when it holds a conditional model (unconditional ones get n/a there).
CLASS_METRICS = ("intra_fid", "cas")
MANIFEST = "run.json"
EVAL_LOG = "eval_log.csv"


# ------------------------------------------------------------------------------ one job
def base_record(job: Job) -> dict[str, Any]:
    """The store row fields known before the job runs."""
    return record_base(job.key, job.spec.name, job.spec.hash(), job.seed, job.dataset, job.budget, job.protocol,
                       run=job.run, out_dir=job.out_dir, groups=job.groups)


def provenance_of(job: Job, extra: dict) -> dict[str, Any]:
    return {"versions": versions(), "git_rev": git_revision(), "spec": job.spec.to_dict(),
            "spec_yaml": spec_to_yaml(job.spec), "config_hash": job.spec.hash(),
            "budget": dataclasses.asdict(job.budget), "protocol": dataclasses.asdict(job.protocol), **extra}


def _kimg_schedule(budget: Budget) -> list[float]:
    """Training lengths at which to evaluate: every ``eval_every_kimg``, then the budget's end."""
    every = budget.eval_every_kimg
    if not every or every >= budget.kimg:
        return [budget.kimg]
    points = [round(every * i, 6) for i in range(1, int(math.floor(budget.kimg / every)) + 1)]
    return points if points[-1] >= budget.kimg else [*points, budget.kimg]


def _read_eval_log(path: Path) -> list[dict]:
    """The curve's points; ``eval_s`` (the seconds the point's evaluation took) is absent from a log written
    before it was recorded, and from a full curve's last point, which is the final evaluation."""
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    head = lines[0].split(",")
    return [{k: float(v) for k, v in zip(head, line.split(",")) if v} for line in lines[1:] if line]


def _write_eval_log(path: Path, rows: list[dict]) -> None:
    write_log_csv(path, ["kimg", "steps", "fid", "eval_s"], rows)


def _fields(obj: Any) -> dict[str, Any]:
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else dict(vars(obj))


def train_fields(tr) -> dict[str, Any]:
    """A training result as a row's provenance records it (its own provenance: threads, device, weights hash;
    steps, kimg, wall time), the loss curves left out."""
    return {k: v for k, v in _fields(tr).items() if k != "losses"}


def curve_protocol(job: Job) -> EvalProtocol:
    """The protocol of the FID-vs-kimg curve: ``curve_samples`` generated vs as many reference images (cheaper than
    the final evaluation unless the budget asks for its full size, as lucic2018 does for ``fid_best``)."""
    n = min(job.budget.curve_samples, job.protocol.num_samples)
    return dataclasses.replace(job.protocol, num_samples=n, ref_samples=n,
                               kid_subset_size=min(job.protocol.kid_subset_size, n))


class Curve:
    """A job's FID-vs-kimg curve (``eval_log.csv``): FID at ``curve_samples`` every ``eval_every_kimg`` and at the
    end. When the curve evaluates under the job's own sample counts, its points are the checkpoint scores of
    ``fid_best`` (compare_gan v1 scores every checkpoint; Lucic et al. report the best), and the last point is the
    final evaluation's FID rather than a second pass over the same samples."""

    def __init__(self, job: Job, b: Backend, view: View, reference, progress: bool):
        self.job, self.b, self.view, self.reference, self.progress = job, b, view, reference, progress
        self.path = Path(job.out_dir) / EVAL_LOG
        self.points = _read_eval_log(self.path)
        self.schedule = _kimg_schedule(job.budget)
        self.protocol = curve_protocol(job)
        p = job.protocol
        self.full = (len(self.schedule) > 1 and self.protocol.num_samples == p.num_samples
                     and self.protocol.ref_samples == (p.ref_samples or p.num_samples))

    def _has(self, kimg: float) -> bool:
        return any(abs(r["kimg"] - kimg) < 1e-9 for r in self.points)

    def _add(self, kimg: float, steps: int, fid: float, eval_s: float | None = None) -> None:
        self.points.append({"kimg": kimg, "steps": steps, "fid": fid,
                            **({"eval_s": eval_s} if eval_s is not None else {})})
        _write_eval_log(self.path, self.points)

    def after_training(self, kimg: float, steps: int, checkpoint: str | None) -> None:
        """The curve's point at ``kimg`` (left to the final evaluation at the end of a full curve). None when the
        checkpoint has already trained past ``kimg`` (a point lost before a resume): a later G is not this point."""
        if len(self.schedule) < 2 or self._has(kimg) or (self.full and kimg >= self.schedule[-1]):
            return
        job = self.job
        if steps > steps_for(job.spec, None, kimg):
            _log(f"{job.spec.name}: no curve point at {kimg:g} kimg: the checkpoint is already at step {steps}",
                 self.progress)
            return
        t0 = time.perf_counter()
        G = self.b.load_generator(checkpoint or job.out_dir, device=job.device)
        images = self.view.to_native(self.b.sample(G, self.protocol.num_samples, seed=job.seed,
                                                   device=job.device).images)
        ev = self.b.evaluate(images, self.reference, metrics=("fid",), num_samples=self.protocol.num_samples,
                             device=job.device, protocol=self.protocol, progress=self.progress)
        self._add(kimg, steps, ev["metrics"]["fid"], eval_seconds(ev, t0))

    def eval_time(self) -> tuple[float, int]:
        """The seconds the curve's own evaluations took (a job's compute counts them beside training and the final
        evaluation), and how many of its points do not say (evaluated before the time was recorded)."""
        # a full curve's point at the budget's end is the final evaluation (``finish``), timed as the row's own
        own = [p for p in self.points if not (self.full and abs(p["kimg"] - self.schedule[-1]) < 1e-9)]
        return sum(p.get("eval_s", 0.0) for p in own), sum("eval_s" not in p for p in own)

    def finish(self, steps: int, fid: float | None) -> dict[str, float]:
        """The final evaluation's FID as the last point of a full curve, and ``fid_best`` (with the kimg it was
        reached at) over the curve's points; {} for a cheaper curve, whose points are not the protocol's."""
        if not self.full or fid is None:
            return {}
        if not self._has(self.schedule[-1]):
            self._add(self.schedule[-1], steps, fid)
        best = min(self.points, key=lambda r: r["fid"])
        return {"fid_best": float(best["fid"]), "fid_best_kimg": float(best["kimg"])}

    def provenance(self) -> dict:
        if len(self.schedule) < 2:
            return {}
        eval_s, untimed = self.eval_time()
        return {"curve": {"points": self.points, "num_samples": self.protocol.num_samples,
                          "ref_samples": self.protocol.ref_samples, "checkpoint_scores": self.full,
                          "eval_time_s": eval_s, "untimed_points": untimed}}


def execute_job(job: Job, backend: Backend | None = None, progress: bool = True) -> dict[str, Any]:
    """Train (or resume), sample, evaluate: the job's store record. Diverged runs get no metrics.

    With ``eval_every_kimg`` the run also writes ``eval_log.csv`` (``Curve``): FID at ``curve_samples`` at every
    interval and at the end; at the protocol's own N those are checkpoint scores and the record gets ``fid_best``.
    """
    b = (backend or Backend()).resolve()
    record = base_record(job)
    train_data = b.get_dataset(job.dataset, job.budget.train_split, root=job.data_root)
    reference = b.get_dataset(job.dataset, job.protocol.ref_split, root=job.data_root)
    view = job.view or view_for(job.spec, train_data, job.budget.view)  # a Job made by hand has none
    curve = Curve(job, b, view, reference, progress)
    t0 = time.perf_counter()
    tr = None
    for kimg in curve.schedule:
        try:
            tr = b.train(job.spec, train_data, job.out_dir, kimg=kimg, seed=job.seed, device=job.device,
                         resume=True, progress=progress,
                         options=TrainOptions(view=view, schedule_kimg=job.budget.kimg))
        except Diverged as e:
            return {**record, "status": "diverged", "reason": str(e),
                    "provenance": provenance_of(job, {"dataset": reference.describe()})}
        if tr.status != "ok":
            break
        curve.after_training(kimg, tr.steps, tr.checkpoint)
    ckpt_sha = (getattr(tr, "provenance", None) or {}).get("weights_sha256")
    record.update(steps=tr.steps, kimg=tr.kimg, checkpoint_sha256=ckpt_sha,
                  train_time_s=getattr(tr, "wall_time_s", None) or time.perf_counter() - t0,
                  images_per_s=tr.images_per_s, peak_memory_mb=tr.peak_memory_mb, device=str(tr.device))
    train_info = {"train": train_fields(tr),
                  "dataset": reference.describe(), "train_dataset": train_data.describe(),
                  "train_view": view.apply(reference).transform, "view": view.describe(), **curve.provenance()}
    if tr.status != "ok":
        return {**record, "status": "diverged", "reason": tr.reason or "training diverged",
                "provenance": provenance_of(job, train_info)}
    return evaluate_job(job, b, record, tr, view, reference, curve, train_info, progress)


def evaluate_job(job: Job, b: Backend, record: dict, tr, view: View, reference, curve: Curve, train_info: dict,
                 progress: bool) -> dict[str, Any]:
    """The final evaluation of a trained job: its samples (and grids), every metric of the protocol, ``fid_best``."""
    t1 = time.perf_counter()
    out = Path(job.out_dir)
    G = b.load_generator(tr.checkpoint or job.out_dir, device=job.device)
    # the hash of the file these weights were read from (its checksum verified), not the one training wrote
    record["checkpoint_sha256"] = getattr(G, "checkpoint_sha256", None) or record.get("checkpoint_sha256")
    # Metrics compare at the dataset's native resolution (Lucic et al. 2018: 28x28 Fashion-MNIST), so
    # samples of nets that trained on a padded/resized view are mapped back (crop 32 -> 28).
    drawn = b.sample(G, job.protocol.num_samples, seed=job.seed, device=job.device)
    samples = view.to_native(drawn.images)
    save_grid(samples[:GRID_IMAGES].cpu(), out / "samples.png")
    num_classes = int(getattr(G, "num_classes", 0) or 0)
    if drawn.labels is not None:  # a conditional model: a row of samples per class, and labels for the metrics
        save_grid(class_rows(G, view, num_classes, job.seed), out / "samples_by_class.png", nrow=CLASS_ROW)
        samples = TensorImageSet(samples, f"{job.spec.name} samples", "all", "generated", labels=drawn.labels,
                                 num_classes=num_classes)
    ev = b.evaluate(samples, reference, metrics=job.protocol.metrics, num_samples=job.protocol.num_samples,
                    device=job.device, protocol=job.protocol, progress=progress, **training_images(job, b))
    record = evaluated_record(record, ev, t1, {})
    record["metrics"].update(curve.finish(tr.steps, record["metrics"].get("fid")))
    record["eval_time_s"] += curve.eval_time()[0]  # the checkpoints' evaluations are compute this job spent
    train_info.update(curve.provenance())
    record["provenance"] = provenance_of(job, {**train_info, **record["provenance"], "checkpoint": str(tr.checkpoint),
                                               "sample_seed": job.seed})
    return record


def training_images(job: Job, b: Backend) -> dict:
    """``{"train": the training split}`` when a metric of the job's protocol reads the training images (a
    memorization test), else {}."""
    if not any(registry.METRICS.get(m).needs_train for m in job.protocol.metrics):
        return {}
    return {"train": b.get_dataset(job.dataset, job.budget.train_split, root=job.data_root)}


def real_data_job(job: Job) -> Job:
    """The floor of a table: the training split's first N images in place of a model's samples.

    Its budget has kimg 0 (nothing is trained), which keeps its key apart from every model's and
    the same for every training length."""
    budget = dataclasses.replace(job.budget, kimg=0.0, eval_every_kimg=None)
    return dataclasses.replace(job, spec=ModelSpec(name=REAL_DATA, description="training images vs the reference"),
                               seed=0, budget=budget, groups={"floor": f"train vs {job.protocol.ref_split}"},
                               out_dir=str(Path(job.run) / "jobs" / REAL_DATA))


def adopt_floor(store: Store, floor: Job) -> bool:
    """True when ``floor`` has its row: its own, or a copy of a real-data row stored under another budget with the
    same dataset and evaluation protocol (written under ``floor``'s key, its provenance naming the original).

    The floor scores the training split's first N images as stored, so it does not depend on a budget's name,
    length or view; its job key hashes the whole budget all the same (keys of stored rows stay as they are), and
    without this each budget would score the same images again (10k against 10k: 10 to 20 minutes on a CPU)."""
    if store.done(floor.key):
        return True
    same = store.query(model=REAL_DATA, dataset=floor.dataset, status="ok",
                       protocol_hash=protocol_hash(floor.protocol, floor.dataset))
    if not same:
        return False
    src = same[-1]
    record = {c: src[c] for c in COLUMNS if c in src}
    same_as = {"job_key": src["job_key"], "budget": src["budget"]}
    record.update(job_key=floor.key, run=floor.run, budget=floor.budget.name, out_dir=floor.out_dir,
                  metrics=src["metrics"], groups=floor.groups,
                  provenance={**src["provenance"], "same_floor_as": same_as})
    store.put(record)
    return True


def execute_real_data(job: Job, backend: Backend | None = None, progress: bool = True) -> dict[str, Any]:
    """Evaluate ``num_samples`` training images against the reference, as a model's samples are."""
    b = (backend or Backend()).resolve()
    record = {**base_record(job), "config_hash": "real-data", "steps": 0, "kimg": 0.0}
    t1 = time.perf_counter()
    train = b.get_dataset(job.dataset, "train", root=job.data_root)
    ref = b.get_dataset(job.dataset, job.protocol.ref_split, root=job.data_root)
    n = min(job.protocol.num_samples, len(train))
    images = TensorImageSet(train.uint8(slice(0, n)), train.name, train.split, train.source,
                            labels=train.labels(slice(0, n)), num_classes=train.num_classes or None)
    ev = b.evaluate(images, ref, metrics=job.protocol.metrics, num_samples=n, device=job.device,
                    protocol=job.protocol, progress=progress)
    return evaluated_record(record, ev, t1, provenance_of(job, {"dataset": ref.describe(),
                                                              "train_dataset": train.describe(),
                                                              "samples": f"first {n} images of {job.dataset}/train"}),
                            device=ev.get("provenance", {}).get("device"))


def class_rows(G, view, num_classes: int, seed: int) -> torch.Tensor:
    """``CLASS_ROW`` samples of every class, one row per class: the same latents (seeded ``seed + 4``) in every row."""
    z, _ = draw_inputs(G, CLASS_ROW, seed + 4)
    device = next(G.parameters()).device
    was = G.training
    G.eval()
    try:
        with torch.no_grad():
            rows = [G(z.to(device), torch.full((CLASS_ROW,), k, dtype=torch.long, device=device)).float().cpu()
                    for k in range(num_classes)]
    finally:
        G.train(was)
    return view.to_native(to_uint8(torch.cat(rows), check=False, value_range=value_range_of(G)))


def failed_record(job: Job, failure: JobFailure) -> dict[str, Any]:
    """The store row of a job that failed on every attempt (an exception, or its worker died)."""
    print(f"ganbench: job {job.spec.name} seed {job.seed} failed after {failure.attempts} attempt(s): "
          f"{failure.error}", file=sys.stderr)
    return {**base_record(job), "status": "failed", "reason": failure.error,
            "provenance": {"traceback": failure.traceback, "attempts": failure.attempts, "versions": versions()}}


# ------------------------------------------------------------------------------- a run
@dataclass(frozen=True)
class RunOptions:
    """Where and how a run's jobs run, not what they train: its folder and store, the executor and its workers,
    retries, the device, where datasets live, progress output, and the claims' lease. ``run`` and ``search``
    (``SearchOptions``) take one."""

    out: str | Path | None = None  # the run folder (default runs/DATASET-BUDGET)
    store: str | Path | Store | None = None  # the results database (default runs/results.sqlite)
    executor: str = "local"  # local (this machine) or ray
    jobs: int = 1  # local worker processes (1: one job after the other in this process)
    address: str | None = None  # ray: the cluster to join
    retries: int = DEFAULT_RETRIES  # attempts after the first before a job is recorded failed
    device: str | None = None  # cuda, cuda:1 or cpu (default: cuda when present)
    data_root: str | None = None  # folder holding datasets
    progress: bool = True
    lease_s: float = LEASE_S  # seconds a job's claim lasts without a heartbeat


@dataclass
class RunResult:
    """What ``run()`` did: the run folder, its jobs, their rows, and the table text."""

    run_dir: Path
    jobs: list[Job]
    rows: list[dict]
    skipped: int
    markdown: str
    axes: list[str] = field(default_factory=list)


def resolve_models(models: Sequence[str | ModelSpec], backend: Backend) -> list[ModelSpec]:
    """Baseline names or YAML paths -> specs; an unknown name fails with the list of known ones."""
    specs = []
    for m in models:
        if isinstance(m, ModelSpec):
            specs.append(m)
            continue
        if not m.endswith((".yaml", ".yml")):
            known = list(backend.list_baselines())
            if m not in known:
                raise BadInput(f"unknown model {m!r}; known models: {', '.join(known)} (or a path to a spec .yaml)")
        specs.append(backend.load_baseline(m))
    if not specs:
        raise BadInput("no models to run: pass --models dcgan,wgan or --grid loss=ns,hinge")
    return specs


def default_run_dir(dataset: str, budget: Budget, kind: str = "") -> Path:
    """runs/DATASET-BUDGET, with ``-grid`` or ``-ablation`` for those designs."""
    safe = dataset.replace(":", "_").replace("/", "_")
    return DEFAULT_RUNS_DIR / f"{safe}-{budget.name}{'-' + kind if kind else ''}"


def run(models: Sequence[str | ModelSpec] = (), grid: Sequence[str] | None = None, base: str = "dcgan",
        ablate: Sequence[str] | None = None, dataset: str | None = None, seeds: Sequence[int] = (0,),
        budget: str | Budget | None = None,
        metrics: Sequence[str] | None = None, protocol: EvalProtocol | None = None, study: str | None = None,
        options: RunOptions = RunOptions(), backend: Backend | None = None) -> RunResult:
    """Train and evaluate ``models`` (or the ``grid`` over ``base``) for every seed; write rows and tables.

    ``grid`` items are ``AXIS=V1,V2``; ``ablate`` items are one change each (``ema``: remove the EMA, ``loss=ns``),
    each a row beside ``base``'s (see ganbench.bench.ablation). Returns the rows of this run's jobs
    (reused ones included) and the Markdown table, also written as table.{md,csv,tex,html} in the run folder.
    ``study`` names a protocol of studies.STUDIES (e.g. ``lucic2018``): it fixes the budget (training length,
    data view, evaluation) and, unless ``models`` are given, the models; ``dataset`` None means its first one.
    ``options`` (``RunOptions``) says where the folder and store are and where jobs run (executor, workers,
    retries, device). Several runs may share one store at once: each claims a job before it starts it
    (``bench.claims``, a lease of ``options.lease_s`` seconds renewed by a heartbeat) and waits for the jobs
    another live run holds.
    """
    o = options
    out, store, device, data_root, progress = o.out, o.store, o.device, o.data_root, o.progress
    b = (backend or Backend()).resolve()
    # Every input is checked before anything is written: a bad one leaves no store, run.json or folder.
    st = get_study(study) if study is not None else None
    models, dataset, budget = _study_defaults(st, models, grid or ablate, dataset, budget)
    seeds = check_seeds(seeds)
    if metrics is not None:
        metrics = registry.parse(metrics, ())  # "fid,kid" or ("fid", "kid"); never the letters of "fid"
    get_executor(o.executor)  # an unknown executor is a BadInput here, before any work
    execution = ExecOptions(workers=o.jobs, retries=o.retries, address=o.address, progress=progress)
    check_options(execution)
    if o.executor == "local" and device is not None:
        resolve_device(device)  # a Ray cluster's workers may have the GPU the driver lacks
    specs, axes = _specs(models, grid, ablate, base, b)
    kind = "grid" if grid else "ablation" if ablate else ""
    run_dir = Path(out) if out else default_run_dir(dataset, budget, kind)
    check_writable(run_dir, "--out", folder=True)
    if not isinstance(store, Store):
        store = check_writable(store or DEFAULT_STORE, "--store")
    train_set = b.get_dataset(dataset, "train", root=data_root, download=True)  # fail early on a missing dataset
    metrics = _metrics_for_conditional(specs, train_set, dataset, metrics, protocol)
    proto = check_protocol(protocol_for(budget, tuple(metrics) if metrics else None, base=protocol))
    jobs = plan(specs, tuple(seeds), dataset, budget, proto, run_dir, device=device, data_root=data_root,
                data=train_set)
    store = store if isinstance(store, Store) else Store(store)

    clean_orphans(run_dir)  # what a killed run left half-written: checkpoints', tables' and grids' .tmp files
    clean_orphans(cache_dir("reference"))
    floor = real_data_job(jobs[0]) if budget.real_row and jobs else None
    write_manifest(run_dir, jobs, store, axes, floor)
    todo = [j for j in jobs if not store.done(j.key)]
    skipped = len(jobs) - len(todo)
    if skipped:
        _log(f"{skipped} of {len(jobs)} job(s) already have results in {store.path}; reusing them", progress)
    execute_jobs(execute_job, todo, store, o.executor, execution, b, o.lease_s, progress)
    if floor is not None and not adopt_floor(store, floor):
        _log(f"real-data row: {floor.protocol.num_samples} training images vs the reference", progress)
        execute_jobs(execute_real_data, [floor], store, "local", ExecOptions(progress=progress), b, o.lease_s,
                     progress, announce=False)
    jobs_and_floor = [*jobs, floor] if floor is not None else jobs
    rows = rows_for(jobs_and_floor, store)
    md = write_tables(rows, run_dir, axes=[a for a in axes if a in GROUP_AXES] or axes,
                      extra_md=published_markdown(rows, st, dataset) if study is not None else "",
                      notes=human_notes(store, digest([j.key for j in jobs])))  # a human study of the run
    return RunResult(run_dir, jobs, rows, skipped, md, axes)


def _study_defaults(st, models, grid, dataset, budget) -> tuple[list, str, Budget]:
    """The models, dataset and budget of a run: a study (``--protocol``) fixes the budget and, unless models are
    given, the models; the defaults fill the rest."""
    if st is not None:
        if grid:
            raise BadInput(f"--protocol {st.name} fixes the models; give --models (a subset of its models) or "
                           "--grid / --ablate, not both")
        if budget not in (None, st.budget):
            raise BadInput(f"--protocol {st.name} fixes the budget ({st.budget}); leave out --budget {budget}")
        budget = st.budget
        models = list(models) or list(st.models)
        dataset = dataset or st.datasets[0]
    budget = budget or DEFAULT_BUDGET
    return models, dataset or DEFAULT_DATASET, get_budget(budget) if isinstance(budget, str) else budget


def _metrics_for_conditional(specs, train_set, dataset: str, metrics, protocol: EvalProtocol | None):
    """The run's metrics: class-conditional models need a labelled dataset, and (unless metrics are given) add the
    class-aware metrics to the protocol's."""
    cond = [s.name for s, _ in specs if conditional(s.arch.g_conditioning, s.arch.d_conditioning)]
    if cond and not getattr(train_set, "num_classes", 0):
        raise BadInput(f"{', '.join(cond)} {'is' if len(cond) == 1 else 'are'} class-conditional but {dataset} has no "
                       "labels; use a labelled dataset (fashion-mnist, mnist, cifar10, a folder with one sub-folder per "
                       "class, arrays with labels)")
    if metrics is None and cond:  # conditional models: the class-aware metrics join the table
        return tuple((protocol or EvalProtocol()).metrics) + CLASS_METRICS
    return metrics


def _specs(models, grid, ablate, base: str, b: Backend) -> tuple[list[tuple[ModelSpec, dict]], list[str]]:
    """``[(spec, groups)]`` and the axes the tables group by: the named models, the grid's cells over ``base``, or
    ``base`` and its ablation's variants."""
    if grid and ablate:
        raise BadInput("give either --grid (every combination) or --ablate (one change at a time), not both")
    if not grid and not ablate:
        return [(s, {}) for s in resolve_models(models, b)], []
    if models:
        raise BadInput(f"give either --models or {'--grid' if grid else '--ablate'}, not both "
                       "(--base picks the starting model)")
    base_spec = resolve_models([base], b)[0]
    if ablate:
        return ablation.expand_ablation(base_spec, ablation.parse_ablation(list(ablate))), [ablation.ABLATION_AXIS]
    parsed = ablation.parse_grid(list(grid))
    return ablation.expand_grid(base_spec, parsed), [a for a, _ in parsed]


def execute_jobs(job_fn: Callable[..., dict], todo: Sequence[Job], store: Store, executor: str, options: ExecOptions,
                 b: Backend, lease_s: float = LEASE_S, progress: bool = True,
                 on_record: Callable[[Job, dict], None] | None = None, announce: bool = True,
                 describe: Callable[[Job], str | None] | None = None,
                 more: Callable[[], Sequence[Job]] | None = None, prepare: Sequence[Job] = ()) -> None:
    """Run ``todo`` with ``job_fn(job, backend=, progress=) -> record`` on ``executor``; this driver alone writes
    the store. Each job is claimed in the store before it starts (``bench.claims``: other runs on this store leave
    it alone, and it waits for theirs); a job that fails on every attempt gets a ``failed`` row. ``on_record(job,
    record)`` sees every record once it is stored (the search tells Optuna there). Jobs stopped part-way run first
    (``started_first``). ``describe(job)``: what the start line says the job will do, where it is not an ordinary
    job's "training N kimg, then M samples through Inception" (None: that). ``more()`` is asked before each job
    starts, and once more when ``todo`` runs out, for jobs that the results so far have made ready (a search's
    re-runs of a model whose trials have just ended): they go next. ``prepare``: jobs whose reference features to
    extract for the workers besides ``todo``'s (those ``more`` may bring)."""
    todo = started_first(todo)
    parallel = executor != "local" or options.workers > 1
    # the reference features, extracted once here for every worker, not once per worker; as no local worker runs
    # yet, with the threads they will share (under OMP_NUM_THREADS=1 the other cores sat idle meanwhile)
    shared = None
    if parallel and todo:
        with _torch_threads(options.workers * threads_each(options.workers) if executor == "local" else None):
            shared = b.prepare_reference([*todo, *prepare], b, progress)
    options = dataclasses.replace(options, shared=shared)
    # parallel jobs keep quiet (interleaved bars help nobody); the driver logs each result
    fn = functools.partial(job_fn, backend=b, progress=progress and not parallel)
    leases = Leases(store, lease_s=lease_s)  # other runs on this store leave our jobs alone, and we theirs

    def waiting(job: Job, holder: str) -> None:
        _log(f"{job.spec.name} seed {job.seed}: another ganbench run ({holder}) is on it; waiting for its result",
             progress)

    added: list[Job] = []
    claimed = leases.claimed(_with_more(todo, more, added) if more else todo, on_wait=waiting)
    total = lambda: len(todo) + len(added)  # noqa: E731
    try:
        for i, (job, outcome) in enumerate(get_executor(executor)(
                fn, _announce(claimed, total, progress, describe) if announce else claimed, options), 1):
            record = failed_record(job, outcome) if isinstance(outcome, JobFailure) else outcome
            store.put(record)
            leases.release(job.key)
            if announce:
                fid = (record.get("metrics") or {}).get("fid", record.get("fid"))  # metrics win, as in the store
                # "done": results land in the order jobs end, so their count is not the start line's number
                _log(f"[{i}/{total()} done] {job.spec.name} seed {job.seed}: {record['status']}"
                     + (f", FID {fid:.2f}" if fid is not None else "")
                     + (f" ({record.get('reason')})" if record.get("reason") else ""), progress)
            if on_record is not None:
                on_record(job, record)
    finally:
        leases.close()


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """torch's threads set to ``n`` for the block (None: left as they are), then put back."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _with_more(todo: Sequence[Job], more: Callable[[], Sequence[Job]], added: list[Job]) -> Iterator[Job]:
    """``todo``, with what ``more()`` returns before each of its jobs and once after the last (kept in ``added``)."""
    for job in (*todo, None):
        for extra in more():
            added.append(extra)
            yield extra
        if job is not None:
            yield job


def _announce(jobs: Iterable[Job], total: Callable[[], int], progress: bool,
              describe: Callable[[Job], str | None] | None = None):
    for i, job in enumerate(jobs, 1):
        plan = describe(job) if describe else None
        what = ("resuming from its checkpoint" + (", " if plan else " to ")) if job.started else "training "
        plan = plan or f"{job.budget.kimg:g} kimg, then {job.protocol.num_samples} samples through Inception"
        _log(f"[{i}/{total()}] {job.spec.name} seed {job.seed}: {what}{plan}", progress)
        yield job


def rows_for(jobs: Sequence[Job], store: Store) -> list[dict]:
    """The store rows of these jobs, in job order (missing ones left out), named as this run names them."""
    return named_rows(store.rows(j.key for j in jobs), {j.key: (j.spec.name, j.groups) for j in jobs})


def write_manifest(run_dir: Path, jobs: Sequence[Job], store: Store, axes: Sequence[str],
                   floor: Job | None = None) -> None:
    """run.json: what the run folder holds, so `ganbench report` can rebuild everything from it."""
    first = jobs[0]
    manifest = {
        "store": str(store.path.resolve()), "dataset": first.dataset, "budget": dataclasses.asdict(first.budget),
        "protocol": dataclasses.asdict(first.protocol), "seeds": sorted({j.seed for j in jobs}), "axes": list(axes),
        "jobs": [{"key": j.key, "model": j.spec.name, "seed": j.seed, "out_dir": j.out_dir, "groups": j.groups,
                  "config_hash": j.spec.hash()} for j in jobs],
        "run_key": digest([j.key for j in jobs]),
        "floor": floor.key if floor is not None else None,  # the real-data row's job key
    }
    write_text_atomic(Path(run_dir) / MANIFEST, json.dumps(manifest, indent=2) + "\n")


def read_manifest(run_dir: str | Path) -> dict:
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        raise BadInput(f"{run_dir} is not a ganbench run folder (no {MANIFEST}); "
                       "pass the --out folder of `ganbench run`")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise BadInput(f"{path} is not valid JSON ({e}); re-run `ganbench run` to rewrite it") from None
