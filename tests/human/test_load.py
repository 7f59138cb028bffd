"""20 evaluators answering at once over HTTP, each answer sent twice at the same moment: nothing lost, nothing twice."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

from .conftest import SMALL_TOTAL, table_counts, truth_of

EVALUATORS = 20


def test_twenty_concurrent_evaluators_lose_and_duplicate_nothing(server, study):
    _, client = server
    sent: dict[str, list[tuple[str, str]]] = {}
    statuses: list[tuple[int, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(EVALUATORS)

    def evaluator(k: int) -> None:
        rng = random.Random(k)
        status, state = client.json("POST", "/api/session", {})
        assert status == 201
        ev, mine = state["evaluator"], []
        start.wait()
        with ThreadPoolExecutor(2) as pair:
            while state["next"]:
                image = state["next"]["id"]
                value = truth_of(study, image) if state["phase"] != "study" else rng.choice(["real", "fake"])
                twins = [pair.submit(client.answer, ev, image, value, rng.uniform(50, 2000)) for _ in range(2)]
                results = [t.result() for t in twins]
                codes = sorted(code for code, _ in results)
                with lock:
                    statuses.append(tuple(codes))
                state = next(out for code, out in results if code == 200)
                mine.append((image, value))
        assert state["phase"] == "done"
        with lock:
            sent[ev] = mine

    with ThreadPoolExecutor(EVALUATORS) as pool:
        for f in [pool.submit(evaluator, k) for k in range(EVALUATORS)]:
            f.result()
    assert len(sent) == EVALUATORS
    assert set(statuses) == {(200, 409)}  # of every pair of twins, one stored and one refused
    with study.ref.store.read() as con:
        stored = [tuple(r) for r in con.execute("SELECT evaluator, image_id, answer FROM human_answers")]
        states = [r[0] for r in con.execute("SELECT state FROM human_sessions")]
    expected = {(ev, image, value) for ev, answers in sent.items() for image, value in answers}
    assert len(stored) == len(set(stored)) == SMALL_TOTAL * EVALUATORS  # none twice
    assert set(stored) == expected  # none lost, none changed
    assert states == ["done"] * EVALUATORS
    assert table_counts(study.ref.store.path)["human_sessions"] == EVALUATORS
    with study.ref.store.read() as con:  # models were shared out evenly
        per_model = [r[0] for r in con.execute("SELECT count(*) FROM human_sessions GROUP BY model")]
    assert sorted(per_model) == [EVALUATORS // 2, EVALUATORS // 2]
