"""The report's comparison plots, read off the summary frame (``tables.summary_frame``): each headline metric as a
dot per model with its 95% CI over seeds and the real-data floor as a line; precision against recall and density
against coverage, one point per model. Each returns a base64 PNG, or None when the rows lack what it plots."""

from __future__ import annotations

import base64
import io
import math

import pandas as pd

from ..metrics import registry
from .tables import REAL_DATA, display_columns

#: The metrics a report gives a comparison plot of, when present (in this order).
HEADLINE = ("fid", "fid_best", "kid_mean", "precision", "recall", "density", "coverage", "cmmd", "vendi", "ct")


def figure_png(fig) -> str:
    """A matplotlib figure as a base64 PNG (100 dpi, cropped to what it draws); the figure is closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _value(frame: pd.DataFrame, model: str, key: str) -> float:
    v = frame.loc[model].get(f"{key}_mean", math.nan) if model in frame.index else math.nan
    return float(v) if v is not None and not pd.isna(v) else math.nan


def metric_dot_plot(frame: pd.DataFrame, key: str, space: str | None = None) -> str | None:
    """One dot per model (mean over its seeds) with its 95% CI, the floor as a dashed line; None without values."""
    import matplotlib.pyplot as plt

    col = display_columns().get(key) or registry.column(key)
    models = [m for m in frame.index if m != REAL_DATA and math.isfinite(_value(frame, m, key))]
    if col is None or not models:
        return None
    scale = col.scale
    means = [_value(frame, m, key) * scale for m in models]
    cis = [float(frame.loc[m].get(f"{key}_ci", math.nan)) * scale for m in models]
    fig, ax = plt.subplots(figsize=(5.2, 0.45 * len(models) + 1.2))
    y = list(range(len(models)))
    ax.errorbar(means, y, xerr=[0 if not math.isfinite(c) else c for c in cis], fmt="o", color="C0", capsize=3)
    floor = _value(frame, REAL_DATA, key)
    if math.isfinite(floor):
        ax.axvline(floor * scale, color="C3", linestyle="--", linewidth=1, label="real data (floor)")
        ax.legend(fontsize=7, loc="best")
    ax.set_yticks(y, models, fontsize=8)
    ax.invert_yaxis()
    arrow = {"lower": " (lower is better)", "higher": " (higher is better)"}.get(col.better or "", "")
    ax.set_xlabel(col.label_in(space) + arrow)
    ax.set_title(f"{col.label_in(space)}: mean and 95% CI over seeds", fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)
    return figure_png(fig)


def pair_plot(frame: pd.DataFrame, x: str, y: str, space: str | None = None) -> str | None:
    """``x`` against ``y`` (precision/recall, density/coverage), one labelled point per model, the floor marked."""
    import matplotlib.pyplot as plt

    points = [(m, _value(frame, m, x), _value(frame, m, y)) for m in frame.index]
    points = [p for p in points if math.isfinite(p[1]) and math.isfinite(p[2])]
    if not [p for p in points if p[0] != REAL_DATA]:
        return None
    cols = display_columns()
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    for i, (m, vx, vy) in enumerate(points):
        real = m == REAL_DATA
        ax.scatter([vx], [vy], marker="*" if real else "o", s=120 if real else 40,
                   color="C3" if real else f"C{i % 10}", zorder=3)
        ax.annotate("real data" if real else m, (vx, vy), textcoords="offset points", xytext=(5, 4), fontsize=7)
    ax.set_xlabel(cols[x].label_in(space) if x in cols else x)
    ax.set_ylabel(cols[y].label_in(space) if y in cols else y)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{cols[x].label if x in cols else x} against {cols[y].label if y in cols else y}, per model",
                 fontsize=9)
    return figure_png(fig)


def comparison_plots(frame: pd.DataFrame, space: str | None = None) -> list[tuple[str, str]]:
    """``[(title, base64 PNG)]``: a dot plot per headline metric present, then the two pair plots."""
    out = []
    for key in HEADLINE:
        if f"{key}_mean" in frame.columns:
            png = metric_dot_plot(frame, key, space)
            if png:
                out.append((f"{key} by model", png))
    for x, y in (("precision", "recall"), ("density", "coverage")):
        if f"{x}_mean" in frame.columns and f"{y}_mean" in frame.columns:
            png = pair_plot(frame, x, y, space)
            if png:
                out.append((f"{x} against {y}", png))
    return out
