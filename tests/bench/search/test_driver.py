"""``ganbench search`` end to end on fakes (real Optuna, store, claims and executors): seeded trials, trial 0 the
model's own setting, successive halving, selection on the held-out split, re-runs, resume after kill -9."""

import multiprocessing

import pytest

from ganbench.bench.report import read_csv_columns
from ganbench.bench.search import search
from ganbench.bench.search.driver import SearchOptions, sampler_seed
from ganbench.bench.search.manifest import trial_dir
from ganbench.bench.store import Store
from ganbench.errors import BadInput

from tests.fakes import Calls
from .fakes import BUDGET, backend, options, protocol


def _run(tmp_path, calls=None, name="run", **kw):
    calls = calls if calls is not None else Calls()
    p = protocol(tmp_path, **kw.pop("protocol", {}))
    return search(["dcgan", "wgan"], protocol=p, budget=BUDGET, options=options(tmp_path, name, **kw),
                  backend=backend(calls)), calls


def test_a_search_draws_halves_selects_and_reruns(tmp_path):
    res, calls = _run(tmp_path)
    for model in ("dcgan", "wgan"):
        rows = res.trials[model]
        assert [r["provenance"]["trial"]["number"] for r in rows] == list(range(6))
        # trial 0 is the model's own setting (dcgan's lr 2e-4, 1 D step); the others drawn from the space
        assert rows[0]["provenance"]["trial"]["params"] == {"learning_rate": 2e-4, "disc_iters": 1}
        assert rows[0]["config_hash"] == res.reruns[model][0]["config_hash"] or res.chosen[model] != 0
        assert all(1e-5 <= r["provenance"]["trial"]["params"]["learning_rate"] <= 1e-2 for r in rows)
        # every trial is scored at the first rung; the halving stops some; the first trial always goes on (ASHA)
        rungs = [[p["kimg"] for p in r["provenance"]["trial"]["rungs"]] for r in rows]
        assert all(r[0] == 0.064 for r in rungs) and rungs[0] == [0.064, 0.128, 0.256]
        assert {r["status"] for r in rows} <= {"ok", "pruned"} and any(r["status"] == "pruned" for r in rows)
        assert all((r["status"] == "ok") == (len(k) == 3) for r, k in zip(rows, rungs))
        # a trial's provenance holds its training's, as a run's row does (threads, device, steps)
        assert all(r["provenance"]["train"]["steps"] == r["steps"] for r in rows)
        # the chosen trial: the best final score among the trials that reached the end
        done = {r["provenance"]["trial"]["number"]: r["fid"] for r in rows if r["status"] == "ok"}
        assert res.chosen[model] == min(done, key=done.get)
        # its re-runs: new seeds, the study's own budget and test split, the trial's training config
        reruns = res.reruns[model]
        assert [(r["seed"], r["budget"], r["split"]) for r in reruns] == [(1, "tiny", "test"), (2, "tiny", "test")]
        chosen_row = rows[res.chosen[model]]
        assert {r["config_hash"] for r in reruns} == {chosen_row["config_hash"]}
        assert all(r["model"] == f"{model}-searched" for r in reruns)
        # their provenance says which setting was chosen, not the base spec's description of its own setting
        k = res.chosen[model]
        assert all(r["provenance"]["spec"]["description"].startswith(f"the setting its search chose (trial {k}): "
                                                                      f"{model} at values from the ") for r in reruns)
        # trials train on the training split less the validation split, and are scored on that split
        assert chosen_row["split"] == "train[30:]" and chosen_row["budget"] == "tiny-trial"
    # the store holds every trial, re-run and their provenance; the tables, trials and plots are written
    assert len(Store(tmp_path / "r.sqlite").query()) == 2 * 6 + 2 * 2
    for name in ("search.md", "search.csv", "search-trials.csv", "search-fid-by-trial.png",
                 "search-expected-best.png", "search-report.html", "search.json"):
        assert (tmp_path / "run" / name).is_file(), name
    assert "Did the halving choose well?" in res.markdown and "| dcgan-searched" in res.markdown
    assert len((tmp_path / "run" / "search-trials.csv").read_text().splitlines()) == 1 + 12
    page = (tmp_path / "run" / "search-report.html").read_text()  # a web page: tables as tables, plots inlined
    assert page.count("<table>") >= 3 and "|---" not in page and page.count("data:image/png;base64,") == 2


