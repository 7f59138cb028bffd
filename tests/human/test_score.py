"""`human score` and `human export`: HYPE∞ per model into the store, the tables and the report; the CLI."""

import csv
import html
import io
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from ganbench.bench.store import Store
from ganbench.cli import main
from ganbench.human.score import score
from ganbench.metrics.hype import answer_table, hype_scores

from .conftest import SMALL, truth_of


def _evaluate(study, rng, wrong_rate, fail=False, stop_after=None):
    """One evaluator through the Study API: the tutorial and the qualification right (or all wrong), then answers
    wrong at ``wrong_rate``."""
    state = study.new_session()
    while state["next"] and (stop_after is None or state["position"] < stop_after):
        image = state["next"]["id"]
        truth = truth_of(study, image)
        flip = fail if state["phase"] != "study" else rng.random() < wrong_rate
        state = study.answer(state["evaluator"], image, ("real" if truth == "fake" else "fake") if flip else truth,
                             rng.uniform(100, 3000))
    return state


@pytest.fixture
def answered(study):
    rng = random.Random(0)
    for k in range(6):
        _evaluate(study, rng, wrong_rate=0.3)
    _evaluate(study, rng, 0.3, fail=True)  # fails the qualification: left out
    _evaluate(study, rng, 0.3, stop_after=SMALL.tutorial + SMALL.qualification + 4)  # stops half way: left out
    return study


def test_score_counts_finished_evaluators_and_joins_the_tables(answered, tiny_run):
    run_dir, store_path = tiny_run
    results = {r["model"]: r for r in score(answered.ref, SMALL)}
    with answered.ref.store.read() as con:
        done = {m: n for m, n in con.execute("SELECT model, count(*) FROM human_sessions WHERE state = 'done' "
                                             "GROUP BY model")}
        rows = [tuple(r) for r in con.execute(
            "SELECT a.model, a.evaluator, a.image_id, a.truth, a.answer FROM human_answers a JOIN human_sessions s "
            "ON a.evaluator = s.evaluator WHERE s.state = 'done' AND a.role = 'study'")]
    assert sum(done.values()) == 6
    for model, res in results.items():
        mine = [r[1:] for r in rows if r[0] == model]
        expected = hype_scores(answer_table(mine)) if mine else None
        assert res["evaluators"] == done.get(model, 0) and res["answers"] == len(mine)
        if expected:
            assert res["hype_inf"] == pytest.approx(expected["hype_inf"])
            assert res["hype_inf_ci"][0] <= res["hype_inf"] <= res["hype_inf_ci"][1]
    # the values sit on the model's rows in the store, as metric values
    stored = {r["model"]: r for r in Store(store_path).query()}
    for model, res in results.items():
        assert stored[model]["hype_inf"] == pytest.approx(res["hype_inf"])
        assert stored[model]["hype_evaluators"] == res["evaluators"]
        assert stored[model]["hype_inf_lo"] == pytest.approx(res["hype_inf_ci"][0])
    # ... and in every table format and the report, as a column marked with the evaluator count
    md = (run_dir / "table.md").read_text()
    for model, res in results.items():
        cell = f"{100 * res['hype_inf']:.1f} [{100 * res['hype_inf_ci'][0]:.1f}, {100 * res['hype_inf_ci'][1]:.1f}] " \
               f"(n={res['evaluators']})"
        line = next(line for line in md.splitlines() if line.startswith(f"| {model} "))
        assert cell in line
        assert cell in (run_dir / "table.html").read_text() and cell in (run_dir / "report.html").read_text()
    assert "HYPE∞ (%) ↑" in md and "Zhou et al. 2019" in md
    assert "HYPE$_\\infty$ (\\%)" in (run_dir / "table.tex").read_text()
    frame = list(csv.DictReader(io.StringIO((run_dir / "table.csv").read_text())))
    assert {r["model"]: float(r["hype_inf_count"]) for r in frame} == {m: r["evaluators"] for m, r in results.items()}
    assert "FID vs best (Welch)" in md  # FID stays the tested metric
    # the tables and the report name how the interval was made, and the study's protocol
    note = "95% percentile bootstrap over evaluators (the paper's), 200 replicates, seed 0"
    for name in ("table.md", "table.html", "table.tex", "report.html"):
        text = html.unescape((run_dir / name).read_text())
        assert note in text and "a qualification of 4 images without feedback (the paper's)" in text, name
        assert "real images from the training split (the paper's)" in text, name
    with answered.ref.store.read() as con:
        records = {r["model"]: dict(r) for r in con.execute("SELECT * FROM human_scores")}
    assert {m: (r["bootstrap"], r["replicates"], r["evaluators"]) for m, r in records.items()} == \
        {m: ("evaluators", 200, res["evaluators"]) for m, res in results.items() if res["evaluators"]}


