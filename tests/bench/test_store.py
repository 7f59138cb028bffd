"""The results store: round trip, replace by job key, filters, and 8 concurrent writers losing no row."""

import multiprocessing as mp

import pytest

from ganbench.bench.store import Store
from ganbench.errors import BadInput


def _row(key, model="dcgan", status="ok", fid=12.5, **kw):
    return {"job_key": key, "model": model, "status": status, "fid": fid, "seed": 0, "dataset": "fashion-mnist",
            "groups": {"loss": "ns"}, "provenance": {"versions": {"torch": "x"}}, **kw}


def test_round_trip_and_replace(tmp_path):
    st = Store(tmp_path / "r.sqlite")
    st.put(_row("a", fid=10.0))
    st.put(_row("b", model="wgan", status="diverged", fid=None, reason="NaN loss"))
    got = st.get("a")
    assert got["fid"] == 10.0 and got["groups"] == {"loss": "ns"} and got["provenance"]["versions"]["torch"] == "x"
    assert st.get("b")["fid"] is None and st.get("b")["reason"] == "NaN loss"
    st.put(_row("a", fid=11.0))  # same job key: replaced, not duplicated
    assert [r["fid"] for r in st.query(model="dcgan")] == [11.0]
    assert {r["job_key"] for r in st.query(status=["ok", "diverged"])} == {"a", "b"}
    assert st.done("a") and st.done("b") and not st.done("zzz")


def test_failed_rows_are_retried(tmp_path):
    st = Store(tmp_path / "r.sqlite")
    st.put(_row("a", status="failed", fid=None))
    assert not st.done("a")


def test_rejects_bad_rows_and_filters(tmp_path):
    st = Store(tmp_path / "r.sqlite")
    with pytest.raises(ValueError):
        st.put(_row("a", status="maybe"))
    with pytest.raises(ValueError):
        st.put({**_row("a"), "colour": "red"})
    with pytest.raises(BadInput, match="cannot filter"):
        st.query(colour="red")


def test_not_a_database(tmp_path):
    bad = tmp_path / "x.sqlite"
    bad.write_text("this is not sqlite " * 100)
    with pytest.raises(BadInput, match="not a ganbench results database"):
        Store(bad)


def _writer(path, worker, n):
    st = Store(path)
    for i in range(n):
        st.put(_row(f"w{worker}-{i}", model=f"m{worker}", fid=float(i)))


def test_eight_concurrent_writers_lose_no_row(tmp_path):
    path = tmp_path / "r.sqlite"
    Store(path)
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, w, 25)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    rows = Store(path).query()
    assert len(rows) == 8 * 25
    assert {r["job_key"] for r in rows} == {f"w{w}-{i}" for w in range(8) for i in range(25)}


def test_older_store_gains_new_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute('CREATE TABLE results (id INTEGER PRIMARY KEY AUTOINCREMENT, "job_key" TEXT NOT NULL UNIQUE, '
                '"model" TEXT NOT NULL, "status" TEXT NOT NULL, "fid" REAL)')
    con.execute("INSERT INTO results (job_key, model, status, fid) VALUES ('old', 'dcgan', 'ok', 3.5)")
    con.commit()
    con.close()
    st = Store(path)
    st.put(_row("new", checkpoint_sha256="ab" * 32))
    assert st.get("old")["fid"] == 3.5 and st.get("new")["checkpoint_sha256"] == "ab" * 32


def test_job_is_picklable_and_keyed_by_what_changes_results():
    import dataclasses
    import pickle

    from ganbench.bench.jobs import Job
    from ganbench.config import BUDGETS, EvalProtocol, ModelSpec

    job = Job(ModelSpec(name="a"), "fashion-mnist", 0, BUDGETS["quick"], EvalProtocol(), "/tmp/x", groups={"k": 1})
    assert pickle.loads(pickle.dumps(job)).key == job.key
    assert dataclasses.replace(job, out_dir="/elsewhere", spec=ModelSpec(name="renamed")).key == job.key
    for change in ({"seed": 1}, {"dataset": "mnist"}, {"spec": ModelSpec(name="a", loss="hinge")},
                   {"protocol": EvalProtocol(num_samples=5)}, {"budget": BUDGETS["standard"]}):
        assert dataclasses.replace(job, **change).key != job.key


def _schema1_store(path, rows):
    """A store as ganbench wrote it before long form: metric values as columns of results."""
    import sqlite3

    con = sqlite3.connect(path)
    con.execute('CREATE TABLE results (id INTEGER PRIMARY KEY AUTOINCREMENT, "job_key" TEXT NOT NULL UNIQUE, '
                '"model" TEXT NOT NULL, "status" TEXT NOT NULL, "fid" REAL, "kid_mean" REAL, "kid_std" REAL, '
                '"precision" REAL, "recall" REAL)')
    con.executemany("INSERT INTO results (job_key, model, status, fid, kid_mean, kid_std, precision, recall) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.close()


def test_schema1_store_moves_to_long_form_losing_nothing(tmp_path):
    path = tmp_path / "v1.sqlite"
    _schema1_store(path, [("a", "dcgan", "ok", 30.5, 0.012, 0.001, 0.5, 0.25),
                          ("b", "wgan", "diverged", None, None, None, None, None)])
    st = Store(path)
    a, b = st.get("a"), st.get("b")
    assert a["metrics"] == {"fid": 30.5, "kid_mean": 0.012, "kid_std": 0.001, "precision": 0.5, "recall": 0.25}
    assert a["fid"] == 30.5 and b["metrics"] == {} and b["fid"] is None and b["status"] == "diverged"
    # a schema-1 writer still running on the store: its new rows show up at the next open
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("INSERT INTO results (job_key, model, status, fid) VALUES ('c', 'lsgan', 'ok', 44.0)")
    con.commit()
    con.close()
    assert Store(path).get("c")["fid"] == 44.0
    # rows written in long form are never overwritten by the copy of the old columns
    st.put(_row("a", fid=31.0))
    assert Store(path).get("a")["fid"] == 31.0


def test_a_new_metric_needs_no_schema_change(tmp_path):
    st = Store(tmp_path / "r.sqlite")
    st.put({**_row("a"), "metrics": {"sfid": 7.25, "fid": 12.5}})
    assert st.get("a")["sfid"] == 7.25 and st.get("a")["metrics"] == {"sfid": 7.25, "fid": 12.5}
    with pytest.raises(ValueError, match="non-finite"):
        st.put({**_row("b"), "metrics": {"fid": float("nan")}})


def _opener(path, out):
    try:
        Store(path)
        out.put("ok")
    except Exception as e:  # noqa: BLE001 - reported to the test
        out.put(f"{type(e).__name__}: {e}")


def test_eight_processes_opening_an_old_store_at_once(tmp_path):
    path = tmp_path / "v1.sqlite"
    _schema1_store(path, [(f"k{i}", "dcgan", "ok", float(i), None, None, None, None) for i in range(20)])
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_opener, args=(path, out)) for _ in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert sorted(out.get(timeout=5) for _ in procs) == ["ok"] * 8
    assert [r["fid"] for r in Store(path).query()] == [float(i) for i in range(20)]