def test_the_same_seed_draws_the_same_trials_and_a_rerun_reuses_everything(tmp_path):
    first, _ = _run(tmp_path)
    again, calls = _run(tmp_path)
    assert calls.train == [] and calls.evaluate == []  # every trial and re-run came from the store
    assert again.chosen == first.chosen
    other, _ = _run(tmp_path, name="other")  # a new folder and journal, the same draws: the store's rows again
    params = lambda res: [r["provenance"]["trial"]["params"] for r in res.trials["wgan"]]  # noqa: E731
    assert params(other) == params(first)
    reseeded, _ = _run(tmp_path, name="seed1", protocol={"seed": 1})
    assert params(reseeded)[0] == params(first)[0] and params(reseeded)[1:] != params(first)[1:]
    assert sampler_seed(0, "wgan", 3) == sampler_seed(0, "wgan", 3) != sampler_seed(0, "wgan", 4)


def _killed_search(tmp_path, kill_at):
    import torch

    from .fakes import backend as fake
    from tests.fakes import Calls as C

    # a forked child must not enter the OpenMP thread pool its parent started: libgomp hangs there (at kill_at 17
    # the child reaches a re-run's sample grid first); ganbench's own pool starts its workers by forkserver
    torch.set_num_threads(1)

    p = protocol(tmp_path)
    search(["dcgan", "wgan"], protocol=p, budget=BUDGET, options=options(tmp_path),
           backend=fake(C(), kill_at_train=kill_at))


@pytest.mark.parametrize("kill_at", [5, 17])
def test_a_search_killed_mid_way_resumes_without_rerunning_finished_trials(tmp_path, kill_at):
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=_killed_search, args=(tmp_path, kill_at))
    proc.start()
    proc.join(120)
    assert proc.exitcode == -9  # it died at that train call
    finished = {r["job_key"] for r in Store(tmp_path / "r.sqlite").query()}
    res, calls = _run(tmp_path)
    trained = {(name, kimg) for name, _, kimg in calls.train}
    assert finished and not any(r["job_key"] in finished and (r["model"], r["kimg"]) in trained
                                for rows in res.trials.values() for r in rows)
    fresh, _ = _run(tmp_path / "fresh")  # an uninterrupted search gives the same trials and choice
    assert res.chosen == fresh.chosen
    for model in res.trials:
        assert [(r["status"], r["fid"]) for r in res.trials[model]] == \
            [(r["status"], r["fid"]) for r in fresh.trials[model]]


@pytest.mark.parametrize("kw,match", [
    ({"protocol": {"trials": 0}}, "trials"), ({"protocol": {"reduction": 1}}, "reduction"),
    ({"protocol": {"select_on": "train"}}, "select-on"), ({"protocol": {"rung_metric": "fid_best"}}, "checkpoints"),
    ({"protocol": {"validation": 40}}, "no training images"), ({"protocol": {"space": "nope"}}, "unknown search space"),
    ({"protocol": {"rerun_seeds": (1, 1)}}, "seeds"), ({"report_only": True}, "holds no search"),
    ({"report_only": True, "with_defaults": True}, "--report-only trains nothing"),
])
def test_bad_input_is_one_line_before_any_work(tmp_path, kw, match):
    with pytest.raises(BadInput, match=match):
        _run(tmp_path, **kw)
    assert not (tmp_path / "run").exists() and not (tmp_path / "r.sqlite").exists()


