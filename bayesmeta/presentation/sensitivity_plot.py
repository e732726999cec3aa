"""Plot a prior sensitivity analysis: pooled effect and the probabilities of harm, per prior
(binary sweeps and the normal–normal model's), and the τ-scale curve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bayesmeta.files import atomic_path
from bayesmeta.results.effect_scale import ODDS_RATIO
from bayesmeta.results.sensitivity import SensitivityResult
from bayesmeta.results.tau_scale_curve import TauScaleCurve

#: ``plot_data()`` columns of a binary sweep: median, 95% CrI, P(OR > 1), P(θ_new > 0).
BINARY_COLUMNS = ("or_median", "or_q025", "or_q975", "p_or_gt_1", "p_theta_new_gt_0")


def plot_sensitivity(res: SensitivityResult | Any, path: str | Path, *, force: bool,
                     label: str | None = None) -> Path:
    """Two panels sharing the priors as rows: the pooled effect (median, 95% CrI; ORs on a
    log scale, with the thresholds) and P(effect > no effect) and P(θ_new > 0). Works for a
    binary sweep and for the normal–normal model's (``EffectsSensitivityResult``, whose
    ``scale`` and ``plot_columns`` say what to draw). Written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale = getattr(res, "scale", ODDS_RATIO)
    med, q025, q975, p_null, p_new = getattr(res, "plot_columns", BINARY_COLUMNS)
    data = res.plot_data().rename(columns={med: "or_median", q025: "or_q025",
                                           q975: "or_q975", p_null: "p_or_gt_1",
                                           p_new: "p_theta_new_gt_0"})
    names = list(data.index)
    y = list(range(len(names)))[::-1]
    fig, (ax_or, ax_p) = plt.subplots(1, 2, figsize=(10, 0.45 * len(names) + 1.6),
                                      sharey=True, gridspec_kw={"width_ratios": [3, 2]})
    lo = data["or_median"] - data["or_q025"]
    hi = data["or_q975"] - data["or_median"]
    colours = ["black" if n == res.reference else "tab:blue" for n in names]
    for yi, n, c in zip(y, names, colours, strict=True):
        ax_or.errorbar(data.loc[n, "or_median"], yi, xerr=[[lo[n]], [hi[n]]], fmt="o",
                       color=c, capsize=3)
    if scale.log:
        ax_or.set_xscale("log")
    for c in res.all_thresholds:
        ax_or.axvline(c, color="grey" if c == scale.null else "tab:red", lw=0.8, ls="--")
    ax_or.set_yticks(y, names)
    what = scale.name if scale.log else scale.symbol
    ax_or.set_xlabel(f"pooled {what} (median, 95% CrI)")
    ax_p.plot(data["p_or_gt_1"], y, "o", label=f"P({scale.symbol} > {scale.null:g})")
    ax_p.plot(data["p_theta_new_gt_0"], y, "s", label="P(θ_new > 0), new trial")
    ax_p.set_xlim(-0.02, max(0.1, float(data[["p_or_gt_1", "p_theta_new_gt_0"]].max().max())
                              * 1.15))
    ax_p.set_xlabel("probability of harm")
    ax_p.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8, frameon=False)
    ax_p.grid(axis="x", lw=0.3)
    name = label or Path(res.data.source).stem
    ax_or.set_title(f"Prior sensitivity: {name} (reference prior in black)", fontsize=10,
                    loc="left")
    fig.tight_layout()
    return _save(fig, path, force)


def _save(fig, path: str | Path, force: bool) -> Path:
    import matplotlib.pyplot as plt

    suffix = Path(path).suffix.lstrip(".") or "png"
    with atomic_path(path, force=force) as tmp:
        fig.savefig(tmp, format=suffix, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_tau_scale_curve(curve: TauScaleCurve, path: str | Path, *, force: bool,
                         label: str | None = None) -> Path:
    """Two panels over the τ prior's scale (log axis): the pooled effect (median and 95%
    CrI as a band, a new study's 95% interval dashed; ORs on a log axis, thresholds as
    lines) and P(effect > c) for every threshold with P(θ_new > 0); the default scale and the
    crossings are marked. Written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = curve.grid
    x = g["scale"].to_numpy()
    sc, p, new = curve.scale, curve.pooled, curve.new
    fig, (ax_e, ax_p) = plt.subplots(2, 1, figsize=(7.5, 7), sharex=True,
                                     gridspec_kw={"height_ratios": [3, 2]})
    ax_e.fill_between(x, g[f"{p}_q025"], g[f"{p}_q975"], color="tab:blue", alpha=0.25,
                      lw=0, label="pooled: 95% CrI")
    ax_e.plot(x, g[f"{p}_median"], color="tab:blue", label="pooled: median")
    ax_e.plot(x, g[f"{new}_q025"], color="tab:blue", ls="--", lw=0.8,
              label="new study: 95% interval")
    ax_e.plot(x, g[f"{new}_q975"], color="tab:blue", ls="--", lw=0.8)
    for c in curve.all_thresholds:
        ax_e.axhline(c, color="grey" if c == sc.null else "tab:red", lw=0.8, ls=":")
    if sc.log:
        ax_e.set_yscale("log")
    ax_e.set_ylabel(f"pooled {sc.name} ({sc.symbol})" if sc.log else f"pooled {sc.symbol}")
    ax_e.legend(fontsize=8, frameon=False, loc="best")
    colours = ["black", "tab:red", "tab:orange", "tab:green", "tab:purple"]
    for i, c in enumerate(curve.all_thresholds):
        ax_p.plot(x, g[curve.prob_column(c)], color=colours[i % len(colours)],
                  label=f"P({sc.symbol} > {c:g})")
    ax_p.plot(x, g[curve.prob_column(sc.null, predictive=True)], color="grey", ls="--",
              label="P(θ_new > 0), new study")
    ax_p.set_ylabel("probability")
    ax_p.set_ylim(bottom=0)
    ax_p.grid(lw=0.3)
    ax_p.legend(fontsize=8, frameon=False, loc="best")
    for ax in (ax_e, ax_p):
        ax.set_xscale("log")
        if curve.reference_scale is not None:
            ax.axvline(curve.reference_scale, color="black", lw=0.6, ls="-.")
        for cross in curve.crossings:
            ax.axvline(cross.scale, color="tab:red", lw=0.6, ls="--")
    ax_p.set_xlabel(f"τ prior: {curve.family.what}"
                    + (" (dash-dot: the default)" if curve.reference_scale is not None
                       else ""))
    name = label or Path(curve.data.source).stem
    ax_e.set_title(f"Sensitivity to the τ prior's scale: {name}", fontsize=10, loc="left")
    fig.tight_layout()
    return _save(fig, path, force)
