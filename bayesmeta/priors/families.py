"""Families of prior distributions, each usable by PyMC (MCMC) and by numpy (exact methods).

A family knows its parameters, its support, how to make a PyMC random variable, and its
density as a frozen scipy-like distribution (``logpdf``, ``cdf``, ``ppf``, ``rvs``), so the
same named prior serves the binomial-normal MCMC model and the exact normal–normal model.
Improper priors (flat, improper uniform on τ) have no PyMC form: only exact methods take them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Family:
    """A prior family: parameter names, support and its two faces (PyMC and scipy)."""

    name: str
    params: tuple[str, ...]
    support: str  # "real", "positive" or "unit" (0 to 1)
    math: str  # e.g. "half-normal(scale={scale})"
    pymc: Callable[..., Any] | None  # (name, *params, **kw) -> PyMC variable; None = improper
    scipy: Callable[..., Any] | None  # (*params) -> frozen distribution; None = improper
    check: Callable[[tuple[float, ...]], str | None]
    doc: str

    @property
    def proper(self) -> bool:
        return self.scipy is not None


def _positive(*names: str) -> Callable[[tuple[float, ...]], str | None]:
    def check(values: tuple[float, ...]) -> str | None:
        for name, value in zip(names, values, strict=False):
            if name in {"sd", "scale", "rate", "nu", "a", "b"} and not value > 0:
                return f"{name} must be greater than 0 (got {value:g})"
        return None

    return check


def _uniform_check(values: tuple[float, ...]) -> str | None:
    lower, upper = values
    if not upper > lower:
        return f"upper ({upper:g}) must exceed lower ({lower:g})"
    return None


class _HalfT:
    """|T| for T ~ Student-t(nu, 0, scale): the half-t density 2·t(x) on x ≥ 0."""

    def __init__(self, nu: float, scale: float) -> None:
        self._t = stats.t(df=nu, scale=scale)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.where(x >= 0, np.log(2.0) + self._t.logpdf(x), -np.inf)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return np.where(x >= 0, 2.0 * self._t.cdf(x) - 1.0, 0.0)

    def sf(self, x: np.ndarray) -> np.ndarray:
        return 1.0 - self.cdf(x)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return self._t.ppf((np.asarray(q, dtype=float) + 1.0) / 2.0)

    def mean(self) -> float:
        return float(np.inf) if self._t.kwds["df"] <= 1 else float(
            2 * self._t.expect(lambda x: x, lb=0))

    def rvs(self, size=None, random_state=None):
        return np.abs(self._t.rvs(size=size, random_state=random_state))


def _pm():
    import pymc as pm  # PyMC is imported only when a model is built

    return pm


def _lognormal_tau2_pymc(name, mean, sd, **kw):
    # log τ² ~ N(mean, sd²)  <=>  log τ ~ N(mean/2, (sd/2)²)  <=>  τ ~ LogNormal(mean/2, sd/2)
    return _pm().LogNormal(name, mu=mean / 2.0, sigma=sd / 2.0, **kw)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family("normal", ("mean", "sd"), "real", "normal(mean={mean}, sd={sd})",
               lambda n, m, s, **kw: _pm().Normal(n, mu=m, sigma=s, **kw),
               lambda m, s: stats.norm(loc=m, scale=s), _positive("mean", "sd"),
               "Normal distribution. For a log OR, N(0, 2.82²) puts 95% of its mass on "
               "ORs between 1/250 and 250 (Günhan et al. 2020)."),
        Family("student_t", ("nu", "mean", "scale"), "real",
               "Student-t(nu={nu}, mean={mean}, scale={scale})",
               lambda n, nu, m, s, **kw: _pm().StudentT(n, nu=nu, mu=m, sigma=s, **kw),
               lambda nu, m, s: stats.t(df=nu, loc=m, scale=s),
               _positive("nu", "mean", "scale"), "Student-t distribution (heavier tails)."),
        Family("flat", (), "real", "flat (improper uniform on the real line)", None, None,
               lambda v: None, "Improper flat prior; exact methods only."),
        Family("halfnormal", ("scale",), "positive", "half-normal(scale={scale})",
               lambda n, s, **kw: _pm().HalfNormal(n, sigma=s, **kw),
               lambda s: stats.halfnorm(scale=s), _positive("scale"),
               "Half-normal. For τ on the log-OR scale, scale 0.5 makes τ > 1 (very large "
               "heterogeneity) a 5% event (Friede et al. 2017; Röver et al. 2021)."),
        Family("halfcauchy", ("scale",), "positive", "half-Cauchy(scale={scale})",
               lambda n, s, **kw: _pm().HalfCauchy(n, beta=s, **kw),
               lambda s: stats.halfcauchy(scale=s), _positive("scale"),
               "Half-Cauchy (Gelman 2006): weakly informative, heavy right tail."),
        Family("halft", ("nu", "scale"), "positive", "half-t(nu={nu}, scale={scale})",
               lambda n, nu, s, **kw: _pm().HalfStudentT(n, nu=nu, sigma=s, **kw),
               lambda nu, s: _HalfT(nu, s), _positive("nu", "scale"),
               "Half-Student-t: between half-normal (nu → ∞) and half-Cauchy (nu = 1)."),
        Family("exponential", ("rate",), "positive", "exponential(rate={rate})",
               lambda n, r, **kw: _pm().Exponential(n, lam=r, **kw),
               lambda r: stats.expon(scale=1.0 / r), _positive("rate"),
               "Exponential; the penalised-complexity prior for τ (Simpson et al. 2017)."),
        Family("uniform", ("lower", "upper"), "positive", "uniform({lower}, {upper})",
               lambda n, a, b, **kw: _pm().Uniform(n, lower=a, upper=b, **kw),
               lambda a, b: stats.uniform(loc=a, scale=b - a), _uniform_check,
               "Uniform on an interval, e.g. τ ~ U(0, 5) on the log-OR scale."),
        Family("uniform_improper", (), "positive", "improper uniform on τ > 0", None, None,
               lambda v: None, "Improper uniform prior on τ > 0; exact methods only."),
        Family("beta", ("a", "b"), "unit", "beta(a={a}, b={b})",
               lambda n, a, b, **kw: _pm().Beta(n, alpha=a, beta=b, **kw),
               lambda a, b: stats.beta(a, b), _positive("a", "b"),
               "Beta on (0, 1), for a correlation between time points (e.g. beta:2:2 is "
               "centred on 0.5; beta:1:1 is uniform)."),
        Family("lognormal_tau2", ("mean", "sd"), "positive",
               "log τ² ~ normal(mean={mean}, sd={sd})", _lognormal_tau2_pymc,
               lambda m, s: stats.lognorm(s=s / 2.0, scale=np.exp(m / 2.0)),
               _positive("mean", "sd"),
               "Log-normal on τ² (Turner et al. 2015 predictive priors for log OR)."),
    ]
}

ALIASES: dict[str, str] = {
    "half-normal": "halfnormal", "hn": "halfnormal", "half_normal": "halfnormal",
    "half-cauchy": "halfcauchy", "hc": "halfcauchy", "half_cauchy": "halfcauchy",
    "half-t": "halft", "half_t": "halft", "halfstudentt": "halft",
    "t": "student_t", "student-t": "student_t", "studentt": "student_t",
    "exp": "exponential", "gaussian": "normal", "n": "normal",
    "improper": "uniform_improper", "uniform-improper": "uniform_improper",
    "lognormal-tau2": "lognormal_tau2", "lognormaltau2": "lognormal_tau2",
}


def lookup(name: str) -> Family | None:
    """The family called ``name`` (case-insensitive, common aliases accepted), or None."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return FAMILIES.get(key)
