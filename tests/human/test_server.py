"""The study over HTTP: a whole session, the tutorial, the qualification, resuming, identical image responses, the
disclosure on the page, and bad input."""

import json

import pytest

import dataclasses

from ganbench.human.server import MAX_BODY
from ganbench.human.study import Study

from .conftest import SMALL, SMALL_TOTAL, make_run, make_study, serving, table_counts, take, truth_of

T, Q = SMALL.tutorial, SMALL.qualification


def _finish(study, client, answers=lambda image, truth: truth):
    """Start a session and answer every image with ``answers(image, truth)``; the final state and the answers."""
    status, state = client.json("POST", "/api/session", {})
    assert status == 201 and state["phase"] == "tutorial" and state["total"] == SMALL_TOTAL and state["position"] == 0
    assert (state["tutorial"], state["qualification"], state["images"]) == (T, Q, SMALL.images)
    given = []
    while state["next"]:
        image = state["next"]["id"]
        value = answers(image, truth_of(study, image))
        status, state = client.answer(state["evaluator"], image, value)
        assert status == 200, state
        given.append((image, value))
    return state, given


def test_a_whole_session_is_stored_as_answered(server, study):
    srv, client = server
    state, given = _finish(study, client)
    assert state["phase"] == "done" and state["position"] == SMALL_TOTAL and state["next"] is None
    assert state["result"] == {"answers": 10, "right": 10, "fakes": 5, "fakes_judged_real": 0, "reals": 5,
                               "reals_judged_fake": 0, "error_rate": 0.0}
    with study.ref.store.read() as con:
        rows = [dict(r) for r in con.execute("SELECT * FROM human_answers ORDER BY position")]
        session = dict(con.execute("SELECT * FROM human_sessions").fetchone())
    assert [(r["image_id"], r["answer"]) for r in rows] == given
    assert [r["role"] for r in rows] == ["tutorial"] * T + ["qualification"] * Q + ["study"] * 10
    assert all(r["model"] == session["model"] and r["time_ms"] == 100.0 for r in rows)
    for role, n in (("tutorial", T), ("qualification", Q), ("study", 10)):  # each part half real, half fake
        assert sum(r["truth"] == "fake" for r in rows if r["role"] == role) == n // 2
    assert len({r["image_id"] for r in rows}) == SMALL_TOTAL  # without replacement
    fake_models = lambda role: {study.images[r["image_id"]].model for r in rows  # noqa: E731
                                if r["truth"] == "fake" and r["role"] == role}
    assert fake_models("study") == fake_models("tutorial") == {session["model"]}
    assert fake_models("qualification") == {"dcgan", "wgan"}  # the qualification's fakes: every model's
    assert all(study.images[r["image_id"]].role == r["role"] for r in rows)  # each part from its own pool


def test_tutorial_feedback_then_a_failed_qualification(server, study):
    srv, client = server
    status, state = client.json("POST", "/api/session", {})
    ev = state["evaluator"]
    image = state["next"]["id"]
    wrong = "real" if truth_of(study, image) == "fake" else "fake"
    status, state = client.answer(ev, image, wrong)
    assert status == 200 and state["feedback"] == {"truth": truth_of(study, image), "correct": False}
    while state["phase"] == "tutorial":  # the tutorial does not gate when a qualification follows
        status, state = client.answer(ev, state["next"]["id"], "real")
    assert state["phase"] == "qualification" and state["position"] == T
    while state["phase"] == "qualification":
        image = state["next"]["id"]
        status, state = client.answer(ev, image, "real")  # every fake wrong: fakes 0% < 65%
        assert status == 200 and "feedback" not in state  # the qualification has no feedback
        if state["phase"] == "qualification":
            assert "qualification_result" not in state
    assert state["phase"] == "failed" and state["next"] is None and state["position"] == T + Q
    assert state["qualification_result"]["answers"] == Q and state["qualification_result"]["fakes_judged_real"] == Q // 2
    status, out = client.answer(ev, image, "real")
    assert status == 409
    # a failed evaluator does not count for the model's quota: the next one may get the same model
    with study.ref.store.read() as con:
        assert con.execute("SELECT state FROM human_sessions").fetchone()[0] == "failed"


