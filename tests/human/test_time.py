"""HYPE_time through the Study API: the server's staircase sets each study image's exposure, a timed answer carries
the exposure the browser measured, one more than a frame off target is kept but dropped, and the score is the mean
of the finished evaluators' modal exposures."""

import dataclasses

import pytest

from ganbench.bench import human_store
from ganbench.human.score import score
from ganbench.human.study import Refused
from ganbench.metrics.hype_time import Staircase

from .conftest import SMALL, make_study, take

TIME = dataclasses.replace(SMALL, variant="time", start_ms=300.0, step_ms=50.0, replicates=500)
FRAME = 16.667


@pytest.fixture
def timed(tiny_run):
    study = make_study(tiny_run[0], TIME)
    yield study
    study.close()


def _through_the_gate(study):
    """A new evaluator past the tutorial and the qualification (untimed: no exposure asked, none accepted)."""
    state = study.new_session()
    assert state["variant"] == "time"
    while state["phase"] != "study":
        nxt = state["next"]
        assert "exposure_ms" not in nxt
        with pytest.raises(Refused) as e:
            study.answer(state["evaluator"], nxt["id"], "real", 500.0, (300.0, FRAME))
        assert e.value.status == 400 and "not timed" in str(e.value)
        state = study.answer(state["evaluator"], nxt["id"], study.images[nxt["id"]].truth, 500.0)
    return state


def test_the_staircase_sets_each_exposure_and_a_missed_one_is_dropped(timed, tiny_run):
    state = _through_the_gate(timed)
    who = state["evaluator"]
    # study answers: right x3, wrong, a drop (shown 2 frames long), right x3, wrong, right
    plan = [("right", 0), ("right", 5), ("right", -8), ("wrong", 0), ("right", 2 * FRAME), ("right", 1),
            ("right", 0), ("right", 0), ("wrong", 0), ("right", 0)]
    assert len(plan) == TIME.images
    outcomes = []
    for how, off in plan:
        nxt = state["next"]
        target = Staircase(start_ms=300, step_ms=50).targets(outcomes)[-1]
        assert nxt["exposure_ms"] == target and nxt["fixation_ms"] == TIME.fixation_ms and nxt["mask_ms"] == 120
        with pytest.raises(Refused) as e:  # a timed image needs what the display showed
            timed.answer(who, nxt["id"], "real", 500.0)
        assert e.value.status == 400
        truth = timed.images[nxt["id"]].truth
        answer = truth if how == "right" else ("real" if truth == "fake" else "fake")
        state = timed.answer(who, nxt["id"], answer, 700.0, (target + off, FRAME))
        outcomes.append(None if abs(off) > FRAME else how == "right")
    assert state["phase"] == "done"
    # by hand: 300, 300, 300 -> 250 (3 right); 250 wrong -> 300; dropped at 300; 300, 300, 300 -> 250 (3 right);
    # 250 wrong -> 300; 300
    with timed.ref.store.read() as con:
        rows = [r for r in con.execute("SELECT target_ms, exposure_ms, frame_ms, valid FROM human_answers "
                                       "WHERE evaluator = ? AND role = 'study' ORDER BY position", (who,))]
    assert [r["target_ms"] for r in rows] == [300, 300, 300, 250, 300, 300, 300, 300, 250, 300]
    assert [r["valid"] for r in rows] == [1, 1, 1, 1, 0, 1, 1, 1, 1, 1]
    assert [r["exposure_ms"] - r["target_ms"] for r in rows] == pytest.approx([off for _, off in plan])
    assert all(r["frame_ms"] == FRAME for r in rows)
    # counted exposures: 300 x7, 250 x2 -> the threshold is 300 ms
    results = [r for r in score(timed.ref, TIME, write=False) if r["variant"] == "time"]
    mine = next(r for r in results if r["model"] == state_model(timed, who))
    assert mine["thresholds_ms"] == [300.0] and mine["hype_time"] == 300.0 and mine["dropped"] == 1


def state_model(study, who):
    with study.ref.store.read() as con:
        return human_store.session(con, who)["model"]


