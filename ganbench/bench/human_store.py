"""The queries of a human study's tables (``store.HUMAN_TABLES``): every SQL string the human study needs, here only.

Each function runs one statement (or one statement per chunk of ids) on the connection it is given, a connection
of ``Store.read()`` or inside ``Store.write()``, so the caller decides what shares a transaction: a session's
checks and its answer's insert run in the study writer's one transaction (``human/study.py``, ``human/writer.py``).
Columns come back as stored: ``sequence`` and ``draw`` of a session and ``protocol`` of a study are JSON text, which
the caller decodes. Tables and columns are the store's (``store.py`` creates them at every open).

Pools (``human/pool.py``), sessions and answers (``human/study.py``), draws replayed (``human/draws.py``), scores and
exports (``human/score.py``) and the bench layer's read-back (``human_records.py``) all go through here.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Iterable, Iterator, Sequence

#: Ids per ``IN (...)`` list (SQLite's default limit of host parameters is 999).
CHUNK = 500


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i:i + CHUNK])


# ----------------------------------------------------------------------------------------------- studies and images
def insert_study(con: sqlite3.Connection, study: str, run_dir: str, dataset: str, protocol: str,
                 created_at: str) -> None:
    """Record a study (``protocol``: JSON of its ``HumanProtocol``); a study already stored is left as it is."""
    con.execute("INSERT OR IGNORE INTO human_studies (study, run_dir, dataset, protocol, created_at) "
                "VALUES (?, ?, ?, ?, ?)", (study, run_dir, dataset, protocol, created_at))


def has_study(con: sqlite3.Connection, study: str) -> bool:
    """Whether the study has a row in ``human_studies`` (its pools were prepared)."""
    return con.execute("SELECT 1 FROM human_studies WHERE study = ?", (study,)).fetchone() is not None


def study_row(con: sqlite3.Connection, study: str) -> dict[str, Any] | None:
    """The study's ``protocol`` (JSON text, or None) and ``dataset``; None when the study is unknown."""
    row = con.execute("SELECT protocol, dataset FROM human_studies WHERE study = ?", (study,)).fetchone()
    return None if row is None else dict(row)


def insert_images(con: sqlite3.Connection, study: str,
                  images: Iterable[tuple[str, str | None, str, str, str, bytes]], created_at: str) -> None:
    """Store images of a study, each ``(image_id, model or None for a real one, truth, role, source, png)``."""
    con.executemany("INSERT INTO human_images (image_id, study, model, truth, role, source, png, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(i, study, model, truth, role, source, png, created_at)
                     for i, model, truth, role, source, png in images])


def image_models(con: sqlite3.Connection, study: str) -> set[str | None]:
    """The models whose images the study holds (None for the real images)."""
    return {r["model"] for r in con.execute("SELECT DISTINCT model FROM human_images WHERE study = ?", (study,))}


def image_counts(con: sqlite3.Connection, study: str) -> dict[tuple[str | None, str, str], int]:
    """Images of the study per ``(model or None for reals, truth, role)``."""
    return {(r["model"], r["truth"], r["role"]): r["n"] for r in con.execute(
        "SELECT model, truth, role, count(*) AS n FROM human_images WHERE study = ? GROUP BY model, truth, role",
        (study,))}


def a_real_png(con: sqlite3.Connection, study: str) -> bytes | None:
    """The PNG bytes of one of the study's real images (any one: they share a shape); None when none is stored."""
    row = con.execute("SELECT png FROM human_images WHERE study = ? AND truth = 'real' LIMIT 1", (study,)).fetchone()
    return None if row is None else bytes(row["png"])


def pool_images(con: sqlite3.Connection, study: str, models: Sequence[str]) -> Iterator[sqlite3.Row]:
    """The study's real images and those of ``models``: rows of ``image_id, model, truth, role, png``."""
    return con.execute(f"SELECT image_id, model, truth, role, png FROM human_images WHERE study = ? "
                       f"AND (model IS NULL OR model IN ({_marks(models)}))", (study, *models))


def pool_ids(con: sqlite3.Connection, study: str, models: Sequence[str]) -> Iterator[sqlite3.Row]:
    """Like ``pool_images`` without the pixels: rows of ``image_id, model, role``, ids sorted."""
    return con.execute(f"SELECT image_id, model, role FROM human_images WHERE study = ? AND (model IS NULL OR "
                       f"model IN ({_marks(models)})) ORDER BY image_id", (study, *models))


