"""A forest-style plot of a comparison: one line per method, grouped by kind.

Each method shows its estimate (dot), 95% interval (thick line) and, where it has one, the
95% prediction interval for a new trial (thin line). Ratios are drawn on a log axis with a
line at 1. Classical comparators and Bayesian models have different colours; the text on
the right repeats the numbers, and the zero-cell rule is named under each method.
"""

from __future__ import annotations

import math
from pathlib import Path

from bayesmeta.errors import InputError
from bayesmeta.files import write_with
from bayesmeta.presentation.text import fmt
from bayesmeta.results.comparison import Comparison

COLOURS = {"classical": "#1f5f8b", "bayesian": "#b8452a"}
RATIO_MEASURES = {"OR", "RR", "IRR"}


def plot_format(path: str | Path) -> str:
    """The image format for ``path`` from its suffix (none: png); an :class:`InputError`
    when matplotlib cannot write it — call before long computations."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    kind = Path(path).suffix[1:].lower() or "png"
    supported = FigureCanvasAgg(Figure()).get_supported_filetypes()
    if kind not in supported:
        raise InputError(f"cannot draw a plot as '.{kind}' (use one of "
                         f"{', '.join('.' + k for k in sorted(supported))})", source=str(path))
    return kind


def plot_comparison(comparison: Comparison, path: str | Path, *, force: bool = False,
                    title: str | None = None) -> Path:
    """Draw the comparison to ``path`` (format from its suffix: .png, .pdf, .svg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kind = plot_format(path)
    measures = list(dict.fromkeys(r.measure for r in comparison.rows))
    heights = [sum(r.measure == m for r in comparison.rows) for m in measures]
    fig, axes = plt.subplots(len(measures), 1, figsize=(11, 0.48 * sum(heights) + 1.2
                                                         * len(measures) + 0.6),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, measure in zip(axes[:, 0], measures, strict=True):
        rows = [r for r in comparison.rows if r.measure == measure]
        ratio = measure in RATIO_MEASURES
        for i, r in enumerate(rows):
            y = len(rows) - 1 - i
            colour = COLOURS[r.kind]
            if not r.ok:
                ax.text(1.0 if ratio else 0.0, y, "no estimate", ha="center", va="center",
                        fontsize=8, color="grey")
                continue
            if r.pred_lower is not None and r.pred_upper is not None:
                ax.plot([r.pred_lower, r.pred_upper], [y, y], color=colour, lw=1,
                        alpha=0.6, ls="--")
            ax.plot([r.lower, r.upper], [y, y], color=colour, lw=3, solid_capstyle="butt")
            ax.plot([r.estimate], [y], "o", color=colour, ms=6,
                    mfc="white" if r.kind == "classical" else colour)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([f"{r.label}\n{_short(r.rule or r.zeros)}" for r in reversed(rows)],
                           fontsize=7.5)
        for tick, r in zip(ax.get_yticklabels(), reversed(rows), strict=True):
            tick.set_color(COLOURS[r.kind])
        if ratio:
            from matplotlib.ticker import FuncFormatter, LogLocator

            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
            ax.axvline(1.0, color="black", lw=0.8)
        else:
            ax.axvline(0.0, color="black", lw=0.8)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_xlabel(f"{measure} (treatment vs control): ● Bayesian median, 95% CrI; "
                      "○ classical estimate, 95% CI; dashed: 95% prediction", fontsize=8)
        text_ax = ax.twinx()
        text_ax.set_ylim(ax.get_ylim())
        text_ax.set_yticks(range(len(rows)))
        text_ax.set_yticklabels([_numbers(r) for r in reversed(rows)], fontsize=7.5,
                                family="monospace")
        text_ax.tick_params(length=0)
        _limits(ax, rows, ratio)
    d = comparison.data
    fig.suptitle(f"{title or Path(d['source']).stem}: {d['n_studies']} studies, "
                 f"{d['studies_with_a_zero']} with a zero cell, "
                 f"{len(d['double_zero_studies'])} without events in either arm", fontsize=10)
    fig.subplots_adjust(left=0.33, right=0.80, top=1 - 0.5 / fig.get_figheight(),
                        bottom=0.7 / fig.get_figheight(),
                        hspace=1.2 / (0.48 * sum(heights) / len(heights)))
    try:
        return write_with(path, lambda tmp: fig.savefig(tmp, dpi=120,
                                                        format=kind),
                          force=force)
    finally:
        plt.close(fig)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _numbers(r) -> str:
    if not r.ok:
        return "—"
    return f"{fmt(r.estimate)} ({fmt(r.lower)}–{fmt(r.upper)})"


def _limits(ax, rows, ratio: bool) -> None:
    values = [v for r in rows if r.ok for v in (r.lower, r.upper, r.pred_lower, r.pred_upper)
              if v is not None and math.isfinite(v) and (v > 0 or not ratio)]
    if not values:
        return
    lo, hi = min(values), max(values)
    if ratio:
        lo, hi = min(lo, 1.0) / 1.3, max(hi, 1.0) * 1.3
    else:
        pad = 0.1 * (max(hi, 0) - min(lo, 0) or 1)
        lo, hi = min(lo, 0) - pad, max(hi, 0) + pad
    ax.set_xlim(lo, hi)
