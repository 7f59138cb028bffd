"""Group commit: queued writes share one transaction; a refusal spares the others, an error rolls back the batch."""

import threading

import pytest

from ganbench.bench.store import Store
from ganbench.human.study import Refused
from ganbench.human.writer import GroupWriter


def _count(store):
    with store.read() as con:
        return con.execute("SELECT count(*) FROM human_studies").fetchone()[0]


def test_batches_refusals_and_rollback(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    writer = GroupWriter(store, refusals=(Refused,))
    gate, entered = threading.Event(), threading.Event()

    def slow(con):  # holds the writer's transaction until the others have queued up behind it
        entered.set()
        gate.wait(10)
        con.execute("INSERT INTO human_studies (study) VALUES ('slow')")
        return "slow"

    def insert(name):
        def fn(con):
            con.execute("INSERT INTO human_studies (study) VALUES (?)", (name,))
            return name
        return fn

    def refuse(con):
        raise Refused(409, "no")

    results = {}

    def call(key, fn):
        try:
            results[key] = writer.submit(fn)
        except Exception as e:  # noqa: BLE001  (recorded for the asserts)
            results[key] = e

    first = threading.Thread(target=call, args=("slow", slow))
    first.start()
    entered.wait(10)
    queued = [threading.Thread(target=call, args=(k, fn)) for k, fn in (("a", insert("a")), ("no", refuse),
                                                                        ("b", insert("b")))]
    for t in queued:
        t.start()
    while writer._queue.qsize() < 3:  # all three wait in the queue: they will share the next transaction
        threading.Event().wait(0.01)
    gate.set()
    for t in (first, *queued):
        t.join(10)
    assert results["slow"] == "slow" and results["a"] == "a" and results["b"] == "b"
    assert isinstance(results["no"], Refused) and results["no"].status == 409
    assert _count(store) == 3

    def boom(con):
        con.execute("INSERT INTO human_studies (study) VALUES ('half')")
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        writer.submit(boom)
    assert _count(store) == 3  # rolled back: nothing of the failed batch is stored
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(insert("late"))
