"""One posterior quantity, asked every question the same way (in the spirit of R bayesmeta).

``res.posterior("or").median``, ``.quantile(0.975)``, ``.cdf(1)``, ``.sf(1)`` (= P(OR > 1)),
``.interval(0.95)``, ``.summary()``. MCMC quantities hold their draws (chain × draw), and
report Monte Carlo standard errors with ArviZ so a reader knows how many digits to trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SUMMARY_KEYS = ("mean", "sd", "median", "q025", "q975")


@dataclass(frozen=True, eq=False)
class DrawsMarginal:
    """A quantity's posterior (or predictive) distribution, from MCMC draws.

    ``draws`` has shape (chain, draw).
    """

    name: str
    draws: np.ndarray

    @property
    def flat(self) -> np.ndarray:
        return self.draws.reshape(-1)

    @property
    def mean(self) -> float:
        return float(np.mean(self.flat))

    @property
    def sd(self) -> float:
        return float(np.std(self.flat, ddof=1))

    @property
    def median(self) -> float:
        return float(np.median(self.flat))

    def quantile(self, q: float | np.ndarray) -> Any:
        """Quantile(s), numpy's default (linear, R type 7) definition."""
        out = np.quantile(self.flat, q)
        return float(out) if np.ndim(out) == 0 else out

    def interval(self, prob: float = 0.95) -> tuple[float, float]:
        """Equal-tailed credible interval."""
        lo, hi = np.quantile(self.flat, [(1 - prob) / 2, (1 + prob) / 2])
        return float(lo), float(hi)

    def shortest_interval(self, prob: float = 0.95) -> tuple[float, float]:
        """Shortest interval containing ``prob`` of the draws (empirical highest-density
        interval of a unimodal posterior)."""
        x = np.sort(self.flat)
        m = min(int(np.ceil(prob * x.size)), x.size - 1)
        widths = x[m:] - x[: x.size - m]
        i = int(np.argmin(widths))
        return float(x[i]), float(x[i + m])

    def cdf(self, x: float) -> float:
        """P(quantity ≤ x)."""
        return float(np.mean(self.flat <= x))

    def sf(self, x: float) -> float:
        """P(quantity > x)."""
        return float(np.mean(self.flat > x))

    def mcse(self) -> dict[str, float]:
        """Monte Carlo standard errors of the mean, median and 2.5%/97.5% quantiles."""
        from arviz_stats.base import array_stats

        d = self.draws
        return {
            "mean": float(array_stats.mcse(d, method="mean")),
            "median": float(array_stats.mcse(d, method="median")),
            "q025": float(array_stats.mcse(d, method="quantile", prob=0.025)),
            "q975": float(array_stats.mcse(d, method="quantile", prob=0.975)),
        }

    def summary(self, *, with_mcse: bool = True) -> dict[str, Any]:
        """``{mean, sd, median, q025, q975}`` (+ ``mcse`` of each, when asked)."""
        q025, q50, q975 = np.quantile(self.flat, [0.025, 0.5, 0.975])
        out: dict[str, Any] = {"mean": self.mean, "sd": self.sd, "median": float(q50),
                               "q025": float(q025), "q975": float(q975)}
        if with_mcse:
            out["mcse"] = self.mcse()
        return out

    def map(self, name: str, func) -> DrawsMarginal:
        """The distribution of ``func(quantity)`` (e.g. ``np.exp`` for OR from log OR)."""
        return DrawsMarginal(name, func(self.draws))
