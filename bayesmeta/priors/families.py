"""Families of prior distributions, each usable by PyMC (MCMC) and by numpy (exact methods).

A family knows its parameters, its support, how to make a PyMC random variable, and its
density as a frozen scipy-like distribution (``logpdf``, ``cdf``, ``ppf``, ``rvs``), so the
same named prior serves the binomial-normal MCMC model and the exact normal–normal model.
Improper priors (flat, improper uniform on τ, Jeffreys) have no PyMC form: only exact methods
take them. Each family also states how heavy its right tail is (:attr:`Family.tail`), which
the exact normal–normal model needs to know whether posterior moments exist.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

#: Tail power of a density that decays like τ^(−1) times a power of 1/log τ (log-t): heavier
#: than any τ^(−1−ε) but still integrable against τ^(−1)·τ^0. Using the next float above 1
#: makes the rule "∫ τ^m p(τ) τ^(−a) dτ < ∞ iff b + a − m > 1" come out right for it.
LOG_DECAY_ONE = math.nextafter(1.0, 2.0)


def _light_tail(params: tuple[float, ...]) -> float:
    return math.inf


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
    #: b such that the density decays like x^(−b) for large x (inf: faster than any power;
    #: 0 for the improper uniform). Used to decide whether posterior moments exist.
    tail: Callable[[tuple[float, ...]], float] = _light_tail

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


class _LogTTau2:
    """τ > 0 with log τ² ~ Student-t(nu, mean, scale) (Rhodes et al. 2015 predictive priors).

    Equivalently log τ ~ t(nu, mean/2, scale/2): the density of τ is t(log τ)/τ.
    """

    def __init__(self, nu: float, mean: float, scale: float) -> None:
        self._t = stats.t(df=nu, loc=mean / 2.0, scale=scale / 2.0)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            logx = np.log(np.where(x > 0, x, 1.0))
            return np.where(x > 0, self._t.logpdf(logx) - logx, -np.inf)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return np.where(x > 0, self._t.cdf(np.log(np.where(x > 0, x, 1.0))), 0.0)

    def sf(self, x: np.ndarray) -> np.ndarray:
        return 1.0 - self.cdf(x)

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return np.exp(self._t.ppf(q))

    def rvs(self, size=None, random_state=None):
        return np.exp(self._t.rvs(size=size, random_state=random_state))


def jeffreys_tau_logpdf(tau: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Log of the (improper) Jeffreys prior of τ in the normal–normal model, up to a constant.

    p(τ) ∝ sqrt(Σ_i τ² / (σ_i² + τ²)²), from the Fisher information of τ when
    y_i ~ N(μ, σ_i² + τ²) (Tibshirani 1989; Bodnar et al. 2017; R bayesmeta's "Jeffreys").
    It depends on the studies' standard errors σ_i, so only the exact NNHM can use it.
    """
    tau = np.asarray(tau, dtype=float)
    s2 = np.asarray(sigma, dtype=float) ** 2
    t2 = tau[..., None] ** 2
    with np.errstate(divide="ignore"):
        return 0.5 * np.log(np.sum(t2 / (s2 + t2) ** 2, axis=-1))


def _pm():
    import pymc as pm  # PyMC is imported only when a model is built

    return pm


def _lognormal_tau2_pymc(name, mean, sd, **kw):
    # log τ² ~ N(mean, sd²)  <=>  log τ ~ N(mean/2, (sd/2)²)  <=>  τ ~ LogNormal(mean/2, sd/2)
    return _pm().LogNormal(name, mu=mean / 2.0, sigma=sd / 2.0, **kw)


def _logt_tau2_pymc(name, nu, mean, scale, **kw):
    # log τ² ~ t(nu, mean, scale)  <=>  τ = exp(X), X ~ t(nu, mean/2, scale/2); PyMC derives
    # the density of the exp-transform; sampling happens on log τ.
    pm = _pm()
    from pymc.distributions import transforms

    def dist(nu_, mean_, scale_, size):
        import pytensor.tensor as pt

        return pt.exp(pm.StudentT.dist(nu=nu_, mu=mean_ / 2.0, sigma=scale_ / 2.0, size=size))

    return pm.CustomDist(name, nu, mean, scale, dist=dist, transform=transforms.log, **kw)


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
               "Half-Cauchy (Gelman 2006): weakly informative, heavy right tail.",
               tail=lambda p: 2.0),
        Family("halft", ("nu", "scale"), "positive", "half-t(nu={nu}, scale={scale})",
               lambda n, nu, s, **kw: _pm().HalfStudentT(n, nu=nu, sigma=s, **kw),
               lambda nu, s: _HalfT(nu, s), _positive("nu", "scale"),
               "Half-Student-t: between half-normal (nu → ∞) and half-Cauchy (nu = 1).",
               tail=lambda p: p[0] + 1.0),
        Family("exponential", ("rate",), "positive", "exponential(rate={rate})",
               lambda n, r, **kw: _pm().Exponential(n, lam=r, **kw),
               lambda r: stats.expon(scale=1.0 / r), _positive("rate"),
               "Exponential; the penalised-complexity prior for τ (Simpson et al. 2017)."),
        Family("uniform", ("lower", "upper"), "positive", "uniform({lower}, {upper})",
               lambda n, a, b, **kw: _pm().Uniform(n, lower=a, upper=b, **kw),
               lambda a, b: stats.uniform(loc=a, scale=b - a), _uniform_check,
               "Uniform on an interval, e.g. τ ~ U(0, 5) on the log-OR scale."),
        Family("uniform_improper", (), "positive", "improper uniform on τ > 0", None, None,
               lambda v: None, "Improper uniform prior on τ > 0; exact methods only "
               "(R bayesmeta's default; the posterior is proper with at least 3 studies, "
               "or 2 with a proper prior on the effect).", tail=lambda p: 0.0),
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
        Family("logt_tau2", ("nu", "mean", "scale"), "positive",
               "log τ² ~ Student-t(nu={nu}, mean={mean}, scale={scale})", _logt_tau2_pymc,
               lambda nu, m, s: _LogTTau2(nu, m, s), _positive("nu", "mean", "scale"),
               "Log-Student-t on τ² (Rhodes et al. 2015 predictive priors for SMD use nu = 5).",
               tail=lambda p: LOG_DECAY_ONE),
        Family("jeffreys", (), "positive",
               "Jeffreys prior of τ in the normal–normal model (improper)", None, None,
               lambda v: None,
               "p(τ) ∝ sqrt(Σ τ²/(σ_i² + τ²)²): invariant to the effect's units; depends on "
               "the standard errors, so exact normal–normal model only (Bodnar et al. 2017).",
               tail=lambda p: 1.0),
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
    "logt-tau2": "logt_tau2", "logttau2": "logt_tau2",
    "uniform_improper": "uniform_improper", "jeffrey": "jeffreys",
}


def lookup(name: str) -> Family | None:
    """The family called ``name`` (case-insensitive, common aliases accepted), or None."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return FAMILIES.get(key)
