"""``ganbench report RUN_DIR``: tables again, plus a self-contained HTML page with plots.

Plots (matplotlib, embedded as base64 PNGs so the page travels alone): each headline metric per model
with its 95% CI and the real-data floor, precision against recall and density against coverage
(``report_plots``), every model's FID over training on one plot when the budget evaluated at intervals
(a schedule's phases marked), loss curves and their penalties' terms from each job's ``train_log.csv``, one
sample grid per model, each model's samples over their nearest training images, and a human study's per-image
galleries (``report_human``). A job with no result yet says how far it trained, how long that took and the rest
would take, and its curve's points so far (``job_progress``).
"""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path
from typing import Sequence

from ..io import write_text_atomic
from ..progress import duration
from .human_records import human_notes
from .jobs import named_rows
from .markdown_html import img
from .report_human import human_section
from .runner import EVAL_LOG, read_manifest
from .store import Store
from .report_plots import comparison_plots, figure_png
from .tables import GROUP_AXES, axis_tables, feature_space, protocol_header, render, summary_frame, write_tables

REPORT = "report.html"
TRAIN_LOG = "train_log.csv"
#: Loss-curve points kept per job (longer logs are subsampled evenly).
MAX_CURVE_POINTS = 2000


def read_csv_columns(path: Path) -> dict[str, list[float]]:
    """A numeric CSV as columns (non-numeric cells become NaN); empty when the file is missing."""
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols: dict[str, list[float]] = {}
    for r in rows:
        for k, v in r.items():
            try:
                cols.setdefault(k, []).append(float(v))
            except (TypeError, ValueError):
                cols.setdefault(k, []).append(float("nan"))
    return cols


def curve_figure(jobs: Sequence[dict], title: str = "FID over training", curve_samples: int | None = None):
    """A matplotlib figure of FID against kimg from each job's eval_log.csv, or from its stored curve (``points``,
    the row's ``provenance["curve"]["points"]``) where the job has one: a finished job's curve outlives its folder
    (one line per model and seed; all points at the curve's own N, the end of training included), or None when no
    job has two points. Each model has one colour and each seed one line style, so that a board of many seeds
    does not run out of colours and give two models the same one. A schedule's phases are marked, from the job's
    ``phases`` (a stored row's, see ``schedule_phases``) or else its folder's status.json."""
    import matplotlib.pyplot as plt

    lines = []
    for j in jobs:
        if j.get("points"):
            xs, ys = [float(p["kimg"]) for p in j["points"]], [float(p["fid"]) for p in j["points"]]
        else:
            log = read_csv_columns(Path(j["out_dir"]) / EVAL_LOG)
            xs, ys = list(log.get("kimg", [])), list(log.get("fid", []))
        if len(xs) >= 2:
            lines.append((j["model"], j["seed"], xs, ys))
    if not lines:
        return None
    names = list(dict.fromkeys(model for model, *_ in lines))
    seeds = list(dict.fromkeys(seed for _, seed, *_ in lines))  # in order of appearance: any seed type
    colours = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    styles = ("-", "--", ":", "-.")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for model, seed, xs, ys in lines:
        ax.plot(xs, ys, marker="o", markersize=3, label=f"{model} s{seed}", color=colours(names.index(model) % 20),
                linestyle=styles[seeds.index(seed) % len(styles)])
    for bounds, models in phase_groups(jobs).items():  # once per schedule, named where some models lack it
        mark_phases(ax, list(bounds), "" if models == {j["model"] for j in jobs} else ", ".join(sorted(models)))
    ax.set_xlabel("kimg (real images shown to D, thousands)")
    ax.set_ylabel(f"FID (N={curve_samples})" if curve_samples else "FID")
    ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def fid_curve_plot(jobs: Sequence[dict], curve_samples: int | None = None) -> str | None:
    """The FID-vs-kimg figure as a base64 PNG."""
    fig = curve_figure(jobs, curve_samples=curve_samples)
    return None if fig is None else figure_png(fig)


