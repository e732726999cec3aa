"""An independent numpy implementation of the longitudinal model's marginal likelihood.

Written for the tests only and sharing no code with ``bayesmeta.models.longitudinal``: the
covariance of study i's observed effects is built directly from its definition (between-
study Σ restricted to the observed times plus the within-study matrix), and the pooled
effects μ are integrated out analytically. Used for

* metafor's REML results (GLS estimates, their SEs, the REML log-likelihood), and
* the exact posterior of the variance parameters, by importance sampling (the posterior
  of μ given them is normal, so it is added exactly as a mixture).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats


@dataclass(frozen=True)
class Long:
    """Rows sorted by study, then time: per study, the time positions, y and variances."""

    times: np.ndarray
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # (positions, y, v)

    @property
    def n(self) -> int:
        return sum(len(b[0]) for b in self.blocks)

    @property
    def n_times(self) -> int:
        return len(self.times)


def ishak_by_index() -> Long:
    """Ishak 2007 as metafor's reference script has it: time = the index 1..4."""
    from tests.conftest import DATA

    frame = pd.read_csv(DATA / "ishak2007_long.csv").sort_values(["study", "timepoint"])
    times = np.array([1.0, 2.0, 3.0, 4.0])
    blocks = []
    for _, rows in frame.groupby("study", sort=False):
        blocks.append((rows["timepoint"].to_numpy() - 1, rows["yi"].to_numpy(float),
                       rows["vi"].to_numpy(float)))
    return Long(times, blocks)


def between(struct: str, tau2: np.ndarray, rho: float, times: np.ndarray) -> np.ndarray:
    """metafor's CS, HCS, AR, HAR matrices (AR on the given times)."""
    k = len(times)
    tau = np.sqrt(np.broadcast_to(np.asarray(tau2, float), (k,)))
    if struct in ("AR", "HAR"):
        corr = rho ** np.abs(times[:, None] - times[None, :])
    else:
        corr = np.where(np.eye(k, dtype=bool), 1.0, rho)
    return np.outer(tau, tau) * corr


def within(v: np.ndarray, t: np.ndarray, phi: float, kind: str = "ar1") -> np.ndarray:
    """metafor vcalc(vi, time1 = t, phi = phi): var v, corr phi^|t - t'| ("ar1"); or the
    same correlation phi between any two times ("cs")."""
    se = np.sqrt(v)
    gap = np.abs(t[:, None] - t[None, :])
    corr = phi**gap if kind == "ar1" else np.where(gap == 0, 1.0, phi)
    return np.outer(se, se) * corr


def gls_terms(data: Long, sigma: np.ndarray, phi_within: float, kind: str = "ar1"):
    """A = X'V⁻¹X, b = X'V⁻¹y, c = y'V⁻¹y and log|V|, summed over studies; ``sigma`` may
    carry leading batch dimensions (one Σ per parameter draw)."""
    batch = sigma.shape[:-2]
    k = data.n_times
    a = np.zeros((*batch, k, k))
    b = np.zeros((*batch, k))
    c = np.zeros(batch)
    logdet = np.zeros(batch)
    for pos, y, v in data.blocks:
        cov = sigma[..., pos[:, None], pos[None, :]] + within(v, data.times[pos], phi_within,
                                                               kind)
        inv = np.linalg.inv(cov)
        a[..., pos[:, None], pos[None, :]] += inv
        iy = inv @ y
        b[..., pos] += iy
        c += iy @ y
        logdet += np.linalg.slogdet(cov)[1]
    return a, b, c, logdet


def marginal_loglik(data: Long, sigma: np.ndarray, mu: np.ndarray, phi_within: float,
                    kind: str = "ar1") -> float:
    """log N(y | Xμ, V): the likelihood with the random effects integrated out."""
    a, b, c, logdet = gls_terms(data, sigma, phi_within, kind)
    quad = c - 2 * b @ mu + mu @ a @ mu
    return float(-0.5 * data.n * math.log(2 * math.pi) - 0.5 * logdet - 0.5 * quad)


def gls(data: Long, sigma: np.ndarray, phi_within: float) -> tuple[np.ndarray, np.ndarray]:
    a, b, _, _ = gls_terms(data, sigma, phi_within)
    cov = np.linalg.inv(a)
    return cov @ b, np.sqrt(np.diag(cov))


def reml_loglik(data: Long, sigma: np.ndarray, phi_within: float) -> float:
    """metafor's REML log-likelihood (with the + ½ log|X'X| term, REMLf = TRUE)."""
    a, b, c, logdet = gls_terms(data, sigma, phi_within)
    k = data.n_times
    counts = np.zeros(k)
    for pos, _, _ in data.blocks:
        counts[pos] += 1
    rss = c - b @ np.linalg.solve(a, b)
    return float(-0.5 * (data.n - k) * math.log(2 * math.pi) + 0.5 * np.log(counts).sum()
                 - 0.5 * logdet - 0.5 * np.linalg.slogdet(a)[1] - 0.5 * rss)


def fit_reml(data: Long, struct: str, phi_within: float, start: np.ndarray) -> np.ndarray:
    """Maximise the REML likelihood over (log τ², logit ρ) — our own optimiser."""
    def negll(x: np.ndarray) -> float:
        tau2 = np.exp(x[:-1])
        rho = special.expit(x[-1])
        return -reml_loglik(data, between(struct, tau2, rho, data.times), phi_within)

    out = optimize.minimize(negll, start, method="Nelder-Mead",
                            options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 20000,
                                     "maxfev": 20000})
    return np.concatenate([np.exp(out.x[:-1]), [special.expit(out.x[-1])]])


