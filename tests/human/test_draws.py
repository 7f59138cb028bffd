"""Seeded draws: each session's model and images come from the study's seed and its ordinal, stored with it, so the
study can be replayed from the store."""

import dataclasses
import json

import numpy as np

from ganbench.human.draws import draw_session, qualification_shares, replay
from ganbench.human.study import Study

from .conftest import SMALL, take


def _sessions(study):
    with study.ref.store.read() as con:
        return [dict(r) for r in con.execute("SELECT * FROM human_sessions ORDER BY ordinal")]


def test_every_session_replays_from_the_store(study):
    for k in range(5):
        take(study, stop_after=3 if k == 2 else None)  # finished or not, a session replays
    sessions = _sessions(study)
    assert [s["ordinal"] for s in sessions] == [0, 1, 2, 3, 4] and {s["seed"] for s in sessions} == {SMALL.seed}
    with study.ref.store.read() as con:
        for s in sessions:
            assert replay(con, s["evaluator"]) == (s["model"], json.loads(s["sequence"]))
            draw = json.loads(s["draw"])
            assert draw["rng"] == "numpy.random.default_rng([seed, ordinal])" and draw["models"] == ["dcgan", "wgan"]
    # the tie-break: the first session had both models to choose from, the second only the other one
    assert json.loads(sessions[0]["draw"])["candidates"] == ["dcgan", "wgan"]
    assert json.loads(sessions[1]["draw"])["candidates"] == [m for m in ("dcgan", "wgan") if m != sessions[0]["model"]]


def test_the_draw_is_the_seeded_stream_by_hand(study):
    """Session 0's sequence from numpy.random.default_rng([seed, 0]) step by step, as draws.py documents it."""
    take(study)
    s = _sessions(study)[0]
    pools = study.pools
    rng = np.random.default_rng([SMALL.seed, 0])
    model = ["dcgan", "wgan"][int(rng.integers(2))]

    def part(picks):
        out = [i for pool, k in picks for i in [pool[int(j)] for j in rng.choice(len(pool), k, replace=False)]]
        return [out[int(j)] for j in rng.permutation(len(out))]

    seq = part([(pools[(None, "tutorial")], 1), (pools[(model, "tutorial")], 1)])
    # 2 qualification fakes over 2 models: one each, so no model is drawn for an extra one
    seq += part([(pools[(None, "qualification")], 2), (pools[("dcgan", "qualification")], 1),
                 (pools[("wgan", "qualification")], 1)])
    seq += part([(pools[(None, "study")], 5), (pools[(model, "study")], 5)])
    assert (s["model"], json.loads(s["sequence"])) == (model, seq)


def test_a_new_server_goes_on_with_the_next_ordinal_and_another_seed_draws_otherwise(study):
    take(study)
    again = Study(study.ref, SMALL)  # a restarted server on the same store
    take(again)
    other = Study(study.ref, dataclasses.replace(SMALL, seed=1))
    take(other)
    again.close()
    other.close()
    sessions = _sessions(study)
    assert [s["ordinal"] for s in sessions] == [0, 1, 2] and [s["seed"] for s in sessions] == [0, 0, 1]
    with study.ref.store.read() as con:
        assert all(replay(con, s["evaluator"])[1] == json.loads(s["sequence"]) for s in sessions)
    # the same inputs give the same draw; another seed or ordinal another one
    pools = study.pools
    args = (["dcgan", "wgan"], ["dcgan", "wgan"], pools, 2, 4, 10)
    assert draw_session(0, 7, *args) == draw_session(0, 7, *args)
    assert draw_session(0, 7, *args)[1] != draw_session(1, 7, *args)[1] != draw_session(0, 8, *args)[1]


def test_qualification_fakes_are_shared_evenly():
    rng = np.random.default_rng(3)
    for fakes, models in ((50, ["a", "b", "c"]), (50, ["a"]), (1, ["a", "b"]), (7, ["a", "b", "c", "d"])):
        shares = qualification_shares(rng, fakes, models)
        assert sum(shares.values()) == fakes and max(shares.values()) - min(shares.values()) <= 1