def test_trials_that_fail_are_counted_and_run_again(tmp_path):
    """A trial whose every attempt fails gets a failed row (no rungs): the report counts it, the next run retries."""
    from .fakes import backend as fake

    calls = Calls()
    b = fake(calls)
    real_train = b.train

    def broken_for_t3(spec, dataset, out_dir, **kw):
        if spec.name.endswith(".t03"):
            raise RuntimeError("boom")
        return real_train(spec, dataset, out_dir, **kw)

    import dataclasses
    p = protocol(tmp_path)
    res = search(["dcgan"], protocol=p, budget=BUDGET, options=options(tmp_path, retries=0),
                 backend=dataclasses.replace(b, train=broken_for_t3))
    assert len(res.trials["dcgan"]) == 5 and "1 trial(s) failed" in res.markdown
    again = search(["dcgan"], protocol=p, budget=BUDGET, options=options(tmp_path), backend=fake(Calls()))
    assert len(again.trials["dcgan"]) == 6 and "failed" not in again.markdown.split("Trials (")[0]


def test_a_diverging_trial_is_recorded_and_the_search_goes_on(tmp_path):
    """A trial whose training raises Diverged, and one whose training reports it, end as ``diverged`` with the
    reason, without a score; the other trials are searched as usual."""
    import dataclasses

    from ganbench.errors import Diverged

    calls = Calls()
    b = backend(calls)
    train = b.train

    def train_or_diverge(spec, dataset, out_dir, **kw):
        if spec.name == "dcgan.t02":
            raise Diverged("loss is inf at step 2")
        res = train(spec, dataset, out_dir, **kw)
        return dataclasses.replace(res, status="diverged", reason="D loss exploded") if spec.name == "dcgan.t03" else res

    p = protocol(tmp_path)
    res = search(["dcgan"], protocol=p, budget=BUDGET, options=options(tmp_path),
                 backend=dataclasses.replace(b, train=train_or_diverge))
    rows = {r["provenance"]["trial"]["number"]: r for r in res.trials["dcgan"]}
    assert (rows[2]["status"], rows[2]["reason"]) == ("diverged", "loss is inf at step 2")
    assert (rows[3]["status"], rows[3]["reason"]) == ("diverged", "D loss exploded")
    assert rows[2].get("fid") is None and rows[3].get("fid") is None and not rows[2]["provenance"]["trial"]["rungs"]
    assert {rows[k]["status"] for k in (0, 1, 4, 5)} <= {"ok", "pruned"} and res.chosen["dcgan"] not in (2, 3)


def test_a_killed_searchs_running_trials_show_their_rungs_and_the_resumed_trials_match(tmp_path):
    """The report of a search killed mid-way (``--report-only``) lists the trials under way with the rungs they
    reached (from the Optuna journal), outside the statistics; resumed, each finishes with those same rung scores."""
    ctx = multiprocessing.get_context("fork")
    proc = ctx.Process(target=_killed_search, args=(tmp_path, 3))  # dcgan trial 0 (always goes on), past 2 rungs
    proc.start()
    proc.join(120)
    assert proc.exitcode == -9
    mid, calls = _run(tmp_path, report_only=True)
    assert calls.train == []
    lines = (tmp_path / "run" / "search-trials.csv").read_text().splitlines()
    head = lines[0].split(",")
    running = [dict(zip(head, line.split(","))) for line in lines[1:] if line.split(",")[2] == "running"]
    assert running, "the kill left no trial under way past a rung"
    assert all(r["status"] != "running" for rows in mid.trials.values() for r in rows)  # not in the statistics
    for r in running:  # how far it trained, from its folder's train_log.csv: past its last rung
        trained = read_csv_columns(trial_dir(tmp_path / "run", r["model"], int(r["trial"])) / "train_log.csv")["kimg"]
        last_rung = max(float(k[len("score_"):-len("kimg")]) for k, v in r.items() if k.startswith("score_") and v)
        assert float(r["kimg"]) == trained[-1] >= last_rung
        assert f"| {r['trial']} | running, at {float(r['kimg']):g} kimg |" in mid.markdown
    res, _ = _run(tmp_path)
    for r in running:
        finished = next(x for x in res.trials[r["model"]] if x["provenance"]["trial"]["number"] == int(r["trial"]))
        scores = {f"score_{p['kimg']:g}kimg": p["score"] for p in finished["provenance"]["trial"]["rungs"]}
        reached = {k: float(v) for k, v in r.items() if k.startswith("score_") and v}
        assert reached and all(scores[k] == pytest.approx(v, abs=1e-4) for k, v in reached.items())
        # its compute counts every rung's scoring, those done before the kill included (rungs.csv keeps them)
        rungs = finished["provenance"]["trial"]["rungs"]
        assert all(p["eval_s"] > 0 for p in rungs)
        assert finished["eval_time_s"] == pytest.approx(sum(p["eval_s"] for p in rungs))


