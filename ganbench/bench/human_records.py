"""A human study's records read back from the store: answers, score records, per-image results, protocol notes.

The human tables (``store.HUMAN_TABLES``) belong to the store, so this reader sits in the bench layer: the report
and the tables name how a HYPE∞ value was made and show its galleries without importing the human layer (which
writes these tables). A study is keyed by its run's ``run_key``. Each function reads on its own connection; the
queries are ``human_store``'s.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from ..metrics.hype import BOOTSTRAP_LABELS, ImageResult, image_results
from ..metrics.hype_time import HYPE_TIME_RANGE_MS
from . import human_store
from .store import Store


def finished_answers(store: Store, study: str, model: str) -> list[tuple[str, str, str, str]]:
    """``(evaluator, image, truth, answer)`` of the study images judged by ``model``'s finished evaluators."""
    with store.read() as con:
        return human_store.finished_answers(con, study, model)


def has_study(store: Store, study: str) -> bool:
    with store.read() as con:
        return human_store.has_study(con, study)


def study_settings(store: Store, study: str) -> dict[str, Any]:
    """The protocol the study's pools were prepared with (empty when the study is unknown)."""
    with store.read() as con:
        row = human_store.study_row(con, study)
    if row is None:
        return {}
    out = json.loads(row["protocol"] or "{}")
    out.setdefault("reals", "reference")  # studies prepared before issue 21 drew reals from the reference split
    out["dataset"] = row["dataset"]
    return out


def score_records(store: Store, study: str) -> dict[str, dict[str, Any]]:
    """How each model's stored HYPE∞ was computed (``human score``): bootstrap, replicates, seed, confidence."""
    with store.read() as con:
        return human_store.scores(con, study)


def finished_sessions(store: Store, study: str) -> list[dict[str, Any]]:
    """The finished sessions: their model, sizes (qualification, tutorial, study images) and draw settings."""
    with store.read() as con:
        rows = human_store.finished_sessions(con, study)
    for r in rows:
        r["qualification"] = r.get("qualification") or 0
        r["images"] = len(json.loads(r["sequence"])) - r["tutorial"] - r["qualification"]
        r["draw"] = json.loads(r["draw"]) if r.get("draw") else {}
    return rows


def image_table(store: Store, study: str, models: Sequence[str]) -> list[dict[str, Any]]:
    """Per model (of its finished evaluators) and image: the answers, the wrong ones, the rate; most fooling first."""
    out = []
    with store.read() as con:
        for model in models:
            results = image_results(human_store.finished_answers(con, study, model))
            info = human_store.image_sources(con, [r.image for r in results])
            out += [{"model": model, "image_id": r.image, "truth": r.truth, "image_model": info[r.image][0],
                     "source": info[r.image][1], "answers": r.answers, "wrong": r.wrong, "rate": r.rate}
                    for r in results]
    return out


def top_images(store: Store, study: str, model: str, truth: str, k: int) -> list[tuple[ImageResult, bytes]]:
    """The ``k`` images of ``truth`` most often judged wrongly by ``model``'s finished evaluators, with their PNG."""
    with store.read() as con:
        results = [r for r in image_results(human_store.finished_answers(con, study, model)) if r.truth == truth][:k]
        png = human_store.image_pngs(con, [r.image for r in results])
    return [(r, png[r.image]) for r in results if r.image in png]


def human_notes(store: Store, study: str) -> list[str]:
    """Lines for a table's or report's header: how the study's HYPE∞ and HYPE_time values were made (empty without
    scores)."""
    sessions = finished_sessions(store, study)
    return _infinity_notes(store, study, [s for s in sessions if s.get("variant") != "time"]) + _time_notes(
        [s for s in sessions if s.get("variant") == "time"])


def _time_notes(sessions: list[dict[str, Any]]) -> list[str]:
    """How HYPE_time was measured: each distinct staircase and timing its finished sessions used."""
    timings = sorted({tuple(sorted(s["draw"].get("timing", {}).items())) for s in sessions})
    lo, hi = HYPE_TIME_RANGE_MS
    lines = []
    for timing in timings:
        t = dict(timing)
        lines.append(f"HYPE_time protocol: each study image after a {t.get('fixation_ms', 0):g} ms fixation cross, "
                     f"shown for an exposure on a 3-up/1-down staircase from {t.get('start_ms', 0):g} ms in steps of "
                     f"{t.get('step_ms', 0):g} ms within [{lo:g}, {hi:g}] ms, then a {t.get('mask_ms', 0):g} ms noise "
                     "mask; an evaluator's threshold is their modal exposure, the value the mean over evaluators "
                     "with a 95% percentile bootstrap over evaluators; answers shown more than one frame off target "
                     "are dropped and counted.")
    return lines


def _infinity_notes(store: Store, study: str, sessions: list[dict[str, Any]]) -> list[str]:
    records = score_records(store, study)
    if not records:
        return []
    by_kind: dict[tuple, list[str]] = {}
    for model, r in records.items():
        by_kind.setdefault((r["bootstrap"], r["replicates"], r["seed"], r["confidence"]), []).append(model)
    lines = []
    for (kind, replicates, seed, confidence), models in by_kind.items():
        lines.append(f"HYPE∞ interval ({', '.join(models)}): {confidence:.0%} {BOOTSTRAP_LABELS.get(kind, kind)}, "
                     f"{replicates:,} replicates, seed {seed}.")
    settings = study_settings(store, study)
    sizes = sorted({(s["images"], s["qualification"], s["tutorial"], s["draw"].get("pass_rate",
                                                                                   settings.get("pass_rate", 0.65)))
                    for s in sessions})
    for images, qualification, tutorial, pass_rate in sizes:
        gate = (f"a qualification of {qualification} images without feedback (the paper's), passed with "
                f"{pass_rate:.0%} of its reals and of its fakes right" if qualification else
                (f"no qualification; a tutorial of {tutorial} images with feedback gated at {pass_rate:.0%} "
                 "(not the paper's)" if tutorial else "no qualification (not the paper's)"))
        tut = f"; a tutorial of {tutorial} images with feedback first (not in the paper)" if tutorial and \
            qualification else ""
        lines.append(f"HYPE∞ protocol: {images} images per evaluator, half real; {gate}{tut}.")
    reals = settings.get("reals")
    if reals:
        where = ("the training split (the paper's)" if reals == "train"
                 else "the run's reference images (not the paper's: it draws reals from the training set)")
        lines.append(f"HYPE∞ real images from {where}; study pools of {settings.get('pool', '?')} images per side.")
    return lines
