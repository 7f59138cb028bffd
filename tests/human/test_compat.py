"""A study stored by ganbench before issue 21 (no qualification, reals from the reference split, sessions without a
seed) in a store of that schema: it opens (columns added, nothing lost), scores, and says how it was made."""

import dataclasses
import json
import sqlite3

import pytest

from ganbench.bench.human_records import finished_answers, human_notes
from ganbench.bench.store import Store
from ganbench.errors import BadInput
from ganbench.human.draws import replay
from ganbench.human.pool import open_study, prepare
from ganbench.human.score import score
from ganbench.human.study import Study
from ganbench.metrics.hype import answer_table, hype_scores
from tests.fakes import Calls, fake_backend

from .conftest import SMALL

#: The human tables as ganbench created them before issue 21 (bench/store.py at that time).
OLD_TABLES = (
    "CREATE TABLE human_studies (study TEXT PRIMARY KEY, run_dir TEXT, dataset TEXT, protocol TEXT, created_at TEXT)",
    "CREATE TABLE human_images (image_id TEXT PRIMARY KEY, study TEXT NOT NULL, model TEXT, truth TEXT NOT NULL, "
    "role TEXT NOT NULL, source TEXT, png BLOB NOT NULL, created_at TEXT)",
    "CREATE TABLE human_sessions (evaluator TEXT PRIMARY KEY, study TEXT NOT NULL, model TEXT NOT NULL, "
    "sequence TEXT NOT NULL, tutorial INTEGER NOT NULL, state TEXT NOT NULL, created_at TEXT, finished_at TEXT)",
    "CREATE TABLE human_answers (evaluator TEXT NOT NULL, position INTEGER NOT NULL, image_id TEXT NOT NULL, "
    "study TEXT NOT NULL, model TEXT NOT NULL, role TEXT NOT NULL, truth TEXT NOT NULL, answer TEXT NOT NULL, "
    "time_ms REAL, answered_at TEXT, PRIMARY KEY (evaluator, position), UNIQUE (evaluator, image_id))",
)
#: The protocol an old study recorded (HumanProtocol's fields then).
OLD_PROTOCOL = {"images": 10, "tutorial": 4, "pass_rate": 0.65, "pool": 12, "tutorial_pool": 4, "replicates": 200,
                "confidence": 0.95, "seed": 0, "evaluators": 30}
OLD = dataclasses.replace(SMALL, qualification=0, qualification_pool=0, tutorial=4, reals="reference")


@pytest.fixture
def old_study(tiny_run):
    """The tiny run's store with old human tables holding a study of 4 sessions: 3 done, 1 failed its tutorial."""
    run_dir, store_path = tiny_run
    ref = open_study(run_dir)
    prepare(ref, OLD, backend=fake_backend(Calls()), progress=False)  # pools as the old code cut them
    con = sqlite3.connect(store_path)
    images = con.execute("SELECT * FROM human_images").fetchall()
    for t in ("human_scores", "human_answers", "human_sessions", "human_images", "human_studies"):
        con.execute(f"DROP TABLE {t}")
    for ddl in OLD_TABLES:
        con.execute(ddl)
    con.executemany("INSERT INTO human_images VALUES (?, ?, ?, ?, ?, ?, ?, ?)", images)
    con.execute("INSERT INTO human_studies VALUES (?, ?, ?, ?, ?)", (ref.key, str(run_dir), "fashion-mnist",
                                                                       json.dumps(OLD_PROTOCOL), "then"))
    pool = lambda model, role: sorted(i[0] for i in images if i[2] == model and i[4] == role)  # noqa: E731
    truth = {i[0]: i[3] for i in images}
    for k, (model, wrong, state) in enumerate((("dcgan", 1, "done"), ("wgan", 2, "done"), ("dcgan", 3, "done"),
                                               ("wgan", 0, "failed"))):
        ev = f"old-evaluator-{k:010d}xx"
        seq = pool(None, "tutorial")[:2] + pool(model, "tutorial")[:2]
        seq += (pool(None, "study")[k:k + 5] + pool(model, "study")[k:k + 5]) if state == "done" else []
        con.execute("INSERT INTO human_sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (ev, ref.key, model, json.dumps(seq), 4, state, f"t{k}", f"t{k}"))
        for pos, image in enumerate(seq):
            role = "tutorial" if pos < 4 else "study"
            right = truth[image] if state == "done" else "real"
            answer = ("fake" if right == "real" else "real") if role == "study" and pos - 4 < wrong else right
            con.execute("INSERT INTO human_answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (ev, pos, image, ref.key, model, role, truth[image], answer, 500.0, "then"))
    con.commit()
    con.close()
    return run_dir, store_path


def test_an_old_study_opens_scores_and_says_how(old_study):
    run_dir, store_path = old_study
    store = Store(store_path)  # adds the new columns and tables, keeps every row
    with store.read() as con:
        cols = {r[1] for r in con.execute("PRAGMA table_info(human_sessions)")}
        assert {"qualification", "ordinal", "seed", "draw"} <= cols
        assert con.execute("SELECT count(*) FROM human_answers").fetchone()[0] == 3 * 14 + 4
        with pytest.raises(ValueError, match="older ganbench"):
            replay(con, "old-evaluator-0000000000xx")
    ref = open_study(run_dir)
    results = {r["model"]: r for r in score(ref, SMALL)}
    # by hand: dcgan's evaluators got 1 and 3 of their 10 study images wrong, wgan's 2 of 10
    assert results["dcgan"]["hype_inf"] == pytest.approx(4 / 20) and results["dcgan"]["evaluators"] == 2
    assert results["wgan"]["hype_inf"] == pytest.approx(2 / 10) and results["wgan"]["evaluators"] == 1
    assert results["dcgan"]["hype_inf"] == hype_scores(answer_table(
        finished_answers(store, ref.key, "dcgan")))["hype_inf"]
    notes = human_notes(store, ref.key)
    assert "HYPE∞ protocol: 10 images per evaluator, half real; no qualification; a tutorial of 4 images with " \
           "feedback gated at 65% (not the paper's)." in notes
    assert any("the run's reference images (not the paper's" in n for n in notes)
    assert any("percentile bootstrap over evaluators (the paper's)" in n for n in notes)
    assert "no qualification; a tutorial of 4 images" in (run_dir / "table.md").read_text()


def test_an_old_study_serves_as_it_was_and_refuses_the_new_defaults_clearly(old_study):
    run_dir, _ = old_study
    ref = open_study(run_dir)
    with pytest.raises(BadInput, match="prepared without qualification images, by an older ganbench"):
        Study(ref, SMALL)
    study = Study(ref, OLD)
    state = study.new_session()  # a new session of the old protocol: seeded, ordinal after the old ones
    study.close()
    with ref.store.read() as con:
        row = con.execute("SELECT ordinal, qualification FROM human_sessions WHERE evaluator = ?",
                          (state["evaluator"],)).fetchone()
        assert tuple(row) == (4, 0) and replay(con, state["evaluator"])[1][0] == state["next"]["id"]

