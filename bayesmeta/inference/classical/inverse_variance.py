r"""Inverse-variance meta-analysis of effect estimates ``yi`` with sampling variances ``vi``.

Model: :math:`y_i \sim N(\mu, v_i + \tau^2)`, with :math:`\tau^2 = 0` for the fixed
(common) effect model. Weights :math:`w_i = 1/(v_i + \hat\tau^2)`,
:math:`\hat\mu = \sum w_i y_i / \sum w_i`, :math:`\mathrm{se} = (\sum w_i)^{-1/2}`.

Between-study variance estimators (``tau2_method``):

* ``"DL"`` DerSimonian & Laird (1986): :math:`\max\{0, (Q - (k-1)) / (\sum w - \sum w^2/\sum w)\}`
  with fixed-effect weights and Cochran's Q;
* ``"REML"`` restricted maximum likelihood and ``"ML"`` maximum likelihood (the maximum
  over τ² ≥ 0 found by a scan and Brent's method; metafor's Fisher scoring finds the same);
* ``"PM"`` Paule & Mandel (1982): the root of the generalised Q,
  :math:`\sum w_i(\tau^2)(y_i - \hat\mu(\tau^2))^2 = k - 1`;
* ``"FE"`` none (τ² = 0).

Intervals (``test``): ``"z"`` normal, :math:`\hat\mu \pm z_{.975}\,\mathrm{se}`, or
``"knha"`` Hartung–Knapp–Sidik–Jonkman: se² multiplied by
:math:`q = \sum w_i (y_i - \hat\mu)^2 / (k-1)` and a :math:`t_{k-1}` quantile (metafor's
``test="knha"``: q is not truncated at 1). Prediction interval (Higgins, Thompson &
Spiegelhalter 2009, as metafor's ``predict``): :math:`\hat\mu \pm c\,\sqrt{\hat\tau^2 +
\mathrm{se}^2}` with c the same normal or t quantile. τ² gets the Q-profile interval
(Viechtbauer 2007) and, for REML/ML, the standard error from the Fisher information; I² is
:math:`100\,\hat\tau^2/(\hat\tau^2 + s^2)` with Higgins & Thompson's typical within-study
variance :math:`s^2 = (k-1)\sum w/((\sum w)^2 - \sum w^2)` (fixed-effect weights) — for
DL this equals :math:`(Q - (k-1))/Q`.

References: DerSimonian R, Laird N. Control Clin Trials 1986;7:177–188. Paule RC, Mandel J.
J Res Natl Bur Stand 1982;87:377–385. Hartung J, Knapp G. Stat Med 2001;20:3875–3889.
Sidik K, Jonkman JN. Stat Med 2002;21:3153–3159. Viechtbauer W. Stat Med 2007;26:37–52;
J Educ Behav Stat 2005;30:261–293. Higgins JPT, Thompson SG. Stat Med 2002;21:1539–1558.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from bayesmeta.inference.classical.result import ClassicalFit, NoEstimate

TAU2_METHODS = ("FE", "DL", "REML", "ML", "PM")
TESTS = ("z", "knha")

_LABELS = {"FE": "inverse variance, fixed effect", "DL": "DerSimonian–Laird",
           "REML": "REML", "ML": "ML", "PM": "Paule–Mandel"}


@dataclass(frozen=True)
class _Pooled:
    mu: float
    se: float
    weights: np.ndarray


def _pool(yi: np.ndarray, vi: np.ndarray, tau2: float) -> _Pooled:
    w = 1.0 / (vi + tau2)
    return _Pooled(float(np.sum(w * yi) / np.sum(w)), float(1.0 / math.sqrt(np.sum(w))), w)


def generalised_q(yi: np.ndarray, vi: np.ndarray, tau2: float) -> float:
    """Σ w_i(τ²)(y_i − μ̂(τ²))²: Cochran's Q at τ² = 0."""
    p = _pool(yi, vi, tau2)
    return float(np.sum(p.weights * (yi - p.mu) ** 2))


