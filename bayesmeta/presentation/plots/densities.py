"""Posterior densities: the pooled effect with the harm region shaded and P(harm) printed,
and the heterogeneity τ, prior against posterior.

Both ask the result only ``posterior(name)`` (through its ``effect_scale``) and, for τ, the
prior's scipy face (``Prior.dist()``), so exact and MCMC results are drawn alike: an exact
marginal with a ``pdf`` is evaluated, draws are smoothed with ArviZ's KDE.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from bayesmeta.errors import InputError
from bayesmeta.presentation.plots.common import (
    HARM,
    MODEL,
    PRIOR,
    density_curve,
    interval_text,
    log_ticks,
    n_draws,
    number,
)
from bayesmeta.presentation.plots.save import finish
from bayesmeta.presentation.text import likelihood_words, prob_equals
from bayesmeta.priors import Prior
from bayesmeta.results.effect_scale import prob_harm


def harm_label(result: Any, threshold: float | None = None, *,
               predictive: bool = False) -> str:
    """The probability of harm exactly as the posterior plot prints it."""
    scale = result.effect_scale
    c = scale.null if threshold is None else threshold
    marginal = result.posterior(scale.predictive if predictive else scale.pooled)
    p = prob_harm(result, c, predictive=predictive)
    symbol = f"{scale.symbol}_new" if predictive else scale.symbol
    sign = ">" if scale.harm_above else "<"
    return prob_equals(f"P({symbol} {sign} {c:g})", p, n_draws(marginal))


def region_words(scale: Any, threshold: float, p: float, *, predictive: bool = False) -> str:
    """The shaded region's probability in words: "harm is likely" when the scale has a
    harmful side, else the event itself ("it is likely that MD > 0")."""
    words = likelihood_words(p)
    if scale.harm_word:
        return f"{scale.harm_word} is {words}"
    symbol = f"{scale.symbol}_new" if predictive else scale.symbol
    return f"it is {words} that {symbol} {'>' if scale.harm_above else '<'} {threshold:g}"


def posterior_plot(result: Any, path: str | Path | None = None, *, force: bool = False,
                   threshold: float | None = None, predictive: bool = False,
                   title: str | None = None) -> Figure:
    """Density of the pooled effect (or, with ``predictive``, of a new study's effect) on
    the displayed scale, the harm region beyond ``threshold`` (default: no effect) shaded,
    and P(harm) printed."""
    scale = result.effect_scale
    c = scale.null if threshold is None else float(threshold)
    try:
        cut = scale.to_internal(c)
    except ValueError as exc:
        raise InputError(str(exc), source="--threshold") from None
    marginal = result.posterior(scale.predictive if predictive else scale.pooled)
    grid, pdf = density_curve(marginal)
    x = scale.to_display(grid)
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    if scale.log:
        ax.set_xscale("log")
    ax.plot(x, pdf, color=MODEL, lw=2, gid="density")
    harm = grid > cut if scale.harm_above else grid < cut
    ax.fill_between(x, 0, pdf, where=harm, color=HARM, alpha=0.35, lw=0, gid="harm-region",
                    interpolate=True)
    ax.axvline(c, color=HARM, lw=1.2, ls="--", gid="threshold")
    lo, hi = marginal.interval(0.95)
    ax.set_ylim(bottom=0)
    y_bar = 0.04 * float(np.max(pdf))
    ax.plot(scale.to_display(np.array([lo, hi])), [y_bar, y_bar], color="black", lw=2.5,
            solid_capstyle="butt", gid="interval")
    ax.plot([scale.to_display(marginal.median)], [y_bar], "o", color="white", mec="black",
            ms=6, gid="median")
    left, right = float(np.min(x)), float(np.max(x))
    left, right = min(left, c), max(right, c)
    if scale.log:
        pad = (right / left) ** 0.04
        ax.set_xlim(left / pad, right * pad)
        log_ticks(ax, left / pad, right * pad)
    else:
        pad = 0.04 * (right - left)
        ax.set_xlim(left - pad, right + pad)
    p = prob_harm(result, c, predictive=predictive)
    label = harm_label(result, c, predictive=predictive)
    box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5}
    ax.text(0.98, 0.95, label, transform=ax.transAxes, ha="right", va="top",
            fontsize="large", weight="bold", color=HARM, gid="p-harm", bbox=box)
    ax.text(0.98, 0.86, region_words(scale, c, p, predictive=predictive),
            transform=ax.transAxes, ha="right", va="top", color=HARM, gid="p-harm-words",
            bbox=box)
    what = f"{scale.symbol} in a new study" if predictive else f"pooled {scale.symbol}"
    interval_name = "95% PrI" if predictive else "95% CrI"
    shown = scale.to_display(np.array([marginal.median, lo, hi]))
    ax.text(0.98, 0.79, f"{what}: {interval_text(*shown)} (median, {interval_name})",
            transform=ax.transAxes, ha="right", va="top", fontsize="small", gid="summary",
            bbox=box)
    ax.set_xlabel(f"{scale.name[0].upper()}{scale.name[1:]}"
                  + (" in a new study" if predictive else "")
                  + (" (log scale)" if scale.log else ""))
    ax.set_ylabel("density" + (f" (per unit log {scale.symbol})" if scale.log else ""))
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or ("Predictive distribution of the effect in a new study"
                           if predictive else f"Posterior of the pooled {scale.name}"),
                 loc="left")
    return finish(fig, path, force=force)


def tau_plot(result: Any, path: str | Path | None = None, *, force: bool = False,
             prior: Prior | None = None, title: str | None = None) -> Figure:
    """The heterogeneity τ: posterior density (boundary-corrected KDE of the draws, or the
    exact density) against the prior density from the prior's scipy face."""
    scale = result.effect_scale
    prior = prior or result.priors.tau
    marginal = result.posterior(scale.heterogeneity)
    dist = prior.dist()
    top = float(marginal.quantile(0.995))
    if dist is not None:  # show the prior's bulk, but not so far that the posterior shrinks
        top = max(top, min(float(dist.ppf(0.99)), 3.0 * top))
    grid, pdf = density_curve(marginal, lower_bound=0.0)
    keep = grid <= top
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(grid[keep], pdf[keep], color=MODEL, lw=2, label="posterior", gid="posterior")
    if dist is not None:
        x = np.linspace(0.0, top, 400)
        ax.plot(x, dist.pdf(x), color=PRIOR, lw=2, ls="--",
                label=f"prior: {prior.describe()}", gid="prior")
    else:
        ax.text(0.5, 0.9, f"prior {prior.describe()} is improper: no density drawn",
                transform=ax.transAxes, ha="center", gid="prior-improper")
    lo, hi = marginal.interval(0.95)
    ax.text(0.98, 0.70, f"posterior median {number(marginal.median)}\n"
            f"95% CrI {number(lo)}–{number(hi)}", transform=ax.transAxes, ha="right",
            va="top", fontsize="small", gid="summary")
    ax.set_xlim(0, top)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(f"τ, between-study SD of the {'log ' if scale.log else ''}{scale.symbol}")
    ax.set_ylabel("density")
    ax.legend(loc="upper right", frameon=False)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or "Heterogeneity τ: prior and posterior", loc="left")
    return finish(fig, path, force=force)