def test_one_process_per_model_on_one_folder_makes_one_report(tmp_path):
    """Two searches, one model each, on one folder and store (how a study's losses run side by side, 1 core each):
    the folder's manifest and report hold both, with the same trials and re-runs as one search of both models."""
    import json

    p = protocol(tmp_path)
    solo = lambda models, name="run": search(models, protocol=p, budget=BUDGET,  # noqa: E731
                                             options=options(tmp_path, name), backend=backend(Calls()))
    solo(["dcgan"])
    res = solo(["wgan"])
    assert list(res.trials) == ["dcgan", "wgan"] and list(res.reruns) == ["dcgan", "wgan"]
    assert "| dcgan-searched" in res.markdown and "| wgan-searched" in res.markdown
    joint, calls = _run(tmp_path, name="joint")
    assert calls.train == []  # every trial and re-run was in the store already
    for key in ("trials", "reruns"):
        one = json.loads((tmp_path / "run" / "search.json").read_text())[key]
        assert one == json.loads((tmp_path / "joint" / "search.json").read_text())[key]
    # a search of other settings in the folder starts it anew: the earlier models leave its report
    other = search(["wgan"], protocol=protocol(tmp_path, trials=4), budget=BUDGET, options=options(tmp_path),
                   backend=backend(Calls()))
    assert list(other.trials) == ["wgan"] and len(other.trials["wgan"]) == 4


def test_before_its_reruns_finish_the_report_names_the_chosen_trial(tmp_path):
    """Once every trial has ended, the summary names the chosen trial and its values, its re-runs as running."""
    import json
    import sqlite3

    from ganbench.bench.search.report import write_search_report

    done, _ = _run(tmp_path)
    keys = json.loads((tmp_path / "run" / "search.json").read_text())["reruns"]["wgan"]
    with sqlite3.connect(tmp_path / "r.sqlite") as con:  # wgan's re-runs not finished yet
        con.execute(f"DELETE FROM results WHERE job_key IN ({','.join('?' * len(keys))})", keys)
    mid = write_search_report(tmp_path / "run")
    row = next(line for line in mid.markdown.splitlines() if line.startswith("| wgan |"))
    k = done.chosen["wgan"]
    values = done.trials["wgan"][k]["provenance"]["trial"]["params"]
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[1] == str(k) and f"{values['learning_rate']:.3g}" in cells[2]
    assert cells[3] == cells[4] == "running" and mid.chosen == done.chosen
    assert next(line for line in mid.markdown.splitlines() if line.startswith("| dcgan |")).split("|")[2].strip() \
        == str(done.chosen["dcgan"])



