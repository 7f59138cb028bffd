"""``search()``: a budgeted hyperparameter search as a study, the way Lucic et al. 2018 compare losses.

For each model: K trials drawn from a search space by seeded samplers (trial 0 is the model's own setting, as
compare_gan always includes its defaults), run as ordinary jobs with early stopping by Optuna's successive
halving pruner (ASHA), scored on a validation split held out of the training images; then the best trial's
setting is re-run with new seeds under the study's own budget and evaluated on the test split. Everything lands
in the results store (trials and re-runs are rows with full provenance) and in the search's tables and plots.

Why Optuna (and not Ray Tune): its pruners decide from a shared storage and nothing else, so a trial stays an
ordinary ganbench job that any executor runs (local processes, Ray) with the store's claims, retries and resume;
its journal storage lets several processes and machines share one study through a file. Ray Tune would own the
trial processes itself. See ARCHITECTURE.md.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ...config import MAX_JOBS, DEFAULT_DATASET, DEFAULT_RUNS_DIR, DEFAULT_STORE, Budget, ModelSpec, get_budget
from ...studies import SELECT_ON, SearchProtocol, get_study
from ...errors import BadInput
from ...io import cache_dir, check_writable, clean_orphans
from ...metrics import registry
from ...zoo.view import view_for
from ..backend import Backend, log as _log
from ..executors import ExecOptions, get_executor
from ..executors.base import check_options
from ..jobs import Job, check_seeds, plan, protocol_for
from ..runner import (RunOptions, adopt_floor, execute_job, execute_jobs, execute_real_data, real_data_job,
                      resolve_models)
from ..store import Store
from .manifest import JOURNAL, MANIFEST, SearchResult, read_manifest, trial_dir, write_manifest
from .left import fresh_job_hours
from .report import chosen_trial, what_is_left, write_search_report
from .space import SearchSpace, load_space
from .trial import OptunaRef, execute_trial, step_of


@dataclass(frozen=True)
class SearchOptions(RunOptions):
    """Where and how a search runs (not what it searches): a run's options (folder, store, executor, workers,
    device) and whether only to rewrite the report."""

    report_only: bool = False  # write the tables and plots of what the store holds; train nothing
    #: also run each model's own setting at seed 0 under the study's budget (a study's default-setting rows, the
    #: jobs of ``ganbench run --protocol ... --seeds 0``), queued behind the trials so that a worker with no trial
    #: or re-run to start takes one; skipped for a model whose search had chosen its own setting when the queue
    #: was made (its re-runs are that row)
    with_defaults: bool = False


# ------------------------------------------------------------------------------------------ setup
def check_search(p: SearchProtocol) -> SearchProtocol:
    """Every number of a search protocol checked, before any work."""
    if isinstance(p.trials, int) and p.trials > MAX_JOBS:
        raise BadInput(f"search trials must be at most {MAX_JOBS:,} per model, got {p.trials:,}")
    ints = {"trials": (p.trials, 1), "reduction": (p.reduction, 2), "rung_samples": (p.rung_samples, 2),
            "validation": (p.validation, 2), "seed": (p.seed, 0), "trial_seed": (p.trial_seed, 0)}
    for name, (v, low) in ints.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise BadInput(f"search {name} must be an integer >= {low}, got {v!r}")
    for name in ("min_kimg", "max_kimg"):
        v = getattr(p, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0):
            raise BadInput(f"search {name} must be a number of kimg > 0, got {v!r}")
    if p.select_on not in SELECT_ON:
        raise BadInput(f"--select-on must be one of {', '.join(SELECT_ON)}, got {p.select_on!r}")
    registry.parse([p.rung_metric], ())
    check_seeds(p.rerun_seeds)
    return p


def trial_budget(final: Budget, p: SearchProtocol, train_size: int) -> Budget:
    """The budget of a trial: the study's length (or ``max_kimg``) on the training split less the validation
    split, scored at ``rung_samples`` against the validation split; ``select_on: test`` trains on the whole
    training split and scores against the study's test split (the paper's choice)."""
    kimg = p.max_kimg or final.kimg
    if p.select_on == "validation":
        if p.validation >= train_size:
            raise BadInput(f"--validation {p.validation} leaves no training images (the split has {train_size})")
        fit = train_size - p.validation
        train_split, ref_split, ref_n = f"train[:{fit}]", f"train[{fit}:]", p.validation
    else:
        train_split, ref_split, ref_n = final.train_split, final.ref_split, final.ref_samples
    return dataclasses.replace(final, name=f"{final.name}-trial", kimg=kimg, num_samples=p.rung_samples,
                               ref_samples=ref_n, ref_split=ref_split, train_split=train_split, eval_every_kimg=None,
                               real_row=False, description=f"search trials of {final.name}: up to {kimg:g} kimg, "
                               f"scored on {ref_split}")


@dataclass(frozen=True)
class TrialSetup:
    """What a search's trials are built from: the study's training set, the trial budget, its rungs and protocol,
    the trials' training split, and the Optuna journal beside the run."""
    train_set: Any
    budget: Budget
    rungs: tuple[float, ...]
    protocol: Any  # EvalProtocol: the rung metric at the trial budget's sample counts
    data: Any
    ref: OptunaRef


