"""One quantity's exact posterior, asked the same questions as an MCMC one.

:class:`ExactMarginal` has the interface of :class:`~bayesmeta.results.marginal.DrawsMarginal`
(``mean``, ``sd``, ``median``, ``quantile``, ``interval``, ``cdf``, ``sf``, ``summary()``)
plus ``pdf`` and ``shortest_interval``; its numbers come from quadrature, not draws, so there
is no Monte Carlo error (``summary()`` has no ``mcse``). A mean or SD that does not exist
(a heavy-tailed posterior, e.g. τ with an improper uniform prior and 3 studies) is NaN
(``null`` in JSON).
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from bayesmeta.inference.exact_numerics import (
    NormalMixture,
    PanelDensity,
    shortest_by_width,
)


class _Distribution(Protocol):
    def cdf(self, x: np.ndarray) -> np.ndarray: ...
    def sf(self, x: np.ndarray) -> np.ndarray: ...
    def pdf(self, x: np.ndarray) -> np.ndarray: ...
    def quantile(self, p: np.ndarray) -> np.ndarray: ...
    def mean(self) -> float: ...
    def sd(self) -> float: ...
    def shortest(self, prob: float) -> tuple[float, float]: ...


class _Mixture:
    """Adapter: one row of a :class:`NormalMixture` as a scalar distribution."""

    def __init__(self, mixture: NormalMixture) -> None:
        if mixture.size != 1:
            raise ValueError("one mixture at a time")
        self.m = mixture

    def _call(self, func, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return func(x.reshape(1, -1)).reshape(x.shape)

    def cdf(self, x):
        return self._call(self.m.cdf, x)

    def sf(self, x):
        return self._call(self.m.sf, x)

    def pdf(self, x):
        return self._call(self.m.pdf, x)

    def quantile(self, p):
        p = np.asarray(p, dtype=float)
        return self.m.quantile(p.reshape(-1)).reshape(p.shape)

    def mean(self) -> float:
        return float(self.m.mean()[0]) if self.m.mean_exists else math.nan

    def sd(self) -> float:
        return float(math.sqrt(self.m.var()[0])) if self.m.var_exists else math.nan

    def shortest(self, prob: float) -> tuple[float, float]:
        lo, hi = self.m.shortest_interval(prob)
        return float(lo[0]), float(hi[0])


class _Panel:
    """Adapter: a :class:`PanelDensity` (the posterior of τ) as a scalar distribution."""

    def __init__(self, density: PanelDensity) -> None:
        self.d = density

    def cdf(self, x):
        return self.d.cdf(x)

    def sf(self, x):
        return 1.0 - self.d.cdf(x)

    def pdf(self, x):
        return self.d.pdf(x)

    def quantile(self, p):
        p = np.asarray(p, dtype=float)
        return self.d.quantile(p.reshape(-1)).reshape(p.shape)

    def mean(self) -> float:
        m1 = self.d.moment(1)
        return math.nan if m1 is None else m1

    def sd(self) -> float:
        m1, m2 = self.d.moment(1), self.d.moment(2)
        if m1 is None or m2 is None:
            return math.nan
        return math.sqrt(max(m2 - m1 * m1, 0.0))

    def shortest(self, prob: float) -> tuple[float, float]:
        return self.d.shortest_interval(prob)


class _Exp:
    """exp(X) for a distribution X (odds ratios from log odds ratios): quantiles, cdf and
    the shortest interval transform exactly; mean and SD are not computed (NaN), since
    E[exp(θ_new)] can be infinite when τ's posterior has a heavy tail."""

    def __init__(self, base: _Distribution) -> None:
        self.base = base

    def _log(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), -np.inf)

    def cdf(self, x):
        return np.where(np.asarray(x) > 0, self.base.cdf(self._log(x)), 0.0)

    def sf(self, x):
        return 1.0 - self.cdf(x)

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.where(x > 0, self.base.pdf(self._log(x)) / np.where(x > 0, x, 1.0), 0.0)

    def quantile(self, p):
        with np.errstate(over="ignore"):  # beyond exp(709): an infinite ratio
            return np.exp(self.base.quantile(p))

    def mean(self) -> float:
        return math.nan

    def sd(self) -> float:
        return math.nan

    def shortest(self, prob: float) -> tuple[float, float]:
        # Not the exponentiated log-scale interval: the ratio scale has its own shortest
        # interval, and its density may rise towards 0 (wide predictive components), so
        # minimise the width directly; q(0) = exp(−∞) = 0.
        def quantile(p: np.ndarray) -> np.ndarray:
            p = np.asarray(p, dtype=float)
            out = np.empty_like(p)
            inner = (p > 0) & (p < 1)
            out[inner] = self.quantile(p[inner])
            out[p <= 0] = 0.0
            out[p >= 1] = np.inf
            return out

        return shortest_by_width(quantile, self.pdf, prob)