# -- exact posterior by importance sampling -----------------------------------------------
@dataclass(frozen=True)
class Posterior:
    """Weighted draws of (τ_k, φ) and, per draw, the normal posterior of μ (mean, sd)."""

    tau: np.ndarray  # (n, n_tau)
    phi: np.ndarray  # (n,)
    mu_mean: np.ndarray  # (n, K)
    mu_sd: np.ndarray  # (n, K)
    weights: np.ndarray  # (n,), sum 1

    @property
    def ess(self) -> float:
        return float(1.0 / np.sum(self.weights**2))

    def quantile(self, values: np.ndarray, p: float) -> float:
        order = np.argsort(values)
        cum = np.cumsum(self.weights[order])
        return float(values[order][np.searchsorted(cum, p)])

    def mu_quantile(self, k: int, p: float) -> float:
        """Quantile of μ_k's posterior: a weighted mixture of normals, solved exactly."""
        m, s, w = self.mu_mean[:, k], self.mu_sd[:, k], self.weights

        def cdf(x: float) -> float:
            return float(np.sum(w * stats.norm.cdf((x - m) / s))) - p

        lo, hi = m.min() - 10 * s.max(), m.max() + 10 * s.max()
        return float(optimize.brentq(cdf, lo, hi, xtol=1e-10))

    def mu_mcse(self, k: int, p: float) -> float:
        """MC error of a μ_k quantile: sqrt(p(1 − p)/ESS) / density (conservative: the
        mixture over draws is Rao-Blackwellised, which only reduces the error)."""
        q = self.mu_quantile(k, p)
        m, s = self.mu_mean[:, k], self.mu_sd[:, k]
        density = float(np.sum(self.weights * stats.norm.pdf((q - m) / s) / s))
        return math.sqrt(p * (1 - p) / self.ess) / density

    def mcse_quantile(self, values: np.ndarray, p: float) -> float:
        """Normal-approximation MC error of a weighted quantile, using the weights' ESS."""
        q = self.quantile(values, p)
        width = self.quantile(values, min(p + 0.02, 0.999)) - self.quantile(
            values, max(p - 0.02, 0.001))
        density = (min(p + 0.02, 0.999) - max(p - 0.02, 0.001)) / max(width, 1e-12)
        return math.sqrt(p * (1 - p) / self.ess) / density if np.isfinite(q) else np.inf


def log_posterior(data: Long, struct: str, tau: np.ndarray, phi: np.ndarray,
                  phi_within: float, effect_sd: float, tau_scale: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log p(τ, φ | y) up to a constant (μ ~ N(0, effect_sd²) integrated out, τ ~
    half-normal(tau_scale), φ ~ U(0, 1)), and μ's conditional posterior mean and sd.

    ``tau`` is (n, n_tau) and ``phi`` (n,): n parameter values at once.
    """
    k = data.n_times
    taus = np.broadcast_to(tau, (len(phi), k)) if tau.shape[1] == 1 else tau
    gap = np.abs(data.times[:, None] - data.times[None, :])
    if struct in ("AR", "HAR"):
        corr = phi[:, None, None] ** gap
    else:
        corr = np.where(gap == 0, 1.0, phi[:, None, None])
    sigma = taus[:, :, None] * taus[:, None, :] * corr
    a, b, c, logdet = gls_terms(data, sigma, phi_within)
    prec = a + np.eye(k) / effect_sd**2
    cov = np.linalg.inv(prec)
    mean = np.einsum("nkl,nl->nk", cov, b)
    log_marg = (-0.5 * logdet - 0.5 * np.linalg.slogdet(prec)[1]
                - 0.5 * (c - np.einsum("nk,nk->n", b, mean)))
    log_prior = np.sum(stats.halfnorm.logpdf(tau, scale=tau_scale), axis=1)
    return log_marg + log_prior, mean, np.sqrt(np.diagonal(cov, axis1=1, axis2=2))


def importance_posterior(data: Long, struct: str, phi_within: float, effect_sd: float,
                         tau_scale: float, n_tau: int, *, draws: int = 20000,
                         seed: int = 20240601) -> Posterior:
    """Exact posterior by importance sampling in (log τ, logit φ), with a multivariate-t
    proposal (4 df) at the posterior mode scaled by 1.5 × the inverse Hessian."""
    def log_target(x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        tau, phi = np.exp(x[:, :n_tau]), special.expit(x[:, n_tau])
        lp, _, _ = log_posterior(data, struct, tau, phi, phi_within, effect_sd, tau_scale)
        # Jacobians of τ = exp(x) and φ = expit(x)
        return lp + x[:, :n_tau].sum(axis=1) + np.log(phi) + np.log1p(-phi)

    start = np.concatenate([np.full(n_tau, math.log(5.0)), [1.5]])
    mode = optimize.minimize(lambda x: -float(log_target(x)[0]), start, method="BFGS").x
    hess = _hessian(lambda x: -float(log_target(x)[0]), mode)
    proposal = stats.multivariate_t(loc=mode, shape=1.5 * np.linalg.inv(hess), df=4,
                                    seed=seed)
    xs = proposal.rvs(size=draws)
    tau, phi = np.exp(xs[:, :n_tau]), special.expit(xs[:, n_tau])
    lp, mean, sd = log_posterior(data, struct, tau, phi, phi_within, effect_sd, tau_scale)
    log_w = lp + xs[:, :n_tau].sum(axis=1) + np.log(phi) + np.log1p(-phi) - proposal.logpdf(xs)
    w = np.exp(log_w - log_w.max())
    return Posterior(tau, phi, mean, sd, w / w.sum())


def _hessian(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    n = len(x)
    out = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i = np.eye(n)[i] * h
            e_j = np.eye(n)[j] * h
            value = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j)
                     + f(x - e_i - e_j)) / (4 * h * h)
            out[i, j] = out[j, i] = value
    return out
