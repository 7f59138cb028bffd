"""HYPE∞ per model from a study's answers, written beside FID in the store; the raw answers and per-image rates
as CSV.

Only evaluators who finished the study count: each of them judged as many reals as fakes, as HYPE∞
prescribes (a session left half way, or one that failed the qualification or the tutorial, is reported and
left out). Qualification and tutorial answers never count. The score is one value per model; it is written on
each of the model's ok job rows of the run (``metric_values``, the long form every metric uses), so the
comparative tables, ``ganbench report`` and ``ganbench results`` show it as a column, with its bootstrap
interval and evaluator count; which bootstrap made the interval, with what settings, goes into
``human_scores`` in the same transaction, and the tables and the report name it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import time
from typing import Any

from ..bench import human_store
from ..bench.human_records import finished_answers as _finished, image_table
from ..bench.report import make_report
from ..bench.store import Store
from ..metrics.hype import SCORES, answer_table, bootstrap_ci, hype_scores
from ..metrics.hype_time import hype_time, thresholds
from .pool import StudyRef, ok_rows
from .protocol import DEFAULT_HUMAN, HumanProtocol

EXPORT_COLUMNS = ("study", "evaluator", "session_state", "variant", "model", "position", "role", "image_id", "truth",
                  "answer", "correct", "time_ms", "answered_at", "image_source", "target_ms", "exposure_ms", "frame_ms",
                  "valid")
#: ``human export --per-image``: one line per model (whose evaluators judged) and study image.
IMAGE_COLUMNS = ("study", "model", "image_id", "truth", "image_model", "image_source", "answers", "wrong",
                 "judged_real", "judged_fake", "wrong_rate")


def finished_answers(ref: StudyRef, model: str) -> list[tuple[str, str, str, str]]:
    """``(evaluator, image, truth, answer)`` of the study images judged by ``model``'s finished evaluators."""
    return _finished(ref.store, ref.key, model)


def session_counts(ref: StudyRef, variant: str = "infinity") -> dict[str, dict[str, int]]:
    """Sessions of one HYPE variant per model and state (``tutorial``, ``qualification``, ``study``: unfinished;
    ``failed``; ``done``)."""
    with ref.store.read() as con:
        return human_store.session_states(con, ref.key, variant)


def score_time(ref: StudyRef, protocol: HumanProtocol = DEFAULT_HUMAN) -> tuple[list[dict[str, Any]], dict]:
    """HYPE_time per model that has HYPE_time sessions (``metrics.hype_time``: each finished evaluator's modal
    exposure, their mean, a bootstrap over evaluators): the results, and the values to store by job key."""
    counts = session_counts(ref, "time")
    results, values = [], {}
    for model in ref.models:
        if model not in counts:
            continue
        with ref.store.read() as con:
            trials = human_store.finished_timed_answers(con, ref.key, model)
        by_evaluator = thresholds(trials)
        dropped = sum(not valid for _, _, valid in trials)
        res: dict[str, Any] = {"model": model, "variant": "time", "evaluators": len(by_evaluator),
                               "answers": len(trials), "dropped": dropped, "sessions": counts[model],
                               "thresholds_ms": list(by_evaluator.values())}
        if by_evaluator:
            stored = hype_time(by_evaluator, dropped, protocol.replicates, protocol.seed, protocol.confidence)
            res.update(stored)
            for row in ok_rows(ref, model):
                values[row["job_key"]] = stored
        results.append(res)
    return results, values


def score(ref: StudyRef, protocol: HumanProtocol = DEFAULT_HUMAN, write: bool = True) -> list[dict[str, Any]]:
    """HYPE∞, its parts and their bootstrap intervals (``protocol.bootstrap``) per model, then HYPE_time per model
    with HYPE_time sessions (``score_time``; each result names its ``variant``); with ``write``, stored on the
    model's ok rows with a record of how HYPE∞ was made (``human_scores``), and the run's tables and report
    rewritten. A model without a finished evaluator gets no value."""
    counts = session_counts(ref)
    results, values, records = [], {}, []
    timed, timed_values = score_time(ref, protocol)
    for model in ref.models:
        table = answer_table(finished_answers(ref, model))
        res: dict[str, Any] = {"model": model, "evaluators": table.num_evaluators, "answers": int(table.wrong.size),
                               "images": table.num_images, "sessions": counts.get(model, {}),
                               "bootstrap": protocol.bootstrap, "variant": "infinity"}
        if table.num_evaluators:
            points = hype_scores(table)
            ci = bootstrap_ci(table, protocol.replicates, protocol.seed, protocol.confidence, protocol.bootstrap)
            res.update({k: points[k] for k in SCORES})
            res.update({f"{k}_ci": list(ci[k]) for k in SCORES})
            stored = {**points, "hype_inf_lo": ci["hype_inf"][0], "hype_inf_hi": ci["hype_inf"][1],
                      "hype_evaluators": float(table.num_evaluators)}
            stored = {k: v for k, v in stored.items() if v == v}  # a part with no answer (NaN) is not stored
            for row in ok_rows(ref, model):
                values[row["job_key"]] = stored
            records.append({"study": ref.key, "model": model, "bootstrap": protocol.bootstrap,
                            "replicates": protocol.replicates, "seed": protocol.seed,
                            "confidence": protocol.confidence, "evaluators": table.num_evaluators,
                            "answers": int(table.wrong.size),
                            "settings": json.dumps(_finite({**{k: res[k] for k in SCORES},
                                                            **{f"{k}_ci": res[f"{k}_ci"] for k in SCORES},
                                                            "protocol": dataclasses.asdict(protocol)})),
                            "scored_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        results.append(res)
    for job_key, v in timed_values.items():
        values.setdefault(job_key, {}).update(v)
    results += timed
    if write and values:
        ref.store.put_values(values, also=lambda con: human_store.put_scores(con, records))
        make_report(ref.run_dir, store=ref.store.path)
    return results


def _finite(obj: Any) -> Any:
    """``obj`` with NaN (a part without answers) as None, so its JSON is standard."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return None if isinstance(obj, float) and obj != obj else obj


def export_csv(store: Store, study: str | None = None) -> str:
    """Every answer (tutorial ones too, marked by ``role``) of one study, or of all, as CSV text."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(EXPORT_COLUMNS)
    with store.read() as con:
        for r in human_store.answers_export(con, study):
            d = dict(r)
            d["correct"] = int(d["truth"] == d["answer"])
            w.writerow([d[c] for c in EXPORT_COLUMNS])
    return buf.getvalue()


def export_images_csv(ref: StudyRef) -> str:
    """Per model and study image, over the model's finished evaluators: answers, wrong ones, judged real, judged
    fake and the rate of wrong answers (a fake's judged-real rate, a real's judged-fake rate); most fooling first."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(IMAGE_COLUMNS)
    for r in image_table(ref.store, ref.key, ref.models):
        fake = r["truth"] == "fake"
        w.writerow([ref.key, r["model"], r["image_id"], r["truth"], r["image_model"] or "", r["source"], r["answers"],
                    r["wrong"], r["wrong"] if fake else r["answers"] - r["wrong"],
                    r["answers"] - r["wrong"] if fake else r["wrong"], f"{r['rate']:.6g}"])
    return buf.getvalue()
