"""Restoring a search's trials from its published trials table (``scripts/restore_search_trials.py``), when the
store that held them is lost: the resumed search trains no trial again, chooses the same ones, and reports the same
trials; a table made under other settings, or with edited values, is refused before anything is written."""

import csv

import pytest

from ganbench.bench.search import search
from ganbench.bench.search.restore import restore
from ganbench.bench.store import Store
from ganbench.errors import BadInput

from tests.fakes import Calls
from tests.helpers import load_script
from .fakes import BUDGET, backend, options, protocol


def _published(tmp_path):
    res = search(["dcgan", "wgan"], protocol=protocol(tmp_path), budget=BUDGET, options=options(tmp_path),
                 backend=backend(Calls()))
    return res, tmp_path / "run" / "search-trials.csv"


def test_a_lost_store_is_restored_from_the_table_and_the_search_resumes(tmp_path):
    res, table = _published(tmp_path)
    lost = dict(store=str(tmp_path / "new.sqlite"))
    p = protocol(tmp_path)
    assert restore(table, tmp_path / "again", tmp_path / "new.sqlite", protocol=p, budget=BUDGET,
                   backend=backend(Calls())) == (12, 0)
    rows = Store(tmp_path / "new.sqlite").query()
    assert all(r["provenance"]["restored"]["from"] == str(table) and r["train_time_s"] is None for r in rows)
    calls = Calls()
    again = search(["dcgan", "wgan"], protocol=p, budget=BUDGET, options=options(tmp_path, "again", **lost),
                   backend=backend(calls))
    assert again.chosen == res.chosen
    trained = {name for name, _, _ in calls.train}
    assert trained == {"dcgan-searched", "wgan-searched"}  # only the re-runs, which the table does not hold
    assert (tmp_path / "again" / "search-trials.csv").read_text() == table.read_text()
    assert "? (6 restored)" in again.markdown  # no CPU hours invented for rows that carry none
    # and again: nothing is restored twice
    assert restore(table, tmp_path / "again", tmp_path / "new.sqlite", protocol=p, budget=BUDGET,
                   backend=backend(Calls())) == (0, 12)


@pytest.mark.parametrize("edit, match", [
    ({"job_key": "0123456789abcdef"}, "has job key 0123456789abcdef, this code makes"),
    ({"disc_iters": "7"}, "has disc_iters=7, the seeded draw is"),
    ({"trial": "9"}, "beyond the protocol's 6 trials"),
])
def test_a_table_from_other_settings_is_refused(tmp_path, edit, match):
    _, table = _published(tmp_path)
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    rows[3].update(edit)
    bad = tmp_path / "bad.csv"
    with open(bad, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(BadInput, match=match):
        restore(bad, tmp_path / "again", tmp_path / "new.sqlite", protocol=protocol(tmp_path), budget=BUDGET,
                backend=backend(Calls()))
    assert Store(tmp_path / "new.sqlite").query() == []


def test_the_script_says_what_was_wrong_in_one_line(tmp_path, capsys):
    script = load_script("restore_search_trials")
    assert script.main([str(tmp_path / "none.csv"), "--protocol", "lucic2018", "--out", str(tmp_path / "o"),
                        "--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err and not (tmp_path / "s.sqlite").exists()


def test_restored_rungs_judge_later_trials_as_the_lost_journal_did(tmp_path):
    """The pruner decides a trial against the rung scores of those before it. A journal started afresh from
    restored rows is told those scores, so the trials run after a restore are stopped where they were first."""
    import optuna

    from ganbench.bench.search.manifest import JOURNAL
    from ganbench.bench.search.trial import OptunaRef

    res, table = _published(tmp_path)
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    first = tmp_path / "first.csv"  # the table as it stood after three trials of each model
    with open(first, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows([r for r in rows if int(r["trial"]) < 3])
    p = protocol(tmp_path)
    assert restore(first, tmp_path / "again", tmp_path / "new.sqlite", protocol=p, budget=BUDGET,
                   backend=backend(Calls())) == (6, 0)
    study = OptunaRef(str(tmp_path / "again" / JOURNAL), 64, 2).study("wgan")
    told = {t.number: sorted(t.intermediate_values.values()) for t in study.trials if t.number < 3}
    lost = {t["provenance"]["trial"]["number"]: sorted(r["score"] for r in t["provenance"]["trial"]["rungs"])
            for t in res.trials["wgan"][:3]}
    assert told.keys() == lost.keys()
    assert all(told[k] == pytest.approx(lost[k], abs=5e-5) for k in lost)  # the table's 4 decimals
    assert all(t.state != optuna.trial.TrialState.RUNNING for t in study.trials[:3])
    calls = Calls()
    again = search(["dcgan", "wgan"], protocol=p, budget=BUDGET,
                   options=options(tmp_path, "again", store=str(tmp_path / "new.sqlite")), backend=backend(calls))
    for model in ("dcgan", "wgan"):
        assert [(r["status"], len(r["provenance"]["trial"]["rungs"])) for r in again.trials[model][3:]] == \
            [(r["status"], len(r["provenance"]["trial"]["rungs"])) for r in res.trials[model][3:]]
    assert again.chosen == res.chosen


def test_a_one_seed_rerun_is_restored_from_the_search_table_with_the_seed_named(tmp_path):
    from ganbench.bench.search.restore import restore_reruns

    p = protocol(tmp_path, rerun_seeds=(1,))
    res = search(["dcgan", "wgan"], protocol=p, budget=BUDGET, options=options(tmp_path), backend=backend(Calls()))
    new = tmp_path / "new.sqlite"
    kw = dict(protocol=p, budget=BUDGET, backend=backend(Calls()))
    restore(tmp_path / "run" / "search-trials.csv", tmp_path / "again", new, **kw)
    assert restore_reruns(tmp_path / "run" / "search.csv", {"dcgan": 1, "wgan": 1}, tmp_path / "again", new,
                          **kw) == (2, 0)
    calls = Calls()
    again = search(["dcgan", "wgan"], protocol=p, budget=BUDGET, options=options(tmp_path, "again", store=str(new)),
                   backend=backend(calls))
    assert calls.train == [] and calls.evaluate == []  # trials and re-runs all restored
    for model in ("dcgan", "wgan"):
        (old,), (back,) = res.reruns[model], again.reruns[model]
        assert back["job_key"] == old["job_key"] and back["seed"] == 1 and "restored" in back["provenance"]
        for m in ("fid", "kid_mean", "precision", "recall"):
            assert back[m] == pytest.approx(old[m], rel=1e-12), m
    with pytest.raises(BadInput, match="not one of the protocol's re-run seeds"):
        restore_reruns(tmp_path / "run" / "search.csv", {"dcgan": 2}, tmp_path / "again", new, **kw)


def test_a_rerun_row_over_several_seeds_is_not_restored(tmp_path):
    from ganbench.bench.search.restore import restore_reruns

    res, table = _published(tmp_path)  # re-run seeds 1 and 2: the table holds their mean, not a row
    kw = dict(protocol=protocol(tmp_path), budget=BUDGET, backend=backend(Calls()))
    restore(table, tmp_path / "again", tmp_path / "new.sqlite", **kw)
    with pytest.raises(BadInput, match="must have one run"):
        restore_reruns(tmp_path / "run" / "search.csv", {"dcgan": 1}, tmp_path / "again", tmp_path / "new.sqlite",
                       **kw)
