#!/usr/bin/env python
"""Rebuild a leaderboard (leaderboards/DATASET[-PROTOCOL].{md,csv}) from real runs under one budget or protocol.

    python scripts/make_leaderboard.py --protocol lucic2018    # Lucic et al. 2018: the study's seed plan
    python scripts/make_leaderboard.py --protocol lucic2018 --seeds 0          # 1 seed each
    python scripts/make_leaderboard.py --protocol lucic2018 --seeds 0 --seeds-for lucic-ns=0-4
    python scripts/make_leaderboard.py --budget quick --seeds 0                # every baseline, quick budget
    python scripts/make_leaderboard.py --models dcgan,wgan --kimg 0.128 --num-samples 16 --out /tmp/lb   # smoke
    python scripts/make_leaderboard.py --protocol lucic2018 --budget lucic2018-pad32 --models pggan-w16.yaml \
        --seeds 0 --name fashion-mnist-lucic2018-pggan    # a model outside the paper's table, in a sibling file
    python scripts/make_leaderboard.py --models base,variant.yaml --against base   # each row tested against base

Finished jobs are reused from the store, so an interrupted run continues where it stopped, and the
tables can be rebuilt at any time from what has finished (``--only-finished``: no training at all).
The header states the protocol, sample counts, Inception weights, resize mode, hardware, versions and
the wall time of each model. Under a ``--protocol`` the table puts the paper's figure beside ours, and
FID-vs-kimg curves and one sample grid per model are written beside the .md as small PNGs.
The rows the table is built from go to NAME/rows.jsonl (``ganbench results --import`` puts them into a store).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shlex
import shutil
import sys
import time
from pathlib import Path

from ganbench.bench.jobs import parse_metrics, parse_seeds, plan, protocol_for, seed_plan
from ganbench.bench.provenance import made_on, torch_threads
from ganbench.bench.report import schedule_phases
from ganbench.bench.rows_file import dump_rows
from ganbench.bench.runner import Backend, RunOptions, adopt_floor, real_data_job, resolve_models, rows_for, run
from ganbench.bench.store import Store
from ganbench.bench.tables import (REAL_DATA, comparative_markdown, display_frame, numbers_csv, protocol_header,
                                   summary_frame)
from ganbench.config import DEFAULT_DATASET, get_budget
from ganbench.studies import get_study
from ganbench.errors import BadInput, GanbenchError
from ganbench.io import write_text_atomic


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default=None, help=f"default {DEFAULT_DATASET} (or the protocol's first)")
    p.add_argument("--budget", default=None, help="a budget of config.BUDGETS (default quick)")
    p.add_argument("--protocol", default=None, help="a study of studies.STUDIES, e.g. lucic2018")
    p.add_argument("--seeds", default=None,
                   help="seeds of every model (default: the protocol's plan, seed 0 plus its extra seeds per model; "
                        "without a protocol 0,1,2)")
    p.add_argument("--seeds-for", action="append", default=[], metavar="MODEL=SEEDS",
                   help="seeds of one model, over --seeds and the protocol's plan (repeatable), e.g. lucic-ns=0-2")
    p.add_argument("--models", help="comma list (default: every baseline, or the protocol's models)")
    p.add_argument("--metrics", help="comma list of fid,kid,is,pr,dc (default: all)")
    p.add_argument("--kimg", type=float, help="override the budget's training length (a smoke check)")
    p.add_argument("--num-samples", type=int, help="override the budget's sample counts (a smoke check)")
    p.add_argument("--out", default="leaderboards", help="folder for the .md, .csv and images")
    p.add_argument("--name", help="file stem (default DATASET[-PROTOCOL]); name a sibling leaderboard that must not "
                                  "replace the default one, e.g. fashion-mnist-lucic2018-pggan")
    p.add_argument("--store", default="runs/leaderboard.sqlite")
    p.add_argument("--run-dir", help="training folder (default runs/leaderboard-DATASET-BUDGET)")
    p.add_argument("--device")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--only-finished", action="store_true",
                   help="train nothing: tabulate the jobs that have results, name the missing ones in the header")
    p.add_argument("--against", metavar="MODEL",
                   help="test every row's FID against this model's (a name, or a spec path as given to --models): "
                        "the difference and Welch's p, Holm-adjusted, in place of the column against the best; "
                        "for a base and its variants")
    p.add_argument("--note", default="", help="a sentence for the header (e.g. which baselines were left out and why)")
    args = p.parse_args(argv)
    try:
        if args.name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", args.name):
            raise BadInput(f"--name {args.name!r}: give a file stem of letters, digits, '.', '_' and '-'")
        study = get_study(args.protocol) if args.protocol else None
        dataset = args.dataset or (study.datasets[0] if study else DEFAULT_DATASET)
        budget = get_budget(args.budget or (study.budget if study else "quick"))
        if args.kimg or args.num_samples:  # a renamed budget, so smoke results never mix with real ones
            n = args.num_samples or budget.num_samples
            budget = dataclasses.replace(budget, name=f"{budget.name}-custom", kimg=args.kimg or budget.kimg,
                                         num_samples=n, ref_samples=n, curve_samples=min(n, budget.curve_samples),
                                         eval_every_kimg=(args.kimg / 2 if budget.eval_every_kimg and args.kimg
                                                          else budget.eval_every_kimg),
                                         description="custom smoke setting, not a leaderboard budget")
        backend = Backend().resolve()
        models = [m for m in (args.models or "").split(",") if m] or (
            study.leaderboard_models() if study else list(backend.list_baselines()))
        against = against_name(args.against, models, backend) if args.against else None
        safe = dataset.replace(":", "_").replace("/", "_")
        run_dir = Path(args.run_dir or f"runs/leaderboard-{safe}-{budget.name}")
        default = parse_seeds(args.seeds) if args.seeds else ((0,) if study else (0, 1, 2))
        groups = seed_plan(models, default, study.seeds if study and not args.seeds else None, args.seeds_for)
        metrics = parse_metrics(args.metrics)
        t0 = time.time()
        rows, missing = [], []
        for seeds, group in groups:  # one run per seed set; each reuses whatever the store already holds
            if args.only_finished:
                got, lost = finished_rows(group, seeds, dataset, budget, metrics, run_dir, args.store, backend)
            else:
                got = run(models=group, dataset=dataset, seeds=seeds, budget=budget, metrics=metrics, backend=backend,
                          options=RunOptions(out=run_dir, store=args.store, device=args.device,
                                             progress=not args.quiet)).rows
                lost = []
            rows, missing = merge_rows(rows, got), missing + lost
        if not any(r["model"] != REAL_DATA for r in rows):
            raise BadInput(f"no finished results for these jobs in {args.store} (still to run: {', '.join(missing)}); "
                           "nothing written")
    except GanbenchError as e:
        print(f"make_leaderboard: error: {e}", file=sys.stderr)
        return 2
    stem = args.name or (f"{safe}-{study.name}" if study else safe)
    out = Path(args.out)
    command = f"python scripts/make_leaderboard.py {shlex.join(argv if argv is not None else sys.argv[1:])}"
    if args.note:  # the note is printed just above the command: name it, do not repeat it
        command = command.replace(shlex.quote(f"--note={args.note}"), "--note='…'").replace(shlex.quote(args.note),
                                                                                            "'…'")
    header = header_lines(dataset, budget, study, rows, missing, args.note, command, time.time() - t0)
    if study:
        body = study_markdown([local_folder(r, run_dir) for r in rows], study, dataset, budget, out, stem, against)
    else:
        body = comparative_markdown(rows, against=against)
    write_text_atomic(out / f"{stem}.md", "\n".join(header) + "\n" + body)
    write_text_atomic(out / f"{stem}.csv", numbers_csv(rows))
    write_text_atomic(out / stem / "rows.jsonl", dump_rows(rows))  # the rows behind the table, for another store
    print(f"wrote {out / f'{stem}.md'} and {out / f'{stem}.csv'} ({len(rows)} results"
          + (f", {len(missing)} job(s) still running or to run" if missing else "") + ")")
    return 0


def against_name(against: str, models: list[str], backend) -> str:
    """``--against``: the model name of one of ``models`` (named, or given as a spec path), checked before any work."""
    names = {m: spec.name for m, spec in zip(models, resolve_models(models, backend))}
    if against in names:
        return names[against]
    if against in names.values():
        return against
    raise BadInput(f"--against {against!r} is not one of --models ({', '.join(names.values())}); name one of them")


def merge_rows(rows: list[dict], more: list[dict]) -> list[dict]:
    """``rows`` then the rows of ``more`` not already there (the shared real-data row once, last)."""
    seen = {r["job_key"] for r in rows}
    merged = [*rows, *(r for r in more if r["job_key"] not in seen)]
    return [r for r in merged if r["model"] != REAL_DATA] + [r for r in merged if r["model"] == REAL_DATA]


def finished_rows(models, seeds, dataset, budget, metrics, run_dir, store_path, backend):
    """The stored rows of the jobs this command names (and its real-data row), without running anything."""
    specs = [(s, {}) for s in resolve_models(models, backend)]
    proto = protocol_for(budget, tuple(metrics) if metrics else None)
    jobs = plan(specs, tuple(seeds), dataset, budget, proto, run_dir)
    floor = [real_data_job(jobs[0])] if budget.real_row and jobs else []
    store = Store(store_path)
    for f in floor:  # the same images scored the same way under another budget: copied, not recomputed
        adopt_floor(store, f)
    rows = rows_for([*jobs, *floor], store)
    have = {r["job_key"] for r in rows}
    missing = [f"{j.spec.name} seed {j.seed}" for j in jobs if j.key not in have]
    return rows, missing


def outside_the_paper(study, rows) -> bool:
    """Whether none of the rows is one of the study's own models (a sibling leaderboard under its evaluation)."""
    known = set(study.leaderboard_models())
    return not any(r["model"] in known for r in rows if r["model"] != REAL_DATA)