def test_the_report_shows_where_reruns_under_way_stand(tmp_path):
    """A re-run without a row yet shows the last point of its curve (eval_log.csv in the folder the manifest
    names), beside the finished seeds' statistic and outside it; a finished re-run shows only its row. The
    curves are drawn."""
    import json
    import sqlite3

    from ganbench.bench.search.report import write_search_report

    done, _ = _run(tmp_path)
    m = json.loads((tmp_path / "run" / "search.json").read_text())
    wgan, dcgan = m["reruns"]["wgan"], m["reruns"]["dcgan"]
    with sqlite3.connect(tmp_path / "r.sqlite") as con:  # neither of wgan's re-runs has ended, dcgan's seed 2 not
        con.execute("DELETE FROM results WHERE job_key IN (?, ?, ?)", (*wgan, dcgan[1]))
        con.execute("INSERT OR REPLACE INTO metric_values VALUES (?, 'fid_best', 12.5)", (dcgan[0],))
    where = {**m["rerun_dirs"]["wgan"], **m["rerun_dirs"]["dcgan"]}
    assert [where[k]["seed"] for k in (*wgan, *dcgan)] == [1, 2, 1, 2]
    for key, text in ((wgan[0], "kimg,steps,fid\n0.128,2,80.5\n0.256,4,61.25\n"),
                      (dcgan[1], "kimg,steps,fid\n0.128,2,70.0\n"),
                      (dcgan[0], "kimg,steps,fid\n0.128,2,1.0\n")):  # dcgan seed 1 has its row: not shown
        (tmp_path / "run" / where[key]["dir"] / "eval_log.csv").write_text(text)
    md = write_search_report(tmp_path / "run").markdown
    summary = lambda model: next(line for line in md.splitlines() if line.startswith(f"| {model} |"))  # noqa: E731
    cells = {model: [c.strip() for c in summary(model).split("|")[1:-1]] for model in ("wgan", "dcgan")}
    assert cells["wgan"][3] == "running (under way: seed 1 at 0.256 kimg: 61.25)" and cells["wgan"][4] == "running"
    seed1 = next(r for r in done.reruns["dcgan"] if r["seed"] == 1)
    assert cells["dcgan"][3] == "12.50 (n=1) (under way: seed 2 at 0.128 kimg: 70.00)"
    assert cells["dcgan"][4] == f"{seed1['fid']:.2f} (n=1)"
    # the re-runs' curves: drawn once one has two points, linked from the tables and inlined in the page
    assert (tmp_path / "run" / "search-curves.png").is_file() and "](search-curves.png)" in md
    assert (tmp_path / "run" / "search-report.html").read_text().count("data:image/png;base64,") == 3


def test_a_report_reads_the_store_its_search_wrote(tmp_path):
    """--report-only with a store that does not exist, or another than the folder's search wrote to, is refused
    before anything is rewritten: the tables and the manifest stay as they were."""
    import shutil

    _run(tmp_path)
    before = {f: (tmp_path / "run" / f).read_text() for f in ("search.md", "search.json")}
    shutil.copy(tmp_path / "r.sqlite", tmp_path / "other.sqlite")
    for store, match in (("missing.sqlite", "does not exist"), ("other.sqlite", "wrote to")):
        with pytest.raises(BadInput, match=match):
            search(["dcgan", "wgan"], protocol=protocol(tmp_path), budget=BUDGET, backend=backend(Calls()),
                   options=SearchOptions(out=str(tmp_path / "run"), store=str(tmp_path / store), progress=False,
                                         report_only=True))
    assert not (tmp_path / "missing.sqlite").exists()
    assert {f: (tmp_path / "run" / f).read_text() for f in before} == before
    ok = search(["dcgan", "wgan"], protocol=protocol(tmp_path), budget=BUDGET, backend=backend(Calls()),
                options=options(tmp_path, report_only=True))
    assert ok.chosen and (tmp_path / "run" / "search.md").read_text() == before["search.md"]


def test_reruns_of_a_model_whose_trials_ended_run_before_the_next_models_trials(tmp_path):
    """One process searches models back to back: a model whose K trials have all ended has its re-runs queued
    ahead of the other models' trials (no core waits for a phase to end), and the trials go model by model in the
    order given, so the first model's rows land first. The results are those of searching each alone."""
    import json
    import sqlite3

    p = protocol(tmp_path)
    solo = search(["dcgan"], protocol=p, budget=BUDGET, options=options(tmp_path, "solo"), backend=backend(Calls()))
    keys = json.loads((tmp_path / "solo" / "search.json").read_text())["reruns"]["dcgan"]
    with sqlite3.connect(tmp_path / "r.sqlite") as con:  # dcgan's trials ended, its re-runs still to run
        con.execute(f"DELETE FROM results WHERE job_key IN ({','.join('?' * len(keys))})", keys)
    calls = Calls()
    both = search(["dcgan", "wgan"], protocol=p, budget=BUDGET, options=options(tmp_path), backend=backend(calls))
    names = [name for name, _, _ in calls.train]
    first_wgan = names.index("wgan.t00")
    assert {n for n in names[:first_wgan]} == {"dcgan-searched"}  # dcgan's re-runs, then wgan's trials
    trials = [n for n in names if ".t" in n]
    assert trials == sorted(trials, key=lambda n: int(n.split(".t")[1])) and trials[0] == "wgan.t00"
    assert both.chosen["dcgan"] == solo.chosen["dcgan"]
    assert [r["fid"] for r in both.reruns["dcgan"]] == [r["fid"] for r in solo.reruns["dcgan"]]