def image_sources(con: sqlite3.Connection, ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """``{image_id: (model, source)}`` of these images (unknown ids left out)."""
    out = {}
    for chunk in _chunks(ids):
        out.update({r["image_id"]: (r["model"], r["source"]) for r in con.execute(
            f"SELECT image_id, model, source FROM human_images WHERE image_id IN ({_marks(chunk)})", chunk)})
    return out


def image_pngs(con: sqlite3.Connection, ids: Sequence[str]) -> dict[str, bytes]:
    """``{image_id: png bytes}`` of these images (unknown ids left out)."""
    out = {}
    for chunk in _chunks(ids):
        out.update({r["image_id"]: bytes(r["png"]) for r in con.execute(
            f"SELECT image_id, png FROM human_images WHERE image_id IN ({_marks(chunk)})", chunk)})
    return out


# ------------------------------------------------------------------------------------------------------ sessions
def insert_session(con: sqlite3.Connection, evaluator: str, study: str, model: str, sequence: str, tutorial: int,
                   qualification: int, state: str, created_at: str, ordinal: int, seed: int, draw: str,
                   variant: str = "infinity") -> None:
    """Store a new session (``sequence``: JSON list of image ids; ``draw``: JSON of the draw's other inputs;
    ``variant``: HYPE∞ or HYPE_time, ``human.protocol.HUMAN_VARIANTS``)."""
    con.execute("INSERT INTO human_sessions (evaluator, study, model, sequence, tutorial, qualification, state, "
                "created_at, ordinal, seed, draw, variant) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (evaluator, study, model, sequence, tutorial, qualification, state, created_at, ordinal, seed, draw,
                 variant))


def session(con: sqlite3.Connection, evaluator: str, study: str | None = None) -> dict[str, Any] | None:
    """The session row of ``evaluator`` (of ``study`` when given) as a dict, every column as stored; None if none."""
    if study is None:
        row = con.execute("SELECT * FROM human_sessions WHERE evaluator = ?", (evaluator,)).fetchone()
    else:
        row = con.execute("SELECT * FROM human_sessions WHERE evaluator = ? AND study = ?",
                          (evaluator, study)).fetchone()
    return None if row is None else dict(row)


def set_session_state(con: sqlite3.Connection, evaluator: str, state: str, finished_at: str | None) -> None:
    """Move a session to ``state`` (``finished_at``: when it ended, None while it goes on)."""
    con.execute("UPDATE human_sessions SET state = ?, finished_at = ? WHERE evaluator = ?",
                (state, finished_at, evaluator))


def session_count(con: sqlite3.Connection, study: str) -> int:
    """Sessions of the study so far, in every state (the next session's ordinal)."""
    return con.execute("SELECT count(*) FROM human_sessions WHERE study = ?", (study,)).fetchone()[0]


def sessions_per_model(con: sqlite3.Connection, study: str, variant: str = "infinity") -> dict[str, int]:
    """Sessions of one HYPE variant per model that have not failed (finished or under way); models without one left
    out."""
    return {r["model"]: r["n"] for r in con.execute(
        "SELECT model, count(*) AS n FROM human_sessions WHERE study = ? AND state != 'failed' "
        "AND coalesce(variant, 'infinity') = ? GROUP BY model", (study, variant))}


def session_states(con: sqlite3.Connection, study: str, variant: str = "infinity") -> dict[str, dict[str, int]]:
    """Sessions of one HYPE variant per model and state: ``{model: {state: count}}``."""
    out: dict[str, dict[str, int]] = {}
    for r in con.execute("SELECT model, state, count(*) AS n FROM human_sessions WHERE study = ? "
                         "AND coalesce(variant, 'infinity') = ? GROUP BY model, state", (study, variant)):
        out.setdefault(r["model"], {})[r["state"]] = r["n"]
    return out


def finished_sessions(con: sqlite3.Connection, study: str) -> list[dict[str, Any]]:
    """The study's finished (``done``) session rows as dicts, columns as stored, oldest first."""
    return [dict(r) for r in con.execute("SELECT * FROM human_sessions WHERE study = ? AND state = 'done' "
                                         "ORDER BY created_at, evaluator", (study,))]


# ------------------------------------------------------------------------------------------------------- answers
def insert_answer(con: sqlite3.Connection, evaluator: str, position: int, image_id: str, study: str, model: str,
                  role: str, truth: str, answer: str, time_ms: float, answered_at: str,
                  timing: tuple[float, float, float, bool] | None = None) -> None:
    """Store one answer (``timing``, a HYPE_time answer's ``(target_ms, exposure_ms, frame_ms, valid)``); a second
    answer at the same position or to the same image raises ``IntegrityError``."""
    target, exposure, frame, valid = timing if timing is not None else (None, None, None, None)
    con.execute("INSERT INTO human_answers (evaluator, position, image_id, study, model, role, truth, answer, "
                "time_ms, answered_at, target_ms, exposure_ms, frame_ms, valid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (evaluator, position, image_id, study, model, role, truth, answer, time_ms, answered_at, target,
                 exposure, frame, None if valid is None else int(valid)))