def header_lines(dataset, budget, study, rows, missing, note, command, seconds) -> list[str]:
    hw, sw = made_on(rows)
    models = [r for r in rows if r["model"] != REAL_DATA]
    sibling = bool(study) and outside_the_paper(study, rows)
    title = f"# {dataset} leaderboard ({budget.name} budget)"
    if study:
        title = f"# {dataset}: {study.name} protocol" + (", models outside the paper's table" if sibling else "")
    lines = [title, ""]
    if study:
        lines += [f"**{study.description}.** {study.paper}."
                  + (" The paper's evaluation, applied to models it did not study: no published figure to hold "
                     "them against." if sibling else ""), ""]
    lines += [
        f"**Protocol.** Budget `{budget.name}`: {budget.kimg:g} kimg of training per model (thousands of real images "
        f"shown to D), nets see the data `{budget.view}`; {', '.join(protocol_metrics(rows))} on "
        f"{budget.num_samples} generated samples vs the first {budget.ref_samples} {dataset} {budget.ref_split} "
        f"images. {budget.description}.",
        f"**Inception weights** {weights(rows)}; features resized with `{first(rows, 'resize_mode')}`; "
        f"precision/recall and density/coverage in {pr_space(rows)} space.",
        f"**Hardware** (as the rows record it): {hw}; torch threads per job: {torch_threads(rows)}. "
        f"**Software:** {sw}.",
        "**Wall time per model** (training + evaluation, mean over its seeds): " + wall_times(models) + ".",
    ]
    lines += [f"**{line.split(':')[0]}:**{line.split(':', 1)[1]}" for line in protocol_header(rows)
              if " not computed:" in line or line.startswith("Cells:")]
    if budget.eval_every_kimg:
        lines.append(f"**Curves:** FID every {budget.eval_every_kimg:g} kimg on {budget.curve_samples} samples vs "
                     f"the first {budget.curve_samples} {budget.ref_split} images (biased upward at that N; compare a "
                     "curve only with the other curves).")
    if study and study.note and not sibling:  # the study's note is about its own models
        lines.append(f"**Note:** {study.note}")
    if study and study.kept and not sibling:
        lines.append(f"**Kept from the paper's code on purpose:** {study.kept}.")
    if missing:
        lines.append(f"**Still running or to run:** {', '.join(missing)}.")
    if note:
        lines.append(note)
    lines += [f"Made by `{command}` on {time.strftime('%Y-%m-%d')}"
              + (f" ({seconds / 60:.1f} min, jobs reused from the store excluded)." if seconds > 60 else "."), ""]
    return lines


