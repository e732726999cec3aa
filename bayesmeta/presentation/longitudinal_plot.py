"""Plot the pooled effect over follow-up time (``bayesmeta fit longitudinal --plot FILE``).

The figure shows, at each time point, the pooled effect (posterior median) with its 95%
credible interval, the 95% prediction interval for a new study as a lighter band, and each
study's reported estimate (grey, size by precision) — so a reader sees at a glance how the
effect evolves, how sure we are, and how much studies vary.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bayesmeta.files import atomic_path
from bayesmeta.results.longitudinal import LongitudinalMetaResult


def check_plot_path(path: str | Path, *, force: bool) -> Path:
    """Refuse, before any fitting, a plot file that exists (without ``force``) or whose
    suffix matplotlib cannot write."""
    from matplotlib.backend_bases import FigureCanvasBase

    from bayesmeta.errors import InputError
    from bayesmeta.files import check_writable

    target = check_writable(path, force=force)
    formats = FigureCanvasBase.get_supported_filetypes()
    suffix = target.suffix.lstrip(".").lower()
    if suffix not in formats:
        raise InputError(f"cannot write a figure as '.{suffix}'; use one of "
                         f"{', '.join('.' + f for f in sorted(formats))}", source="--plot")
    return target


def plot_effect_over_time(res: LongitudinalMetaResult, path: str | Path, *,
                          force: bool = False, title: str | None = None) -> Path:
    """Draw the effect-over-time figure and save it (format from the file suffix)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    d = res.data
    eff = res.effects()
    t = eff["time"].to_numpy()
    fig, ax = plt.subplots(figsize=(7.0, 4.2), dpi=120)
    ax.axhline(0.0, color="0.4", lw=0.8, ls=":")
    if len(t) > 1:
        ax.fill_between(t, eff["theta_new_q025"], eff["theta_new_q975"], color="tab:blue",
                        alpha=0.12, lw=0, label="95% prediction interval (new study)")
        ax.fill_between(t, eff["mu_q025"], eff["mu_q975"], color="tab:blue", alpha=0.30, lw=0,
                        label="95% credible interval")
    else:  # one time point: intervals as bars
        ax.vlines(t, eff["theta_new_q025"], eff["theta_new_q975"], color="tab:blue",
                  alpha=0.25, lw=10, label="95% prediction interval (new study)")
        ax.vlines(t, eff["mu_q025"], eff["mu_q975"], color="tab:blue", alpha=0.6, lw=4,
                  label="95% credible interval")
    ax.plot(t, eff["mu_median"], "o-", color="tab:blue", lw=1.6, ms=5,
            label="pooled effect (median)")
    weight = 1.0 / d.sei**2
    sizes = 8 + 50 * weight / weight.max()
    if len(t) > 1:
        spread = 0.012 * (t.max() - t.min())
        jitter = np.random.default_rng(0).uniform(-spread, spread, d.n_rows)
    else:  # beside the interval bars
        jitter = 0.25 + np.random.default_rng(0).uniform(-0.05, 0.05, d.n_rows)
        ax.set_xlim(t[0] - 1.0, t[0] + 1.0)
    ax.scatter(d.times[d.time_index] + jitter, d.yi, s=sizes, color="0.45", alpha=0.45,
               lw=0, label="study estimates (size: precision)", zorder=1)
    assumed = d.assumed_time
    ax.set_xticks(t)
    ax.set_xticklabels([f"{x:g}*" if assumed is not None and x == assumed else f"{x:g}"
                        for x in t])
    xlabel = f"time ({d.time_unit})" if d.time_unit else "time point"
    if assumed is not None:
        xlabel += "   * assumed time for rows reported without one"
    ax.set_xlabel(xlabel)
    ax.set_ylabel({"given": "effect", "MD": "mean difference",
                   "SMD": "standardised mean difference"}[d.measure])
    if res.direction:
        ax.annotate(f"{res.direction} is better", xy=(0.99, 0.02), xycoords="axes fraction",
                    ha="right", va="bottom", fontsize=8, color="0.3")
    ax.set_title(title or f"Effect over time — {Path(d.source).stem}", fontsize=10)
    ax.legend(fontsize=7.5, loc="best", frameon=True, framealpha=0.85, edgecolor="none")
    fig.tight_layout()
    target = Path(path)
    suffix = target.suffix.lstrip(".") or "png"
    with atomic_path(target, force=force) as tmp:
        fig.savefig(tmp, format=suffix)
    plt.close(fig)
    return target