def test_the_report_shows_per_image_galleries(answered, tiny_run):
    """Per model: the fakes most often judged real and the reals most often judged fake, each with its count, the
    counts and the order those of a hand count over the finished evaluators' answers, the pictures the stored PNGs."""
    import base64
    from collections import Counter

    from ganbench.bench.report_human import GALLERY_IMAGES

    run_dir, _ = tiny_run
    results = score(answered.ref, SMALL)
    page = (run_dir / "report.html").read_text()
    assert "Human study (HYPE∞): per image" in page
    with answered.ref.store.read() as con:
        answers = [tuple(r) for r in con.execute(
            "SELECT a.model, a.image_id, a.truth, a.answer FROM human_answers a JOIN human_sessions s ON a.evaluator = "
            "s.evaluator WHERE s.state = 'done' AND a.role = 'study'")]
        png = {r[0]: bytes(r[1]) for r in con.execute("SELECT image_id, png FROM human_images")}
    sections = re.split(r"<h3>", page.split("Human study (HYPE∞): per image")[1])
    for res in results:
        if not res["evaluators"]:
            assert not any(s.startswith(f"{res['model']}</h3>") for s in sections)
            continue
        section = next(s for s in sections if s.startswith(f"{res['model']}</h3>"))
        for truth, said in (("fake", "real"), ("real", "fake")):
            mine = [a for a in answers if a[0] == res["model"] and a[2] == truth]
            n, wrong = Counter(a[1] for a in mine), Counter(a[1] for a in mine if a[3] != truth)
            expected = sorted(n, key=lambda i: (-wrong[i] / n[i], -n[i], i))[:GALLERY_IMAGES]
            gallery = section.split(f"data-gallery='{truth}'>")[1].split("</div>")[0]
            shown = re.findall(r"data-image='(\w+)'><img [^>]*src='data:image/png;base64,([^']+)'><figcaption>"
                               r"(\d+) of (\d+) judged (\w+)</figcaption>", gallery)
            assert shown and [s[0] for s in shown] == expected
            for image, b64, k, of, judged in shown:
                assert (int(k), int(of), judged) == (wrong[image], n[image], said)
                assert base64.b64decode(b64) == png[image]


def test_score_is_seeded(answered):
    a = score(answered.ref, SMALL, write=False)
    b = score(answered.ref, SMALL, write=False)
    assert a == b