def phase_groups(jobs: Sequence[dict]) -> dict[tuple, set[str]]:
    """The distinct schedules among ``jobs`` (progressive growing's phases, ``[(kimg, name)]`` as a tuple), each
    with the models that follow it: two widths of pggan share one set of lines. A job's phases are its own
    (``phases``, from a stored row) or else its folder's status.json, read until one seed of the model has them."""
    groups: dict[tuple, set[str]] = {}
    for j in jobs:
        if any(j["model"] in models for models in groups.values()):
            continue  # marked by an earlier seed; a seed without phases (its folder gone, none stored) leaves it open
        bounds = j.get("phases") or phase_boundaries(j["out_dir"])
        if bounds:
            groups.setdefault(tuple((float(k), str(n)) for k, n in bounds), set()).add(j["model"])
    return groups


def phase_boundaries(out_dir: str | Path) -> list[tuple[float, str]]:
    """Where a schedule's phases start, ``[(kimg, name)]``, from the job's status.json (empty for ``constant``)."""
    try:
        prov = json.loads((Path(out_dir) / "status.json").read_text()).get("provenance", {})
    except (OSError, ValueError):
        return []
    return schedule_phases(prov)


def schedule_phases(train_provenance: dict) -> list[tuple[float, str]]:
    """``[(kimg, name)]`` from a training provenance's ``schedule`` (status.json's, or a stored row's
    ``provenance["train"]["provenance"]``, which outlives the job's folder); empty without one."""
    schedule = (train_provenance or {}).get("schedule")
    return [(float(k), str(n)) for k, n in schedule.get("phases", [])] if isinstance(schedule, dict) else []


def mark_phases(ax, boundaries: list[tuple[float, str]], model: str = "") -> None:
    """Dotted vertical lines at the phases' starts (kimg), labelled along the top (with the model's name when the
    plot holds several models)."""
    for kimg, name in boundaries[1:]:
        ax.axvline(kimg, color="grey", linestyle=":", linewidth=0.8)
        ax.text(kimg, 1.0, f"{model}: {name}" if model else name, transform=ax.get_xaxis_transform(), rotation=90,
                fontsize=6, va="top", ha="right", color="grey")


#: train_log.csv columns that are neither a loss nor a term of one (``train.hooks``).
NOT_TERMS = ("step", "kimg", "images_per_s", "wall_time_s")