def test_without_a_qualification_the_tutorial_gates(tiny_run):
    """``qualification=0``: ganbench's earlier gate, the tutorial with feedback at 65% of reals and of fakes."""
    study = make_study(tiny_run[0], dataclasses.replace(SMALL, qualification=0, tutorial=4))
    state = take(study, lambda phase, truth: "real")  # every tutorial fake wrong
    assert state["phase"] == "failed" and state["position"] == 4 and "qualification_result" not in state
    assert state["tutorial_result"]["fakes_judged_real"] == 2
    state = take(study)
    assert state["phase"] == "done" and state["result"]["answers"] == SMALL.images


def test_study_answers_get_no_feedback(server, study):
    srv, client = server
    status, state = client.json("POST", "/api/session", {})
    for _ in range(T + Q):
        status, state = client.answer(state["evaluator"], state["next"]["id"], truth_of(study, state["next"]["id"]))
    assert state["phase"] == "study" and "tutorial_result" in state and "qualification_result" not in state
    status, state = client.answer(state["evaluator"], state["next"]["id"], "fake")
    assert status == 200 and "feedback" not in state and "truth" not in json.dumps(state)


def test_the_page_says_half_the_images_are_real(server):
    """The paper's footnote 2: evaluators are told that half of the images are real."""
    srv, client = server
    status, _, body = client.request("GET", "/")
    assert status == 200 and b"Half of the images are real" in body
    status, info = client.json("GET", "/api/study")
    assert info == {"images": 10, "tutorial": T, "qualification": Q, "pass_rate": 0.65, "variant": "infinity"}


def test_resume_after_the_server_is_stopped(study):
    """A killed server loses nothing answered: a new one on the same store continues where the evaluator was."""
    with serving(study) as (_, client):
        status, state = client.json("POST", "/api/session", {})
        ev = state["evaluator"]
        for _ in range(T + Q + 2):
            status, state = client.answer(ev, state["next"]["id"], truth_of(study, state["next"]["id"]))
        pending = state["next"]["id"]
    with serving(Study(study.ref, SMALL)) as (_, client):  # a new process reads the same store
        status, state = client.json("GET", f"/api/session?evaluator={ev}")
        assert status == 200 and state["position"] == T + Q + 2 and state["next"]["id"] == pending
        assert state["phase"] == "study"
        status, state = client.answer(ev, pending, "real")
        assert status == 200 and state["position"] == T + Q + 3


def test_images_are_served_alike(server, study):
    srv, client = server
    responses = {}
    for image_id, image in study.images.items():
        status, headers, body = client.request("GET", f"/img/{image_id}")
        assert status == 200
        headers.pop("Date")
        responses.setdefault(image.truth, set()).add((json.dumps(headers, sort_keys=True), len(body)))
    assert responses["real"] == responses["fake"] and len(responses["real"]) == 1  # one set of headers, one length
    status, headers, body = client.request("GET", "/")
    assert status == 200 and "script-src 'self'" in headers["Content-Security-Policy"]
    assert b"http://" not in body and b"https://" not in body  # nothing from the network
    for path in ("/study.js", "/study.css"):
        status, _, body = client.request("GET", path)
        assert status == 200 and b"https://" not in body and b"http://" not in body


