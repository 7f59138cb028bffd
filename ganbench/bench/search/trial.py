"""One search trial, as a job any executor runs: train rung by rung, score each rung, let Optuna's pruner decide.

A trial is an ordinary ganbench job (a ``Job`` with its spec, seed, budget and protocol, claimed in the store,
its record written by the driver) whose function is ``execute_trial``: it trains to each rung's length (resuming
from its checkpoint), scores the rung, reports the score to the trial's Optuna study and asks the study's
``SuccessiveHalvingPruner`` whether to go on. The decision of each rung is written to the trial's ``rungs.csv``
right away, so a trial resumed after kill -9 neither scores a rung twice nor asks again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import Diverged
from ...io import write_log_csv
from ...zoo.view import view_for
from ...train.trainer import TrainOptions
from ..backend import Backend
from ..jobs import Job, eval_seconds
from ..runner import base_record, provenance_of, train_fields
from .manifest import journal_storage

RUNG_LOG = "rungs.csv"


@dataclass(frozen=True)
class OptunaRef:
    """Where a search's Optuna studies live (a journal file beside the run, shared by every worker) and the pruner
    they use; picklable, so that worker processes and Ray tasks open the same studies."""

    journal: str
    min_resource: int  # images shown to D at the first rung (Optuna counts integer steps)
    reduction: int

    def storage(self):
        return journal_storage(self.journal)

    def pruner(self):
        import optuna

        return optuna.pruners.SuccessiveHalvingPruner(min_resource=self.min_resource, reduction_factor=self.reduction)

    def study(self, model: str):
        import optuna

        return optuna.load_study(study_name=model, storage=self.storage(), pruner=self.pruner())

    def trial(self, model: str, number: int):
        """The live Optuna trial ``number`` of ``model``'s study, to report to and ask (from any process)."""
        import optuna

        study = self.study(model)
        frozen = study.trials[number]
        return optuna.trial.Trial(study, frozen._trial_id)  # ask-and-tell across processes: the trial by its id


def step_of(kimg: float) -> int:
    """Optuna's step for a rung: the number of real images shown to D."""
    return int(round(kimg * 1000))


def _read_rungs(path: Path) -> list[dict]:
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    head = lines[0].split(",")
    rows = [dict(zip(head, line.split(","))) for line in lines[1:] if line]
    return [{"kimg": float(r["kimg"]), "steps": int(r["steps"]), "score": float(r["score"]),
             "decision": r["decision"], **({"eval_s": float(r["eval_s"])} if r.get("eval_s") else {})} for r in rows]


def _write_rungs(path: Path, rows: list[dict]) -> None:
    """The trial's rungs; ``eval_s``, the seconds the rung's scoring took, is blank for a rung scored before it was
    recorded."""
    write_log_csv(path, ["kimg", "steps", "score", "decision", "eval_s"], rows)


def rung_score(job: Job, b: Backend, tr, view, reference, progress: bool) -> tuple[float, float]:
    """The trial's score at a rung: its protocol's metric of ``num_samples`` samples (the job's seed) from the
    checkpoint ``tr`` wrote, mapped back to the native resolution, against the validation reference; and the
    seconds it took (a stopped scoring's included, when this one resumed it)."""
    t0 = time.perf_counter()
    metric = job.protocol.metrics[0]
    G = b.load_generator(tr.checkpoint or job.out_dir, device=job.device)
    images = view.to_native(b.sample(G, job.protocol.num_samples, seed=job.seed, device=job.device).images)
    ev = b.evaluate(images, reference, metrics=(metric,), num_samples=job.protocol.num_samples,
                    device=job.device, protocol=job.protocol, progress=progress)
    return float(ev["metrics"][metric]), eval_seconds(ev, t0)


def _train_to(b: Backend, job: Job, train_data, view, kimg: float, progress: bool):
    """Train the trial on to ``kimg`` (resuming): ``(result, None)``, or ``(result or None, why)`` if it diverged."""
    try:
        tr = b.train(job.spec, train_data, job.out_dir, kimg=kimg, seed=job.seed, device=job.device, resume=True,
                     progress=progress, options=TrainOptions(view=view, schedule_kimg=job.budget.kimg))
    except Diverged as e:
        return None, str(e)
    return tr, (None if tr.status == "ok" else tr.reason or "training diverged")


def execute_trial(job: Job, ref: OptunaRef, rungs: tuple[float, ...], backend: Backend | None = None,
                  progress: bool = True) -> dict[str, Any]:
    """Train ``job`` rung by rung until the pruner stops it or it reaches its length; its store record.

    Status ``ok`` (reached the last rung: its score is the trial's value), ``pruned`` (stopped at a rung) or
    ``diverged``. The record's metric is the score of the last rung it reached; every rung is in its provenance.
    """
    b = (backend or Backend()).resolve()
    record = base_record(job)
    model, number = job.groups["search"], int(job.groups["trial"])
    metric = job.protocol.metrics[0]
    train_data = b.get_dataset(job.dataset, job.budget.train_split, root=job.data_root)
    reference = b.get_dataset(job.dataset, job.protocol.ref_split, root=job.data_root)
    view = job.view or view_for(job.spec, train_data, job.budget.view)
    path = Path(job.out_dir) / RUNG_LOG
    log = _read_rungs(path)
    trial = None
    status, reason, tr, t0 = "ok", "", None, time.perf_counter()
    for i, kimg in enumerate(rungs):
        done = next((r for r in log if abs(r["kimg"] - kimg) < 1e-9), None)
        if done is not None and done["decision"] != "pending":
            if done["decision"] == "pruned":
                status = "pruned"
                break
            continue
        now, diverged = _train_to(b, job, train_data, view, kimg, progress)
        tr = now or tr
        if diverged:
            status, reason = "diverged", diverged
            break
        if done is None:
            score, seconds = rung_score(job, b, tr, view, reference, progress)
            done = {"kimg": kimg, "steps": tr.steps, "score": score, "decision": "pending", "eval_s": seconds}
            log.append(done)
            _write_rungs(path, log)
        trial = trial or ref.trial(model, number)
        trial.report(done["score"], step_of(kimg))
        last = i == len(rungs) - 1
        done["decision"] = "end" if last else ("pruned" if trial.should_prune() else "promoted")
        _write_rungs(path, log)
        if done["decision"] == "pruned":
            status = "pruned"
            break
    kimg_trained = max([r["kimg"] for r in log] + [getattr(tr, "kimg", 0.0) or 0.0])
    record.update(status=status, reason=reason or None, kimg=kimg_trained,
                  steps=getattr(tr, "steps", None) or (log[-1]["steps"] if log else 0),
                  train_time_s=getattr(tr, "wall_time_s", None),
                  eval_time_s=sum(r.get("eval_s", 0.0) for r in log),  # every rung's, a resumed trial's included
                  images_per_s=getattr(tr, "images_per_s", None), device=str(getattr(tr, "device", "") or ""),
                  checkpoint_sha256=((getattr(tr, "provenance", None) or {}).get("weights_sha256")))
    if log and status != "diverged":
        record["metrics"] = {metric: log[-1]["score"]}
    record["provenance"] = provenance_of(job, {
        "trial": {"model": model, "number": number, "params": job.groups.get("params", {}), "rungs": log,
                  "rung_kimg": list(rungs), "metric": metric, "optuna_study": model, "journal": ref.journal,
                  "wall_s": time.perf_counter() - t0},
        "train": train_fields(tr) if tr is not None else {},  # None: every rung was done before a resume
        "dataset": reference.describe(), "train_dataset": train_data.describe(), "view": view.describe()})
    return record
