"""Human-study fixtures: a tiny run made with the runner's fakes (no training), its study, a live server."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from pathlib import Path

import pytest

from ganbench.bench.runner import RunOptions, run
from ganbench.human.protocol import HumanProtocol
from ganbench.human.pool import open_study, prepare
from ganbench.human.server import make_server
from ganbench.human.study import Study
from tests.fakes import Calls, fake_backend
from tests.helpers import tiny_budget

#: Two models, 40 samples each, evaluated against 40 reference images (the fakes' random 28x28 images).
TINY = tiny_budget("tiny-human", samples=40)
#: A small study with every part: 2 tutorial images (with feedback), a qualification of 4 (2 real, 1 fake of each
#: model; no feedback), 10 study images per evaluator; pools of 12 study, 4 qualification and 4 tutorial images per
#: side (20 of the fake dataset's 40 training images).
SMALL = HumanProtocol(images=10, qualification=4, tutorial=2, pool=12, qualification_pool=4, tutorial_pool=4,
                      replicates=200)
#: Images an evaluator of SMALL answers.
SMALL_TOTAL = SMALL.tutorial + SMALL.qualification + SMALL.images


def make_run(folder: Path) -> tuple[Path, Path]:
    """A finished run of dcgan and wgan in ``folder`` (fake training and evaluation): its folder and its store."""
    run(models=["dcgan", "wgan"], budget=TINY, metrics=("fid",), backend=fake_backend(Calls()),
        options=RunOptions(out=folder / "run", store=folder / "r.sqlite", progress=False))
    return folder / "run", folder / "r.sqlite"


def make_study(run_dir: Path, protocol: HumanProtocol = SMALL, models=None) -> Study:
    """The run's study, its pools prepared with the fake backend."""
    ref = open_study(run_dir, models)
    prepare(ref, protocol, backend=fake_backend(Calls()), progress=False)
    return Study(ref, protocol)


def take(study: Study, answer=lambda phase, truth: truth, stop_after: int | None = None) -> dict:
    """One evaluator through the Study API, answering ``answer(phase, truth)``; the last state."""
    state = study.new_session()
    while state["next"] and (stop_after is None or state["position"] < stop_after):
        image = state["next"]["id"]
        state = study.answer(state["evaluator"], image, answer(state["phase"], study.images[image].truth), 100.0)
    return state


@pytest.fixture
def tiny_run(tmp_path) -> tuple[Path, Path]:
    return make_run(tmp_path)


@pytest.fixture
def study(tiny_run) -> Study:
    return make_study(tiny_run[0])


class Client:
    """A small HTTP client of a study server: JSON in and out, and raw requests for bad input."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        con = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            con.request(method, path, body=body, headers=headers or {})
            r = con.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            con.close()

    def json(self, method: str, path: str, obj=None) -> tuple[int, dict]:
        body = None if obj is None else json.dumps(obj).encode()
        status, _, data = self.request(method, path, body, {"Content-Type": "application/json"} if body else {})
        return status, json.loads(data or b"{}")

    def answer(self, evaluator: str, image: str, answer: str, time_ms: float = 100.0) -> tuple[int, dict]:
        return self.json("POST", "/api/answer", {"evaluator": evaluator, "image": image, "answer": answer,
                                                 "time_ms": time_ms})


@contextlib.contextmanager
def serving(study: Study):
    """A running server of ``study`` on a free port: ``(server, client)``; stopped when the block ends."""
    srv = make_server(study, "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield srv, Client("127.0.0.1", srv.server_address[1])
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def server(study):
    with serving(study) as out:
        yield out


def truth_of(study: Study, image_id: str) -> str:
    return study.images[image_id].truth


def table_counts(store_path) -> dict[str, int]:
    """Rows in each human table (what bad input must leave unchanged)."""
    import sqlite3
    con = sqlite3.connect(store_path)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("human_images", "human_sessions", "human_answers")}
    finally:
        con.close()
