"""Shared pieces of bayesmeta's own plots: number formats, log-axis ticks, densities."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, NullLocator

#: Colours (colour-blind safe, Okabe–Ito) used across plots.
OBSERVED = "#000000"
MODEL = "#0072B2"
POOLED = "#D55E00"
PREDICTIVE = "#009E73"
HARM = "#D55E00"
PRIOR = "#E69F00"


def number(x: float) -> str:
    """A ratio or effect for a plot label: 2 decimals below 10, fewer above, 2 significant
    digits below 0.01."""
    if x is None or not math.isfinite(x):
        return "—"
    a = abs(x)
    if a == 0:
        return "0"
    if a < 0.01:
        return f"{x:.2g}"
    if a < 10:
        return f"{x:.2f}"
    if a < 100:
        return f"{x:.1f}"
    return f"{x:,.0f}"


def interval_text(estimate: float, lower: float, upper: float) -> str:
    """``0.21 (0.11–0.39)``; with a negative bound ``-2.75 (-34.7 to 29.2)``, since a dash
    between negative numbers reads as a minus sign."""
    joint = " to " if min(lower, upper) < 0 else "–"
    return f"{number(estimate)} ({number(lower)}{joint}{number(upper)})"


def tick_label(x: float) -> str:
    return f"{x:g}"


def log_ticks(ax: Axes, lower: float, upper: float) -> list[float]:
    """Readable fixed ticks (… 0.1, 0.2, 0.5, 1, 2, 5, 10 …) on a log x axis."""
    candidates = sorted({b * 10.0 ** e for e in range(-6, 7) for b in (1, 2, 5)})
    ticks = [t for t in candidates if lower <= t <= upper]
    if len(ticks) > 9:
        ticks = [t for t in ticks if math.isclose(math.log10(t), round(math.log10(t)))]
    if 1.0 not in ticks and lower <= 1.0 <= upper:
        ticks = sorted([*ticks, 1.0])
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([tick_label(t) for t in ticks])
    return ticks


def density_curve(marginal: Any, *, lower_bound: float | None = None,
                  grid_len: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(grid, density) of a quantity: exact ``pdf`` when the marginal has one (exact
    models), else ArviZ's KDE of its draws (boundary-corrected at ``lower_bound``)."""
    draws = getattr(marginal, "draws", None)
    if draws is None and hasattr(marginal, "pdf"):
        lo, hi = marginal.quantile(0.0005), marginal.quantile(0.9995)
        if lower_bound is not None:  # an exact density is drawn down to its bound (τ = 0)
            lo = lower_bound
        grid = np.linspace(lo, hi, grid_len)
        return grid, np.asarray(marginal.pdf(grid), dtype=float)
    from arviz_stats.base import array_stats

    flat = np.asarray(marginal.flat, dtype=float)
    kwargs: dict[str, Any] = {}
    if lower_bound is not None:
        kwargs = {"custom_lims": (lower_bound, float(flat.max())), "bound_correction": True}
    grid, pdf, _ = array_stats.kde(flat, grid_len=grid_len, **kwargs)
    return np.asarray(grid, dtype=float), np.asarray(pdf, dtype=float)


def n_draws(marginal: Any) -> int | None:
    """How many draws a probability was computed from (None for exact results)."""
    draws = getattr(marginal, "draws", None)
    return None if draws is None else int(np.size(draws))
