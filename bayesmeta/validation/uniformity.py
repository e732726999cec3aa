"""Is a sample of SBC ranks uniform? Three tests, each with its own kind of power.

Simulation-based calibration (Talts et al. 2018) ranks the true parameter value among
``L`` (thinned) posterior draws. If the model, the simulator and the sampler agree, the rank
is uniform on ``0..L``. The tests here:

* ``chi2`` — Pearson's chi-square on a histogram of the ranks (the test of Talts et al.),
  with bins holding the same number of rank values each, so every bin expects the same count;
* ``pot_c`` — arviz-stats' pointwise order-based test with Cauchy combination
  (``array_stats.uniformity_test``, its recommended uniformity test) on the PIT values
  ``(rank + U) / (L + 1)``, ``U ~ Uniform(0, 1)`` — exactly Uniform(0, 1) under calibration;
* ``ecdf`` — the simultaneous 95% band of the PIT ECDF (Säilynoja, Bürkner & Vehtari 2022;
  arviz-stats' ``ecdf_pit``): reported and plotted, not used for the verdict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

ECDF_BAND_PROB = 0.95


@dataclass(frozen=True)
class Uniformity:
    """The uniformity tests of one parameter's ranks."""

    n: int
    bins: int
    chi2: float
    chi2_p: float
    pot_c_p: float
    ecdf_outside: int  # evaluation points where the ECDF leaves the simultaneous band

    @property
    def min_p(self) -> float:
        return min(self.chi2_p, self.pot_c_p)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rank_bins(n_ranks: int, n_sims: int, *, min_expected: float = 5.0,
              max_bins: int = 20) -> int:
    """The number of histogram bins: the largest divisor of ``n_ranks`` (= L + 1) up to
    ``max_bins`` for which every bin expects at least ``min_expected`` simulations."""
    for bins in range(min(max_bins, n_ranks), 0, -1):
        if n_ranks % bins == 0 and n_sims / bins >= min_expected:
            return bins
    return 1


def rank_histogram(ranks: np.ndarray, n_ranks: int, bins: int) -> np.ndarray:
    """Counts of ranks (``0..n_ranks-1``) in ``bins`` equal groups of rank values."""
    width = n_ranks // bins
    return np.bincount(np.asarray(ranks, dtype=int) // width, minlength=bins)


def pit_values(ranks: np.ndarray, n_ranks: int, rng: np.random.Generator) -> np.ndarray:
    """Randomised PIT values ``(rank + U) / n_ranks``: Uniform(0, 1) when ranks are uniform."""
    ranks = np.asarray(ranks, dtype=float)
    return (ranks + rng.uniform(size=ranks.shape)) / n_ranks


def ecdf_band(pit: np.ndarray, prob: float = ECDF_BAND_PROB, *, seed: int = 214):
    """ECDF of ``pit`` with its simultaneous ``prob`` band (arviz-stats ``ecdf_pit``).

    Returns ``(x, ecdf, lower, upper)`` at ``x = 0, 1/n, ..., 1``.
    """
    from arviz_stats.ecdf_utils import ecdf_pit

    return ecdf_pit(np.asarray(pit, dtype=float), prob, 1000,
                    rng=np.random.default_rng(seed))


def check_uniformity(ranks: np.ndarray, n_ranks: int, *, seed: int = 0) -> Uniformity:
    """Run the three tests on ranks in ``0..n_ranks-1`` (``n_ranks`` = L + 1)."""
    from arviz_stats.base import array_stats

    ranks = np.asarray(ranks, dtype=int)
    n = ranks.size
    bins = rank_bins(n_ranks, n)
    counts = rank_histogram(ranks, n_ranks, bins)
    if bins > 1:
        chi2, chi2_p = stats.chisquare(counts)
    else:
        chi2, chi2_p = 0.0, 1.0
    pit = pit_values(ranks, n_ranks, np.random.default_rng(seed))
    p_value, _, _ = array_stats.uniformity_test(pit, method="pot_c")
    _, ecdf, lower, upper = ecdf_band(pit)
    outside = int(np.sum((ecdf < lower) | (ecdf > upper)))
    return Uniformity(n=n, bins=bins, chi2=float(chi2), chi2_p=float(chi2_p),
                      pot_c_p=float(p_value), ecdf_outside=outside)