def local_folder(row: dict, run_dir: Path) -> dict:
    """``row`` with its job folder found under ``run_dir`` when the recorded one is not on this machine (a row trained
    elsewhere, e.g. on a lent GPU, whose run folder was copied here): the part after ``jobs/`` names the job."""
    recorded = str(row.get("out_dir") or "")
    if not recorded or Path(recorded).is_dir() or "/jobs/" not in recorded:
        return row
    here = run_dir / "jobs" / recorded.split("/jobs/", 1)[1]
    return {**row, "out_dir": str(here)} if here.is_dir() else row


def study_markdown(rows, study, dataset, budget, out: Path, stem: str, against: str | None = None) -> str:
    """The comparative table with the paper's figure beside ours (each row tested against model ``against`` when
    given, else against the best), the curves and the sample grids."""
    frame = summary_frame(rows)
    known = study.leaderboard_models()
    order = [m for m in known if m in frame.index] + [m for m in frame.index if m not in known]
    frame = frame.loc[order]
    shown = display_frame(frame, "md", budget.num_samples, against=against)
    published = {m: study.published_for(dataset, m) for m in frame.index}
    fid_col = next(c for c in shown.columns if c.startswith("FID (N="))
    pos = list(shown.columns).index(fid_col) + 1
    if any(published.values()):
        shown.insert(pos, "published FID ↓", [
            f"{p.value:.1f} ± {p.spread:.1f}" if p else "–" for p in published.values()])
    shown.index = [study.labels.get(m, m) + (f" (`{m}`)" if m in study.labels else "") if m != REAL_DATA
                   else "real data (floor)" for m in frame.index]
    shown.index.name = "model"
    parts = [shown.to_markdown(tablefmt="github", disable_numparse=True)]
    sources = sorted({p.source for p in published.values() if p})
    if sources:
        parts.append("Published: " + "; ".join(sources) + ".")
    images = out / stem
    curve = write_curves(curve_jobs(rows), images / "curves.png", f"{study.name} on {dataset}", budget.curve_samples)
    if curve:
        parts.append(f"![FID over training]({stem}/curves.png)")
    grids = []
    for model in order:
        if model == REAL_DATA:
            continue
        row = sample_grid(model, rows, images)
        if row is not None:
            grids.append(f"| {study.labels.get(model, model)} | {row['seed']} | "
                         f"![{model}]({stem}/samples-{model}.png) |")
    if grids:
        parts.append("Samples (64 per model, at the end of training, from its first seed whose grid is on this "
                     "machine, else the one the leaderboard already shows):\n\n| model | seed | samples |\n"
                     "|---|---|---|\n" + "\n".join(grids))
    parts += phase_grids(rows, order, study, images, stem)
    return "\n\n".join(parts) + "\n"