def trial_setup(b: Backend, protocol: SearchProtocol, final: Budget, dataset: str, run_dir: Path,
                data_root: str | None = None) -> TrialSetup:
    """The trials' setting of a search of ``protocol`` under ``final`` in ``run_dir`` (``search`` and
    ``restore`` build the same jobs from it)."""
    train_set = b.get_dataset(dataset, final.train_split, root=data_root, download=True)
    tb = trial_budget(final, protocol, len(train_set))
    rungs = tuple(protocol.rungs(tb.kimg))
    return TrialSetup(train_set, tb, rungs, protocol_for(tb, (protocol.rung_metric,)),
                      b.get_dataset(dataset, tb.train_split, root=data_root),
                      OptunaRef(str(run_dir / JOURNAL), step_of(rungs[0]), protocol.reduction))


def sampler_seed(seed: int, model: str, k: int) -> int:
    """Trial ``k``'s own sampler seed: the same draws whatever ran before it (a resumed search asks the rest)."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{model}/{k}".encode()).digest()[:4], "big")


@contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` (two drivers must not ask a study's trials at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ask_trials(ref: OptunaRef, space: SearchSpace, spec: ModelSpec, p: SearchProtocol) -> list[dict[str, Any]]:
    """The first ``p.trials`` trials of ``spec``'s study, asked now where missing: trial 0 is the spec's own
    setting, every other one a draw of the space by a sampler seeded (seed, model, k). Returns their values."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with _locked(Path(ref.journal + ".ask.lock")):  # not ".lock": Optuna's journal lock is named so
        study = optuna.create_study(study_name=spec.name, storage=ref.storage(), direction="minimize",
                                    pruner=ref.pruner(), load_if_exists=True)
        dists = space.distributions(spec.name)
        for k in range(len(study.trials), p.trials):
            study.sampler = optuna.samplers.RandomSampler(seed=sampler_seed(p.seed, spec.name, k))
            if k == 0:  # the model's own setting, which a narrow range may not contain: no distribution to draw
                trial = study.ask()
                trial.set_user_attr("params", space.defaults(spec))
            else:
                trial = study.ask(dists)
                trial.set_user_attr("params", dict(trial.params))
        return [t.user_attrs["params"] for t in study.trials[:p.trials]]


