"""Plot a prior sensitivity analysis: pooled OR and the probabilities of harm, per prior."""

from __future__ import annotations

from pathlib import Path

from bayesmeta.files import atomic_path
from bayesmeta.results.sensitivity import SensitivityResult


def plot_sensitivity(res: SensitivityResult, path: str | Path, *, force: bool,
                     label: str | None = None) -> Path:
    """Two panels sharing the priors as rows: the pooled OR (median, 95% CrI, log scale,
    with the OR thresholds) and P(OR > 1) and P(θ_new > 0). Written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = res.plot_data()
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
    ax_or.set_xscale("log")
    for c in res.all_thresholds:
        ax_or.axvline(c, color="grey" if c == 1 else "tab:red", lw=0.8, ls="--")
    ax_or.set_yticks(y, names)
    ax_or.set_xlabel("pooled odds ratio (median, 95% CrI)")
    ax_p.plot(data["p_or_gt_1"], y, "o", label="P(OR > 1)")
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
    suffix = Path(path).suffix.lstrip(".") or "png"
    with atomic_path(path, force=force) as tmp:
        fig.savefig(tmp, format=suffix, dpi=120)
    plt.close(fig)
    return Path(path)
