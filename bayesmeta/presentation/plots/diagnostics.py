"""Sampler diagnostics as pictures, drawn by ArviZ: trace (with marginal densities per
chain) and rank plots of a fit's main parameters (``result.main_parameters``).

Each returns ArviZ's :class:`arviz_plots.PlotCollection` (``.savefig``; its matplotlib
figure is ``figure_of(pc)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bayesmeta.errors import InputError
from bayesmeta.presentation.plots.save import figure_of, finish


def _draws_of(result: Any, var_names: list[str] | None) -> tuple[Any, list[str]]:
    idata = getattr(result, "idata", None)
    if idata is None or "posterior" not in getattr(idata, "children", {}):
        raise InputError(f"{type(result).__name__} has no MCMC draws: trace and rank plots "
                         "are for sampled fits")
    names = list(var_names or getattr(result, "main_parameters", ()))
    missing = [n for n in names if n not in idata["posterior"].data_vars]
    if missing:
        have = ", ".join(str(v) for v in idata["posterior"].data_vars)
        raise InputError(f"no parameter {', '.join(missing)} in the posterior (has {have})")
    return idata, names


def _close_pyplot(pc: Any) -> None:
    # ArviZ draws through pyplot; release pyplot's reference so figures do not pile up.
    import matplotlib.pyplot as plt

    plt.close(figure_of(pc))


def trace_plot(result: Any, path: str | Path | None = None, *, force: bool = False,
               var_names: list[str] | None = None, title: str | None = None) -> Any:
    """ArviZ trace plot: per-chain densities (left) and traces (right), divergences marked."""
    import arviz_plots as azp

    idata, names = _draws_of(result, var_names)
    pc = azp.plot_trace_dist(idata, var_names=names, backend="matplotlib")
    fig = figure_of(pc)
    fig.suptitle(title or "Trace plots: chains should overlap and look like noise",
                 x=0.02, ha="left")
    fig.set_layout_engine("constrained")
    _close_pyplot(pc)
    return finish(pc, path, force=force)


def rank_plot(result: Any, path: str | Path | None = None, *, force: bool = False,
              var_names: list[str] | None = None, title: str | None = None) -> Any:
    """ArviZ rank plot (fractional rank ECDF differences with a simultaneous envelope):
    chains that sample the same distribution stay inside the envelope."""
    import arviz_plots as azp

    idata, names = _draws_of(result, var_names)
    pc = azp.plot_rank(idata, var_names=names, backend="matplotlib")
    fig = figure_of(pc)
    fig.suptitle(title or "Rank plots: each chain's ranks should stay inside the envelope",
                 x=0.02, ha="left")
    fig.set_layout_engine("constrained")
    _close_pyplot(pc)
    return finish(pc, path, force=force)