def session_answers(con: sqlite3.Connection, evaluator: str) -> list[dict[str, Any]]:
    """The evaluator's answers so far, by position: dicts of ``position, image_id, truth, answer, role, target_ms,
    valid`` (the last two NULL on untimed answers)."""
    return [dict(r) for r in con.execute("SELECT position, image_id, truth, answer, role, target_ms, valid "
                                         "FROM human_answers WHERE evaluator = ? ORDER BY position", (evaluator,))]


def finished_answers(con: sqlite3.Connection, study: str, model: str) -> list[tuple[str, str, str, str]]:
    """``(evaluator, image_id, truth, answer)`` of the study images judged by ``model``'s finished (``done``)
    evaluators, by session (oldest first) and position: what HYPE∞ is computed from."""
    return [tuple(r) for r in con.execute(
        "SELECT a.evaluator, a.image_id, a.truth, a.answer FROM human_answers a JOIN human_sessions s "
        "ON a.evaluator = s.evaluator WHERE a.study = ? AND a.model = ? AND a.role = 'study' AND s.state = 'done' "
        "AND coalesce(s.variant, 'infinity') = 'infinity' ORDER BY s.created_at, a.evaluator, a.position",
        (study, model))]


def finished_timed_answers(con: sqlite3.Connection, study: str, model: str) -> list[tuple[str, float, bool]]:
    """``(evaluator, target_ms, valid)`` of the study images shown to ``model``'s finished HYPE_time evaluators, by
    session (oldest first) and position: what HYPE_time is computed from."""
    return [(r[0], float(r[1]), bool(r[2])) for r in con.execute(
        "SELECT a.evaluator, a.target_ms, a.valid FROM human_answers a JOIN human_sessions s "
        "ON a.evaluator = s.evaluator WHERE a.study = ? AND a.model = ? AND a.role = 'study' AND s.state = 'done' "
        "AND s.variant = 'time' ORDER BY s.created_at, a.evaluator, a.position", (study, model))]


def answers_export(con: sqlite3.Connection, study: str | None = None) -> Iterator[sqlite3.Row]:
    """Every answer of ``study`` (or of every study), tutorial and qualification ones too, with its session's state
    and its image's source: rows of ``study, evaluator, session_state, variant, model, position, role, image_id,
    truth, answer, time_ms, answered_at, image_source, target_ms, exposure_ms, frame_ms, valid`` (the last four on
    HYPE_time study answers), by study, session (oldest first) and position."""
    return con.execute(
        "SELECT a.study, a.evaluator, s.state AS session_state, coalesce(s.variant, 'infinity') AS variant, a.model, "
        "a.position, a.role, a.image_id, a.truth, a.answer, a.time_ms, a.answered_at, i.source AS image_source, "
        "a.target_ms, a.exposure_ms, a.frame_ms, a.valid FROM human_answers a "
        "JOIN human_sessions s ON a.evaluator = s.evaluator LEFT JOIN human_images i ON a.image_id = i.image_id"
        + (" WHERE a.study = ?" if study else "") + " ORDER BY a.study, s.created_at, a.evaluator, a.position",
        (study,) if study else ())


# -------------------------------------------------------------------------------------------------------- scores
#: Columns of a ``human_scores`` row, the keys ``put_scores`` takes.
SCORE_COLUMNS = ("study", "model", "bootstrap", "replicates", "seed", "confidence", "evaluators", "answers",
                 "settings", "scored_at")


def put_scores(con: sqlite3.Connection, records: Iterable[dict[str, Any]]) -> None:
    """Store (or replace, per study and model) how each model's HYPE∞ was made: dicts keyed by ``SCORE_COLUMNS``
    (``settings``: JSON text of the scores, their intervals and the protocol)."""
    con.executemany(f"INSERT OR REPLACE INTO human_scores ({', '.join(SCORE_COLUMNS)}) "
                    f"VALUES ({_marks(SCORE_COLUMNS)})", [tuple(r[c] for c in SCORE_COLUMNS) for r in records])


def scores(con: sqlite3.Connection, study: str) -> dict[str, dict[str, Any]]:
    """The study's ``human_scores`` rows as ``{model: row dict}``, models sorted."""
    return {r["model"]: dict(r) for r in con.execute("SELECT * FROM human_scores WHERE study = ? ORDER BY model",
                                                     (study,))}
