r"""Maximum-likelihood generalised linear mixed model with fixed study effects (metafor's
``rma.glmm(model = "UM.FS")``): the frequentist twin of the binomial–normal model.

For study i, arm j ∈ {t, c} and :math:`u_i \sim N(0, \tau^2)`:

.. math::

    \eta_{it} = \alpha_i + (\theta + u_i)/2, \qquad \eta_{ic} = \alpha_i - (\theta + u_i)/2

with the arm counts binomial (:math:`r \sim \mathrm{Bin}(n, \operatorname{logit}^{-1}\eta)`,
θ the log odds ratio) or Poisson with person-time T (:math:`x \sim \mathrm{Pois}(T e^\eta)`,
θ the log rate ratio). The study intercepts α_i are fixed parameters; θ and τ are estimated
by maximising the marginal likelihood

.. math::

    L = \prod_i \int p(r_{it} \mid \eta_{it}(z))\, p(r_{ic} \mid \eta_{ic}(z))\, \phi(z)\,dz,
    \qquad u_i = \tau z,

whose integrals are computed by adaptive Gauss–Hermite quadrature (the nodes centred at each
study's mode and scaled by its curvature; 21 nodes by default — lme4's ``glmer`` which
metafor calls uses 7). The ±½ coding of u is metafor's default (``coding = 1/2``), which
makes the model symmetric in the two arms. Studies without events in either arm (or with
only events) have α̂ = ∓∞ and no information about θ or τ: they are dropped, as metafor does.
The standard error of θ̂ comes from the observed information of all parameters (α, θ, τ;
at τ̂ = 0 from (α, θ) alone), as lme4's ``vcov``.

References: Stijnen T, Hamza TH, Özdemir P. Random effects meta-analysis of event outcome in
the framework of the generalized linear mixed model with applications in sparse data. Stat
Med 2010;29:3046–3067. Jackson D, Law M, Stijnen T, Viechtbauer W, White IR. A comparison of
seven random-effects models for meta-analyses that estimate the summary odds ratio. Stat
Med 2018;37:1059–1085.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from bayesmeta.data.effect_sizes import binary_effects, rate_effects
from bayesmeta.inference.classical.result import ClassicalFit, NoEstimate

FAMILIES = ("binomial", "poisson")


@dataclass(frozen=True)
class _Arms:
    """Counts of the two arms; ``size`` is n (binomial) or person-time T (Poisson)."""

    family: str
    events_t: np.ndarray
    size_t: np.ndarray
    events_c: np.ndarray
    size_c: np.ndarray

    def arm_terms(self, eta: np.ndarray, events: np.ndarray, size: np.ndarray):
        """log density (up to the constant), its first derivative and minus the second."""
        if self.family == "binomial":
            log1pe = np.logaddexp(0.0, eta)
            p = special.expit(eta)
            return events * eta - size * log1pe, events - size * p, size * p * (1 - p)
        mean = size * np.exp(eta)
        return events * eta - mean, events - mean, mean

    def constant(self) -> float:
        """The terms of the log-likelihood free of parameters (log binomial coefficients,
        or x·log T − log x! for Poisson)."""
        if self.family == "binomial":
            def lchoose(n, r):
                return special.gammaln(n + 1) - special.gammaln(r + 1) - special.gammaln(n - r + 1)
            return float(np.sum(lchoose(self.size_t, self.events_t)
                                + lchoose(self.size_c, self.events_c)))
        return float(np.sum(self.events_t * np.log(self.size_t) - special.gammaln(
            self.events_t + 1) + self.events_c * np.log(self.size_c)
            - special.gammaln(self.events_c + 1)))


class _MarginalLikelihood:
    """−log L and its gradient in (α₁..α_k, θ, τ) by adaptive Gauss–Hermite quadrature."""

    def __init__(self, arms: _Arms, nodes: int) -> None:
        self.arms = arms
        x, w = np.polynomial.hermite.hermgauss(nodes)
        self.x, self.log_w = x, np.log(w) + x**2
        self.k = len(arms.events_t)

    def _g(self, alpha, theta, tau, z):
        """The log integrand g(z) per study (rows) and point (columns), with the arms'
        scores and curvatures; ``alpha`` and ``z`` are (k, m) arrays."""
        a = self.arms
        half = 0.5 * (theta + tau * z)
        lt, st, ht = a.arm_terms(alpha + half, a.events_t[:, None], a.size_t[:, None])
        lc, sc, hc = a.arm_terms(alpha - half, a.events_c[:, None], a.size_c[:, None])
        return lt + lc - 0.5 * z**2, st, sc, ht, hc

    def _mode(self, alpha, theta, tau):
        """Each study's mode of g (Newton; g is strictly concave) and the scale there."""
        z = np.zeros((self.k, 1))
        a2 = alpha[:, None]
        for _ in range(100):
            _, st, sc, ht, hc = self._g(a2, theta, tau, z)
            step = (0.5 * tau * (st - sc) - z) / (0.25 * tau**2 * (ht + hc) + 1.0)
            z = z + step
            if np.max(np.abs(step)) < 1e-12:
                break
        _, _, _, ht, hc = self._g(a2, theta, tau, z)
        return z[:, 0], 1.0 / np.sqrt(0.25 * tau**2 * (ht[:, 0] + hc[:, 0]) + 1.0)

    def evaluate(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        k = self.k
        alpha, theta, tau = params[:k], params[k], params[k + 1]
        centre, scale = self._mode(alpha, theta, tau)
        z = centre[:, None] + math.sqrt(2.0) * scale[:, None] * self.x[None, :]
        g, st, sc, _, _ = self._g(alpha[:, None], theta, tau, z)
        terms = self.log_w[None, :] + g
        log_i = special.logsumexp(terms, axis=1)
        weights = np.exp(terms - log_i[:, None])
        loglik = np.sum(log_i + np.log(math.sqrt(2.0) * scale)) - 0.5 * k * math.log(2 * math.pi)
        d_alpha = np.sum(weights * (st + sc), axis=1)
        diff = 0.5 * (st - sc)
        d_theta = np.sum(weights * diff)
        d_tau = np.sum(weights * diff * z)
        return -float(loglik), -np.concatenate([d_alpha, [d_theta, d_tau]])

    def hessian_blocks(self, params: np.ndarray, step: float = 1e-5):
        """The arrow-shaped Hessian of −log L: its α diagonal, the α×(θ, τ) columns and the
        (θ, τ) block, by central differences of the gradient (α_i touches only study i)."""
        k = self.k
        diag = np.zeros(k)
        cross = np.zeros((k, 2))
        corner = np.zeros((2, 2))
        direction = np.zeros(k + 2)
        direction[:k] = step
        gp = self.evaluate(params + direction)[1]
        gm = self.evaluate(params - direction)[1]
        diag[:] = (gp[:k] - gm[:k]) / (2 * step)
        for j in (0, 1):
            direction = np.zeros(k + 2)
            direction[k + j] = step
            lo = params - direction
            if lo[k + 1] < 0:  # one-sided at the τ = 0 boundary
                gp = self.evaluate(params + direction)[1]
                g0 = self.evaluate(params)[1]
                col = (gp - g0) / step
            else:
                col = (self.evaluate(params + direction)[1] - self.evaluate(lo)[1]) / (2 * step)
            cross[:, j] = col[:k]
            corner[:, j] = col[k:]
        return diag, cross, 0.5 * (corner + corner.T)


def glmm_fixed_study(events_t, size_t, events_c, size_c, *, family: str = "binomial",
                     level: float = 0.95, nodes: int = 21) -> ClassicalFit:
    """ML fit of the GLMM with fixed study effects (see the module docstring).

    ``size`` is the arm size n (``family="binomial"``, θ = log OR) or the person-time T
    (``family="poisson"``, θ = log rate ratio).
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}")
    et, st = np.asarray(events_t, float), np.asarray(size_t, float)
    ec, sc = np.asarray(events_c, float), np.asarray(size_c, float)
    k_total = len(et)
    if family == "binomial":
        informative = ~(((et == 0) & (ec == 0)) | ((et == st) & (ec == sc)))
    else:
        informative = (et + ec) > 0
    arms = _Arms(family, et[informative], st[informative], ec[informative], sc[informative])
    k = int(informative.sum())
    if k == 0:
        raise NoEstimate("no study has events in either arm")
    if arms.events_t.sum() == 0 or arms.events_c.sum() == 0 or (
            family == "binomial" and (np.all(arms.events_t == arms.size_t)
                                      or np.all(arms.events_c == arms.size_c))):
        raise NoEstimate("the ML estimate is infinite: one arm has no events (or only "
                         "events) in every study")
    like = _MarginalLikelihood(arms, nodes)
    start = _start_values(arms)
    bounds = [(None, None)] * (k + 1) + [(0.0, None)]
    best = None
    for tau0 in (0.3, 1.0):
        x0 = start.copy()
        x0[k + 1] = tau0
        res = optimize.minimize(like.evaluate, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9,
                                         "maxcor": 10})
        if best is None or res.fun < best.fun:
            best = res
    params = best.x
    if params[k + 1] < 1e-6:  # boundary: the likelihood is even in τ, so τ̂ = 0 exactly
        params[k + 1] = 0.0
    params = _polish(like, params)
    diag, cross, corner = like.hessian_blocks(params)
    if params[k + 1] > 0:
        schur = corner - cross.T @ (cross / diag[:, None])
        cov = np.linalg.inv(schur)
        var_theta = cov[0, 0]
    else:
        var_theta = 1.0 / (corner[0, 0] - np.sum(cross[:, 0] ** 2 / diag))
    theta, tau = float(params[k]), float(params[k + 1])
    se = math.sqrt(var_theta)
    crit = float(stats.norm.ppf(0.5 + level / 2))
    z = theta / se
    loglik = -like.evaluate(params)[0] + arms.constant()
    measure = "OR" if family == "binomial" else "IRR"
    kind = "binomial-normal" if family == "binomial" else "Poisson-normal"
    dropped = k_total - k
    zero = "none: exact likelihood, no correction" + (
        f"; {dropped} stud{'y' if dropped == 1 else 'ies'} without events in either arm "
        f"carr{'ies' if dropped == 1 else 'y'} no information and {'is' if dropped == 1 else 'are'}"
        " left out" if dropped else "")
    half = crit * math.sqrt(tau**2 + se**2)
    return ClassicalFit(
        method="GLMM-UM.FS", label=f"{kind} GLMM, fixed study effects (ML)", measure=measure,
        estimate=theta, se=se, ci=(theta - crit * se, theta + crit * se), zval=z,
        pval=float(2 * stats.norm.sf(abs(z))), k=k_total, k_used=k, zero_handling=zero,
        level=level, tau2=tau**2, prediction=(theta - half, theta + half), loglik=loglik,
        i2=_i2(family, et, st, ec, sc, tau**2),
        extra={"alpha": params[:k].tolist(), "nodes": nodes, "converged": bool(best.success),
               "family": family})


def _i2(family: str, et, st, ec, sc, tau2: float) -> float | None:
    """I² as metafor reports it for a GLMM: 100·τ²/(τ² + s²), s² the typical within-study
    variance of the study estimates with 0.5 added to tables with a zero (double zeros out)."""
    eff = (binary_effects(et, st, ec, sc) if family == "binomial"
           else rate_effects(et, st, ec, sc, drop00=True))
    w = 1.0 / eff.vi
    k = len(w)
    if k < 2:
        return None
    typical = (k - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2))
    return float(100 * tau2 / (tau2 + typical))


def _start_values(arms: _Arms) -> np.ndarray:
    """Crude starting values: each study's pooled log-odds (or log-rate), a pooled θ."""
    et, ec = arms.events_t, arms.events_c
    if arms.family == "binomial":
        p = (et + ec + 0.5) / (arms.size_t + arms.size_c + 1.0)
        alpha = special.logit(p)
        theta = math.log((et.sum() + 0.5) / (arms.size_t.sum() - et.sum() + 0.5)) - math.log(
            (ec.sum() + 0.5) / (arms.size_c.sum() - ec.sum() + 0.5))
    else:
        alpha = np.log((et + ec + 0.5) / (arms.size_t + arms.size_c))
        theta = math.log((et.sum() + 0.5) / arms.size_t.sum()) - math.log(
            (ec.sum() + 0.5) / arms.size_c.sum())
    return np.concatenate([alpha, [theta, 0.0]])


def _polish(like: _MarginalLikelihood, params: np.ndarray) -> np.ndarray:
    """A few Newton steps on the arrow-shaped Hessian to reach the optimum to ~1e-10
    (L-BFGS stops a little short of it on flat likelihoods)."""
    k = like.k
    free_tau = params[k + 1] > 0
    for _ in range(5):
        grad = like.evaluate(params)[1]
        diag, cross, corner = like.hessian_blocks(params)
        m = 2 if free_tau else 1
        c = cross[:, :m]
        schur = corner[:m, :m] - c.T @ (c / diag[:, None])
        if np.any(diag <= 0) or np.any(np.linalg.eigvalsh(schur) <= 0):
            return params
        rhs = grad[k:k + m] - c.T @ (grad[:k] / diag)
        d_shared = np.linalg.solve(schur, rhs)
        d_alpha = (grad[:k] - c @ d_shared) / diag
        new = params.copy()
        new[:k] -= d_alpha
        new[k:k + m] -= d_shared
        if free_tau and new[k + 1] < 0:
            return params
        if like.evaluate(new)[0] > like.evaluate(params)[0] + 1e-12:
            return params
        params = new
        if np.max(np.abs(np.concatenate([d_alpha, d_shared]))) < 1e-10:
            break
    return params