def tau2_dl(yi: np.ndarray, vi: np.ndarray) -> float:
    w = 1.0 / vi
    q = generalised_q(yi, vi, 0.0)
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    return max(0.0, float((q - (len(yi) - 1)) / c))


def _maximise(yi: np.ndarray, vi: np.ndarray, restricted: bool) -> float:
    """τ² ≥ 0 maximising the (restricted) likelihood: a scan over 0 and 400 log-spaced
    values up to well beyond the data's spread, then Brent's method between the neighbours
    of the best point (to ~1e-12). Fisher scoring, metafor's method, reaches the same
    maximum when it converges, but can oscillate on sparse data."""
    upper = 10.0 * max(float(np.var(yi)), float(np.max(vi))) + 1.0
    grid = np.concatenate([[0.0], np.logspace(math.log10(upper) - 12, math.log10(upper), 400)])
    values = np.array([_loglik(yi, vi, t, restricted) for t in grid])
    j = int(np.argmax(values))
    if j == 0:
        return 0.0
    lo, hi = grid[j - 1], grid[min(j + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(lambda t: -_loglik(yi, vi, t, restricted), bounds=(lo, hi),
                                   method="bounded",
                                   options={"xatol": 1e-13 * max(1.0, hi), "maxiter": 500})
    best = float(res.x) if -res.fun >= values[j] else float(grid[j])
    if best >= upper * (1 - 1e-9):
        raise NoEstimate("the between-study variance has no finite maximum-likelihood estimate")
    return best


def tau2_pm(yi: np.ndarray, vi: np.ndarray) -> float:
    k = len(yi)
    if generalised_q(yi, vi, 0.0) <= k - 1:
        return 0.0
    upper = max(1.0, 10 * float(np.var(yi)))
    while generalised_q(yi, vi, upper) > k - 1:
        upper *= 10
    return float(optimize.brentq(lambda t: generalised_q(yi, vi, t) - (k - 1), 0.0, upper,
                                 xtol=1e-14, rtol=1e-14))


def estimate_tau2(yi: np.ndarray, vi: np.ndarray, method: str) -> float:
    if method == "FE":
        return 0.0
    if method == "DL":
        return tau2_dl(yi, vi)
    if method == "PM":
        return tau2_pm(yi, vi)
    if method in ("REML", "ML"):
        return _maximise(yi, vi, restricted=method == "REML")
    raise ValueError(f"tau2_method must be one of {TAU2_METHODS}")


def q_profile_interval(yi: np.ndarray, vi: np.ndarray, level: float = 0.95
                       ) -> tuple[float, float]:
    """Q-profile confidence interval for τ² (Viechtbauer 2007): the τ² at which the
    generalised Q equals the χ²_{k−1} quantiles; 0 where Q(0) already lies below."""
    k = len(yi)
    alpha = 1 - level

    def solve(target: float) -> float:
        if generalised_q(yi, vi, 0.0) <= target:
            return 0.0
        upper = max(1.0, 10 * float(np.var(yi)))
        while generalised_q(yi, vi, upper) > target:
            upper *= 10
        return float(optimize.brentq(lambda t: generalised_q(yi, vi, t) - target, 0.0,
                                     upper, xtol=1e-14, rtol=1e-12))

    lower = solve(stats.chi2.ppf(1 - alpha / 2, k - 1))
    upper = solve(stats.chi2.ppf(alpha / 2, k - 1))
    return lower, upper


def _loglik(yi: np.ndarray, vi: np.ndarray, tau2: float, restricted: bool) -> float:
    p = _pool(yi, vi, tau2)
    k = len(yi)
    ll = -0.5 * (k * math.log(2 * math.pi) + np.sum(np.log(vi + tau2))
                 + np.sum(p.weights * (yi - p.mu) ** 2))
    if restricted:
        # metafor includes ½·log|XᵀX| = ½·log k for the intercept
        ll += 0.5 * math.log(2 * math.pi) + 0.5 * math.log(k) - 0.5 * math.log(np.sum(p.weights))
    return float(ll)


def inverse_variance(yi, vi, *, tau2_method: str = "REML", test: str = "z",
                     level: float = 0.95, measure: str = "OR", k_total: int | None = None,
                     zero_handling: str = "", label: str | None = None) -> ClassicalFit:
    """Fixed- or random-effects inverse-variance meta-analysis (see the module docstring).

    ``k_total`` is the number of studies before any were dropped (for reporting);
    ``zero_handling`` says what was done to zero cells to get ``yi``/``vi``.
    """
    if tau2_method not in TAU2_METHODS:
        raise ValueError(f"tau2_method must be one of {TAU2_METHODS}")
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}")
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    k = len(yi)
    if k == 0:
        raise NoEstimate("no study has an estimate")
    if not (np.all(np.isfinite(yi)) and np.all(np.isfinite(vi)) and np.all(vi > 0)):
        raise NoEstimate("some studies have no finite estimate (a zero cell without a "
                         "continuity correction)")
    random = tau2_method != "FE"
    notes: tuple[str, ...] = ()
    if random and k == 1:
        tau2 = 0.0
        notes = ("one study: the between-study variance cannot be estimated (set to 0)",)
    else:
        tau2 = estimate_tau2(yi, vi, tau2_method)
    pooled = _pool(yi, vi, tau2)
    se = pooled.se
    df = None
    if test == "knha":
        if k < 2:
            raise NoEstimate("the Hartung–Knapp interval needs at least two studies")
        q_hk = float(np.sum(pooled.weights * (yi - pooled.mu) ** 2) / (k - 1))
        se = se * math.sqrt(q_hk)
        df = k - 1
        crit = float(stats.t.ppf(0.5 + level / 2, df))
        stat = pooled.mu / se
        pval = float(2 * stats.t.sf(abs(stat), df))
    else:
        crit = float(stats.norm.ppf(0.5 + level / 2))
        stat = pooled.mu / se
        pval = float(2 * stats.norm.sf(abs(stat)))
    ci = (pooled.mu - crit * se, pooled.mu + crit * se)
    w0 = 1.0 / vi
    q = generalised_q(yi, vi, 0.0)
    typical_v = (k - 1) * np.sum(w0) / (np.sum(w0) ** 2 - np.sum(w0**2)) if k > 1 else np.nan
    if random:
        i2 = float(100 * tau2 / (tau2 + typical_v)) if k > 1 else 0.0
    else:
        i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
    half = crit * math.sqrt(tau2 + se**2)
    se_tau2 = None
    if tau2_method in ("REML", "ML") and k > 1:
        w = pooled.weights
        sw = np.sum(w)
        info = (np.sum(w**2) - 2 * np.sum(w**3) / sw + (np.sum(w**2) / sw) ** 2
                if tau2_method == "REML" else np.sum(w**2))
        se_tau2 = float(math.sqrt(2.0 / info))
    name = tau2_method if test == "z" else f"{tau2_method}-HKSJ"
    text = label or (_LABELS[tau2_method] + ("" if not random else " random effects")
                     + (", Hartung–Knapp–Sidik–Jonkman interval" if test == "knha" else ""))
    return ClassicalFit(
        method=name, label=text, measure=measure, estimate=pooled.mu, se=se, ci=ci,
        zval=stat, pval=pval, k=k if k_total is None else k_total, k_used=k,
        zero_handling=zero_handling, test=test, df=df, level=level,
        tau2=tau2 if random else None,
        tau2_ci=q_profile_interval(yi, vi, level) if random and k > 1 else None,
        se_tau2=se_tau2,
        prediction=(pooled.mu - half, pooled.mu + half) if random else None,
        q=q, q_df=k - 1, q_pval=float(stats.chi2.sf(q, k - 1)) if k > 1 else None, i2=i2,
        loglik=_loglik(yi, vi, tau2, restricted=False),
        loglik_reml=_loglik(yi, vi, tau2, restricted=True), notes=notes,
        extra={"tau2_method": tau2_method})
