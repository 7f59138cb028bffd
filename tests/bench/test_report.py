"""report: tables rewritten and one self-contained HTML page with FID curve, loss curves and sample grids."""

import base64
import re

import pytest

from ganbench.bench.report import make_report
from ganbench.bench.runner import RunOptions, run
from ganbench.config import Budget
from ganbench.errors import BadInput

from ..fakes import Calls, fake_backend

# evaluated at 0.128 kimg and at the end (0.256): an FID-over-training curve of two points per job
INTERVALS = Budget("tiny-intervals", kimg=0.256, num_samples=16, ref_samples=16, eval_every_kimg=0.128,
                   curve_samples=16)


def test_report_has_tables_and_images(tmp_path):
    calls = Calls()
    run(models=["dcgan", "wgan"], budget=INTERVALS, metrics=("fid",), backend=fake_backend(calls),
        options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))
    assert [c for c in calls.train if c[0] == "dcgan"] == [("dcgan", 0, 0.128), ("dcgan", 0, 0.256)]
    # per model: the curve's first point, then the final evaluation, which at the curve's N (curve_samples ==
    # num_samples) is also the curve's last point (runner.Curve); then the floor row
    assert [e[0] for e in calls.evaluate] == [("fid",)] * 5
    logs = sorted((tmp_path / "run" / "jobs").rglob("eval_log.csv"))
    assert len(logs) == 2 and all([line.split(",")[0] for line in p.read_text().splitlines()[1:]] == ["0.128", "0.256"]
                                  for p in logs)
    (tmp_path / "run" / "table.md").unlink()
    out = make_report(tmp_path / "run")
    page = out.read_text()
    assert (tmp_path / "run" / "table.md").is_file()  # regenerated
    images = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    # 2 sample grids + 2 loss plots + 1 FID-over-training plot + the FID-by-model and best-checkpoint-FID-by-model
    # plots, all decodable PNGs (the fakes' checkpoints draw no nearest-neighbour gallery)
    assert len(images) == 7 and all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    assert "alt='plot: fid by model'" in page and "alt='plot: fid_best by model'" in page
    assert "FID over training" in page and "<table" in page and "dcgan (seed 0): ok" in page
    assert "src='http" not in page and "src=\"http" not in page  # self-contained


def test_report_of_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(BadInput, match="not a ganbench run folder"):
        make_report(tmp_path)


def test_a_curve_from_a_stored_row_marks_its_schedules_phases(tmp_path):
    """A growing model's phase lines come from the row's stored training provenance where its job folder is gone
    (the pggan board, rebuilt on a new machine, drew width 16's curve without them, 2026-12-05)."""
    import matplotlib.pyplot as plt

    from ganbench.bench.report import curve_figure, schedule_phases
    from tests.helpers import load_script

    phases = [[0.0, "stabilise 4x4"], [50.0, "fade in 8x8"], [100.0, "stabilise 8x8"]]
    row = {"model": "pggan-w16", "seed": 0, "out_dir": str(tmp_path / "gone"), "fid": 37.4,
           "provenance": {"curve": {"points": [{"kimg": 250.0, "fid": 201.7}, {"kimg": 1000.0, "fid": 37.4}]},
                          "train": {"provenance": {"schedule": {"name": "progressive", "phases": phases}}}}}
    assert schedule_phases(row["provenance"]["train"]["provenance"]) == [(0.0, "stabilise 4x4"),
                                                                          (50.0, "fade in 8x8"),
                                                                          (100.0, "stabilise 8x8")]
    assert schedule_phases({}) == [] and schedule_phases({"schedule": "constant"}) == []
    jobs = load_script("make_leaderboard").curve_jobs([row, {**row, "model": "real-data"}])
    assert [j["model"] for j in jobs] == ["pggan-w16"]
    fig = curve_figure(jobs)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["fade in 8x8", "stabilise 8x8"]  # the first phase's start is 0
    assert sorted(line.get_xdata()[0] for line in ax.lines[1:]) == [50.0, 100.0]
    plt.close(fig)
    fig = curve_figure([{**jobs[0], "phases": []}])  # nothing stored, no folder: no lines
    assert len(fig.axes[0].texts) == 0 and len(fig.axes[0].lines) == 1
    plt.close(fig)