def test_cli_score_and_export(answered, tiny_run, tmp_path, capsys):
    run_dir, store_path = tiny_run
    assert main(["human", "score", str(run_dir), "--replicates", "100", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"hype_inf"' in out and '"replicates": 100' in out and '"bootstrap": "evaluators"' in out
    assert main(["human", "score", str(run_dir), "--replicates", "100"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"dcgan: HYPE∞ \d+\.\d% \[", out) and "percentile bootstrap over evaluators (the paper's)" in out
    assert main(["human", "score", str(run_dir), "--replicates", "100", "--bootstrap", "two-way"]) == 0
    assert "two-way percentile bootstrap over evaluators and images" in capsys.readouterr().out
    assert "95% two-way percentile bootstrap over evaluators and images (Owen 2007; wider than the paper's), 100 " \
           "replicates" in (run_dir / "table.md").read_text()
    assert main(["human", "export", str(run_dir), "--per-image", "--out", str(tmp_path / "images.csv")]) == 0
    images = list(csv.DictReader(open(tmp_path / "images.csv")))
    with answered.ref.store.read() as con:
        study_answers = con.execute("SELECT count(*) FROM human_answers a JOIN human_sessions s ON a.evaluator = "
                                    "s.evaluator WHERE s.state = 'done' AND a.role = 'study'").fetchone()[0]
    assert sum(int(r["answers"]) for r in images) == study_answers
    for r in images:
        assert int(r["judged_real"]) + int(r["judged_fake"]) == int(r["answers"])
        assert int(r["wrong"]) == int(r["judged_real"] if r["truth"] == "fake" else r["judged_fake"])
        assert float(r["wrong_rate"]) == pytest.approx(int(r["wrong"]) / int(r["answers"]))
        assert (r["image_model"] in ("dcgan", "wgan")) == (r["truth"] == "fake")
    assert main(["human", "export", str(run_dir), "--out", str(tmp_path / "answers.csv")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "answers.csv")))
    with answered.ref.store.read() as con:
        n = con.execute("SELECT count(*) FROM human_answers").fetchone()[0]
    assert len(rows) == n and {r["role"] for r in rows} == {"tutorial", "qualification", "study"}
    assert all(r["correct"] == str(int(r["truth"] == r["answer"])) for r in rows)
    assert main(["human", "export", "--store", str(store_path)]) == 0
    assert capsys.readouterr().out.count("\n") == n + 1


@pytest.mark.parametrize("argv,message", [
    (["serve", "RUN", "--port", "70000"], "--port"),
    (["serve", "RUN", "--models", "dcgan,nope"], "not in the run"),
    (["serve", "RUN", "--images", "7"], "even"),
    (["serve", "RUN", "--images", "-2"], ">= 0"),
    (["serve", "RUN", "--images", "200", "--pool", "50"], "--pool"),
    (["serve", "RUN", "--qualification", "5"], "even"),
    (["serve", "RUN", "--qualification", "-2"], "--qualification"),
    (["serve", "RUN", "--qualification", "100", "--qualification-pool", "20"], "--qualification-pool"),
    (["serve", "RUN", "--reals", "test"], "invalid choice"),
    (["serve", "RUN", "--seed", "-1"], "--seed"),
    (["score", "RUN", "--bootstrap", "images"], "invalid choice"),
    (["export", "--per-image", "--store", "NOWHERE.sqlite"], "needs the RUN_DIR"),
    (["serve", "RUN", "--host", "no-such-host.invalid"], "cannot be resolved"),
    (["serve", "RUN", "--device", "tpu"], "--device"),
    (["serve", "NOT_A_RUN"], "not a ganbench run folder"),
    (["score", "RUN", "--replicates", "0"], "--replicates"),
    (["export", "--store", "NOWHERE.sqlite"], "no results store"),
    (["export", "RUN", "--out", "RUN/table.md/x.csv"], "--out"),
    (["score", "RUN", "--store", "NOWHERE.sqlite"], "no results store"),
    (["serve", "RUN", "--variant", "timed"], "invalid choice"),
    (["serve", "RUN", "--variant", "time", "--start-ms", "50"], "--start-ms"),
    (["serve", "RUN", "--variant", "time", "--step-ms", "0"], "--step-ms"),
    (["serve", "RUN", "--variant", "time", "--mask-ms", "-5"], "--mask-ms"),
    (["serve", "RUN", "--variant", "time", "--fixation-ms", "nan"], "--fixation-ms"),
])
def test_cli_bad_input_is_one_line_and_exit_2(tiny_run, tmp_path, capsys, argv, message):
    run_dir, store_path = tiny_run
    argv = [str(run_dir) if a == "RUN" else str(tmp_path / a) if a in ("NOT_A_RUN", "NOWHERE.sqlite") else
            a.replace("RUN/", f"{run_dir}/") for a in argv]
    before = (store_path.stat().st_mtime_ns, sorted(p.name for p in run_dir.iterdir()))
    try:
        code = main(["human", *argv])
    except SystemExit as e:  # argparse's own errors (an unknown choice)
        code = e.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ganbench: error:") and message in err and "\n" not in err
    assert (store_path.stat().st_mtime_ns, sorted(p.name for p in run_dir.iterdir())) == before


def test_cli_serve_refuses_pools_too_small_for_the_protocol(study, tiny_run, capsys):
    """A study prepared with qualification pools of 4 cannot serve the paper's qualification of 100: one line, exit
    2, the store unchanged."""
    run_dir, store_path = tiny_run
    before = store_path.stat().st_mtime_ns
    assert main(["human", "serve", str(run_dir), "--images", "10", "--tutorial", "2", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert "real images: 4 qualification images, 50 needed" in err and "\n" not in err
    assert store_path.stat().st_mtime_ns == before


@pytest.mark.parametrize("action", ["serve", "score", "export"])
def test_cli_help(action, capsys):
    with pytest.raises(SystemExit) as e:
        main(["human", action, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert {"serve": "a random guesser passes 1 time in 3,709", "score": "--bootstrap {evaluators,two-way}",
            "export": "--per-image"}[action] in " ".join(out.split())


def test_cli_port_in_use(study, tiny_run, capsys):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert main(["human", "serve", str(tiny_run[0]), "--port", str(s.getsockname()[1])]) == 2
    assert "pick another --port" in capsys.readouterr().err


#: ``ganbench`` as ``python -m ganbench.cli`` runs it, with Ctrl-C turned back into KeyboardInterrupt first: a
#: shell's background job (``make test &``, nohup) inherits SIGINT as ignored, and Python then never raises it,
#: so the server could not be stopped the way a user stops it.
_CLI_WITH_CTRL_C = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                    "from ganbench.cli import main; sys.exit(main())")


def _serve(run_dir, *options: str, until: str):
    """`ganbench human serve RUN_DIR` in its own process, read until a stderr line holds ``until``: (process, the
    stderr read so far). ``-X faulthandler``: should it not stop, SIGABRT makes it print every thread's stack."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", "-c", _CLI_WITH_CTRL_C, "human", "serve",
                             str(run_dir), "--port", "0", "--images", "10", "--tutorial", "2", "--qualification", "4", *options],
                            stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    deadline = time.time() + 120
    while time.time() < deadline and not any(until in line for line in lines):
        lines.append(proc.stderr.readline())
    return proc, "".join(lines)


def _stop(proc, sig: int, what: str) -> str:
    """Send ``sig`` and wait (generous: 2 cores may be shared with training jobs); the rest of stderr. A server
    still up after 60 s fails the test with its threads' stacks."""
    proc.send_signal(sig)
    try:
        return proc.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        pytest.fail(f"human serve did not stop within 60 s of {what}; its threads:\n"
                    f"{proc.communicate(timeout=30)[1][-6000:]}")


def test_cli_serve_exposed_says_so(study, tiny_run):
    """`ganbench human serve` in its own process (pools already drawn): it serves, and warns when exposed."""
    run_dir, _ = tiny_run
    proc, text = _serve(run_dir, "--host", "0.0.0.0", until="exposed")
    try:
        assert "warning: the study is exposed" in text
        port = int(re.search(r"study at http://0\.0\.0\.0:(\d+)/", text).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/study", timeout=10) as r:
            assert r.status == 200 and b'"images": 10' in r.read()
    finally:
        _stop(proc, signal.SIGINT, "Ctrl-C")
    assert proc.returncode == 0


def test_cli_serve_stops_cleanly_on_sigterm(study, tiny_run):
    """`kill PID` (SIGTERM, as a service manager or a container stop sends) ends the server as Ctrl-C does:
    status 0, a last line saying the answers are saved, and the port released."""
    run_dir, _ = tiny_run
    proc, text = _serve(run_dir, until="study at")
    try:
        port = int(re.search(r"study at http://127\.0\.0\.1:(\d+)/", text).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/study", timeout=10) as r:
            assert r.status == 200
        rest = _stop(proc, signal.SIGTERM, "SIGTERM")
    finally:
        proc.kill()
    assert proc.returncode == 0, rest
    assert "study stopped; every answer acknowledged so far is saved" in rest and "Traceback" not in rest
    with pytest.raises(OSError):  # nobody listens there any more
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/study", timeout=5)


def test_the_column_survives_a_leaderboard_csv(answered, tiny_run):
    """`compare --against table.csv` reads the column back (value, interval and count) and shows it alike."""
    from ganbench.bench.compare import leaderboard_from_csv
    from ganbench.bench.jobs import protocol_for
    from ganbench.bench.tables import render

    from tests.helpers import tiny_budget

    run_dir, _ = tiny_run
    results = [r for r in score(answered.ref, SMALL) if r["evaluators"]]
    frame = leaderboard_from_csv(run_dir / "table.csv", "fashion-mnist", protocol_for(tiny_budget("tiny-human", samples=40)))
    md = render(frame, "md")
    for r in results:
        assert f"(n={r['evaluators']})" in next(line for line in md.splitlines() if line.startswith(f"| {r['model']} "))
