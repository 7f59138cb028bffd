"""What a search still has to run, in kimg and job-hours, estimated from its own rows (a long study's report says
how far it is from done, and a user planning one sees what a search of this kind costs on their machine).

- A trial that has not ended (running, failed, or not started) is expected to train as far, on average, as the
  ended trials that got at least as far as it has (its own model's once ``OWN`` have ended, every model's before),
  at their hours per kimg (their rung evaluations included).
- A re-run trains to the full budget, from where it stands, at the finished re-runs' hours per kimg (their
  checkpoint evaluations included: the model's own where it has one, every model's before), then owes its final
  evaluation, at their mean final evaluation's hours (so a re-run trained to the end that has no row yet is not
  counted as done); a model not yet chosen has all of its re-runs to run.
- Rates come from timed rows only: rows restored from a published table, and rows whose evaluations during training
  went untimed, give their kimg but not their hours. Without any timed row of a kind the hours are unknown (None).
Hours are job-hours on the torch threads the rows ran on: jobs run side by side divide the wall time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ...train.log import LOG_NAME as TRAIN_LOG
from ..report import read_csv_columns

#: Ended trials of a model from which its own trials' expectations are taken (before: every model's).
OWN = 4
ENDED = ("ok", "pruned", "diverged")


@dataclass(frozen=True)
class Left:
    """One model's remaining work: trials yet to end and the kimg they are expected to train, re-runs yet to end
    and the kimg they will train, and the job-hours of both (None where no timed row gives a rate)."""
    trials: int
    trial_kimg: float
    reruns: int
    rerun_kimg: float
    hours: float | None


def untimed_evals(row: dict) -> bool:
    """Whether some of the row's evaluations during training went untimed: a re-run's curve points or a trial's
    rungs scored before their seconds were recorded (``eval_s``), in a run stored then or resumed across that."""
    prov = row.get("provenance") or {}
    rungs = (prov.get("trial") or {}).get("rungs")
    if rungs:
        return any("eval_s" not in r for r in rungs)
    curve = prov.get("curve") or {}
    if not curve.get("points"):
        return False
    if "untimed_points" in curve:
        return curve["untimed_points"] > 0
    return len(curve["points"]) > (1 if curve.get("checkpoint_scores") else 0)


def _timed(row: dict) -> bool:
    return ("restored" not in (row.get("provenance") or {}) and row.get("train_time_s") is not None
            and not untimed_evals(row))


def _hours(row: dict) -> float:
    return ((row.get("train_time_s") or 0.0) + (row.get("eval_time_s") or 0.0)) / 3600


def _rate(rows: Sequence[dict]) -> float | None:
    """Hours per kimg over the timed rows among ``rows`` (None without one)."""
    timed = [r for r in rows if _timed(r) and (r.get("kimg") or 0) > 0]
    return sum(map(_hours, timed)) / sum(r["kimg"] for r in timed) if timed else None


def _final_hours(row: dict) -> float:
    """A re-run's final evaluation: its evaluation time less its checkpoint evaluations' (the curve's points)."""
    curve = (row.get("provenance") or {}).get("curve") or {}
    return max((row.get("eval_time_s") or 0.0) - (curve.get("eval_time_s") or 0.0), 0.0) / 3600


def _rerun_rate(rows: Sequence[dict]) -> tuple[float, float] | None:
    """``(hours per kimg of training and checkpoint evaluations, hours of the final evaluation)`` over the timed
    finished re-runs among ``rows`` (None without one). Over re-runs that all trained the full budget, a fresh
    re-run's estimate equals their mean hours."""
    timed = [r for r in rows if _timed(r) and (r.get("kimg") or 0) > 0]
    if not timed:
        return None
    final = [_final_hours(r) for r in timed]
    return (sum(_hours(r) - f for r, f in zip(timed, final)) / sum(r["kimg"] for r in timed),
            sum(final) / len(final))


def fresh_job_hours(rows: Sequence[dict], kimg: float) -> float | None:
    """Job-hours of a fresh job of the study's budget (``kimg`` of training, its checkpoint evaluations and final
    evaluation) at the rates of the timed finished re-runs among ``rows`` (None without one): a default-setting
    row costs what a re-run does."""
    rate = _rerun_rate([r for r in rows if r["status"] in ENDED])
    return None if rate is None else kimg * rate[0] + rate[1]


def _trial_left(at: float, ref: Sequence[dict], cap: float) -> tuple[float, float | None]:
    """``(kimg, hours)`` still to train for a trial standing at ``at`` kimg, from the ended trials ``ref``."""
    went_on = [r for r in ref if (r.get("kimg") or 0) >= at]
    if not went_on:
        return max(cap - at, 0.0), None
    kimg = max(sum(r["kimg"] for r in went_on) / len(went_on) - at, 0.0)
    rate = _rate(went_on)
    if rate is None:
        rate = _rate(ref)
    return kimg, None if rate is None else kimg * rate


def left(m: dict, trials: dict[str, list[dict]], reruns: dict[str, list[dict]],
         running: dict[str, list[dict]] | None = None,
         rerun_at: dict[str, dict[int, float]] | None = None) -> dict[str, Left]:
    """Each model's remaining work (``Left``), from the manifest ``m``, the stored ``trials`` and ``reruns`` rows,
    the ``running`` trials (``report.running_trials``: their ``kimg`` trained so far) and ``rerun_at``: how far each
    re-run under way has trained, by model and seed (``rerun_trained``)."""
    p = m["protocol"]
    cap, full, seeds = m["trial_budget"]["kimg"], m["budget"]["kimg"], list(p["rerun_seeds"])
    ended = {model: [r for r in rows if r["status"] in ENDED] for model, rows in trials.items()}
    pooled = [r for rows in ended.values() for r in rows]
    finished_reruns = {model: [r for r in rows if r["status"] in ENDED] for model, rows in reruns.items()}
    pooled_rate = _rerun_rate([r for rows in finished_reruns.values() for r in rows])
    out = {}
    for model in trials:
        ref = ended[model] if len(ended[model]) >= OWN else pooled
        at = [r.get("kimg") or 0.0 for r in (running or {}).get(model, [])]
        at += [0.0] * max(p["trials"] - len(ended[model]) - len(at), 0)
        per = [_trial_left(k, ref, cap) for k in at]
        done_seeds = {int(r["seed"]) for r in finished_reruns.get(model, [])}
        rerun_kimg = [max(full - (rerun_at or {}).get(model, {}).get(s, 0.0), 0.0) for s in seeds
                      if s not in done_seeds]
        rate = _rerun_rate(finished_reruns.get(model, [])) or pooled_rate
        trial_hours = [h for _, h in per]
        hours = None
        if all(h is not None for h in trial_hours) and (rate is not None or not rerun_kimg):
            hours = sum(trial_hours) + (sum(rerun_kimg) * rate[0] + len(rerun_kimg) * rate[1] if rerun_kimg else 0.0)
        out[model] = Left(len(at), sum(k for k, _ in per), len(rerun_kimg), sum(rerun_kimg), hours)
    return out


def rerun_trained(run_dir: Path, m: dict, reruns: dict[str, list[dict]]) -> dict[str, dict[int, float]]:
    """How far each re-run under way has trained, by model and seed: the last line of its folder's train_log.csv
    (a resume winds it back to its checkpoint), for the re-runs the manifest names and no row has ended."""
    out: dict[str, dict[int, float]] = {}
    for model, where in m.get("rerun_dirs", {}).items():
        ended = {r["job_key"] for r in reruns.get(model, []) if r["status"] in ENDED}
        for key, job in where.items():
            kimg = read_csv_columns(run_dir / job["dir"] / TRAIN_LOG).get("kimg") if key not in ended else None
            if kimg:
                out.setdefault(model, {})[int(job["seed"])] = float(kimg[-1])
    return out


def left_markdown(by_model: dict[str, Left], labels: dict) -> str:
    """The table of what is left, one line per model and a total (nothing when nothing is left)."""
    if not any(x.trials or x.reruns for x in by_model.values()):
        return ""

    def hours(h: float | None) -> str:
        return "?" if h is None else f"{h:.1f}"

    lines = ["**Still to run**, estimated from this search's own rows (a trial yet to end trains, on average, as far "
             "as the ended trials that got as far as it has, at their hours per kimg; a re-run trains to the full "
             "budget at the finished re-runs' hours per kimg, then owes their mean final evaluation; evaluations "
             "included, in job-hours at the threads above; \"?\" where no timed row gives a rate):", "",
             "| model | trials to end | their kimg (expected) | re-runs to end | their kimg | job-hours |",
             "|---|---|---|---|---|---|"]
    for model, x in by_model.items():
        if x.trials or x.reruns:
            lines.append(f"| {labels.get(model, model)} | {x.trials} | {x.trial_kimg:,.0f} | {x.reruns} | "
                         f"{x.rerun_kimg:,.0f} | {hours(x.hours)} |")
    xs = list(by_model.values())
    total = None if any(x.hours is None for x in xs) else sum(x.hours for x in xs)
    lines.append(f"| total | {sum(x.trials for x in xs)} | {sum(x.trial_kimg for x in xs):,.0f} | "
                 f"{sum(x.reruns for x in xs)} | {sum(x.rerun_kimg for x in xs):,.0f} | {hours(total)} |")
    return "\n".join(lines) + "\n"
