"""Rows files (``ganbench results --export`` / ``--import``): a store's rows survive a round trip to text exactly,
merge into another store by job key, and a damaged, truncated or conflicting file is refused whole, nothing
written."""

import json

import pytest

from ganbench.bench.rows_file import content, export_rows, import_rows, read_rows
from ganbench.bench.store import Store
from ganbench.cli import main
from ganbench.errors import BadInput


def _row(key, model="dcgan", status="ok", fid=12.5, **kw):
    return {"job_key": key, "model": model, "status": status, "fid": fid, "seed": 0, "dataset": "fashion-mnist",
            "groups": {"loss": "ns"}, "provenance": {"curve": {"points": [{"kimg": 250.0, "fid": 31.9406}]}},
            "metrics": {"kid_mean": 0.0191492950356, "intra_fid/3": 40.25}, **kw}


def _store(path, *rows):
    st = Store(path)
    for r in rows:
        st.put(r)
    return st


def test_round_trip_is_exact(tmp_path):
    a = _store(tmp_path / "a.sqlite", _row("k1", fid=29.919601042536783),
               _row("k2", model="wgan", status="diverged", fid=None, reason="NaN loss"))
    assert export_rows(a, tmp_path / "rows.jsonl") == 2
    b = Store(tmp_path / "b.sqlite")
    assert import_rows(b, tmp_path / "rows.jsonl") == (2, 0)
    for key in ("k1", "k2"):
        assert content(b.get(key)) == content(a.get(key))  # every column, every metric, to the last bit
    assert b.get("k1")["fid"] == 29.919601042536783 and b.get("k1")["intra_fid/3"] == 40.25
    assert b.get("k1")["created_at"] == a.get("k1")["created_at"]  # when it ran, not when it was imported
    assert import_rows(b, tmp_path / "rows.jsonl") == (0, 2)  # again: nothing new


def test_filters_choose_the_rows(tmp_path):
    a = _store(tmp_path / "a.sqlite", _row("k1", run="runs/x"), _row("k2", run="runs/y"))
    assert export_rows(a, tmp_path / "rows.jsonl", run=["runs/y"]) == 1
    assert [r["job_key"] for r in read_rows(tmp_path / "rows.jsonl")] == ["k2"]


def test_conflicts_are_refused_unless_failed_or_replace(tmp_path):
    when = {"created_at": "2026-12-05T05:16:38+0000"}  # else the stores' stamps differ when a second passes between
    a = _store(tmp_path / "a.sqlite", _row("k1", fid=10.0, **when), _row("k2", fid=20.0))
    export_rows(a, tmp_path / "rows.jsonl")
    b = _store(tmp_path / "b.sqlite", _row("k1", fid=11.0, **when))
    with pytest.raises(BadInput, match=r"already holds job k1 .*other results \(fid\); pass --replace"):
        import_rows(b, tmp_path / "rows.jsonl")
    assert b.get("k2") is None and b.get("k1")["fid"] == 11.0  # nothing written, not even the row that was free
    assert import_rows(b, tmp_path / "rows.jsonl", replace=True) == (2, 0)
    assert b.get("k1")["fid"] == 10.0
    c = _store(tmp_path / "c.sqlite", _row("k1", status="failed", fid=None))  # a failed row is retried anyway
    assert import_rows(c, tmp_path / "rows.jsonl") == (2, 0) and c.get("k1")["status"] == "ok"


def test_a_conflict_of_labels_only_says_so(tmp_path):
    """The same trained job under another name (a search's re-run that is also the model's default row) is told
    apart from other numbers."""
    when = {"created_at": "2026-12-05T05:16:38+0000"}  # else the store stamps the second it wrote each
    a = _store(tmp_path / "a.sqlite", _row("k1", model="lucic-wgan", groups={}, **when))
    export_rows(a, tmp_path / "rows.jsonl")
    b = _store(tmp_path / "b.sqlite", _row("k1", model="lucic-wgan-searched", groups={"rerun": True}, **when))
    with pytest.raises(BadInput, match=r"other labels \(model, groups; results equal\); pass --replace"):
        import_rows(b, tmp_path / "rows.jsonl")
    c = _store(tmp_path / "c.sqlite", _row("k1", model="x", status="diverged", fid=3.0, **when))
    with pytest.raises(BadInput, match=r"other results \(status, fid\);"):
        import_rows(c, tmp_path / "rows.jsonl")


@pytest.mark.parametrize("damage, message", [
    (lambda lines: lines[:2], "names 2 rows but holds 1"),
    (lambda lines: [lines[0], lines[1].replace("12.5", "12.6"), lines[2]], "line 2 does not match its sha256"),
    (lambda lines: [lines[0], lines[1], "{not json"], "line 3 does not match"),
    (lambda lines: ["{}", *lines[1:]], "not a ganbench rows file"),
    (lambda lines: [lines[0].replace('"rows": 2', '"rows": 3'), lines[1], lines[2], lines[2]], "job key k2 twice"),
])
def test_a_damaged_file_is_refused_whole(tmp_path, damage, message):
    export_rows(_store(tmp_path / "a.sqlite", _row("k1"), _row("k2")), tmp_path / "rows.jsonl")
    lines = (tmp_path / "rows.jsonl").read_text().splitlines()
    (tmp_path / "bad.jsonl").write_text("\n".join(damage(lines)) + "\n")
    b = _store(tmp_path / "b.sqlite")
    with pytest.raises(BadInput, match=message):
        import_rows(b, tmp_path / "bad.jsonl")
    assert b.query() == []


def test_the_hash_covers_the_content(tmp_path):
    export_rows(_store(tmp_path / "a.sqlite", _row("k1")), tmp_path / "rows.jsonl")
    line = json.loads((tmp_path / "rows.jsonl").read_text().splitlines()[1])
    line["row"]["seed"] = 1  # an edit that keeps the line valid JSON and valid store input
    head = (tmp_path / "rows.jsonl").read_text().splitlines()[0]
    (tmp_path / "bad.jsonl").write_text(head + "\n" + json.dumps(line) + "\n")
    with pytest.raises(BadInput, match="line 2 does not match its sha256"):
        read_rows(tmp_path / "bad.jsonl")


def test_cli_export_import_and_errors(tmp_path, capsys):
    _store(tmp_path / "a.sqlite", _row("k1"), _row("k2", model="wgan"))
    out, b = tmp_path / "rows.jsonl", tmp_path / "new" / "b.sqlite"
    assert main(["results", "--store", str(tmp_path / "a.sqlite"), "--model", "wgan", "--export", str(out)]) == 0
    assert "exported 1 row(s)" in capsys.readouterr().out
    assert main(["results", "--store", str(b), "--import", str(out)]) == 0  # the store is created
    assert "imported 1 row(s)" in capsys.readouterr().out and [r["model"] for r in Store(b).query()] == ["wgan"]
    assert main(["results", "--store", str(tmp_path / "c.sqlite"), "--import", str(tmp_path / "none.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "c.sqlite").exists()
    assert main(["results", "--store", str(b), "--import", str(out), "--model", "x"]) == 2
    assert "leave out the filters" in capsys.readouterr().err
    assert main(["results", "--store", str(b), "--replace"]) == 2
