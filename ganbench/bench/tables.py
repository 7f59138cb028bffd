"""Comparative tables from result rows: mean ± std [95% CI] over seeds, best value marked.

``summary_frame`` turns store rows into numbers (one row per model or per grid value);
``render`` formats them as Markdown, LaTeX or HTML; ``write_tables`` writes every format
(plus CSV of the raw numbers) atomically. Diverged runs are counted and shown as such,
never as a number. The primary metric gets a Welch t-test of each model against the best (or, in an ablation,
against the base), its verdict taken on Holm's adjustment over the rows tested.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from ..io import write_text_atomic
from ..metrics import registry
from ..metrics.registry import Column
from .stats import CONFIDENCE, Comparison, holm, summarize, welch


def display_columns() -> dict[str, Column]:
    """The table columns, from the metric registry (``metrics.registry``): key -> Column, in table order."""
    return {c.key: c for c in registry.table_columns()}


def primary_of(metrics: Sequence[str]) -> str | None:
    """The metric whose differences get a significance test: the first table column present (FID first) that is
    a value per seed (a value with its own interval, a human study's, is not tested over seeds)."""
    cols = display_columns()
    return next((m for m in metrics if m in cols and cols[m].better in ("lower", "higher") and not cols[m].interval),
                None)


#: The axis an ablation's rows are grouped under (``run --ablate``), and the label of its base row.
ABLATION_AXIS = "ablation"
ABLATION_BASE = "base"
#: Grid axes tables can be grouped by (values live in each row's ``groups``).
GROUP_AXES = ("loss", "arch", "trick", "conditioning", ABLATION_AXIS)
#: The model name of the real-data row: training images scored against the reference, the floor a
#: table reads against. It is shown last, labelled, and never marked best or tested against the best.
REAL_DATA = "real-data"


def _metrics_present(rows: Sequence[dict]) -> list[str]:
    return [m for m in display_columns() if any(r.get(m) is not None for r in rows)]


def _group_value(row: dict, by: str) -> str:
    if by == "model":
        return row["model"]
    return str((row.get("groups") or {}).get(by, "-"))


def summary_frame(rows: Sequence[dict], by: str = "model") -> pd.DataFrame:
    """One row per ``by`` value (``model`` or a grid axis): seed counts and mean/std/ci/n per metric.

    Columns: ``runs ok diverged failed`` then ``{metric}_{mean,std,ci,n}`` and ``{primary}_values``
    (the per-seed values of the primary metric, for significance tests).
    """
    metrics = _metrics_present(rows)
    primary = primary_of(metrics)
    cols = display_columns()
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if by != "model" and r["model"] == REAL_DATA:
            continue  # the floor belongs to no grid value
        groups.setdefault(_group_value(r, by), []).append(r)
    records = []
    if REAL_DATA in groups:  # the floor goes last
        groups[REAL_DATA] = groups.pop(REAL_DATA)
    for name, rs in groups.items():
        ok = [r for r in rs if r["status"] == "ok"]
        rec: dict[str, Any] = {by: name, "runs": len(rs), "ok": len(ok),
                               "diverged": sum(r["status"] == "diverged" for r in rs),
                               "failed": sum(r["status"] == "failed" for r in rs)}
        for m in metrics:
            s = summarize([r.get(m) for r in ok])
            rec.update({f"{m}_mean": s.mean, f"{m}_std": s.std, f"{m}_ci": s.ci, f"{m}_n": s.n})
            if cols[m].interval:  # one value per model with its own interval (copied on each seed's row)
                first = next((r for r in ok if r.get(m) is not None), {})
                lo, hi = (first.get(k) for k in cols[m].interval)
                count = first.get(cols[m].count) if cols[m].count else None
                rec.update({f"{m}_lo": math.nan if lo is None else lo, f"{m}_hi": math.nan if hi is None else hi,
                            f"{m}_count": math.nan if count is None else count})
        if primary:
            rec[f"{primary}_values"] = [r[primary] for r in ok if r.get(primary) is not None]
        records.append(rec)
    frame = pd.DataFrame.from_records(records)
    return frame.set_index(by) if len(frame) else frame


#: The seeds a row needs before it can be marked best: one seed is a pilot, not a result to rank.
MIN_SEEDS_TO_RANK = 2


def best_index(frame: pd.DataFrame, metric: str) -> str | None:
    """The model with the best mean of ``metric`` (None when no model has a value; the floor row never counts)."""
    col = frame.get(f"{metric}_mean")
    if col is not None:
        col = col.drop(index=REAL_DATA, errors="ignore")
    better = display_columns()[metric].better
    if col is None or col.dropna().empty or better not in ("lower", "higher"):
        return None
    return col.idxmin() if better == "lower" else col.idxmax()


def seeds_cell(mean: float, std: float, ci: float, col: Column) -> str:
    """A value over seeds: ``mean ± std [95% CI]``, the interval clipped to the values ``col`` can take; the mean
    alone below 2 seeds."""
    text = f"{mean * col.scale:.{col.digits}f}"
    if math.isfinite(std):
        lo, hi = mean - ci, mean + ci
        if col.bounds[0] is not None:
            lo = max(lo, col.bounds[0])
        if col.bounds[1] is not None:
            hi = min(hi, col.bounds[1])
        s, d = col.scale, col.digits
        text += f" ± {std * s:.{d}f} [{lo * s:.{d}f}, {hi * s:.{d}f}]"
    return text


def _interval_cell(value: float, lo: float, hi: float, count: float, scale: float, digits: int) -> str:
    """A value with its own interval and the count it rests on: ``27.6 [22.1, 33.0] (n=30)``."""
    text = f"{value * scale:.{digits}f}"
    if math.isfinite(lo) and math.isfinite(hi):
        text += f" [{lo * scale:.{digits}f}, {hi * scale:.{digits}f}]"
    return text + (f" (n={int(count)})" if math.isfinite(count) else "")


_MARK = {"md": lambda s: f"**{s}**", "latex": lambda s: f"\\textbf{{{s}}}", "html": lambda s: f"<b>{s}</b>"}


def feature_space(rows: Sequence[dict]) -> str | None:
    """The label of the feature space the rows' feature-based metrics were computed in (a network of
    metrics.networks: DINOv2, CLIP, ...), None for Inception's (headers then read FID, KID, ...)."""
    from ..metrics.networks import NETWORKS

    spaces = {((r.get("provenance") or {}).get("protocol") or {}).get("features", "inception") for r in rows}
    spaces.discard("inception")
    return "/".join(NETWORKS.get(sp).label if sp in NETWORKS else sp for sp in sorted(spaces)) or None


def display_frame(frame: pd.DataFrame, fmt: str = "md", fid_samples: int | None = None,
                  space: str | None = None, against: str | None = None) -> pd.DataFrame:
    """Strings for each cell in format ``fmt`` (md | latex | html): best per column marked. ``space``: the feature
    space's label when it is not Inception's (columns then read FD_DINOv2, KID×10³ (DINOv2), ...). ``against``: a
    row the headline metric of every other is tested against (an ablation's base), with the difference; by
    default the best row."""
    shown = display_columns()
    metrics = [m for m in shown if f"{m}_mean" in frame.columns]
    primary = primary_of(metrics)
    esc = (lambda s: html.escape(str(s))) if fmt == "html" else (
        (lambda s: str(s).replace("_", "\\_").replace("%", "\\%").replace("&", "\\&")) if fmt == "latex" else str)
    out = pd.DataFrame(index=[esc(_row_label(i, frame.index.name)) for i in frame.index])
    out.index.name = esc(frame.index.name or "model")
    seeds = []
    for _, r in frame.iterrows():
        text = f"{int(r['ok'])}/{int(r['runs'])}"
        notes = [f"{int(r[k])} {k}" for k in ("diverged", "failed") if r[k]]
        seeds.append(text + (f" ({', '.join(notes)})" if notes else ""))
    out["seeds ok"] = seeds
    for m in metrics:
        col = shown[m]
        label = col.label_in(space)
        if col.sample_size and fid_samples:
            label += f" (N={fid_samples})"
        best = best_index(frame, m)
        best_mean = frame.loc[best, f"{m}_mean"] if best is not None else None
        cells = []
        for name, r in frame.iterrows():
            if r[f"{m}_n"] == 0:  # ok runs without this value: the metric does not apply (e.g. CAS, unconditional)
                cells.append("diverged" if r["diverged"] else ("failed" if r["failed"] else
                                                               ("n/a" if r["ok"] else "–")))
                continue
            if col.interval:
                lo, hi, count = (float(r.get(f"{m}_{k}", math.nan)) for k in ("lo", "hi", "count"))
                text = _interval_cell(r[f"{m}_mean"], lo, hi, count, col.scale, col.digits)
            else:
                text = seeds_cell(r[f"{m}_mean"], r[f"{m}_std"], r[f"{m}_ci"], col)
            best_here = (r[f"{m}_mean"] == best_mean and name != REAL_DATA and r[f"{m}_n"] >= MIN_SEEDS_TO_RANK
                         and len(frame.drop(index=REAL_DATA, errors="ignore")) > 1)
            cells.append(_MARK[fmt](text) if best_here else text)
        out[label + {"lower": " ↓", "higher": " ↑"}.get(col.better, "")] = cells
    if primary and len(frame.drop(index=REAL_DATA, errors="ignore")) > 1:  # a test needs two models
        if against in frame.index:
            out[f"{shown[primary].label_in(space)} − {esc(against)} (Welch)"] = _against_verdicts(frame, primary,
                                                                                                   against)
        else:
            out[f"{shown[primary].label_in(space)} vs best (Welch)"] = _welch_verdicts(frame, primary)
    if fmt == "latex":
        out.columns = [c.replace("%", "\\%").replace("∞", "$_\\infty$").replace("↓", "$\\downarrow$")
                       .replace("↑", "$\\uparrow$").replace("×10³", "$\\times 10^3$") for c in out.columns]
        out = out.map(lambda s: s.replace("±", "$\\pm$"))
    return out


def _welch_verdicts(frame: pd.DataFrame, primary: str) -> list[str]:
    """Per row, the headline metric against the best model's: Welch's p over seeds (Holm-adjusted over the rows
    tested, see ``_significance``), or why there is none."""
    best = best_index(frame, primary)
    tests = {name: welch(r[f"{primary}_values"], frame.loc[best, f"{primary}_values"])
             for name, r in frame.iterrows()
             if best is not None and name not in (REAL_DATA, best) and r[f"{primary}_n"] > 0}
    cells = _significance(tests)
    verdicts = []
    for name, r in frame.iterrows():
        if name == REAL_DATA:
            verdicts.append("floor")
        elif best is None or r[f"{primary}_n"] == 0:
            verdicts.append("–")
        elif name == best:  # the best mean; on one seed it is a pilot, not a row to rank first
            verdicts.append("best" if r[f"{primary}_n"] >= MIN_SEEDS_TO_RANK else "pilot (1 seed)")
        elif name in cells:
            verdicts.append(cells[name])
        else:  # say whose seeds are missing: this model's, or the best's
            verdicts.append("n/a (<2 seeds)" if r[f"{primary}_n"] < 2 else "n/a (best has <2 seeds)")
    return verdicts


def _against_verdicts(frame: pd.DataFrame, primary: str, against: str) -> list[str]:
    """Per row, the headline metric's difference from row ``against`` (mean over seeds) and Welch's p
    (Holm-adjusted over the rows tested, see ``_significance``); the real-data row is the floor, not tested."""
    ref = frame.loc[against]
    digits = display_columns()[primary].digits
    tests = {name: welch(r[f"{primary}_values"], ref[f"{primary}_values"]) for name, r in frame.iterrows()
             if name not in (against, REAL_DATA) and r[f"{primary}_n"] > 0 and ref[f"{primary}_n"] > 0}
    cells = _significance(tests)
    verdicts = []
    for name, r in frame.iterrows():
        if name == REAL_DATA:
            verdicts.append("floor")
        elif name == against:
            verdicts.append("–")
        elif name not in tests:
            verdicts.append("n/a (no value)")
        elif name in cells:
            verdicts.append(f"{tests[name].diff:+.{digits}f} ({cells[name]})")
        else:
            verdicts.append(f"{tests[name].diff:+.{digits}f} (no test: <2 seeds)")
    return verdicts


def _significance(tests: dict[Any, Comparison]) -> dict[Any, str]:
    """A column's family of tests -> per testable row, ``p=…`` and the verdict, where the verdict is taken on Holm's
    adjusted p (``stats.holm``) over every test the column could run, so that a table of many rows does not find a
    difference by chance; with more than one test the adjusted p is shown beside the raw one."""
    names = [n for n, c in tests.items() if c.significant is not None]
    cells = {}
    for name, q in zip(names, holm([tests[n].p for n in names])):
        verdict = "significant" if q < 1 - CONFIDENCE else "n.s."
        cells[name] = (f"p={tests[name].p:.2g}, {verdict}" if len(names) == 1
                       else f"p={tests[name].p:.2g}, Holm {q:.2g}, {verdict}")
    return cells


def _row_label(name: str, by: str | None) -> str:
    return "real data (floor)" if name == REAL_DATA and (by or "model") == "model" else str(name)


def render(frame: pd.DataFrame, fmt: str = "md", fid_samples: int | None = None, space: str | None = None,
           against: str | None = None) -> str:
    """The table as Markdown (``md``), LaTeX (``latex``, booktabs) or an HTML fragment (``html``); ``against``:
    see ``display_frame``."""
    shown = display_frame(frame, fmt, fid_samples, space, against)
    if fmt == "md":
        return shown.to_markdown(tablefmt="github", disable_numparse=True)  # "37.00" stays 37.00
    if fmt == "latex":
        return shown.to_latex(escape=False)
    if fmt == "html":  # the row label as a first column: no second header row holding only the index's name
        return shown.reset_index().to_html(escape=False, border=0, classes="ganbench", index=False)
    raise ValueError(f"unknown table format {fmt!r}")


def protocol_header(rows: Sequence[dict], notes: Sequence[str] = ()) -> list[str]:
    """Lines stating how the numbers were made: dataset, budget, sample counts, weights, device; ``notes`` (how
    values measured apart were made: a human study's, ``human_records.human_notes``) after the metrics' lines."""
    if not rows:
        return []

    def distinct(key: str) -> str:
        vals = sorted({str(r.get(key)) for r in rows if r.get(key) is not None})
        return "/".join(vals) if vals else "?"

    # a model's budget: the floor's row stores the same budget with no training (0 kimg), so it speaks for the
    # budget's name and description only, never for how long the models train
    model_prov = next((r["provenance"] for r in rows if r.get("provenance") and r.get("model") != REAL_DATA), None)
    prov = model_prov or next((r["provenance"] for r in rows if r.get("provenance")), {})
    budget = dict(prov.get("budget") or {})
    if model_prov is None:
        budget.pop("kimg", None)
    lines = [
        f"Dataset {distinct('dataset')} (reference split {distinct('split')}); budget {distinct('budget')}"
        + (f": {budget.get('kimg')} kimg of training per model" if budget.get("kimg") is not None else "")
        + (f" — {budget['description']}" if budget.get("description") else "") + ".",
        f"Metrics on {distinct('num_samples')} generated vs {distinct('ref_samples')} reference images; "
        + (f"Inception-v3 pool3 (weights sha256 {distinct('weights_sha256')[:12]}), resize {distinct('resize_mode')}"
           if not feature_space(rows) else _space_line(rows))
        + f"; device {distinct('device')}.",
        f"Cells: mean ± std [{CONFIDENCE:.0%} t interval, clipped to the metric's range] over seeds; best per column "
        f"in bold where it rests on {MIN_SEEDS_TO_RANK} or more seeds (one seed is a pilot); "
        "diverged runs are counted, never averaged; Welch tests over seeds are judged on Holm's adjusted p over the "
        "rows their column tests.",
    ]
    floor = next((r for r in rows if r["model"] == REAL_DATA), None)
    if floor is not None:
        lines.append(f"Real data (floor): the first {floor.get('num_samples')} {distinct('dataset')} training images "
                     f"scored as if they were samples; no model can be expected to beat it at this N.")
    for col in [c for c in display_columns().values() if c.interval and any(r.get(c.key) is not None for r in rows)]:
        count = registry.column(col.count).label if col.count else "count"
        lines.append(f"{registry.metric_of(col.key).description}; cells: value [CI] (n = {count}), one value per "
                     "model, not a spread over seeds.")
    restored = sorted({f"{r['model']} seed {r.get('seed')}" for r in rows
                       if "restored" in (r.get("provenance") or {})})
    if restored:
        lines.append(f"Restored from a published table after the store that held them was lost: "
                     f"{', '.join(restored)}; their metrics are the published ones; their curves, times, device and "
                     "weights hash were not published, so they are missing.")
    lines += list(notes)
    unavailable = {k: v for r in rows for k, v in ((r.get("provenance") or {}).get("unavailable") or {}).items()}
    for name, why in sorted(unavailable.items()):
        lines.append(f"{name.upper()} not computed: {without_local_paths(why)}")
    n = {r.get("num_samples") for r in rows if r.get("num_samples")}
    if n and min(n) < 10_000:
        lines.append(f"FID at N={min(n)} is biased upward (not comparable to FID at 10k or 50k); "
                     "compare models only at equal N. KID is unbiased.")
    return lines


def _space_line(rows: Sequence[dict]) -> str:
    """Which network the feature-based metrics ran in, with its weights' hash (from the rows' provenance)."""
    from ..metrics.networks import NETWORKS

    prov = next(((r.get("provenance") or {}) for r in rows if (r.get("provenance") or {}).get("evaluation")), {})
    space = (prov.get("protocol") or {}).get("features", "inception")
    sig = ((prov.get("evaluation") or {}).get("networks") or {}).get(space, {})
    net = NETWORKS.get(space) if space in NETWORKS else None
    return (f"features: {net.description if net else space}" + (f" (weights sha256 {sig['weights_sha256'][:12]})"
                                                                 if sig.get("weights_sha256") else ""))


_LOCAL_PATH = re.compile(r"(?<![\w.])/(?:[^\s/()'\"]+/)+[^\s/()'\"]+")


def without_local_paths(text: str) -> str:
    """``text`` with absolute filesystem paths (rows stored by older versions name the weights file) replaced
    by their file name: a published table never shows a machine's local paths."""
    return _LOCAL_PATH.sub(lambda m: m.group(0).rsplit("/", 1)[-1], text)


def axis_tables(rows: Sequence[dict], axes: Iterable[str]) -> list[tuple[str, pd.DataFrame, str | None]]:
    """The tables after the main one, as (title, frame, against): one per grid axis with more than one value,
    pooled over the other axes and seeds; an ablation's, each change tested against its base."""
    tables = []
    for axis in axes:
        frame = summary_frame(rows, by=axis)
        if len(frame) <= 1:
            continue
        if axis == ABLATION_AXIS:
            tables.append(("Ablation: the base, then the base with one change each (the last column: the change in "
                           "the headline metric, mean over seeds, and Welch's test against the base, judged on "
                           "Holm's adjusted p over the changes tested)",
                           frame, ABLATION_BASE))
        else:
            tables.append((f"By {axis} (pooled over the other axes and seeds)", frame, None))
    return tables


def comparative_markdown(rows: Sequence[dict], axes: Iterable[str] = (), notes: Sequence[str] = (),
                         against: str | None = None) -> str:
    """The whole comparative text: header, main table (its rows tested against model ``against`` when given, else
    against the best), then the tables of ``axis_tables``."""
    n = max((r.get("num_samples") or 0 for r in rows), default=0) or None
    space = feature_space(rows)
    parts = ["\n".join(f"> {line}" for line in protocol_header(rows, notes)),
             render(summary_frame(rows), "md", n, space, against)]
    for title, frame, base in axis_tables(rows, axes):
        parts.append(f"{title}:\n\n" + render(frame, "md", n, space, base))
    return "\n\n".join(p for p in parts if p) + "\n"


def published_markdown(rows: Sequence[dict], study, dataset: str) -> str:
    """Our FID beside the paper's published figure, one line per model of a ``--protocol`` run that has one
    (``study``: a studies.Study); empty when no row has both."""
    frame = summary_frame(rows)
    lines = []
    for model in frame.index if "fid_mean" in frame else ():
        paper = study.published_for(dataset, model)
        if paper is None or model == REAL_DATA or not frame.loc[model, "fid_n"]:
            continue
        ours, n = frame.loc[model, "fid_mean"], int(frame.loc[model, "fid_n"])
        spread = f" ± {frame.loc[model, 'fid_std']:.2f} (std)" if n > 1 else ""
        lines.append(f"| {study.labels.get(model, model)} | {n} | {ours:.2f}{spread} | "
                     f"{paper.value:.1f} ± {paper.spread:.1f} |")
    if not lines:
        return ""
    sources = sorted({p.source for m in frame.index if (p := study.published_for(dataset, m))})
    return (f"Beside the paper ({study.name}; published: {'; '.join(sources)}):\n\n"
            "| model | seeds | FID (ours) | published FID |\n|---|---|---|---|\n" + "\n".join(lines) + "\n")


def numbers_csv(rows: Sequence[dict]) -> str:
    """The raw summary numbers as CSV with the protocol columns (what `compare --against` reads)."""
    frame = summary_frame(rows)
    if frame.empty:
        return ""
    for col in ("dataset", "split", "budget", "num_samples", "ref_samples", "protocol_hash", "resize_mode"):
        frame[col] = [_first(rows, m, col) for m in frame.index]
    for c in [c for c in frame.columns if c.endswith("_values")]:
        frame[c] = [";".join(f"{v:.6g}" for v in vs) for vs in frame[c]]
    return frame.to_csv()


def _first(rows: Sequence[dict], model: str, col: str) -> Any:
    return next((r.get(col) for r in rows if r["model"] == model and r.get(col) is not None), None)


def write_tables(rows: Sequence[dict], out_dir: str | Path, axes: Iterable[str] = (), stem: str = "table",
                 extra_md: str = "", notes: Sequence[str] = ()) -> str:
    """Write ``stem``.md/.csv/.tex/.html into ``out_dir`` atomically; return the Markdown (``extra_md`` at its
    end: e.g. the published figures of a ``--protocol`` run; ``notes``: header lines, see ``protocol_header``)."""
    out = Path(out_dir)
    axes = list(axes)
    md = comparative_markdown(rows, axes, notes) + (f"\n{extra_md}" if extra_md else "")
    n = max((r.get("num_samples") or 0 for r in rows), default=0) or None
    header = protocol_header(rows, notes)
    space = feature_space(rows)
    frames = [("", summary_frame(rows), None), *axis_tables(rows, axes)]
    tex = "\n".join(f"% {line}" for line in header) + "\n" + "\n".join(
        (f"% {t}\n" if t else "") + render(f, "latex", n, space, against) for t, f, against in frames)
    body = "".join(f"<p>{html.escape(line)}</p>\n" for line in header) + "".join(
        (f"<h3>{html.escape(t)}</h3>\n" if t else "") + render(f, "html", n, space, against)
        for t, f, against in frames)
    write_text_atomic(out / f"{stem}.md", md)
    write_text_atomic(out / f"{stem}.csv", numbers_csv(rows))
    write_text_atomic(out / f"{stem}.tex", tex)
    write_text_atomic(out / f"{stem}.html", f"<!doctype html><meta charset='utf-8'>\n{body}")
    return md


#: Columns of `ganbench results` around the metric columns (one line per stored row).
LISTING_BEFORE = ("job_key", "model", "seed", "dataset", "budget", "status")
LISTING_AFTER = ("num_samples", "train_time_s", "created_at")


def listing(rows: Sequence[dict]) -> str:
    """Stored rows as a Markdown table, one line each: short job keys, every metric present (display scale)."""
    if not rows:
        return "(no results)"
    cols = [c for c in display_columns().values() if any(r.get(c.key) is not None for r in rows)]
    frame = pd.DataFrame([{**{c: r.get(c) for c in LISTING_BEFORE},
                           **{c.label: (r[c.key] * c.scale if r.get(c.key) is not None else None) for c in cols},
                           **{c: r.get(c) for c in LISTING_AFTER}} for r in rows])
    frame["job_key"] = frame["job_key"].str[:10]
    frame = frame.rename(columns={"num_samples": "N", "train_time_s": "train_s"})
    return frame.to_markdown(index=False, tablefmt="github", floatfmt=".3g", missingval="–")
