"""A search's tables and plots, from its manifest (``search.json``) and the store alone.

- ``search.md`` / ``.csv`` / ``.tex`` / ``.html``: the re-runs of each model's chosen setting, compared as any run
  is (mean ± std [95% CI] over seeds, Welch tests), then each model's best-of-K beside the paper's figure, the
  trials it took, their compute, and how well the first rung predicted the last;
- ``search-trials.csv``: every trial, its drawn values, its score at every rung it reached, its status;
- ``search-fid-by-trial.png``: the distribution of the rung score over the trials of each model (every trial has
  a first-rung score; the ones that went on are drawn at their later rungs);
- ``search-expected-best.png``: the paper's central plot, the expected best score as a function of the number of
  trials drawn with replacement from those run (with successive halving: the trial that the halving would keep),
  computed exactly where a bootstrap over the trials would estimate it;
- ``search-curves.png``: FID over training of every re-run, finished or under way (once one has two points);
- ``search-report.html``: all of it on one self-contained page.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ...studies import get_study
from ...io import atomic_path, write_text_atomic
from ..store import Store
from ..markdown_html import STYLE, to_html
from ..report import curve_figure, read_csv_columns
from ..runner import EVAL_LOG
from ...train.log import LOG_NAME as TRAIN_LOG
from ..tables import display_columns, seeds_cell, summary_frame, write_tables
from .left import Left, left, left_markdown, rerun_trained, untimed_evals
from .manifest import JOURNAL, SearchResult, journal_storage, read_manifest, trial_dir
from .space import param_text


def _trial(row: dict) -> dict:
    return row["provenance"]["trial"]


def _rungs_reached(row: dict) -> list[dict]:
    return [r for r in _trial(row)["rungs"] if r.get("decision") != "pending"]


def _kept_key(row: dict) -> tuple[float, float] | None:
    """The order in which successive halving keeps trials: the latest rung reached first, then the best score
    there (None for a trial that reached no rung)."""
    reached = _rungs_reached(row)
    return (-reached[-1]["kimg"], reached[-1]["score"]) if reached else None


def kept_score(rows: Sequence[dict]) -> float:
    """The score of the trial successive halving keeps among ``rows``: the one that reached the latest rung, best
    there (a pruned trial's is its score at the rung it stopped at: higher than it would have reached)."""
    keys = [k for k in map(_kept_key, rows) if k is not None]
    return min(keys)[1] if keys else math.nan


def kept_distribution(rows: Sequence[dict], n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, probabilities)``: the exact distribution of ``kept_score`` over ``n`` trials drawn with
    replacement from ``rows``, given that one of them reached a rung (what a bootstrap over the trials estimates,
    without its Monte Carlo noise). With the K trials in the halving's order (``_kept_key``; trials without a
    rung last), the i-th (1-based) is kept when the draws include it and none before it:
    ((K - i + 1) / K)^n - ((K - i) / K)^n."""
    keys = sorted(k for k in map(_kept_key, rows) if k is not None)
    k = len(rows)
    i = np.arange(1, len(keys) + 1)
    p = ((k - i + 1) / k) ** n - ((k - i) / k) ** n
    return np.array([key[1] for key in keys], dtype=float), p / p.sum() if len(keys) else p


def _quantile(scores: np.ndarray, p: np.ndarray, q: float) -> float:
    """The ``q`` quantile of the discrete distribution (``scores``, ``p``): the least score whose cumulative
    probability reaches ``q``."""
    order = np.argsort(scores, kind="stable")
    cdf = np.cumsum(p[order])
    return float(scores[order][min(np.searchsorted(cdf, q - 1e-12), len(cdf) - 1)])


def expected_best(rows: Sequence[dict]) -> tuple[np.ndarray, np.ndarray]:
    """E[kept score] and its 5-95% band for 1..K trials drawn with replacement from ``rows`` (Lucic et al. 2018,
    section 5: the best FID as a function of the computational budget), exactly (``kept_distribution``)."""
    k = len(rows)
    means, bands = np.full(k, np.nan), np.full((k, 2), np.nan)
    for n in range(1, k + 1):
        scores, p = kept_distribution(rows, n)
        if len(scores):
            means[n - 1] = float(scores @ p)
            bands[n - 1] = [_quantile(scores, p, 0.05), _quantile(scores, p, 0.95)]
    return means, bands


def chosen_trial(rows: Sequence[dict]) -> int | None:
    """The trial a search re-runs: the lowest score among the trials that reached the end (None until one has)."""
    done = [r for r in rows if r["status"] == "ok" and r.get(_trial(r)["metric"]) is not None]
    if not done:
        return None
    return int(_trial(min(done, key=lambda r: (r[_trial(r)["metric"]], _trial(r)["number"])))["number"])


def _chosen(m: dict, model: str, trials: Sequence[dict], reruns: Sequence[dict]) -> int | None:
    """The trial a search folder's ``model`` re-runs: the one its re-run rows name, or, before any has landed, the
    choice itself (None while the search has not chosen)."""
    if reruns:
        return int(reruns[0]["groups"]["trial"])
    return chosen_trial(trials) if m["reruns"].get(model) else None


def rerun_progress(run_dir: Path, m: dict, reruns: dict[str, list[dict]]) -> dict[str, list[tuple[int, float, float]]]:
    """Each model's re-runs still under way, as ``(seed, kimg, score)`` of the last point of their curve so far
    (``eval_log.csv`` in the folder the manifest names; a re-run with no point yet, or a manifest that names no
    folders, gives nothing). A long study's report shows where its re-runs stand before their rows land."""
    out: dict[str, list[tuple[int, float, float]]] = {}
    for model, where in m.get("rerun_dirs", {}).items():
        ended = {r["job_key"] for r in reruns.get(model, [])}  # a row, ok or not: the re-run is over
        for key, job in where.items():
            log = read_csv_columns(run_dir / job["dir"] / EVAL_LOG) if key not in ended else {}
            if log.get("kimg"):
                out.setdefault(model, []).append((int(job["seed"]), log["kimg"][-1], log["fid"][-1]))
    return out