def test_a_models_reruns_start_as_soon_as_its_trials_have_ended(tmp_path, capsys):
    """Within one process: dcgan's re-runs go as soon as its last trial has ended, ahead of wgan's trials, and the
    manifest names them then (a report made meanwhile shows them under way). The start lines count them."""
    import json

    calls = Calls()
    res = search(["dcgan", "wgan"], protocol=protocol(tmp_path), budget=BUDGET,
                 options=options(tmp_path, progress=True), backend=backend(calls))
    names = [name for name, _, _ in calls.train]
    kind = lambda n: n.split(".t")[0] + (" trial" if ".t" in n else "")  # noqa: E731
    order = [k for i, k in enumerate(map(kind, names)) if i == 0 or k != kind(names[i - 1])]
    assert order == ["dcgan trial", "dcgan-searched", "wgan trial", "wgan-searched"]
    err = capsys.readouterr().err
    assert "search: all trials of dcgan have ended; their chosen settings are re-run next" in err
    first = err.index("all trials of dcgan have ended")
    assert err.index("dcgan-searched seed 1: training", first) < err.index("wgan.t00 seed 0: training")
    starts = [line for line in err.splitlines() if "] dcgan-searched seed 2: training" in line]
    assert len(starts) == 1 and starts[0].split("]")[0].endswith(f"/{6 + 2 + 6}")  # 12 trials and dcgan's 2 re-runs
    m = json.loads((tmp_path / "run" / "search.json").read_text())
    assert set(m["reruns"]) == set(m["rerun_dirs"]) == {"dcgan", "wgan"} and res.chosen.keys() == {"dcgan", "wgan"}


def test_no_setting_is_chosen_before_all_k_trials_have_ended(tmp_path):
    """A search stopped with trials still to run has no chosen setting in its report: the best of the trials so far
    is not the best of K."""
    import json
    import sqlite3

    from ganbench.bench.search.report import write_search_report

    done, _ = _run(tmp_path)
    m = json.loads((tmp_path / "run" / "search.json").read_text())
    pruned = next(r["job_key"] for r in done.trials["wgan"] if r["status"] == "pruned")
    with sqlite3.connect(tmp_path / "r.sqlite") as con:  # one of wgan's trials not ended, its re-runs not run
        con.execute(f"DELETE FROM results WHERE job_key IN ({','.join('?' * (1 + len(m['reruns']['wgan'])))})",
                    (pruned, *m["reruns"]["wgan"]))
    mid, calls = _run(tmp_path, report_only=True)
    assert calls.train == [] and "wgan" not in mid.chosen and mid.chosen["dcgan"] == done.chosen["dcgan"]
    row = next(line for line in mid.markdown.splitlines() if line.startswith("| wgan |"))
    assert [c.strip() for c in row.split("|")[1:-1]][1:5] == ["–"] * 4
    assert write_search_report(tmp_path / "run").chosen == mid.chosen


def test_the_log_says_what_a_trial_and_a_rerun_will_do(tmp_path, capsys):
    """A trial's start line gives its rungs (it may stop at the first), a re-run's its length and evaluation."""
    search(["dcgan"], protocol=protocol(tmp_path), budget=BUDGET, options=options(tmp_path, progress=True),
           backend=backend(Calls()))
    err = capsys.readouterr().err
    assert "dcgan.t00 seed 0: training up to 0.256 kimg, scored on " in err
    assert "samples at each rung (0.064, 0.128, 0.256 kimg) until pruned" in err
    rerun = next(line for line in err.splitlines() if "dcgan-searched seed 1: training" in line)
    assert rerun.endswith("samples through Inception")