def test_models_that_share_a_schedule_share_its_phase_lines(tmp_path):
    """Two widths of pggan on one board grow on the same schedule: its lines are drawn once, unnamed, where the
    pggan board drew them twice with one model's names over the other's (2026-12-05); a schedule that only some of
    the plot's models follow is named by them."""
    import matplotlib.pyplot as plt

    from ganbench.bench.report import curve_figure

    phases = [(0.0, "stabilise 4x4"), (50.0, "fade in 8x8"), (100.0, "stabilise 8x8")]
    points = [{"kimg": 250.0, "fid": 200.0}, {"kimg": 1000.0, "fid": 30.0}]

    def job(model, seed=0, phases=phases):
        return {"model": model, "seed": seed, "out_dir": str(tmp_path / "gone"), "points": points, "phases": phases}

    def labels(jobs):
        fig = curve_figure(jobs)
        texts = [t.get_text() for t in fig.axes[0].texts]
        plt.close(fig)
        return texts

    assert labels([job("pggan-w16"), job("pggan-w32"), job("pggan-w32", 1)]) == ["fade in 8x8", "stabilise 8x8"]
    assert labels([job("pggan-w16"), job("pggan-w32", phases=[]), job("pggan-w32", 1)]) == [
        "fade in 8x8", "stabilise 8x8"]  # a seed without phases: the model's next seed marks them
    assert labels([job("pggan-w16"), job("pggan-w32"), job("wgan-gp", phases=[])]) == [
        "pggan-w16, pggan-w32: fade in 8x8", "pggan-w16, pggan-w32: stabilise 8x8"]
    other = [(0.0, "stabilise 4x4"), (70.0, "fade in 8x8")]
    assert labels([job("pggan-w16"), job("pggan-even", phases=other)]) == [
        "pggan-w16: fade in 8x8", "pggan-w16: stabilise 8x8", "pggan-even: fade in 8x8"]


def test_each_model_keeps_one_colour_and_each_seed_one_line_style(tmp_path):
    """Four models on three seeds, as the modern board draws them: eleven lines, where matplotlib's cycle of ten
    colours gave the fourth model's seed 1 the first model's colour (2026-12-07). Now a model's seeds share its
    colour, no two models share one, and a seed keeps its line style across models."""
    import matplotlib.pyplot as plt

    from ganbench.bench.report import curve_figure

    points = [{"kimg": 250.0, "fid": 50.0}, {"kimg": 1000.0, "fid": 30.0}]
    jobs = [{"model": m, "seed": s, "out_dir": str(tmp_path / "gone"), "points": points, "phases": []}
            for m in ("base", "ns", "lecam") for s in (0, 1, 2)]
    jobs += [{"model": "ns-lecam", "seed": s, "out_dir": str(tmp_path / "gone"), "points": points, "phases": []}
             for s in (0, 1)]
    fig = curve_figure(jobs)
    by_label = {line.get_label(): line for line in fig.axes[0].lines}
    plt.close(fig)
    assert len(by_label) == 11
    colour = {m: {by_label[f"{m} s{s}"].get_color() for s in (0, 1, 2) if f"{m} s{s}" in by_label}
              for m in ("base", "ns", "lecam", "ns-lecam")}
    assert all(len(c) == 1 for c in colour.values())
    assert len({next(iter(c)) for c in colour.values()}) == 4
    style = {s: {by_label[f"{m} s{s}"].get_linestyle() for m in colour if f"{m} s{s}" in by_label} for s in (0, 1, 2)}
    assert all(len(v) == 1 for v in style.values()) and len({next(iter(v)) for v in style.values()}) == 3