def rank_agreement(rows: Sequence[dict]) -> tuple[float, int]:
    """Spearman's rho between the first-rung score and the final score over the trials that reached the end."""
    from scipy.stats import spearmanr

    pairs = [(_trial(r)["rungs"][0]["score"], _trial(r)["rungs"][-1]["score"]) for r in rows if r["status"] == "ok"
             and len(_trial(r)["rungs"]) > 1]
    if len(pairs) < 3:
        return math.nan, len(pairs)
    rho = spearmanr([a for a, _ in pairs], [b for _, b in pairs]).statistic
    return float(rho), len(pairs)


def rung_agreement(rows: Sequence[dict], rungs: Sequence[float]) -> list[tuple[float, float, float, int]]:
    """``(kimg, next kimg, rho, n)`` per pair of consecutive rungs: Spearman's rho between the two scores over every
    finished trial scored at both, pruned ones included. It asks what the halving decides at each rung (does this
    rung's order predict the next one's?) on more trials than ``rank_agreement``, which sees only the trials that
    reached the end."""
    from scipy.stats import spearmanr

    out = []
    for a, b in zip(rungs, rungs[1:]):
        pairs = []
        for r in rows:
            by = {round(x["kimg"], 6): x["score"] for x in _rungs_reached(r)}
            if r["status"] in ("ok", "pruned") and round(a, 6) in by and round(b, 6) in by:
                pairs.append((by[round(a, 6)], by[round(b, 6)]))
        rho = float(spearmanr(*zip(*pairs)).statistic) if len(pairs) >= 3 else math.nan
        out.append((float(a), float(b), rho, len(pairs)))
    return out


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def _write_png(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def plot_distribution(trials: dict[str, list[dict]], labels: dict, metric: str, first_kimg: float) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = [m for m in trials if trials[m]]
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(models), 4.2))
    first = [[_trial(r)["rungs"][0]["score"] for r in trials[m] if _trial(r)["rungs"]] for m in models]
    ax.boxplot(first, showfliers=False, widths=0.5)
    rng = np.random.default_rng(0)
    for i, m in enumerate(models, 1):
        for r in trials[m]:
            rungs = _trial(r)["rungs"]
            if not rungs:
                continue
            x = i + rng.uniform(-0.15, 0.15)
            ax.scatter([x], [rungs[0]["score"]], s=14, color="0.45", zorder=3)
            if len(rungs) > 1:  # the trial went on: its later rungs, joined
                ax.plot([x] * len(rungs), [p["score"] for p in rungs], color="C1", lw=0.8, zorder=2)
                ax.scatter([x], [rungs[-1]["score"]], s=22, color="C1" if r["status"] == "ok" else "C3", zorder=4)
    ax.set_xticks(range(1, len(models) + 1), [labels.get(m, m) for m in models], rotation=20)
    ax.set_yscale("log")
    ax.set_ylabel(f"{metric.upper()} on the selection split (log)")
    ax.set_title(f"Trials per model: box = first rung ({first_kimg:g} kimg), orange = later rungs", fontsize=9)
    dot = lambda color, size, text: ax.scatter([], [], s=size, color=color, label=text)  # noqa: E731
    dot("0.45", 14, f"score at {first_kimg:g} kimg")
    dot("C1", 22, "last rung, trained to the end")
    dot("C3", 22, "last rung, pruned there (or diverged)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    out = _png(fig)
    plt.close(fig)
    return out


def plot_expected_best(trials: dict[str, list[dict]], labels: dict, metric: str) -> bytes:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    for i, (m, rows) in enumerate((m, r) for m, r in trials.items() if r):
        mean, band = expected_best(rows)
        n = np.arange(1, len(rows) + 1)
        ax.plot(n, mean, marker="o", ms=3, color=f"C{i}", label=f"{labels.get(m, m)} ({len(rows)} trials ended)")
        ax.fill_between(n, band[:, 0], band[:, 1], color=f"C{i}", alpha=0.12)
    ax.set_xlabel("trials (hyperparameter settings) drawn")
    ax.set_ylabel(f"expected best {metric.upper()} (selection split)")
    ax.set_yscale("log")
    ax.set_title("Expected best score vs trials drawn from those run (exact; 5-95% band)", fontsize=9)
    ax.legend(fontsize=8)
    out = _png(fig)
    plt.close(fig)
    return out


def plot_rerun_curves(run_dir: Path, m: dict, labels: dict, reruns: dict[str, list[dict]]) -> bytes | None:
    """FID against kimg of every re-run, finished (its row's stored curve) or under way (its folder's
    ``eval_log.csv``, as the manifest names them); None until one has two points."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stored = {r["job_key"]: ((r.get("provenance") or {}).get("curve") or {}).get("points")
              for rows in reruns.values() for r in rows}
    jobs = [{"out_dir": str(run_dir / job["dir"]), "model": labels.get(model, model), "seed": job["seed"],
             "points": stored.get(key)}
            for model, where in m.get("rerun_dirs", {}).items() for key, job in where.items()]
    fig = curve_figure(jobs, title="Re-runs of the chosen settings (test split)",
                       curve_samples=m["budget"].get("curve_samples"))
    if fig is None:
        return None
    out = _png(fig)
    plt.close(fig)
    return out


def running_trials(run_dir: Path, trials: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Trials under way, as rows for the tables only: scored at one rung or more, no result yet (their values and
    rung scores from the Optuna journal, their ``kimg`` how far they have trained: the last line of the trial
    folder's train_log.csv, which a resume winds back to its checkpoint; a trial not yet at its first rung has
    nothing to show). A long search publishes its rungs as they land; the statistics (expected best, rank
    agreement) read finished trials only."""
    path = run_dir / JOURNAL
    if not path.is_file():
        return {}
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = journal_storage(path)
    names = {s.study_name for s in storage.get_all_studies()}
    out: dict[str, list[dict]] = {}
    for model in (m for m in trials if m in names):
        done = {_trial(r)["number"] for r in trials[model]}
        for t in optuna.load_study(study_name=model, storage=storage).get_trials(deepcopy=False):
            if t.state != optuna.trial.TrialState.RUNNING or t.number in done or not t.intermediate_values:
                continue
            rungs = [{"kimg": step / 1000, "score": v, "decision": "reported"}
                     for step, v in sorted(t.intermediate_values.items())]
            trained = read_csv_columns(trial_dir(run_dir, model, t.number) / TRAIN_LOG).get("kimg") or [0.0]
            out.setdefault(model, []).append({"status": "running", "kimg": max(rungs[-1]["kimg"], trained[-1]),
                                              "job_key": "",
                                              "provenance": {"trial": {"number": t.number, "rungs": rungs,
                                                                       "params": t.user_attrs.get("params", {})}}})
    return out


def _with_running(trials: dict[str, list[dict]], running: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Each model's finished and running trials, in trial order (for the tables)."""
    return {m: sorted(rows + running.get(m, []), key=lambda r: _trial(r)["number"]) for m, rows in trials.items()}


def _fmt(v: Any, digits: int = 2) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{digits}f}"


def trials_csv(trials: dict[str, list[dict]], rungs: Sequence[float]) -> str:
    names = sorted({p for rows in trials.values() for r in rows for p in _trial(r)["params"]})
    head = ["model", "trial", "status", "kimg", *names, *(f"score_{k:g}kimg" for k in rungs), "job_key"]
    lines = [",".join(head)]
    for m, rows in trials.items():
        for r in rows:
            t = _trial(r)
            by = {round(p["kimg"], 6): p["score"] for p in t["rungs"]}
            lines.append(",".join(str(v) for v in [m, t["number"], r["status"], f"{r.get('kimg') or 0:g}",
                                                   *(t["params"].get(n, "") for n in names),
                                                   *(f"{by[round(k, 6)]:.4f}" if round(k, 6) in by else ""
                                                     for k in rungs), r["job_key"]]))
    return "\n".join(lines) + "\n"


def _hours(rows: Sequence[dict]) -> str:
    """The hours ``rows`` ran, each job's training and evaluation wall time summed (its checkpoints' evaluations
    included; on the torch threads the header states, so hours of jobs run side by side add up). Rows restored from
    a published table (``scripts/restore_search_trials.py``) carry no times, so theirs show as "?" beside the
    others' sum ("1.3 + ? (1 restored)"): a sum over them would read as compute that was never spent, or as less
    than was. Rows whose curve points were evaluated before their time was recorded are counted without those
    evaluations, and the cell says how many rows that is."""
    restored = sum("restored" in (r.get("provenance") or {}) for r in rows)
    timed = [r for r in rows if "restored" not in (r.get("provenance") or {})]
    hours = f"{sum((r.get('train_time_s') or 0) + (r.get('eval_time_s') or 0) for r in timed) / 3600:.1f}"
    short = sum(untimed_evals(r) for r in timed)
    if short:
        hours += f" (evaluations during training not timed in {short})"
    if not restored:
        return hours
    return (f"{hours} + " if timed else "") + f"? ({restored} restored)"


def search_markdown(m: dict, trials: dict[str, list[dict]], reruns: dict[str, list[dict]],
                    running: dict[str, list[dict]] | None = None,
                    progress: dict[str, list[tuple[int, float, float]]] | None = None, curves: bool = False,
                    still: str = "") -> str:
    """Each model's best-of-K beside the paper, its trials and compute, and the halving's rank agreement; the
    trials table also lists ``running`` trials (``running_trials``) with the rungs they have reached, and the
    summary the last curve point of re-runs under way (``rerun_progress``); ``curves``: link the re-runs' curves
    (``search-curves.png``); ``still``: the table of what is left (``left.left_markdown``), under the summary."""
    study = get_study(m["study"]) if m.get("study") else None
    labels = study.labels if study else {}
    lines = [_search_line(m), ""]
    lines += ["| model | chosen trial | its values | best-of-K FID best ckpt (re-runs) | FID last | published | "
              "within the published ± or better | trials done / K | search kimg (÷ K × full) | "
              "hours (wall, per job) search + re-runs |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    lines += [_model_row(m, model, rows, reruns.get(model, []), study, labels, (progress or {}).get(model, []))
              for model, rows in trials.items()]
    if study and any(study.published_for(m["dataset"], x) for x in trials):
        sources = sorted({pub.source for x in trials if (pub := study.published_for(m["dataset"], x))})
        lines += ["", f"Published: {'; '.join(sources)}."]
    if still:
        lines += ["", still.rstrip("\n")]
    if study and study.kept:
        lines += ["", f"Kept from the paper's code on purpose: {study.kept}."]
    pooled = [r for rows in trials.values() for r in rows]
    rho, n = rank_agreement(pooled)
    per = [f"{labels.get(x, x)} {_fmt(rank_agreement(rows)[0])} (n={rank_agreement(rows)[1]})"
           for x, rows in trials.items()]
    lines += ["", f"**Did the halving choose well?** Spearman's ρ between the first-rung ({m['rungs'][0]:g} kimg) and "
                  f"the final ({m['rungs'][-1]:g} kimg) score of the trials that reached the end: pooled "
                  f"{_fmt(rho)} (n={n}); per model: {'; '.join(per)}. (Pooled over models, ρ also counts the "
                  "differences between losses.)"]
    steps = rung_agreement(pooled, m["rungs"])
    if len(steps) > 1:
        lines[-1] += (" Rung by rung, over every trial scored at both rungs (pruned ones included), pooled: "
                      + "; ".join(f"{a:g} → {b:g} kimg {_fmt(rho)} (n={k})" for a, b, rho, k in steps) + ".")
    lines += ["",
              "![score by trial](search-fid-by-trial.png)", "", "![expected best](search-expected-best.png)", ""]
    if curves:
        lines += ["The re-runs' FID over training (every curve point, a re-run under way up to where it stands):",
                  "", "![re-runs over training](search-curves.png)", ""]
    lines += ["Trials (values drawn, score at each rung reached, a running trial's so far; `search-trials.csv` has "
              "them all):", "",
              "| model | trial | status | values | " + " | ".join(f"{k:g} kimg" for k in m["rungs"]) + " |",
              "|---|---|---|---|" + "---|" * len(m["rungs"])]
    for model, rows in _with_running(trials, running or {}).items():
        for r in rows:
            t = _trial(r)
            by = {round(x["kimg"], 6): x["score"] for x in t["rungs"]}
            status = f"running, at {r['kimg']:g} kimg" if r["status"] == "running" else r["status"]
            lines.append(f"| {labels.get(model, model)} | {t['number']} | {status} | {param_text(t['params'])} | "
                         + " | ".join(_fmt(by.get(round(k, 6))) for k in m["rungs"]) + " |")
    return "\n".join(lines) + "\n"


def _search_line(m: dict) -> str:
    """The search's protocol in one paragraph: space, trials, samplers, halving, rung score, re-runs."""
    p, tb = m["protocol"], m["trial_budget"]
    return (f"**Search.** Space `{m['space']['name']}` ({m['space']['source'] or m['space']['path']}); "
            f"{p['trials']} trials per model, trial 0 the model's own setting, the others drawn by samplers seeded "
            f"{p['seed']}; successive halving (Optuna's SuccessiveHalvingPruner, asynchronous) with rungs at "
            f"{', '.join(f'{k:g}' for k in m['rungs'])} kimg, each scored by {p['rung_metric'].upper()} on "
            f"{tb['num_samples']} samples vs {tb['ref_samples']} images of `{tb['ref_split']}`"
            + (" (held out of the training images: the trials never train on them)"
               if p["select_on"] == "validation" else " (**the test set: the paper's own choice, selection peeks**)")
            + f"; the chosen setting re-run with seeds {', '.join(map(str, p['rerun_seeds']))} under "
              f"`{m['budget']['name']}` on the test split.")


def _model_row(m: dict, model: str, rows: list[dict], reruns: list[dict], study, labels: dict,
               progress: Sequence[tuple[int, float, float]] = ()) -> str:
    """One model's line of the summary table: its chosen trial, the re-runs' FIDs (and where the ones under way
    stand), the paper's, the compute."""
    p = m["protocol"]
    t_ok = [r for r in rows if r["status"] in ("ok", "pruned", "diverged")]
    planned = bool(m["reruns"].get(model))  # the search has chosen: its re-runs are planned, done or not
    k = _chosen(m, model, rows, reruns)
    params = next((_trial(r)["params"] for r in rows if _trial(r)["number"] == k), {}) if k is not None else {}
    frame = summary_frame([r for r in reruns if r["status"] == "ok"]) if reruns else None
    pub = study.published_for(m["dataset"], model) if study else None
    kimg = sum(r.get("kimg") or 0 for r in t_ok)
    return (f"| {labels.get(model, model)} | {k if k is not None else '–'} | {param_text(params) or '–'} | "
            f"{_rerun_cell(planned, frame, 'fid_best', progress)} | {_rerun_cell(planned, frame, 'fid')} | "
            f"{f'{pub.value:.1f} ± {pub.spread:.1f}' if pub else '–'} | "
            f"{_against_paper(frame, pub, len(m['reruns'].get(model, [])))} | {len(t_ok)} / {p['trials']} | "
            f"{kimg:,.0f} ({kimg / (p['trials'] * m['trial_budget']['kimg']):.2f}) | "
            f"{_hours(t_ok)} + {_hours(reruns)} |")


def _against_paper(frame, pub, planned: int) -> str:
    """Whether the re-runs' mean best-checkpoint FID is within the published mean + std or below it (the study's
    target): "yes" / "no, +d above", with "(n=k of N)" while re-runs are still to land; "–" without both."""
    if pub is None or frame is None or frame.empty or "fid_best_mean" not in frame or not frame.iloc[0]["fid_best_n"]:
        return "–"
    f = frame.iloc[0]
    excess = f["fid_best_mean"] - (pub.value + pub.spread)
    n = int(f["fid_best_n"])
    return ("yes" if excess <= 0 else f"no, +{excess:.2f} above") + (f" (n={n} of {planned})" if n < planned else "")


def _rerun_cell(planned: bool, frame, col: str, progress: Sequence[tuple[int, float, float]] = ()) -> str:
    """The re-runs' ``col``: mean ± std [95% CI] (n) over seeds; "running" before any finished, "–" without any
    planned; then the last curve point of each re-run under way in ``progress`` (not part of the statistic)."""
    if not planned:
        return "–"
    so_far = "; ".join(f"seed {s} at {k:g} kimg: {v:.2f}" for s, k, v in progress)
    so_far = f" (under way: {so_far})" if so_far else ""
    if frame is None or frame.empty:
        return "running" + so_far
    if f"{col}_mean" not in frame:
        return "–"
    f = frame.iloc[0]
    n = int(f[f"{col}_n"])
    if not n:
        return "–"
    if n == 1:
        return f"{f[f'{col}_mean']:.2f} (n=1)" + so_far
    return f"{seeds_cell(f[f'{col}_mean'], f[f'{col}_std'], f[f'{col}_ci'], display_columns()[col])} (n={n})" + so_far


def _gather(run_dir: Path, m: dict, store: Store):
    """``(stored, trials, running, reruns)``: the stored rows of each model's trials, those with rungs (a trial
    that failed on every attempt, its worker died or an error, has none yet: counted, not drawn), the trials under
    way, and the re-run rows."""
    stored = {model: store.rows(keys) for model, keys in m["trials"].items()}
    trials = {model: [r for r in rows if "trial" in (r.get("provenance") or {})] for model, rows in stored.items()}
    reruns = {model: store.rows(keys) for model, keys in m["reruns"].items()}
    return stored, trials, running_trials(run_dir, trials), reruns


def what_is_left(run_dir: str | Path, store: Store | None = None) -> dict[str, Left]:
    """What the search in ``run_dir`` still has to run, per model (``left.left``), from its manifest and the store."""
    run_dir = Path(run_dir)
    m = read_manifest(run_dir)
    _, trials, running, reruns = _gather(run_dir, m, store or Store(m["store"]))
    return left(m, trials, reruns, running, rerun_trained(run_dir, m, reruns))


def write_search_report(run_dir: str | Path, store: Store | None = None):
    """Rewrite the search folder's tables, plots and HTML page from its manifest and the store."""
    run_dir = Path(run_dir)
    m = read_manifest(run_dir)
    store = store or Store(m["store"])
    stored, trials, running, reruns = _gather(run_dir, m, store)
    under_way = {m["trials"][model][_trial(r)["number"]] for model, rows in running.items() for r in rows}
    failed = sum(r["status"] == "failed" and r["job_key"] not in under_way for rows in stored.values() for r in rows)
    floor = store.get(m["floor"]) if m.get("floor") else None
    study = get_study(m["study"]) if m.get("study") else None
    labels = study.labels if study else {}
    metric = m["protocol"]["rung_metric"]
    curves = plot_rerun_curves(run_dir, m, labels, reruns)
    still = left_markdown(left(m, trials, reruns, running, rerun_trained(run_dir, m, reruns)), labels)
    extra = search_markdown(m, trials, reruns, running, rerun_progress(run_dir, m, reruns), curves is not None,
                            still) + (
        f"\n{failed} trial(s) failed on every attempt; re-run the search to try them again "
        "(`ganbench results --status failed` has their reasons).\n" if failed else "")
    rows = [r for rs in reruns.values() for r in rs] + ([floor] if floor else [])
    if rows:
        md = write_tables(rows, run_dir, stem="search", extra_md=extra)
    else:  # no re-run yet: the trials so far
        md = extra
        write_text_atomic(run_dir / "search.md", md)
    write_text_atomic(run_dir / "search-trials.csv", trials_csv(_with_running(trials, running), m["rungs"]))
    images = {}
    if any(trials.values()):
        images["search-fid-by-trial.png"] = plot_distribution(trials, labels, metric, m["rungs"][0])
        images["search-expected-best.png"] = plot_expected_best(trials, labels, metric)
    if curves is not None:
        images["search-curves.png"] = curves
    for name, data in images.items():
        _write_png(run_dir / name, data)
    write_text_atomic(run_dir / "search-report.html", _html(md, images))
    chosen = {model: _chosen(m, model, trials.get(model, []), rs) for model, rs in reruns.items()
              if m["reruns"].get(model)}
    return SearchResult(run_dir, trials, reruns, floor, md, chosen)


def _html(md: str, images: dict[str, bytes]) -> str:
    """The Markdown as a web page (tables as tables) with its images inlined: one self-contained file."""
    return ("<!doctype html><html><head><meta charset='utf-8'><title>ganbench search</title>"
            f"<style>{STYLE}</style></head><body><h1>ganbench search</h1>\n" + to_html(md, images)
            + "\n</body></html>\n")
