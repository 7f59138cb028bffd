"""scripts/make_search_leaderboard.py on a search of fakes: the leaderboard's Markdown is the search's own tables
under a header, its plots are copied beside it with the links rewritten, its CSVs are the search's."""

import json

from ganbench.bench.search import search

from tests.fakes import Calls
from tests.helpers import load_script
from .fakes import BUDGET, backend, options, protocol


def test_a_search_is_published_with_its_plots_and_tables(tmp_path):
    res = search(["dcgan", "wgan"], protocol=protocol(tmp_path), budget=BUDGET, options=options(tmp_path),
                 backend=backend(Calls()))
    where = json.loads((tmp_path / "run" / "search.json").read_text())["rerun_dirs"]["wgan"]
    for job in where.values():  # curves for the re-runs, as a budget with curve points writes them
        (tmp_path / "run" / job["dir"] / "eval_log.csv").write_text("kimg,steps,fid\n0.128,2,80\n0.256,4,60\n")
    out = tmp_path / "lb"
    assert load_script("make_search_leaderboard").main(
        [str(tmp_path / "run"), "--name", "toy-search", "--out", str(out), "--note", "all done"]) == 0
    md = (out / "toy-search.md").read_text()
    assert md.startswith("# ") and "**Still to run:** all done" in md and "torch threads per job:" in md
    assert "'…'" in md and "all done`" not in md  # the command line names the note, not its text
    for name in ("search-fid-by-trial.png", "search-expected-best.png", "search-curves.png"):
        assert (out / "toy-search" / name).is_file() and f"](toy-search/{name})" in md, name
    # the body is the search's own report, the summary row of each model included
    assert "| dcgan-searched" in md and "| wgan |" in md and "Did the halving choose well?" in md
    assert (out / "toy-search.csv").read_text() == (tmp_path / "run" / "search.csv").read_text()
    trials = (out / "toy-search-trials.csv").read_text().splitlines()
    assert len(trials) == 1 + sum(len(r) for r in res.trials.values())


def test_the_rows_published_beside_it_rebuild_the_same_tables(tmp_path):
    """rows.jsonl holds every row the tables are made of: imported into a new store (another machine), the
    search's report from that store is the published one."""
    from ganbench.bench.rows_file import import_rows
    from ganbench.bench.search.report import write_search_report
    from ganbench.bench.store import Store

    res = search(["dcgan", "wgan"], protocol=protocol(tmp_path), budget=BUDGET, options=options(tmp_path),
                 backend=backend(Calls()))
    out = tmp_path / "lb"
    assert load_script("make_search_leaderboard").main([str(tmp_path / "run"), "--name", "toy", "--out", str(out)]) == 0
    fresh = Store(tmp_path / "elsewhere.sqlite")
    n = sum(len(r) for r in (*res.trials.values(), *res.reruns.values())) + (res.floor is not None)
    assert import_rows(fresh, out / "toy" / "rows.jsonl") == (n, 0)
    again = write_search_report(tmp_path / "run", fresh)
    assert again.markdown == res.markdown and again.chosen == res.chosen


def test_a_notes_file_is_its_own_section_and_a_missing_one_is_refused_before_any_work(tmp_path, capsys):
    """--note-file puts a markdown file (kept in git beside the leaderboard) under the header, bullets intact; a
    path that is not a file is one line on stderr, exit 2, and nothing written."""
    search(["dcgan"], protocol=protocol(tmp_path), budget=BUDGET, options=options(tmp_path), backend=backend(Calls()))
    out = tmp_path / "lb"
    script = load_script("make_search_leaderboard")
    assert script.main([str(tmp_path / "run"), "--name", "toy", "--out", str(out),
                        "--note-file", str(tmp_path / "absent.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "absent.md: no such file" in err and not out.exists()
    notes = tmp_path / "status.md"
    notes.write_text("**Status.**\n\n- trial 3 at 672 kimg\n- MM not yet searched\n")
    assert script.main([str(tmp_path / "run"), "--name", "toy", "--out", str(out), "--note-file", str(notes)]) == 0
    md = (out / "toy.md").read_text()
    head, body = md.split("\n\n**Status.**\n\n", 1)
    assert "Made by `" in head and body.startswith("- trial 3 at 672 kimg\n- MM not yet searched\n\n")
    assert body.index("MM not yet searched") < body.index("| dcgan-searched")