def curve_jobs(rows) -> list[dict]:
    """The jobs ``curve_figure`` draws: a row's stored curve points and schedule phases draw its curve where its
    folder is gone (a store imported on another machine)."""
    jobs = []
    for r in rows:
        if r["model"] == REAL_DATA:
            continue
        prov = r.get("provenance") or {}
        jobs.append({"model": r["model"], "seed": r["seed"], "out_dir": r["out_dir"],
                     "points": (prov.get("curve") or {}).get("points"),
                     "phases": schedule_phases((prov.get("train") or {}).get("provenance") or {})})
    return jobs


def sample_grid(model: str, rows, images: Path) -> dict | None:
    """The row whose end-of-training grid the leaderboard shows for ``model``, copied to ``images/samples-MODEL.png``
    with a note of whose it is (``.json``): the first seed whose folder holds its grid (a restored row, or one
    trained elsewhere, has none); else the grid already there, when its note names one of ``rows`` (a rebuild on a
    machine without the job folders keeps it); else None."""
    png, note = images / f"samples-{model}.png", images / f"samples-{model}.json"
    row = next((r for r in rows if r["model"] == model and (Path(r["out_dir"]) / "samples.png").is_file()), None)
    if row is not None:
        images.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(row["out_dir"]) / "samples.png", png)
        write_note(note, row)
        return row
    return noted_row(note, model, rows) if png.is_file() else None