class ExactMarginal:
    """A quantity's exact posterior (or predictive) distribution.

    Build with :meth:`of_mixture` (μ, θ_new, θ_i) or :meth:`of_panels` (τ); ``exp()`` gives
    the distribution of exp(quantity) (e.g. the odds ratio).
    """

    def __init__(self, name: str, dist: _Distribution) -> None:
        self.name = name
        self._dist = dist

    @classmethod
    def of_mixture(cls, name: str, mixture: NormalMixture) -> ExactMarginal:
        return cls(name, _Mixture(mixture))

    @classmethod
    def of_panels(cls, name: str, density: PanelDensity) -> ExactMarginal:
        return cls(name, _Panel(density))

    def exp(self, name: str) -> ExactMarginal:
        return ExactMarginal(name, _Exp(self._dist))

    @cached_property
    def mean(self) -> float:
        return self._dist.mean()

    @cached_property
    def sd(self) -> float:
        return self._dist.sd()

    @cached_property
    def _central(self) -> tuple[float, float, float]:
        q = self._dist.quantile(np.array([0.025, 0.5, 0.975]))
        return float(q[0]), float(q[1]), float(q[2])

    @property
    def median(self) -> float:
        return self._central[1]

    def quantile(self, q: float | np.ndarray) -> Any:
        """Quantile(s) of the exact distribution."""
        if np.ndim(q) == 0:
            qf = float(q)
            if qf == 0.5:
                return self.median
            return float(self._dist.quantile(np.array([qf]))[0])
        return self._dist.quantile(np.asarray(q, dtype=float))

    def interval(self, prob: float = 0.95) -> tuple[float, float]:
        """Equal-tailed credible interval."""
        if prob == 0.95:
            return self._central[0], self._central[2]
        lo, hi = self._dist.quantile(np.array([(1 - prob) / 2, (1 + prob) / 2]))
        return float(lo), float(hi)

    def shortest_interval(self, prob: float = 0.95) -> tuple[float, float]:
        """Shortest interval holding ``prob`` (highest density, for unimodal posteriors)."""
        if prob == 0.95:
            return self._shortest95
        return self._dist.shortest(prob)

    @cached_property
    def _shortest95(self) -> tuple[float, float]:
        return self._dist.shortest(0.95)

    def cdf(self, x: float) -> float:
        """P(quantity ≤ x)."""
        return float(self._dist.cdf(np.array([float(x)]))[0])

    def sf(self, x: float) -> float:
        """P(quantity > x), computed without cancellation in the upper tail."""
        return float(self._dist.sf(np.array([float(x)]))[0])

    def pdf(self, x: float | np.ndarray) -> Any:
        out = self._dist.pdf(np.atleast_1d(np.asarray(x, dtype=float)))
        return float(out[0]) if np.ndim(x) == 0 else out

    def summary(self, *, with_mcse: bool = False) -> dict[str, Any]:
        """``{mean, sd, median, q025, q975, shortest95_lo, shortest95_hi}`` (exact: no mcse)."""
        lo, med, hi = self._central
        s_lo, s_hi = self.shortest_interval(0.95)
        return {"mean": self.mean, "sd": self.sd, "median": med, "q025": lo, "q975": hi,
                "shortest95_lo": s_lo, "shortest95_hi": s_hi}