def test_a_job_stopped_mid_training_reports_how_far_it_got(tmp_path):
    """A report read while the only model's job is unfinished said "0.0 kimg of training per model" (the floor's
    row, which trains nothing, spoke for the budget) and "not run yet" of a job that had trained to 504 of
    1000 kimg (2026-12-07). Now the header leaves training length to the models' rows and the job says how far
    its train_log.csv got, in how long, how long the rest would take at that pace, and its curve's points so far."""
    from ganbench.bench.runner import read_manifest
    from ganbench.bench.store import Store

    run(models=["dcgan"], budget=INTERVALS, metrics=("fid",), backend=fake_backend(Calls()),
        options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))
    job = read_manifest(tmp_path / "run")["jobs"][0]
    page = make_report(tmp_path / "run").read_text()
    assert "0.256 kimg of training per model" in page and "dcgan (seed 0): ok" in page
    assert Store(tmp_path / "r.sqlite").delete([job["key"]]) == 1  # as if stopped: no result, its log kept
    log = tmp_path / "run" / "jobs" / job["out_dir"].split("/jobs/")[1] / "train_log.csv"
    log.write_text("step,kimg,d_loss,g_loss,images_per_s,wall_time_s\n"  # two steps of batch 64, 45 min each
                   "1,0.064,1.3,0.7,0.02,2700\n2,0.128,1.2,0.8,0.02,5400\n")
    (log.parent / "eval_log.csv").write_text("kimg,steps,fid,eval_s\n0.128,2,301.25,12.5\n")  # its first point
    page = make_report(tmp_path / "run").read_text()
    assert "kimg of training per model" not in page  # only the floor's row is left: it states no training length
    assert "1 of 1 job(s) have no result yet" in page
    assert ("dcgan (seed 0): unfinished (trained to 0.128 of 0.256 kimg in 1.5 h; about 1.5 h more at that pace, "
            "evaluations aside; the curve's FID so far: 301.25 at 0.128 kimg; the same command resumes it from its "
            "last checkpoint)") in page
    (log.parent / "eval_log.csv").unlink()
    log.write_text("step,kimg,d_loss,g_loss\n1,0.064,1.3,0.7\n")  # a log without the clock: no time stated
    page = make_report(tmp_path / "run").read_text()
    assert "dcgan (seed 0): unfinished (trained to 0.064 of 0.256 kimg; the same command" in page
    log.unlink()
    assert "dcgan (seed 0): not run yet" in make_report(tmp_path / "run").read_text()


def test_a_penalty_logged_beside_the_losses_gets_a_panel_of_its_own(tmp_path):
    """The loss plot drew only the columns named "loss", so a LeCam or gradient-penalty run showed neither its
    penalty nor D's total (2026-12-07). Now the losses and D's total share one panel and the other logged terms
    (here a gradient penalty and ADA's p) have a second; the speed and clock columns are on neither, and a run
    without penalties keeps one panel."""
    import matplotlib.pyplot as plt

    from ganbench.bench.report import loss_figure

    job = {"model": "wgan-gp", "seed": 0, "out_dir": str(tmp_path)}
    (tmp_path / "train_log.csv").write_text(
        "step,kimg,d_loss,gp,ada_p,d_total,g_loss,images_per_s,wall_time_s\n"
        "25,1.6,-1.0,0.5,0.0,4.0,2.0,300,5\n50,3.2,-0.8,0.25,0.01,1.7,1.5,310,10\n")
    fig = loss_figure(job)
    assert fig._suptitle.get_text() == "wgan-gp seed 0"
    panels = {ax.get_title(): {line.get_label(): list(line.get_ydata()) for line in ax.lines}
              for ax in fig.axes}
    plt.close(fig)
    assert panels == {"losses": {"d_loss": [-1.0, -0.8], "d_total": [4.0, 1.7], "g_loss": [2.0, 1.5]},
                      "penalties and other terms": {"gp": [0.5, 0.25], "ada_p": [0.0, 0.01]}}
    (tmp_path / "train_log.csv").write_text("step,kimg,d_loss,g_loss,images_per_s\n25,1.6,0.7,1.2,300\n")
    fig = loss_figure(job)
    assert len(fig.axes) == 1 and [line.get_label() for line in fig.axes[0].lines] == ["d_loss", "g_loss"]
    plt.close(fig)