# ------------------------------------------------------------------------------------------ search
def search(models: Sequence[str | ModelSpec] = (), study: str | None = None, protocol: SearchProtocol | None = None,
           budget: str | Budget | None = None, dataset: str | None = None,
           options: SearchOptions = SearchOptions(), backend: Backend | None = None) -> SearchResult:
    """Search ``models`` (or a study's) under ``protocol``: K trials each with early stopping, the best re-run with
    new seeds under ``budget``; writes the store, the search's tables and plots. Re-running the same call resumes
    it (finished trials and re-runs are reused); ``options.report_only`` only rewrites the tables."""
    b = (backend or Backend()).resolve()
    models, protocol, budget, dataset = _study_defaults(study, models, protocol, budget, dataset)
    protocol = check_search(protocol)
    dataset = dataset or DEFAULT_DATASET
    final = get_budget(budget or "quick") if not isinstance(budget, Budget) else budget
    space = load_space(protocol.space)
    specs = resolve_models(models, b)
    run_dir = Path(options.out) if options.out else DEFAULT_RUNS_DIR / f"{dataset}-{final.name}-search"
    if options.report_only:
        if options.with_defaults:
            raise BadInput("--with-defaults queues default-setting rows to train; --report-only trains nothing: "
                           "leave out one of them")
        _check_report_inputs(run_dir, Path(options.store or DEFAULT_STORE))
    check_writable(run_dir, "--out", folder=True)
    store_path = check_writable(options.store or DEFAULT_STORE, "--store")
    exec_options = ExecOptions(workers=options.jobs, retries=options.retries, address=options.address,
                               progress=options.progress)
    get_executor(options.executor)
    check_options(exec_options)
    t = trial_setup(b, protocol, final, dataset, run_dir, options.data_root)
    train_set, tb, rungs, tp, trial_data, ref = t.train_set, t.budget, t.rungs, t.protocol, t.data, t.ref
    for spec in specs:
        space.apply(spec, space.defaults(spec), spec.name)  # every searched field exists in this model's spec
    store = Store(store_path)
    clean_orphans(run_dir)
    clean_orphans(cache_dir("reference"))

    trial_jobs = {spec.name: _trial_jobs(ref, space, spec, protocol, dataset, tb, tp, run_dir, options, trial_data)
                  for spec in specs}
    _reconcile(ref, trial_jobs, store)
    if not options.report_only:
        # the re-runs of models whose trials have all ended go first, then the trials, model by model in the
        # order given, and a model's re-runs as soon as its trials have ended (newly_ready): one process searches
        # several models back to back, each model's rows land as early as they can, and no core waits for a phase
        chosen_now = _choices(trial_jobs, store)
        ready = _rerun_jobs(specs, chosen_now, trial_jobs, protocol, dataset, final, run_dir, options, train_set)
        early = [j for jobs in ready.values() for j in jobs if not store.done(j.key)]
        trials = [j for m in trial_jobs for j in trial_jobs[m] if not store.done(j.key)]
        defaults = [j for j in _default_jobs(specs, chosen_now, dataset, final, run_dir, options, train_set)
                    if not store.done(j.key)] if options.with_defaults else []
        # the folder names this search's models from the start: its report (and --report-only) shows them all
        write_manifest(run_dir, store, trial_jobs, ready, _floor(final, ready), protocol, space, final, tb, rungs,
                       dataset, study)
        _log(f"search: {sum(map(len, trial_jobs.values()))} trials of {len(specs)} model(s) on {space.name}, rungs at "
             f"{', '.join(f'{r:g}' for r in rungs)} kimg; {len(trials)} to run"
             + (f", after {len(early)} re-run(s) of the chosen settings of {', '.join(ready)}" if early else "")
             + _left_text(run_dir, store, options.jobs)
             + (_defaults_text(defaults, store.rows(j.key for jobs in ready.values() for j in jobs), final)
                if defaults else ""), options.progress)
        planned = dict(ready)  # the models whose re-runs are queued

        def newly_ready() -> list[Job]:
            """The re-runs of models whose K trials have ended since the queue was made: they go next, ahead of
            the other models' trials, and the manifest names them at once (the report shows them under way)."""
            waiting = {m: jobs for m, jobs in trial_jobs.items() if m not in planned}
            chosen = {m: k for m, k in _choices(waiting, store).items() if k is not None}
            if not chosen:
                return []
            new = _rerun_jobs([s for s in specs if s.name in chosen], chosen, trial_jobs, protocol, dataset, final,
                              run_dir, options, train_set)
            planned.update(new)
            write_manifest(run_dir, store, trial_jobs, planned, _floor(final, planned), protocol, space, final, tb,
                           rungs, dataset, study)
            _log(f"search: all trials of {', '.join(new)} have ended; their chosen settings are re-run next",
                 options.progress)
            return [j for jobs in new.values() for j in jobs if not store.done(j.key)]

        # any re-run's reference (the study's evaluation, whichever trial is chosen), for the workers
        any_rerun = _rerun_jobs(specs[:1], {specs[0].name: 0}, trial_jobs, protocol, dataset, final, run_dir, options,
                                train_set)
        execute_jobs(functools.partial(search_job, ref=ref, rungs=rungs), early + trials + defaults, store,
                     options.executor, exec_options, b, options.lease_s, options.progress, announce=True,
                     on_record=lambda job, record: _tell(ref, job, record) if _is_trial(job) else None,
                     describe=lambda job: None if not _is_trial(job) else (
                         f"up to {job.budget.kimg:g} kimg, scored on {job.protocol.num_samples} samples at each rung "
                         f"({', '.join(f'{r:g}' for r in rungs)} kimg) until pruned"),
                     more=newly_ready, prepare=[j for jobs in any_rerun.values() for j in jobs][:1])

    chosen = _choices(trial_jobs, store)
    rerun_jobs = _rerun_jobs(specs, chosen, trial_jobs, protocol, dataset, final, run_dir, options, train_set)
    all_reruns = [j for jobs in rerun_jobs.values() for j in jobs]
    floor = _floor(final, rerun_jobs)
    if not options.report_only:
        todo = [j for j in all_reruns if not store.done(j.key)]
        if todo:
            _log(f"search: re-running the chosen settings, {len(todo)} job(s)", options.progress)
        execute_jobs(execute_job, todo, store, options.executor, exec_options, b, options.lease_s, options.progress)
        if floor is not None and not adopt_floor(store, floor):
            execute_jobs(execute_real_data, [floor], store, "local", ExecOptions(progress=options.progress), b,
                         options.lease_s, options.progress, announce=False)
    write_manifest(run_dir, store, trial_jobs, rerun_jobs, floor, protocol, space, final, tb, rungs, dataset, study)
    return write_search_report(run_dir, store)