def write_note(note: Path, row: dict) -> None:
    """Record beside a grid copied to the leaderboard which row it came from (its job key and seed)."""
    write_text_atomic(note, json.dumps({"job_key": row.get("job_key"), "seed": row["seed"]}) + "\n")


def noted_row(note: Path, model: str, rows) -> dict | None:
    """The row of ``model`` among ``rows`` that ``note`` (``write_note``) names, or None: a grid already beside the
    leaderboard is shown again only while its row is on the board."""
    key = json.loads(note.read_text()).get("job_key") if note.is_file() else None
    return next((r for r in rows if r["model"] == model and key and r.get("job_key") == key), None)


def phase_grids(rows, order, study, images: Path, stem: str) -> list[str]:
    """For a model with a schedule (progressive growing): its first seed's grid at the end of every phase, copied
    beside the leaderboard with a note of whose they are (``MODEL-phases.json``), one table per model; where no
    row's folder is on this machine (a store imported after the machine that trained it was replaced), the grids
    already beside the leaderboard when their note names one of ``rows``, as ``sample_grid`` keeps the
    end-of-training grid."""
    parts = []
    for model in order:
        if model == REAL_DATA:
            continue
        note = images / f"{model}-phases.json"
        row = next((r for r in rows if r["model"] == model and r.get("out_dir")
                    and any((Path(r["out_dir"]) / "samples").glob("phase_*.png"))), None)
        if row is not None:
            found = sorted((Path(row["out_dir"]) / "samples").glob("phase_*.png"))
            images.mkdir(parents=True, exist_ok=True)
            for old in images.glob(f"{model}-phase_*.png"):  # another run's grids under this name
                old.unlink()
            for src in found:
                shutil.copyfile(src, images / f"{model}-{src.name}")
            write_note(note, row)
            names = [src.name for src in found]
        else:
            row = noted_row(note, model, rows)
            names = sorted(p.name[len(model) + 1:] for p in images.glob(f"{model}-phase_*.png")) if row else []
        if not names:
            continue
        lines = []
        for name_png in names:  # phase_STEP_NAME.png (train.trainer.phase_grid_name)
            step, name = Path(name_png).stem.split("_", 2)[1:]
            lines.append(f"| {name.replace('-', ' ')} | {int(step)} | ![{name}]({stem}/{model}-{name_png}) |")
        parts.append(f"{study.labels.get(model, model)} (seed {row['seed']}) at the end of each phase of its "
                     "schedule:\n\n| phase | step | samples |\n|---|---|---|\n" + "\n".join(lines))
    return parts


def write_curves(jobs, path: Path, title: str, curve_samples: int) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ganbench.bench.report import curve_figure

    fig = curve_figure(jobs, title=title, curve_samples=curve_samples)
    if fig is None:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=80, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)
    return True


def protocol_metrics(rows) -> list[str]:
    prov = next((r.get("provenance") or {} for r in rows if r.get("provenance")), {})
    return list((prov.get("protocol") or {}).get("metrics") or ["fid"])


def first(rows, key):
    return next((r.get(key) for r in rows if r.get(key)), "n/a")


def pr_space(rows) -> str:
    prov = next((r.get("provenance") or {} for r in rows if r.get("provenance")), {})
    return (prov.get("protocol") or {}).get("pr_features", "inception-pool3")


def weights(rows: list[dict]) -> str:
    """The weights' SHA-256 and where they come from (never a local path)."""
    shas = sorted({r.get("weights_sha256") for r in rows if r.get("weights_sha256")})
    origins = sorted({str(((r.get("provenance") or {}).get("evaluation") or {}).get("weights_origin", ""))
                      for r in rows} - {""})
    return f"SHA-256 {', '.join(shas) or 'n/a'}" + (f" ({', '.join(origins)})" if origins else "")


def wall_times(rows: list[dict]) -> str:
    by: dict[str, list[float]] = {}
    for r in rows:
        if r.get("status") == "ok":
            by.setdefault(r["model"], []).append((r.get("train_time_s") or 0) + (r.get("eval_time_s") or 0))
    return ", ".join(f"{m} {sum(v) / len(v) / 60:.0f} min" for m, v in by.items()) or "n/a"


if __name__ == "__main__":
    sys.exit(main())
