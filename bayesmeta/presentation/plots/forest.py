"""Forest plot: observed study estimates, the model's shrunken estimates, the pooled and the
predictive row, on the effect's scale (odds ratios on a log axis).

Drawn from ``result.forest_table()`` (:class:`bayesmeta.results.forest.ForestTable`), so any
model that provides one gets a forest plot. Studies without an observed estimate (a zero
cell; no continuity correction is added) have no observed interval and are marked with †.
Artists carry ``gid``s (``study-label``, ``observed``, ``model``, ``pooled``,
``predictive``) so tests — and SVG readers — can find them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from bayesmeta.presentation.plots.common import (
    MODEL,
    OBSERVED,
    POOLED,
    PREDICTIVE,
    interval_text,
    log_ticks,
)
from bayesmeta.presentation.plots.save import finish
from bayesmeta.results.forest import ForestRow, ForestTable

DAGGER = "†"
ROW_GAP = 0.7  # extra space between the studies and the pooled rows


def _positions(table: ForestTable) -> list[float]:
    ys, y = [], 0.0
    previous = "study"
    for row in table.rows:
        if row.kind != "study" and previous == "study":
            y += ROW_GAP
        ys.append(y)
        y += 1.0
        previous = row.kind
    return ys


def _limits(table: ForestTable) -> tuple[float, float]:
    """x limits (internal scale) covering the model intervals and, within reason, the
    observed ones."""
    model = [v for r in table.rows if r.model for v in (r.model.lower, r.model.upper)]
    observed = [v for r in table.rows if r.observed for v in (r.observed.lower,
                                                               r.observed.upper)]
    lo, hi = min(model), max(model)
    span = max(hi - lo, 1e-9)
    if observed:  # widen for observed CIs, but not beyond 2 model-spans either side
        lo = max(min(lo, min(observed)), lo - 2 * span)
        hi = min(max(hi, max(observed)), hi + 2 * span)
    null = table.scale.to_internal(table.scale.null)
    lo, hi = min(lo, null), max(hi, null)
    pad = 0.06 * (hi - lo)
    return lo - pad, hi + pad


def forest_plot(result: Any, path: str | Path | None = None, *, force: bool = False,
                title: str | None = None, table: ForestTable | None = None,
                favours: tuple[str, str] | None = None) -> Figure:
    """Draw the forest plot of ``result`` (and save it to ``path`` when given).

    ``favours`` overrides the words under the axis (left, right), e.g. for an outcome
    where events are good: ``("favours control", "favours treatment")``.
    """
    table = table or result.forest_table()
    scale = table.scale
    rows = table.rows
    ys = _positions(table)
    n = len(rows)
    height = 1.9 + 0.34 * (n + 1.5)
    fig = Figure(figsize=(11.5, height), layout="constrained")
    grid = fig.add_gridspec(1, 3, width_ratios=[3.6, 4.0, 4.0], wspace=0.0)
    ax_left = fig.add_subplot(grid[0])
    ax = fig.add_subplot(grid[1], sharey=ax_left)
    ax_right = fig.add_subplot(grid[2], sharey=ax_left)
    header_y = -1.3
    ax_left.set_ylim(ys[-1] + 0.8, header_y - 0.6)

    lo, hi = _limits(table)
    to_display = scale.to_display
    if scale.log:
        ax.set_xscale("log")
    ax.set_xlim(to_display(lo), to_display(hi))

    # -- left: labels and details ----------------------------------------------------
    detail_x = [0.70, 0.93][: len(table.detail_headers)]
    if len(table.detail_headers) > 2:
        detail_x = list(np.linspace(0.55, 0.95, len(table.detail_headers)))
    for a in (ax_left, ax_right):
        a.set_axis_off()
    ax_left.text(0.0, header_y, "Study", weight="bold", va="center", ha="left",
                 transform=ax_left.get_yaxis_transform())
    for x, head in zip(detail_x, table.detail_headers, strict=True):
        ax_left.text(x, header_y, head, weight="bold", va="center", ha="right",
                     transform=ax_left.get_yaxis_transform())
    if table.details_caption:
        ax_left.text(detail_x[-1], header_y + 0.55, table.details_caption, va="center",
                     ha="right", fontsize="small", color="0.35",
                     transform=ax_left.get_yaxis_transform())
    any_missing = False
    for row, y in zip(rows, ys, strict=True):
        label = row.label
        if row.kind == "study" and row.observed is None:
            label += f" {DAGGER}"
            any_missing = True
        weight = "bold" if row.kind != "study" else "normal"
        ax_left.text(0.0, y, label, va="center", ha="left", weight=weight,
                     transform=ax_left.get_yaxis_transform(), gid=f"{row.kind}-label")
        for x, detail in zip(detail_x, row.details, strict=False):
            ax_left.text(x, y, detail, va="center", ha="right",
                         transform=ax_left.get_yaxis_transform())

    # -- middle: intervals -------------------------------------------------------------
    xmin, xmax = lo, hi
    for row, y in zip(rows, ys, strict=True):
        if row.kind == "study":
            _draw_study(ax, row, y, xmin, xmax, to_display)
        elif row.kind == "pooled":
            _draw_pooled(ax, row, y, to_display)
        else:
            _draw_predictive(ax, row, y, xmin, xmax, to_display)
    ax.plot([scale.null, scale.null], [ys[0] - 0.6, ys[-1] + 0.6], color="0.4", lw=0.9,
            ls="--", zorder=0, gid="null-line")
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if scale.log:
        log_ticks(ax, to_display(lo), to_display(hi))
    ax.set_xlabel(f"{scale.name[0].upper()}{scale.name[1:]}"
                  + (" (log scale)" if scale.log else ""))
    left_words, right_words = favours or (scale.lower_label, scale.upper_label)
    ax.text(scale.null, header_y, f"← {left_words}  ", ha="right", va="center",
            fontsize="small", gid="favours-left")
    ax.text(scale.null, header_y, f"  {right_words} →", ha="left", va="center",
            fontsize="small", gid="favours-right")

    # -- right: numbers ----------------------------------------------------------------
    ax_right.text(0.05, header_y, table.observed_label, weight="bold", va="center",
                  ha="left", transform=ax_right.get_yaxis_transform())
    ax_right.text(0.53, header_y, table.model_label, weight="bold", va="center", ha="left",
                  transform=ax_right.get_yaxis_transform())
    for row, y in zip(rows, ys, strict=True):
        if row.observed is not None:
            o = row.observed
            ax_right.text(0.05, y, interval_text(to_display(o.estimate), to_display(o.lower),
                                                 to_display(o.upper)),
                          va="center", ha="left", transform=ax_right.get_yaxis_transform())
        elif row.kind == "study":
            ax_right.text(0.05, y, f"{row.observed_note or 'none'} {DAGGER}", va="center",
                          ha="left", style="italic", color="0.35",
                          transform=ax_right.get_yaxis_transform(), gid="observed-missing")
        if row.model is not None:
            m = row.model
            text = interval_text(to_display(m.estimate), to_display(m.lower),
                                 to_display(m.upper))
            ax_right.text(0.53, y, text, va="center", ha="left",
                          weight="bold" if row.kind == "pooled" else "normal",
                          transform=ax_right.get_yaxis_transform())

    notes = [f"■ observed ({table.observed_label.split('(')[-1].rstrip(')') or '95% CI'}, "
             f"{table.observed_caption})   ● model: shrunken study estimate (95% CrI)   "
             "◆ pooled (95% CrI)   ━ a new study (95% prediction interval)"]
    if any_missing:
        notes.append(f"{DAGGER} no observed estimate {table.missing_caption}")
    note_height = (0.2 + 0.16 * len(notes)) / height
    fig.text(0.01, 0.01, "\n".join(notes), ha="left", va="bottom", fontsize="x-small",
             color="0.3", gid="notes")
    fig.get_layout_engine().set(rect=(0, note_height, 1, 1 - note_height))
    if title:
        fig.suptitle(title, x=0.01, ha="left", weight="bold")
    return finish(fig, path, force=force)


def _clip(lo: float, hi: float, xmin: float, xmax: float) -> tuple[float, float, bool, bool]:
    return max(lo, xmin), min(hi, xmax), lo < xmin, hi > xmax


def _segment(ax, y, lo, hi, xmin, xmax, to_display, color, lw, gid):
    a, b, cut_lo, cut_hi = _clip(lo, hi, xmin, xmax)
    ax.plot([to_display(a), to_display(b)], [y, y], color=color, lw=lw, gid=gid,
            solid_capstyle="butt")
    for cut, x, marker in ((cut_lo, a, "<"), (cut_hi, b, ">")):
        if cut:
            ax.plot([to_display(x)], [y], marker=marker, color=color, ms=5, gid=f"{gid}-clipped")


def _draw_study(ax, row: ForestRow, y, xmin, xmax, to_display) -> None:
    if row.observed is not None:
        o = row.observed
        _segment(ax, y - 0.14, o.lower, o.upper, xmin, xmax, to_display, OBSERVED, 1.3,
                 "observed")
        if xmin <= o.estimate <= xmax:
            ax.plot([to_display(o.estimate)], [y - 0.14], marker="s", color=OBSERVED, ms=6,
                    gid="observed-point", ls="none")
    if row.model is not None:
        m = row.model
        _segment(ax, y + 0.16, m.lower, m.upper, xmin, xmax, to_display, MODEL, 1.3, "model")
        ax.plot([to_display(m.estimate)], [y + 0.16], marker="o", color=MODEL, ms=5,
                gid="model-point", ls="none")


def _draw_pooled(ax, row: ForestRow, y, to_display) -> None:
    m = row.model
    half = 0.28
    xs = [to_display(m.lower), to_display(m.estimate), to_display(m.upper),
          to_display(m.estimate)]
    ax.add_patch(Polygon(list(zip(xs, [y, y - half, y, y + half], strict=True)), closed=True,
                         facecolor=POOLED, edgecolor=POOLED, gid="pooled"))


def _draw_predictive(ax, row: ForestRow, y, xmin, xmax, to_display) -> None:
    m = row.model
    _segment(ax, y, m.lower, m.upper, xmin, xmax, to_display, PREDICTIVE, 4.0, "predictive")
    ax.plot([to_display(m.estimate)], [y], marker="|", color="white", ms=9, mew=2,
            ls="none", gid="predictive-point")