def _floor(final: Budget, rerun_jobs: dict[str, list[Job]]) -> Job | None:
    """The real-data row beside the re-runs, where the budget asks for one and a re-run is planned."""
    first = next((j for jobs in rerun_jobs.values() for j in jobs), None)
    return real_data_job(first) if final.real_row and first is not None else None


def _left_text(run_dir: Path, store: Store, jobs: int) -> str:
    """"; about H job-hours left (...)": what the search still has to run, by its own timed rows (``left.py``);
    nothing while no timed row gives a rate."""
    if not (run_dir / MANIFEST).is_file():
        return ""
    left = what_is_left(run_dir, store)
    hours = [x.hours for x in left.values()]
    if not left or any(h is None for h in hours):
        return ""
    trials, reruns = sum(x.trials for x in left.values()), sum(x.reruns for x in left.values())
    return (f"; by its own rows about {sum(hours):.1f} job-hours left ({trials} trial(s), {reruns} re-run(s))"
            + (f", {sum(hours) / jobs:.1f} h at {jobs} jobs at a time" if jobs > 1 else ""))


def _defaults_text(defaults: Sequence[Job], reruns: Sequence[dict], final: Budget) -> str:
    """"; then N default-setting row(s) (about H job-hours at the re-runs' rate) as workers free up: names"."""
    each = fresh_job_hours(reruns, final.kimg)
    cost = f" (about {len(defaults) * each:.1f} job-hours at the re-runs' rate)" if each is not None else ""
    return (f"; then {len(defaults)} default-setting row(s){cost} as workers free up: "
            f"{', '.join(j.spec.name for j in defaults)}")


