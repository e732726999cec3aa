r"""Exact posterior of the normal–normal hierarchical model by one-dimensional quadrature.

The model (see :mod:`bayesmeta.models.nnhm` for the math and the PyMC version):
y_i ~ N(θ_i, s_i²), θ_i ~ N(μ, τ²), μ ~ N(m₀, v₀) or flat, τ ~ p(τ).

Integrating θ and μ out analytically (Röver 2020, J Stat Softw 93(6), Sec. 2):

* given τ, with w_i = 1/(s_i² + τ²), P = Σ w_i (+ 1/v₀) and
  μ̂ = (Σ w_i y_i (+ m₀/v₀)) / P, the conditional posterior of μ is N(μ̂(τ), 1/P);
* the marginal likelihood of τ is
  p(y | τ) = (2π)^{−(k−1)/2} Π w_i^{1/2} P^{−1/2} exp(−Q/2) with a flat μ prior, or
  (2π)^{−k/2} Π w_i^{1/2} (v₀P)^{−1/2} exp(−Q/2) with a normal one,
  where Q = Σ w_i (y_i − μ̂)² (+ (m₀ − μ̂)²/v₀);
* so p(τ | y) ∝ p(τ) p(y | τ) is one-dimensional. It is integrated by adaptive
  Gauss–Legendre panels on t = τ/(τ + c) (:func:`integrate_on_panels`) to a relative error
  below 1e-10 of the normalising constant *and* of the shrinkage factors
  b_i(τ) = s_i²/(s_i² + τ²) and μ̂(τ), so that everything built on the nodes is as accurate;
* the marginal posteriors are normal mixtures over the nodes τ_j (weights ∝ quadrature
  weight × p(τ_j | y)): μ ~ Σ π_j N(μ̂_j, V_j); θ_new ~ Σ π_j N(μ̂_j, V_j + τ_j²); and the
  shrunken study effects θ_i ~ Σ π_j N((1 − b_ij) y_i + b_ij μ̂_j, s_i²(1 − b_ij) + b_ij² V_j);
* marginal likelihood p(y) = ∫ p(τ) p(y | τ) dτ (needs proper priors), p(y | τ = 0) in
  closed form, p(y | μ = 0) = ∫ p(τ) Π N(y_i | 0, s_i² + τ²) dτ by the same quadrature;
  Bayes factors BF₀₁ = p(y | null) / p(y).

Improper priors (flat μ; improper uniform or Jeffreys τ) are allowed when the posterior is
proper; that is checked from the tails: for large τ, p(y | τ) decays like τ^−(k−1) (flat μ)
or τ^−k (normal μ), and a prior decaying like τ^−b gives a posterior tail τ^−a, a = k − 1
(+1) + b, proper iff a > 1; E[τ] exists iff a > 2 and Var(τ) iff a > 3 (and the same
conditions govern the mean and SD of μ (flat prior), θ_i and θ_new).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from bayesmeta.errors import InputError
from bayesmeta.inference.exact_numerics import NormalMixture, PanelDensity, integrate_on_panels
from bayesmeta.priors import Prior
from bayesmeta.priors.families import jeffreys_tau_logpdf

_LOG_2PI = math.log(2.0 * math.pi)


def _halfnormal(scale: float):
    const = 0.5 * math.log(2.0 / math.pi) - math.log(scale)
    return lambda x: np.where(x >= 0, const - 0.5 * (x / scale) ** 2, -np.inf)


def _halfcauchy(scale: float):
    const = math.log(2.0 / (math.pi * scale))
    return lambda x: np.where(x >= 0, const - np.log1p((x / scale) ** 2), -np.inf)


def _lognormal_tau2(mean: float, sd: float):
    m, s = mean / 2.0, sd / 2.0  # log τ ~ N(m, s²)
    const = -math.log(s) - 0.5 * math.log(2 * math.pi)

    def logpdf(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            lx = np.log(np.where(x > 0, x, 1.0))
            return np.where(x > 0, const - lx - 0.5 * ((lx - m) / s) ** 2, -np.inf)

    return logpdf


#: Closed-form log densities of common τ priors (the same densities as the scipy faces in
#: :mod:`bayesmeta.priors.families`, checked against them in the tests), because scipy's
#: per-call overhead is larger than the arithmetic when quantiles are solved.
_FAST_LOGPDF = {"halfnormal": _halfnormal, "halfcauchy": _halfcauchy,
                "lognormal_tau2": _lognormal_tau2}


@dataclass(frozen=True)
class NNHMInput:
    """Data and priors: estimates ``y``, standard errors ``s``, priors on μ and τ."""

    y: np.ndarray
    s: np.ndarray
    mu_prior: Prior
    tau_prior: Prior

    @property
    def k(self) -> int:
        return len(self.y)

    @property
    def mu_normal(self) -> tuple[float, float] | None:
        """(m₀, v₀) of a normal μ prior; None for a flat one."""
        if self.mu_prior.family == "flat":
            return None
        if self.mu_prior.family != "normal":
            raise InputError(f"the exact normal–normal model takes a normal or flat prior on "
                             f"mu, not '{self.mu_prior.spec}' (use --method mcmc for others)",
                             source="--mu-prior")
        m0, sd0 = self.mu_prior.params
        return float(m0), float(sd0) ** 2

    def conditionals(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """μ̂(τ), V(τ) = Var(μ | τ, y) and log p(y | τ), for an array of τ."""
        tau = np.asarray(tau, dtype=float)
        s2 = self.s**2
        w = 1.0 / (s2[None, :] + tau[:, None] ** 2)
        normal = self.mu_normal
        precision = w.sum(axis=1)
        weighted = w @ self.y
        if normal is not None:
            m0, v0 = normal
            precision = precision + 1.0 / v0
            weighted = weighted + m0 / v0
        mhat = weighted / precision
        resid = self.y[None, :] - mhat[:, None]
        q = np.einsum("ij,ij->i", w, resid * resid)
        loglik = 0.5 * np.log(w).sum(axis=1) - 0.5 * np.log(precision)
        if normal is None:
            loglik += -0.5 * (self.k - 1) * _LOG_2PI
        else:
            q = q + (m0 - mhat) ** 2 / v0
            loglik += -0.5 * self.k * _LOG_2PI - 0.5 * math.log(v0)
        return mhat, 1.0 / precision, loglik - 0.5 * q

    @cached_property
    def _tau_logpdf(self):
        """The τ prior's log density as one callable (a frozen scipy distribution is built
        once: building it costs more than evaluating it)."""
        if self.tau_prior.family == "jeffreys":
            return lambda tau: jeffreys_tau_logpdf(tau, self.s)
        fast = _FAST_LOGPDF.get(self.tau_prior.family)
        if fast is not None:
            return fast(*self.tau_prior.params)
        dist = self.tau_prior.dist()
        if dist is None:
            return self.tau_prior.logpdf
        return dist.logpdf

    def log_tau_prior(self, tau: np.ndarray) -> np.ndarray:
        return self._tau_logpdf(np.asarray(tau, dtype=float))

    def log_posterior_tau(self, tau: np.ndarray) -> np.ndarray:
        """log p(τ) + log p(y | τ): the unnormalised log posterior density of τ."""
        return self.log_tau_prior(tau) + self.conditionals(tau)[2]

    def log_lik_mu0(self, tau: np.ndarray) -> np.ndarray:
        """log p(y | μ = 0, τ) = Σ log N(y_i | 0, s_i² + τ²)."""
        v = self.s[None, :] ** 2 + np.asarray(tau, dtype=float)[:, None] ** 2
        return -0.5 * (np.log(2 * np.pi * v) + self.y[None, :] ** 2 / v).sum(axis=1)

    def posterior_tail_power(self) -> float:
        """a such that p(τ | y) decays like τ^−a (see the module docstring)."""
        prior_tail = self.tau_prior.fam.tail(tuple(self.tau_prior.params))
        return (self.k - (1 if self.mu_normal is None else 0)) + prior_tail

    def scale(self) -> float:
        """A typical τ: the DerSimonian–Laird estimate plus half a typical standard error."""
        w = 1.0 / self.s**2
        mean = np.sum(w * self.y) / np.sum(w)
        q = np.sum(w * (self.y - mean) ** 2)
        denom = np.sum(w) - np.sum(w**2) / np.sum(w)
        tau2 = max(0.0, (q - (self.k - 1)) / denom) if denom > 0 else 0.0
        return math.sqrt(tau2) + 0.5 * float(np.sqrt(np.median(self.s**2)))


@dataclass(frozen=True)
class BayesFactors:
    """BF₀₁ = p(y | null) / p(y) for τ = 0 and μ = 0 (> 1 favours the null); None when a
    prior needed for it is improper (``why`` says which)."""

    tau0: float | None
    mu0: float | None
    log_marginal: float | None
    log_marginal_tau0: float | None
    log_marginal_mu0: float | None
    why: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NNHMPosterior:
    """The exact posterior: τ's density on quadrature panels, and normal mixtures for μ,
    θ_new and each θ_i (rows in study order)."""

    model: NNHMInput
    tau: PanelDensity
    mu: NormalMixture
    theta_new: NormalMixture
    theta: NormalMixture
    bayes_factors: BayesFactors
    tail_power: float

    @property
    def n_nodes(self) -> int:
        return int(self.tau.nodes.size)

    @property
    def n_panels(self) -> int:
        return int(self.tau.edges.size - 1)


def _check_proper(model: NNHMInput) -> float:
    a = model.posterior_tail_power()
    if a <= 1.0:
        need = 3 if model.mu_normal is None else 2
        raise InputError(
            f"with the improper prior '{model.tau_prior.spec}' on tau and "
            f"{'a flat' if model.mu_normal is None else 'this'} prior on mu, the posterior is "
            f"improper for {model.k} studies (it needs at least {need}); give a proper "
            "--tau-prior such as halfnormal:S", source="--tau-prior")
    return a


def _fit_tau(model: NNHMInput, log_density, tail: float, c: float,
             rel_tol: float) -> PanelDensity:
    y_center = 0.5 * (model.y.max() + model.y.min())
    y_half = max(0.5 * (model.y.max() - model.y.min()), 1e-300)
    if model.mu_normal is not None:
        m0 = model.mu_normal[0]
        y_center = 0.5 * (max(model.y.max(), m0) + min(model.y.min(), m0))
        y_half = max(0.5 * (max(model.y.max(), m0) - min(model.y.min(), m0)), 1e-300)
    s2 = model.s**2

    def extras(tau: np.ndarray) -> np.ndarray:
        mhat, _, _ = model.conditionals(tau)
        shrink = s2[None, :] / (s2[None, :] + tau[:, None] ** 2)
        t = tau / (tau + c)
        return np.column_stack([t, shrink, np.clip((mhat - y_center) / y_half, -1, 1)])

    return integrate_on_panels(log_density, extras, c, tail_power=tail, rel_tol=rel_tol)


def nnhm_exact(model: NNHMInput, *, rel_tol: float = 1e-10) -> NNHMPosterior:
    """Compute the exact posterior of the normal–normal model (see the module docstring)."""
    if model.k < 1:
        raise InputError("no studies to analyse")
    if not (np.all(np.isfinite(model.y)) and np.all(model.s > 0) and
            np.all(np.isfinite(model.s))):
        raise InputError("estimates must be finite and standard errors positive")
    tail = _check_proper(model)
    c = model.scale()

    tau_density = _fit_tau(model, model.log_posterior_tau, tail, c, rel_tol)
    nodes, weights = tau_density.nodes, tau_density.weights
    keep = weights > 1e-16 * weights.max()
    nodes, weights = nodes[keep], weights[keep] / weights[keep].sum()
    mhat, v, _ = model.conditionals(nodes)
    flat_mu = model.mu_normal is None
    mean_ok, var_ok = tail > 2.0, tail > 3.0
    mu = NormalMixture(mhat[None, :], np.sqrt(v)[None, :], weights,
                       mean_ok or not flat_mu, var_ok or not flat_mu)
    theta_new = NormalMixture(mhat[None, :], np.sqrt(v + nodes**2)[None, :], weights,
                              mean_ok, var_ok)
    s2 = model.s[:, None] ** 2
    b = s2 / (s2 + nodes[None, :] ** 2)
    theta_means = (1 - b) * model.y[:, None] + b * mhat[None, :]
    theta_sds = np.sqrt(s2 * (1 - b) + b**2 * v[None, :])
    theta = NormalMixture(theta_means, theta_sds, weights,
                          mean_ok or not flat_mu, var_ok or not flat_mu)
    bayes = _bayes_factors(model, tau_density, tail, c, rel_tol)
    return NNHMPosterior(model=model, tau=tau_density, mu=mu, theta_new=theta_new,
                         theta=theta, bayes_factors=bayes, tail_power=tail)


def _bayes_factors(model: NNHMInput, tau_density: PanelDensity, tail: float, c: float,
                   rel_tol: float) -> BayesFactors:
    why: dict[str, str] = {}
    tau_proper = model.tau_prior.proper
    mu_proper = model.mu_normal is not None
    # log ∫ p(τ) p(y|τ) dτ with the priors' normalised densities (an arbitrary constant when
    # a prior is improper): the panel integral's norm times exp(shift).
    log_marginal = math.log(tau_density.norm) + tau_density.shift
    log_m_tau0 = float(model.conditionals(np.array([0.0]))[2][0])
    bf_tau0 = None
    if tau_proper:
        bf_tau0 = math.exp(log_m_tau0 - log_marginal)
    else:
        why["tau0"] = f"the prior on tau ({model.tau_prior.spec}) is improper"
    bf_mu0 = None
    log_m_mu0 = None
    if mu_proper:
        def log_post0(tau: np.ndarray) -> np.ndarray:
            return model.log_tau_prior(tau) + model.log_lik_mu0(tau)

        tail0 = model.k + model.tau_prior.fam.tail(tuple(model.tau_prior.params))
        null = integrate_on_panels(log_post0, lambda t: (t / (t + c))[:, None], c,
                                   tail_power=tail0, rel_tol=rel_tol)
        log_m_mu0 = math.log(null.norm) + null.shift
        bf_mu0 = math.exp(log_m_mu0 - log_marginal)
    else:
        why["mu0"] = "the prior on mu is flat (improper)"
    return BayesFactors(
        tau0=bf_tau0, mu0=bf_mu0,
        log_marginal=log_marginal if (tau_proper and mu_proper) else None,
        log_marginal_tau0=log_m_tau0 if mu_proper else None,
        log_marginal_mu0=log_m_mu0 if tau_proper else None, why=why)