def test_the_start_line_says_what_is_left_by_the_searchs_own_rows(tmp_path, capsys):
    """A resumed search's first line estimates what it still has to run (search/left.py) from its timed rows: here
    wgan's two re-runs, lost with their folders, at the hours per kimg of dcgan's (each 0.256 kimg in 1.5 h):
    3.0 job-hours, 1.5 h at 2 jobs at a time. The manifest names the models from the start."""
    import json
    import shutil
    import sqlite3

    from ganbench.bench.search.driver import _left_text

    _run(tmp_path)
    m = json.loads((tmp_path / "run" / "search.json").read_text())
    with sqlite3.connect(tmp_path / "r.sqlite") as con:
        con.execute("DELETE FROM results WHERE job_key IN (?, ?)", tuple(m["reruns"]["wgan"]))
        con.executemany("UPDATE results SET train_time_s = 3600, eval_time_s = 1800 WHERE job_key = ?",
                        [(k,) for k in m["reruns"]["dcgan"]])
    for where in m["rerun_dirs"]["wgan"].values():
        shutil.rmtree(tmp_path / "run" / where["dir"])
    store = Store(tmp_path / "r.sqlite")
    assert _left_text(tmp_path / "run", store, 2) == ("; by its own rows about 3.0 job-hours left (0 trial(s), "
                                                      "2 re-run(s)), 1.5 h at 2 jobs at a time")
    (tmp_path / "run" / "search.json").unlink()
    assert _left_text(tmp_path / "run", store, 2) == ""  # no manifest: nothing to say
    _run(tmp_path, progress=True)
    first = next(line for line in capsys.readouterr().err.splitlines() if "search: " in line)
    assert first.endswith("by its own rows about 3.0 job-hours left (0 trial(s), 2 re-run(s))")
    assert json.loads((tmp_path / "run" / "search.json").read_text())["reruns"].keys() == {"dcgan", "wgan"}


def test_default_setting_rows_fill_the_queue_behind_the_trials(tmp_path, capsys):
    """--with-defaults: each model's own setting at seed 0 under the study's budget, the same job (and key) as
    `ganbench run --seeds 0`, runs when no trial or re-run is left to start; a model whose search chose its own
    setting (trial 0) gets none, since its re-runs are that row."""
    from ganbench.bench.runner import RunOptions, run

    calls = Calls()
    res, _ = _run(tmp_path, calls, with_defaults=True, progress=True)
    want = [m for m in ("dcgan", "wgan") if res.chosen[m] != 0]
    names = [name for name, _, _ in calls.train]
    assert want and sorted(n for n in names if n in ("dcgan", "wgan")) == want  # one row each, seed 0
    last_other = max(i for i, n in enumerate(names) if n not in ("dcgan", "wgan"))
    assert min(i for i, n in enumerate(names) if n in want) > last_other  # after every trial and re-run
    assert f"then {len(want)} default-setting row(s) as workers free up: {', '.join(want)}" in capsys.readouterr().err
    plain = run(want, seeds=(0,), budget=BUDGET, options=RunOptions(out=str(tmp_path / "plain"),
                store=str(tmp_path / "r.sqlite"), progress=False), backend=backend(again := Calls()))
    assert again.train == [] and plain.skipped == len(want)  # `ganbench run` finds them done: the same jobs

    from ganbench.bench.search.driver import _default_jobs
    from ganbench.zoo.baselines import load_baseline
    specs = [load_baseline("dcgan"), load_baseline("wgan")]
    jobs = _default_jobs(specs, {"dcgan": 0, "wgan": 3}, "fashion-mnist", BUDGET, tmp_path / "run",
                         options(tmp_path), None)  # dcgan's search chose its own setting: its re-runs are the row
    assert [(j.spec.name, j.seed) for j in jobs] == [("wgan", 0)]
