"""The qualification as the paper runs it: its pass mark on reals and on fakes, its fakes from every model, and a
random guesser's chance through the study's own gate."""

import dataclasses

from ganbench.human.study import _passed
from ganbench.metrics.hype import guesser_pass_probability

from .conftest import SMALL, make_study, take

#: A qualification of 20 (10 reals, 10 fakes: 5 of each model), no tutorial: 65% of 10 is 7 right of each.
QUAL20 = dataclasses.replace(SMALL, qualification=20, qualification_pool=10, tutorial=0, tutorial_pool=0)


def _answering(wrong_reals: int, wrong_fakes: int):
    """Answers that get the first ``wrong_reals`` qualification reals and ``wrong_fakes`` fakes wrong, the rest right."""
    seen = {"real": 0, "fake": 0}

    def answer(phase, truth):
        if phase != "qualification":
            return truth
        seen[truth] += 1
        limit = wrong_reals if truth == "real" else wrong_fakes
        return ("fake" if truth == "real" else "real") if seen[truth] <= limit else truth
    return answer


def test_pass_mark_on_reals_and_on_fakes(tiny_run):
    study = make_study(tiny_run[0], QUAL20)
    for wrong_reals, wrong_fakes, passes in ((3, 3, True), (4, 0, False), (0, 4, False), (0, 0, True)):
        state = take(study, _answering(wrong_reals, wrong_fakes))
        assert (state["phase"] == "done") == passes, (wrong_reals, wrong_fakes, state["phase"])
        if not passes:  # thanked at the end of the qualification, with its own counts
            r = state["qualification_result"]
            assert state["position"] == 20 and (r["reals_judged_fake"], r["fakes_judged_real"]) == (wrong_reals,
                                                                                                  wrong_fakes)
    with study.ref.store.read() as con:
        states = [r[0] for r in con.execute("SELECT state FROM human_sessions ORDER BY ordinal")]
        fakes = [study.images[r[0]].model for r in con.execute(
            "SELECT image_id FROM human_answers WHERE role = 'qualification' AND truth = 'fake'")]
    assert states == ["done", "failed", "failed", "done"]
    assert sorted(fakes) == ["dcgan"] * 20 + ["wgan"] * 20  # 5 of each model per evaluator, 4 evaluators


def test_one_model_gives_every_qualification_fake(tiny_run):
    study = make_study(tiny_run[0], QUAL20, models=["wgan"])
    take(study)
    with study.ref.store.read() as con:
        fakes = {study.images[r[0]].model for r in con.execute(
            "SELECT image_id FROM human_answers WHERE role = 'qualification' AND truth = 'fake'")}
    assert fakes == {"wgan"}


def test_a_coin_passes_the_gate_as_the_binomial_tail_says():
    """Every way a coin can answer a 10-image gate (5 reals, 5 fakes), through the study's own pass check: 9/256
    pass, the binomial tail of ``hype.guesser_pass_probability`` (4 of 5 of each: (6/32)^2)."""
    truths = ["real"] * 5 + ["fake"] * 5
    passed = sum(_passed([{"role": "qualification", "truth": t, "answer": "real" if bit >> k & 1 else "fake"}
                          for k, t in enumerate(truths)], "qualification", 0.65) for bit in range(2 ** 10))
    assert passed / 2 ** 10 == guesser_pass_probability(10, 0.65) == 9 / 256