BAD = [
    ("GET", "/img/../../etc/passwd", None, {}, 404),
    ("GET", "/img/..%2f..%2fetc%2fpasswd", None, {}, 404),
    ("GET", "/img/%2e%2e/run.json", None, {}, 404),
    ("GET", "/img/0123456789abcdef", None, {}, 404),  # well formed, unknown
    ("GET", "/img/", None, {}, 404),
    ("GET", "/../run.json", None, {}, 404),
    ("GET", "/etc/passwd", None, {}, 404),
    ("GET", "/api/session?evaluator=nobody", None, {}, 403),
    ("GET", "/api/session", None, {}, 400),
    ("POST", "/api/answer", b"{not json", {"Content-Type": "application/json"}, 400),
    ("POST", "/api/answer", b"[1, 2]", {"Content-Type": "application/json"}, 400),
    ("POST", "/api/answer", b"\xff\xfe", {"Content-Type": "application/json"}, 400),
    ("POST", "/api/answer", b'{"answer": "real"}', {"Content-Type": "application/json"}, 400),
    ("POST", "/api/answer", b'{"evaluator": "x"}', {"Content-Type": "text/plain"}, 415),
    ("POST", "/api/answer", b"x" * (MAX_BODY + 1), {"Content-Type": "application/json"}, 413),
    ("POST", "/api/session", b'{"evaluator": "me"}', {"Content-Type": "application/json"}, 400),
    ("POST", "/api/nothing", b"{}", {"Content-Type": "application/json"}, 404),
    ("PUT", "/api/answer", b"{}", {"Content-Type": "application/json"}, 405),
    ("DELETE", "/api/session", None, {}, 405),
    ("GET", "/", None, {"Host": "evil.example:80"}, 403),
]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One study and server for the bad requests below (each checks that it changed nothing)."""
    study = make_study(make_run(tmp_path_factory.mktemp("bad"))[0])
    with serving(study) as (_, client):
        client.json("POST", "/api/session", {})
        yield study, client


@pytest.mark.parametrize("method,path,body,headers,status", BAD)
def test_bad_requests_get_4xx_and_change_nothing(shared, method, path, body, headers, status):
    study, client = shared
    before = table_counts(study.ref.store.path)
    got, _, data = client.request(method, path, body, headers)
    assert got == status
    if data and got != 405:
        assert "error" in json.loads(data)
    assert table_counts(study.ref.store.path) == before


def test_bad_answers_get_4xx_and_change_nothing(server, study):
    srv, client = server
    _, a = client.json("POST", "/api/session", {})
    _, b = client.json("POST", "/api/session", {})
    ev, image = a["evaluator"], a["next"]["id"]
    assert client.answer(ev, image, "real")[0] == 200
    with study.ref.store.read() as con:
        seq_b = json.loads(con.execute("SELECT sequence FROM human_sessions WHERE evaluator = ?",
                                       (b["evaluator"],)).fetchone()[0])
        seq_a = json.loads(con.execute("SELECT sequence FROM human_sessions WHERE evaluator = ?", (ev,)).fetchone()[0])
    not_mine = next(i for i in study.images if i not in seq_a)
    # one of a's images that is not b's current image (b may legitimately answer that one: both draw from one pool)
    a_not_b_now = next(i for i in seq_a[1:] if i != seq_b[0])
    before = table_counts(study.ref.store.path)
    cases = [
        (ev, image, "real", 100, 409),  # a second answer to the same image
        (ev, image, "fake", 100, 409),
        (ev, seq_a[5], "real", 100, 409),  # ahead of the current image
        (ev, not_mine, "real", 100, 403),  # an image of another evaluator (or of nobody)
        (b["evaluator"], a_not_b_now, "real", 100, 403 if a_not_b_now not in seq_b else 409),  # wrong evaluator
        ("A" * 24, seq_a[1], "real", 100, 403),  # unknown evaluator
        ("../../etc", seq_a[1], "real", 100, 403),
        (ev, "0123456789abcdef", "real", 100, 404),  # unknown image
        (ev, "../run.json", "real", 100, 404),
        (ev, seq_a[1], "maybe", 100, 400),
        (ev, seq_a[1], ["real"], 100, 400),
        (ev, seq_a[1], "real", -5, 400),
        (ev, seq_a[1], "real", "fast", 400),
        (ev, seq_a[1], "real", True, 400),
        (ev, seq_a[1], "real", 1e12, 400),
        (ev, 12, "real", 100, 404),
        (None, seq_a[1], "real", 100, 403),
    ]
    for who, img, answer, ms, status in cases:
        got, out = client.answer(who, img, answer, ms)
        assert got == status, (who, img, answer, ms, out)
        assert out["error"]
    body = json.dumps({"evaluator": ev, "image": seq_a[1], "answer": "real", "time_ms": 1, "extra": 1}).encode()
    assert client.request("POST", "/api/answer", body, {"Content-Type": "application/json"})[0] == 400
    nan = b'{"evaluator": "%s", "image": "%s", "answer": "real", "time_ms": NaN}' % (ev.encode(), seq_a[1].encode())
    assert client.request("POST", "/api/answer", nan, {"Content-Type": "application/json"})[0] == 400
    assert table_counts(study.ref.store.path) == before
    assert client.answer(ev, seq_a[1], "real")[0] == 200  # the evaluator goes on unharmed