def loss_figure(job: dict):
    """A matplotlib figure of the job's train_log.csv against kimg (None without a loss column): its losses (D's and
    G's, and D's total where penalties add to it) on one panel, and the terms logged beside them (a gradient
    penalty, R1, LeCam, bCR, ADA's p: every other numeric column) on a second, since their scale is not the
    losses'. A schedule's phase boundaries are marked on both."""
    import matplotlib.pyplot as plt

    log = read_csv_columns(Path(job["out_dir"]) / TRAIN_LOG)
    step_col = next((c for c in ("kimg", "step", "steps", "iteration") if c in log), None)
    losses = [c for c in log if "loss" in c.lower() or c == "d_total"]
    terms = [c for c in log if c not in losses and c not in NOT_TERMS and c != step_col
             and any(v == v for v in log[c])]  # a column of text reads as NaN throughout: not a term
    if not step_col or not losses:
        return None
    n = len(log[step_col])
    stride = max(1, n // MAX_CURVE_POINTS)
    panels = [("losses", losses)] + ([("penalties and other terms", terms)] if terms else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3), squeeze=False,
                             layout="constrained")  # the title above the panels' own, not over them
    for ax, (what, cols) in zip(axes[0], panels):
        for c in cols:
            ax.plot(log[step_col][::stride], log[c][::stride], label=c, linewidth=0.8, marker="." if n < 50 else None)
        ax.set_xlabel(step_col)
        if step_col == "kimg":
            mark_phases(ax, phase_boundaries(job["out_dir"]))
        ax.set_title(what, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(f"{job['model']} seed {job['seed']}", fontsize=10)
    return fig


def loss_plot(job: dict) -> str | None:
    """``loss_figure`` as a base64 PNG."""
    fig = loss_figure(job)
    return None if fig is None else figure_png(fig)


def neighbour_gallery(row: dict) -> str | None:
    """The model's nearest-training-neighbour gallery (base64 PNG) from its stored checkpoint, or None when the
    checkpoint or the dataset cannot be read."""
    from ..data import get_dataset
    from ..train.checkpoint import load_generator
    from ..zoo.sampler import sample_images
    from ..zoo.view import stored_view
    from .neighbours import GALLERY, gallery_png

    prov = row.get("provenance") or {}
    try:
        train = get_dataset(row["dataset"], (prov.get("budget") or {}).get("train_split", "train"), download=False)
        G = load_generator(prov.get("checkpoint") or row["out_dir"], device="cpu")
        view = stored_view(prov, train)
        samples = view.to_native(sample_images(G, GALLERY, seed=int(prov.get("sample_seed", row["seed"]))))
        return base64.b64encode(gallery_png(samples, train)).decode()
    except Exception:  # noqa: BLE001 - a picture that cannot be drawn is left out, never a failed report
        return None


def _results_sections(rows: list[dict], axes: list[str], n: int | None) -> list[str]:
    """The results table, the comparison plots (each headline metric with its CI, precision/recall,
    density/coverage), and one table per grid axis."""
    frame, space = summary_frame(rows), feature_space(rows)
    parts = ["<h2>Results</h2>" + render(frame, "html", n, space)]
    plots = comparison_plots(frame, space)
    if plots:
        parts.append("<h2>Compared</h2><div class='row'>"
                     + "".join(img(png, f"plot: {title}") for title, png in plots) + "</div>")
    for title, frame, against in axis_tables(rows, axes):
        parts.append(f"<h3>{html.escape(title)}</h3>" + render(frame, "html", n, space, against))
    return parts


def job_progress(job: dict, budget_kimg: float | None = None) -> str:
    """What a job without a stored result has done: "not run yet", or, where its train_log.csv has rows (a run
    stopped or still going), how far training got, so that a report read mid-run does not call a job that
    trained for hours not run; with the log's clock, the hours it trained and, at its average pace so far, how many
    more training needs to reach ``budget_kimg`` (the curve's evaluations come on top); and the FID of each curve
    point evaluated so far (the comparison plot draws a curve from two points)."""
    log = read_csv_columns(Path(job["out_dir"]) / TRAIN_LOG)
    kimg = log.get("kimg") or []
    wall = log.get("wall_time_s") or [float("nan")] * len(kimg)  # training seconds, summed over its sessions
    done = [(k, w) for k, w in zip(kimg, wall) if k == k]  # NaN-free kimg
    if not done:
        return "not run yet"
    trained_kimg, trained_s = max(done, key=lambda kw: kw[0])
    of = f" of {budget_kimg:g}" if budget_kimg else ""
    pace = ""
    if trained_s == trained_s and trained_s > 0 and trained_kimg > 0:
        pace = f" in {duration(trained_s)}"
        if budget_kimg and budget_kimg > trained_kimg:
            left_s = (budget_kimg - trained_kimg) * trained_s / trained_kimg
            pace += f"; about {duration(left_s)} more at that pace, evaluations aside"
    curve = read_csv_columns(Path(job["out_dir"]) / EVAL_LOG)  # its FID-vs-kimg points so far, a lone one too
    so_far = ", ".join(f"{f:.2f} at {k:g} kimg" for k, f in zip(curve.get("kimg", []), curve.get("fid", [])) if f == f)
    so_far = f"; the curve's FID so far: {so_far}" if so_far else ""
    return (f"unfinished (trained to {trained_kimg:g}{of} kimg{pace}{so_far}; "
            "the same command resumes it from its last checkpoint)")


def _job_section(j: dict, row: dict | None, seen: set, galleries: set, budget_kimg: float | None = None) -> str:
    """One job's section: its model's sample grids (once per model: the first seed with samples; a conditional
    model's rows per class; a schedule's phases), its losses, its samples beside their nearest training images
    (once per model), its status (``job_progress`` where it has no result; ``budget_kimg``, the run's training
    length)."""
    pieces = []
    if j["model"] not in seen:
        grid = Path(j["out_dir"]) / "samples.png"
        if grid.is_file():
            pieces.append(img(base64.b64encode(grid.read_bytes()).decode(), f"{j['model']} samples"))
            seen.add(j["model"])
        by_class = Path(j["out_dir"]) / "samples_by_class.png"  # conditional models: one row per class
        if by_class.is_file():
            pieces.append(img(base64.b64encode(by_class.read_bytes()).decode(),
                               f"{j['model']} samples, one row per class"))
        for grid in sorted((Path(j["out_dir"]) / "samples").glob("phase_*.png")):  # a schedule's phases
            name = grid.stem.split("_", 2)[-1].replace("-", " ")
            pieces.append(f"<figure>{img(base64.b64encode(grid.read_bytes()).decode(), name)}"
                          f"<figcaption>end of {html.escape(name)}</figcaption></figure>")
    loss = loss_plot(j)
    if loss:
        pieces.append(img(loss, f"{j['model']} losses"))
    if row and row["status"] == "ok" and j["model"] not in galleries:
        gallery = neighbour_gallery(row)
        if gallery:
            galleries.add(j["model"])
            pieces.append(f"<figure>{img(gallery, j['model'] + ' nearest training images')}<figcaption>samples "
                          "(top) and their nearest training images (bottom, pixel L2)</figcaption></figure>")
    status = row["status"] if row else job_progress(j, budget_kimg)
    reason = f": {html.escape(row['reason'])}" if row and row.get("reason") else ""
    return (f"<h3>{html.escape(j['model'])} (seed {j['seed']}): {status}{reason}</h3>"
            f"<div class='row'>{''.join(pieces)}</div>")


def make_report(run_dir: str | Path, store: str | Path | None = None) -> Path:
    """Rewrite the run's tables (table.md/csv/tex/html) and its report.html; return the report's path."""
    import matplotlib

    matplotlib.use("Agg")
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    st = Store(store or manifest["store"])
    jobs = manifest["jobs"]
    rows = named_rows(st.rows([j["key"] for j in jobs] + ([manifest["floor"]] if manifest.get("floor") else [])),
                      {j["key"]: (j["model"], j.get("groups") or {}) for j in jobs})
    by_key = {r["job_key"]: r for r in rows}
    axes = [a for a in manifest.get("axes", []) if a in GROUP_AXES] or manifest.get("axes", [])
    study = str(manifest.get("run_key", ""))
    notes = human_notes(st, study)
    write_tables(rows, run_dir, axes=axes, notes=notes)
    n = max((r.get("num_samples") or 0 for r in rows), default=0) or None

    parts = [f"<h1>ganbench report: {html.escape(run_dir.name)}</h1>"]
    parts += [f"<p>{html.escape(line)}</p>" for line in protocol_header(rows, notes)]
    missing = sum(j["key"] not in by_key for j in jobs)  # the floor row is not a job
    if missing:
        parts.append(f"<p><b>{missing} of {len(jobs)} job(s) have no result yet</b>; "
                     "re-run the same `ganbench run` command to finish them.</p>")
    if rows:
        parts += _results_sections(rows, axes, n)
    parts.append(human_section(st, study, list(dict.fromkeys(j["model"] for j in jobs))))
    curve = fid_curve_plot(jobs, (manifest.get("budget") or {}).get("curve_samples"))
    if curve:
        parts.append("<h2>FID over training</h2>" + img(curve, "FID over training"))
    parts.append("<h2>Models</h2>")
    seen, galleries, kimg = set(), set(), (manifest.get("budget") or {}).get("kimg")
    for j in jobs:
        parts.append(_job_section(j, by_key.get(j["key"]), seen, galleries, kimg))
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}img{margin:4px;max-width:520px}"
             ".row{display:flex;flex-wrap:wrap;align-items:flex-start}"
             "figure.human{margin:2px;text-align:center;font-size:11px}"
             "figure.human img{margin:0;image-rendering:pixelated}")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>ganbench {html.escape(run_dir.name)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
    out = run_dir / REPORT
    write_text_atomic(out, page)
    return out
