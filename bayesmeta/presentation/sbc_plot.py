"""Plot simulation-based calibration ranks: a histogram and an ECDF-difference panel each.

Top row: the rank histogram of each checked quantity, with the count every bin expects under
uniformity and the band holding 99% of a bin's counts (binomial; Talts et al. 2018). Bottom
row: ECDF of the PIT values minus the uniform CDF, with the simultaneous 95% band of
Säilynoja, Bürkner & Vehtari (2022) from arviz-stats — a curve that leaves the band, or a
histogram shaped like a smile, a frown or a slope, shows a miscalibrated model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats

from bayesmeta.files import write_with
from bayesmeta.validation.sbc import SBCResult
from bayesmeta.validation.uniformity import ECDF_BAND_PROB, ecdf_band, rank_histogram


def plot_sbc(result: SBCResult, path: str | Path, *, force: bool = False,
             title: str | None = None) -> Path:
    """Save the rank histograms and ECDF bands of ``result`` as an image (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = result.parameters
    tests = result.uniformity()
    n = result.n_sims
    fig, axes = plt.subplots(2, len(params), figsize=(3.2 * len(params), 6.0), squeeze=False)
    for j, p in enumerate(params):
        u = tests[p]
        counts = rank_histogram(result.ranks(p), result.n_ranks, u.bins)
        ax = axes[0, j]
        lo, hi = stats.binom.ppf([0.005, 0.995], n, 1.0 / u.bins)
        ax.axhspan(lo, hi, color="0.85", zorder=0, label="99% band")
        ax.axhline(n / u.bins, color="0.4", lw=1, zorder=1)
        ax.bar(np.arange(u.bins), counts, width=0.9, color="#3b6ea5", zorder=2)
        ax.set_title(f"{p}\nχ² p={u.chi2_p:.3g}, POT-C p={u.pot_c_p:.3g}", fontsize=9)
        ax.set_xlabel(f"rank bin ({result.n_ranks // u.bins} ranks each)", fontsize=8)
        ax.set_xticks([])
        x, ecdf, lower, upper = ecdf_band(result.pit(p))
        ax = axes[1, j]
        ax.fill_between(x, lower - x, upper - x, color="0.85", step="post",
                        label=f"simultaneous {ECDF_BAND_PROB:.0%} band")
        ax.step(x, ecdf - x, where="post", color="#3b6ea5")
        ax.axhline(0, color="0.4", lw=1)
        ax.set_xlabel("PIT (fractional rank)", fontsize=8)
        if j == 0:
            axes[0, 0].set_ylabel("simulations", fontsize=8)
            ax.set_ylabel("ECDF − uniform", fontsize=8)
    verdict = "PASS" if result.passed else f"FAIL ({', '.join(result.failures())})"
    fig.suptitle(title or f"SBC {result.case}: N = {n} simulations, L = {result.n_ranks - 1} "
                 f"draws per rank — {verdict} at p ≥ {result.threshold:.2g} per test",
                 fontsize=10)
    fig.tight_layout()
    suffix = Path(path).suffix.lstrip(".") or "png"
    try:
        return write_with(path, lambda tmp: fig.savefig(tmp, dpi=110, format=suffix),
                          force=force)
    finally:
        plt.close(fig)
