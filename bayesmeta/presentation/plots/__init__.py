"""Plots of a fitted meta-analysis (matplotlib; ArviZ for sampler diagnostics).

Every plot function takes a result object, returns the matplotlib ``Figure`` (or ArviZ's
``PlotCollection``) and saves it when given ``path`` (PNG, SVG or PDF by extension; never
over an existing file without ``force``)::

    from bayesmeta.presentation.plots import forest_plot, plot
    forest_plot(res, "forest.svg")
    plot("posterior", res, "harm.png", threshold=1.5)

:data:`PLOT_KINDS` is the registry behind ``bayesmeta plot KIND``; a model or analysis with
its own picture (effect over time, a sensitivity sweep) adds it with :func:`register_plot`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bayesmeta.errors import InputError
from bayesmeta.presentation.plots.densities import harm_label, posterior_plot, tau_plot
from bayesmeta.presentation.plots.diagnostics import rank_plot, trace_plot
from bayesmeta.presentation.plots.forest import forest_plot
from bayesmeta.presentation.plots.save import data_uri, figure_of, save_figure


@dataclass(frozen=True)
class PlotKind:
    """A named plot: ``draw(result, path=None, *, force=False, **options)`` and what it
    shows; ``options`` are the keyword options it understands (the CLI passes only those)."""

    name: str
    draw: Callable[..., Any]
    description: str
    options: tuple[str, ...] = ()
    applies: Callable[[Any], bool] = lambda result: True
    #: Why it does not apply, when ``applies`` says no (one line for the user).
    why_not: str = ""


PLOT_KINDS: dict[str, PlotKind] = {}


def register_plot(kind: PlotKind) -> None:
    """Add (or replace) a plot kind in the registry."""
    PLOT_KINDS[kind.name] = kind


def plot(kind: str, result: Any, path: str | Path | None = None, *, force: bool = False,
         **options: Any) -> Any:
    """Draw plot ``kind`` of ``result``; options it does not take are ignored."""
    if kind not in PLOT_KINDS:
        raise InputError(f"unknown plot '{kind}'; known: {', '.join(PLOT_KINDS)}")
    entry = PLOT_KINDS[kind]
    if not entry.applies(result):
        raise InputError(f"a {kind} plot does not apply to {type(result).__name__}"
                         + (f": {entry.why_not}" if entry.why_not else ""))
    taken = {k: v for k, v in options.items() if k in entry.options and v is not None}
    return entry.draw(result, path, force=force, **taken)


_NO_DRAWS = ("it was computed exactly, without MCMC draws (no chains to check; refit with "
             "--method mcmc to see them)")


def _has_draws(result: Any) -> bool:
    return getattr(result, "idata", None) is not None


for _kind in (
    PlotKind("forest", forest_plot, "studies (observed and shrunken), pooled and predictive",
             ("title", "favours")),
    PlotKind("posterior", posterior_plot, "posterior of the pooled effect, harm region "
             "shaded, P(harm) printed", ("threshold", "predictive", "title")),
    PlotKind("tau", tau_plot, "heterogeneity τ: prior against posterior", ("title",)),
    PlotKind("trace", trace_plot, "ArviZ trace plots of the main parameters",
             ("var_names", "title"), _has_draws, _NO_DRAWS),
    PlotKind("rank", rank_plot, "ArviZ rank plots of the main parameters",
             ("var_names", "title"), _has_draws, _NO_DRAWS),
):
    register_plot(_kind)

__all__ = ["PLOT_KINDS", "PlotKind", "data_uri", "figure_of", "forest_plot", "harm_label",
           "plot", "posterior_plot", "rank_plot", "register_plot", "save_figure", "tau_plot",
           "trace_plot"]