def test_score_takes_the_mean_of_modal_exposures_and_keeps_the_variants_apart(timed, tiny_run):
    # two HYPE_time evaluators per model, always right: one move down per 3 right answers, from 300 by 50 over 10
    # images: 300 x3, 250 x3, 200 x3, 150 x1; a tie of 3 goes to the shortest, so each threshold is 200 ms
    for _ in range(4):
        state = _through_the_gate(timed)
        while state["next"]:
            nxt = state["next"]
            state = timed.answer(state["evaluator"], nxt["id"], timed.images[nxt["id"]].truth, 400.0,
                                 (nxt["exposure_ms"], FRAME))
    # one HYPE∞ evaluator on the same study: counted in HYPE∞ only
    infinity = make_study(tiny_run[0], SMALL)
    take(infinity)
    infinity.close()
    results = score(timed.ref, TIME)
    time_rows = {r["model"]: r for r in results if r["variant"] == "time"}
    inf_rows = {r["model"]: r for r in results if r["variant"] == "infinity"}
    assert sorted(time_rows) == ["dcgan", "wgan"]
    for r in time_rows.values():
        assert r["thresholds_ms"] == [200.0, 200.0] and r["hype_time"] == 200.0 and r["dropped"] == 0
        assert r["hype_time_lo"] == r["hype_time_hi"] == 200.0
    assert sum(r["evaluators"] for r in inf_rows.values()) == 1
    # the values reach the run's table beside FID
    table = (tiny_run[0] / "table.md").read_text()
    assert "HYPE_time (ms)" in table
    assert [ln.count("200 [200, 200] (n=2)") for ln in table.splitlines() if ln.startswith(("| dcgan", "| wgan"))] == [1, 1]


@pytest.mark.parametrize("shown, message", [
    ((300.0, 0.0), "frame_ms"), ((300.0, 1e9), "frame_ms"), ((-1.0, FRAME), "exposure_ms"),
    ((float("nan"), FRAME), "exposure_ms"), ((True, FRAME), "exposure_ms"), (("300", FRAME), "exposure_ms")])
def test_bad_timings_are_refused_before_anything_is_written(timed, shown, message):
    state = _through_the_gate(timed)
    with pytest.raises(Refused) as e:
        timed.answer(state["evaluator"], state["next"]["id"], "real", 500.0, shown)
    assert e.value.status == 400 and message in str(e.value)
    assert timed.state(state["evaluator"])["position"] == state["position"]


def test_the_tables_name_how_hype_time_was_measured(timed, tiny_run):
    state = _through_the_gate(timed)
    while state["next"]:
        nxt = state["next"]
        state = timed.answer(state["evaluator"], nxt["id"], "real", 400.0, (nxt["exposure_ms"], FRAME))
    score(timed.ref, TIME)
    table = (tiny_run[0] / "table.md").read_text()
    assert ("HYPE_time protocol: each study image after a 500 ms fixation cross, shown for an exposure on a 3-up/1-down "
            "staircase from 300 ms in steps of 50 ms") in table
    assert "HYPE∞ interval" not in table  # no HYPE∞ score: no HYPE∞ lines


def test_the_export_carries_each_timed_answers_exposure(timed):
    import csv
    import io

    from ganbench.human.score import export_csv
    state = _through_the_gate(timed)
    nxt = state["next"]
    timed.answer(state["evaluator"], nxt["id"], "fake", 900.0, (nxt["exposure_ms"] + 3 * FRAME, FRAME))
    rows = list(csv.DictReader(io.StringIO(export_csv(timed.ref.store, timed.ref.key))))
    assert {r["variant"] for r in rows} == {"time"}
    untimed = [r for r in rows if r["role"] != "study"]
    assert untimed and all(r["target_ms"] == r["exposure_ms"] == r["valid"] == "" for r in untimed)
    (study_row,) = [r for r in rows if r["role"] == "study"]
    assert float(study_row["target_ms"]) == 300.0 and float(study_row["exposure_ms"]) == pytest.approx(300 + 3 * FRAME)
    assert float(study_row["frame_ms"]) == FRAME and study_row["valid"] == "0"