def _check_report_inputs(run_dir: Path, store: Path) -> None:
    """A report reads a search folder and the store its search wrote. A folder with no search would get every
    trial drawn into a new journal (and the folder and store created); a missing store, or another one than the
    folder's manifest names, would rewrite the folder's tables (and its manifest) as if nothing had run."""
    if not any((run_dir / f).is_file() for f in (MANIFEST, JOURNAL)):
        raise BadInput(f"--report-only: {run_dir} holds no search (no {MANIFEST} or {JOURNAL}); give the --out of a "
                       "search, or leave out --report-only to start one")
    if not store.is_file():
        raise BadInput(f"--report-only: the store {store} does not exist; pass the --store the search wrote to")
    if not (run_dir / MANIFEST).is_file():
        return  # a search under way has no manifest yet; its journal is enough
    named = read_manifest(run_dir).get("store")
    if named and Path(named).resolve() != store.resolve():
        raise BadInput(f"--report-only: {run_dir}'s search wrote to {named}, not {store}; pass --store {named}")


def _study_defaults(study: str | None, models, protocol: SearchProtocol | None, budget, dataset):
    """``(models, protocol, budget, dataset)``: a study (``--protocol``) fixes the budget and its search protocol
    and, unless given, the models and dataset."""
    st = get_study(study) if study else None
    if st is not None:
        if st.search is None:
            raise BadInput(f"--protocol {study} has no search; see `ganbench search --help`")
        if budget not in (None, st.budget):
            raise BadInput(f"--protocol {study} fixes the budget ({st.budget}); leave out --budget {budget}")
        budget, models, dataset = st.budget, list(models) or list(st.models), dataset or st.datasets[0]
        protocol = protocol or st.search
    if protocol is None:
        raise BadInput("give --protocol lucic2018, or a search space (--space FILE.yaml) for your own models")
    return models, protocol, budget, dataset


def _trial_jobs(ref: OptunaRef, space, spec: ModelSpec, protocol: SearchProtocol, dataset: str, tb: Budget, tp,
                run_dir: Path, options: SearchOptions, trial_data) -> list[Job]:
    """The K trials of ``spec``: each a job of the trial budget with the values Optuna's seeded sampler drew."""
    jobs = []
    for k, params in enumerate(ask_trials(ref, space, spec, protocol)):
        tspec = space.apply(spec, params, f"{spec.name}.t{k:02d}")
        jobs.append(Job(tspec, dataset, protocol.trial_seed, tb, tp,
                        str(trial_dir(run_dir, spec.name, k)), run=str(run_dir),
                        groups={"search": spec.name, "trial": k, "params": params}, device=options.device,
                        data_root=options.data_root, view=view_for(tspec, trial_data, tb.view)))
    return jobs


def _rerun_jobs(specs, chosen: dict, trial_jobs: dict[str, list[Job]], protocol: SearchProtocol, dataset: str,
                final: Budget, run_dir: Path, options: SearchOptions, train_set) -> dict[str, list[Job]]:
    """Each model's chosen trial re-run with the protocol's new seeds under the study's own budget (none for a
    model without a chosen trial yet)."""
    fp = protocol_for(final)
    rerun_jobs: dict[str, list[Job]] = {}
    for spec in specs:
        k = chosen[spec.name]
        if k is None:
            continue
        trial = trial_jobs[spec.name][k].spec
        best = dataclasses.replace(trial, name=f"{spec.name}-searched",
                                   description=f"the setting its search chose (trial {k}): {trial.description}")
        rerun_jobs[spec.name] = plan([(best, {"search": spec.name, "trial": k, "rerun": True})],
                                     tuple(protocol.rerun_seeds), dataset, final, fp, run_dir, device=options.device,
                                     data_root=options.data_root, data=train_set)
    return rerun_jobs


def _default_jobs(specs, chosen: dict, dataset: str, final: Budget, run_dir: Path, options: SearchOptions,
                  train_set) -> list[Job]:
    """Each model's own setting at seed 0 under the study's budget: the same jobs (and keys) as ``ganbench run
    --protocol ... --seeds 0``. None for a model whose search chose trial 0, its own setting: its re-runs are
    that row."""
    own = [(spec, {"search": spec.name, "default": True}) for spec in specs if chosen.get(spec.name) != 0]
    return plan(own, (0,), dataset, final, protocol_for(final), run_dir, device=options.device,
                data_root=options.data_root, data=train_set) if own else []


def _is_trial(job: Job) -> bool:
    """A trial of the search, not a re-run of a chosen setting or a default-setting row (ordinary jobs)."""
    return not (job.groups.get("rerun") or job.groups.get("default"))


def search_job(job: Job, ref: OptunaRef, rungs: tuple[float, ...], backend: Backend | None = None,
               progress: bool = True) -> dict:
    """One job of a search, its record: a trial (rung by rung, judged by the pruner), or an ordinary job of the
    study's budget: a re-run of a chosen setting or a default-setting row."""
    if not _is_trial(job):
        return execute_job(job, backend=backend, progress=progress)
    return execute_trial(job, ref=ref, rungs=rungs, backend=backend, progress=progress)


def _choices(trial_jobs: dict[str, list[Job]], store: Store) -> dict[str, int | None]:
    """Each model's chosen trial once all its K trials have ended (reached the end, pruned or diverged); None
    before that, since a choice among the trials so far is not the best of K (a failed trial is tried again)."""
    return {m: chosen_trial(store.rows(j.key for j in jobs)) if all(store.done(j.key) for j in jobs) else None
            for m, jobs in trial_jobs.items()}


def _tell(ref: OptunaRef, job: Job, record: dict) -> None:
    """The trial's end, told to its Optuna study: its value when it reached the end, else pruned (or failed)."""
    import optuna

    if record["status"] == "failed":
        return  # left running: the next run of the search tries it again
    study = ref.study(job.groups["search"])
    number = int(job.groups["trial"])
    metric = job.protocol.metrics[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if record["status"] == "ok" and record.get("metrics", {}).get(metric) is not None:
            study.tell(number, values=record["metrics"][metric], skip_if_finished=True)
        else:
            study.tell(number, state=optuna.trial.TrialState.PRUNED, skip_if_finished=True)


def _replay_rungs(ref: OptunaRef, model: str, number: int, rungs: list[dict], reported: dict[int, float]) -> None:
    """Tell trial ``number``'s journal what it did at each rung: the score it reported, and, where the pruner
    judged it (promoted or pruned; not the last rung), the mark the ``SuccessiveHalvingPruner`` leaves on a judged
    trial (system attribute ``completed_rung_<i>`` = its score), against which the pruner judges later trials.
    Replayed as recorded, not re-judged: the decisions are the row's."""
    trial = ref.trial(model, number)
    storage = ref.storage()
    for i, r in enumerate(rungs):  # a trial's rungs run from the first: its i-th is the pruner's rung i
        if step_of(r["kimg"]) not in reported:  # a driver killed after reporting: those are in the journal
            trial.report(r["score"], step_of(r["kimg"]))
        if r["decision"] in ("promoted", "pruned"):
            storage.set_trial_system_attr(trial._trial_id, f"completed_rung_{i}", r["score"])


def _reconcile(ref: OptunaRef, trial_jobs: dict[str, list[Job]], store: Store) -> None:
    """Trials whose row is stored but whose Optuna trial is still running (a driver killed between the two
    writes, or rows another run made, or a journal started afresh from imported rows) are told now: first the
    score of every rung the trial decided, as it reported them (the pruner judges later trials against these), then
    its end."""
    import optuna

    for model, jobs in trial_jobs.items():
        study = ref.study(model)
        states = {t.number: t.state for t in study.trials}
        reported = {t.number: t.intermediate_values for t in study.trials}
        for job in jobs:
            number = int(job.groups["trial"])
            if states.get(number) == optuna.trial.TrialState.RUNNING and store.done(job.key):
                row = store.get(job.key)
                rungs = [r for r in ((row.get("provenance") or {}).get("trial") or {}).get("rungs", [])
                         if r.get("decision") != "pending"]
                if rungs:
                    _replay_rungs(ref, model, number, rungs, reported.get(number, {}))
                _tell(ref, job, {**row, "metrics": {m: row[m] for m in job.protocol.metrics if row.get(m) is not None}})
