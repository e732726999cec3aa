"""A fit under another prior without refitting: Pareto-smoothed importance reweighting.

The draws of a fit under priors π₀ are reweighted to priors π₁ with importance ratios

    r_s = π₁(μ_s, θ_s, τ_s) / π₀(μ_s, θ_s, τ_s)

(the likelihood cancels), smoothed by PSIS (Vehtari, Simpson, Gelman, Yao & Gabry 2024,
JMLR 25:72; ``arviz_stats`` ``psislw``). The Pareto k̂ of the ratios says whether this can be
trusted: k̂ ≤ min(1 − 1/log10 S, 0.7) for S draws (0.7 from S = 2,154 on) — otherwise the
new posterior is too far from the old one, and the caller refits
(:func:`bayesmeta.api.reweight` does). Reweighting is refused outright when the new prior
puts mass where the old one has none (e.g. from uniform(0, 5) on τ to a half-normal): no
draws exist there, and k̂ cannot see it.

Weighted quantiles invert the weighted distribution function (numpy's ``inverted_cdf``);
Monte Carlo standard errors of weighted means and probabilities linearise the
self-normalised estimate and use the chains' autocorrelation (:meth:`WeightedMarginal.mcse_of`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bayesmeta.errors import InputError
from bayesmeta.models import binomial_normal_prior_data as prior_data
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.priors import Prior
from bayesmeta.results.binary import QUANTITIES, BinaryMetaResult
from bayesmeta.results.marginal import DrawsMarginal
from bayesmeta.results.prior_sensitivity import _summed, log_prior_arrays


def khat_threshold(n_draws: int) -> float:
    """PSIS reliability threshold for S draws: min(1 − 1/log10 S, 0.7) (Vehtari et al. 2024)."""
    return min(1.0 - 1.0 / math.log10(n_draws), 0.7)


@dataclass(frozen=True, eq=False)
class WeightedMarginal:
    """One quantity's posterior as weighted draws; the interface of :class:`DrawsMarginal`."""

    name: str
    draws: np.ndarray  # (chain, draw)
    weights: np.ndarray  # (chain, draw), summing to 1
    r_eff: float = 1.0

    @property
    def flat(self) -> np.ndarray:
        return self.draws.reshape(-1)

    @property
    def _w(self) -> np.ndarray:
        return self.weights.reshape(-1)

    @property
    def mean(self) -> float:
        return float(np.sum(self._w * self.flat))

    @property
    def sd(self) -> float:
        return float(np.sqrt(np.sum(self._w * (self.flat - self.mean) ** 2)))

    @property
    def median(self) -> float:
        return self.quantile(0.5)

    def quantile(self, q: float | np.ndarray) -> Any:
        out = np.quantile(self.flat, q, weights=self._w, method="inverted_cdf")
        return float(out) if np.ndim(out) == 0 else out

    def interval(self, prob: float = 0.95) -> tuple[float, float]:
        lo, hi = self.quantile(np.array([(1 - prob) / 2, (1 + prob) / 2]))
        return float(lo), float(hi)

    def cdf(self, x: float) -> float:
        return float(np.sum(self._w[self.flat <= x]))

    def sf(self, x: float) -> float:
        return float(np.sum(self._w[self.flat > x]))

    def mcse_of(self, values: np.ndarray) -> float:
        """Monte Carlo SE of the weighted mean of ``values`` (same shape as the draws).

        Linearising the self-normalised estimate Σ w f (Σ w = 1) around its value gives
        the mean of h_s = S·w_s·(f_s − Σ w f); its MCSE is sd(h)/√ESS(h), with the ESS of
        h from the chains' autocorrelation (arviz-stats), so both the unequal weights and
        the MCMC dependence count.
        """
        from arviz_stats.base import array_stats

        f = np.asarray(values, dtype=float)
        centre = float(np.sum(self.weights * f))
        h = f.size * self.weights * (f - centre)
        if np.ptp(h) == 0:
            return 0.0
        ess = float(array_stats.ess(h, method="mean"))
        return float(np.std(h, ddof=1) / np.sqrt(ess))

    def summary(self, *, with_mcse: bool = False) -> dict[str, Any]:
        q025, q50, q975 = self.quantile(np.array([0.025, 0.5, 0.975]))
        out: dict[str, Any] = {"mean": self.mean, "sd": self.sd, "median": float(q50),
                               "q025": float(q025), "q975": float(q975)}
        if with_mcse:
            out["mcse"] = {"mean": self.mcse_of(self.draws)}
        return out


def _support(prior: Prior) -> tuple[float, float]:
    if prior.family == "uniform":
        return float(prior.params[0]), float(prior.params[1])
    if prior.support == "positive":
        return 0.0, math.inf
    return -math.inf, math.inf


def _leading_sign(*terms: float) -> float:
    """Sign of the first term that is not (numerically) zero; 0 if all are."""
    for t in terms:
        if abs(t) > 1e-12:
            return math.copysign(1.0, t)
    return 0.0


def _ratio_unbounded(old: Prior, new: Prior) -> bool:
    """Whether log π_new − log π_old grows without bound at an end of the new support,
    read off the leading terms of the log densities (coefficients of
    :mod:`bayesmeta.models.binomial_normal_prior_data`)."""
    c0, c1 = prior_data.coefficients(old), prior_data.coefficients(new)
    if c0 is None or c1 is None:
        return True
    d = {k: c1[k] - c0[k] for k in c0}
    lo1, hi1 = _support(new)
    if new.support == "real":
        # E x² − 2 E m x + 2 F·[G>0] log|x| + O(1) as x → ±∞
        log_coef = 2 * (c1["F"] * (c1["G"] > 0) - c0["F"] * (c0["G"] > 0))
        linear = -2 * (c1["E"] * c1["m"] - c0["E"] * c0["m"])
        up = _leading_sign(d["E"], linear, log_coef)
        down = _leading_sign(d["E"], -linear, log_coef)
        return up > 0 or down > 0
    unbounded = False
    if math.isinf(hi1):  # τ → ∞: E τ² + D τ + B ℓ² + (A + 2F·[G>0]) ℓ
        a_eff = (c1["A"] + 2 * c1["F"] * (c1["G"] > 0)) - (c0["A"] + 2 * c0["F"] * (c0["G"] > 0))
        unbounded |= _leading_sign(d["E"], d["D"], d["B"], a_eff) > 0
    if lo1 == 0.0:  # τ → 0, ℓ → −∞: B ℓ² + A ℓ
        unbounded |= _leading_sign(d["B"], -d["A"]) > 0
    return unbounded


def _slot_sup(old: Prior, new: Prior) -> float:
    """sup of log π_new − log π_old over the new prior's support (inf if unbounded)."""
    if _ratio_unbounded(old, new):
        return math.inf
    lo, hi = _support(new)
    c0, c1 = prior_data.coefficients(old), prior_data.coefficients(new)
    if new.support == "positive":
        top = hi if math.isfinite(hi) else 1e4
        grid = np.geomspace(max(lo, 1e-10), top, 20001)
    else:
        centre = (c0["m"], c1["m"]) if c0 and c1 else (0.0, 0.0)
        grid = np.linspace(min(centre) - 1e3, max(centre) + 1e3, 200001)
    with np.errstate(invalid="ignore"):
        diff = prior_data.log_density(new, grid) - prior_data.log_density(old, grid)
    return float(np.nanmax(np.where(np.isfinite(diff), diff, -np.inf)))


def coverage_gap(base: BinaryMetaResult, priors: BinomialNormalPriors) -> float:
    """How much larger (log scale) the importance ratio can be anywhere than at any draw.

    If the ratio π_new/π_old is nowhere much larger than the largest ratio among the draws,
    the regions the draws never reached cannot carry much of the new posterior. A new prior
    with heavier tails than the old one (half-normal(0.5) → half-Cauchy, or → uniform(0, 5))
    makes the ratio grow where there are no draws: we measured reweighted τ means ~10% too
    small on Crins with k̂ still < 0.7, so k̂ alone does not protect against this.
    """
    post = base.idata["posterior"].to_dataset()
    old, new = base.priors.as_dict(), priors.as_dict()
    sup = 0.0
    observed = 0.0
    for slot, var in (("baseline", "mu"), ("effect", "theta"), ("tau", "tau")):
        if old[slot] == new[slot]:
            continue
        values = np.asarray(post[var].values, dtype=float)
        n_components = int(values[0, 0].size)
        sup += n_components * _slot_sup(old[slot], new[slot])
        diff = new[slot].logpdf(values) - old[slot].logpdf(values)
        observed = observed + diff.reshape(diff.shape[0], diff.shape[1], -1).sum(axis=2)
    if np.ndim(observed) == 0:
        return 0.0
    return float(sup - np.max(observed))


#: The ratio may exceed the largest one among the draws by at most this factor (log 2).
MAX_COVERAGE_GAP = math.log(2.0)


def support_problem(old: BinomialNormalPriors, new: BinomialNormalPriors) -> str | None:
    """Why draws under ``old`` cannot represent ``new`` (None when they can)."""
    for slot, new_prior in new.as_dict().items():
        old_prior = old.as_dict()[slot]
        (lo0, hi0), (lo1, hi1) = _support(old_prior), _support(new_prior)
        if lo1 < lo0 or hi1 > hi0:
            return (f"the new {slot} prior {new_prior.spec} has mass outside the old prior's "
                    f"support ({lo0:g}, {hi0:g}), where there are no draws")
    return None


@dataclass(frozen=True, eq=False)
class ReweightedResult:
    """``base`` reweighted to ``priors`` — or, when that is unreliable, a refit.

    ``method`` is ``"reweighted"`` (PSIS, k̂ below the threshold) or ``"refit"`` (``refit``
    holds the MCMC fit under ``priors``); ``posterior(name)`` and ``prob_harm(...)`` answer
    from whichever was used.
    """

    base: BinaryMetaResult
    priors: BinomialNormalPriors
    log_weights: np.ndarray  # (chain, draw), normalised (logsumexp = 0)
    pareto_k: float
    r_eff: float
    problem: str | None = None
    refit: BinaryMetaResult | None = None
    khat_max: float = field(default=0.7)

    @property
    def reliable(self) -> bool:
        """Whether the reweighted draws can be trusted (k̂ ≤ threshold, support covered)."""
        return self.problem is None and self.pareto_k <= self.khat_max

    @property
    def method(self) -> str:
        return "refit" if self.refit is not None else "reweighted"

    @property
    def reason(self) -> str:
        if self.problem:
            return self.problem
        if self.pareto_k > self.khat_max:
            return (f"Pareto k̂ = {self.pareto_k:.2f} exceeds {self.khat_max:.2f}: the new "
                    "posterior is too far from the old draws")
        return f"Pareto k̂ = {self.pareto_k:.2f} ≤ {self.khat_max:.2f}"

    @property
    def weights(self) -> np.ndarray:
        return np.exp(self.log_weights)

    @property
    def ess(self) -> float:
        """Effective sample size of the weighted draws: r_eff / Σ w²."""
        return float(self.r_eff / np.sum(self.weights ** 2))

    def posterior(self, name: str) -> DrawsMarginal | WeightedMarginal:
        if self.refit is not None:
            return self.refit.posterior(name)
        if not self.reliable:
            raise InputError(f"reweighting is unreliable ({self.reason}); refit instead")
        base = self.base.posterior(name)
        return WeightedMarginal(name, base.draws, self.weights, self.r_eff)

    def prob_harm(self, threshold: float = 1.0, *, predictive: bool = False) -> float:
        if self.refit is not None:
            return self.refit.prob_harm(threshold, predictive=predictive)
        if not threshold > 0:
            raise InputError(f"an OR threshold must be greater than 0 (got {threshold})",
                             source="--threshold")
        return self.posterior("theta_new" if predictive else "log_or").sf(math.log(threshold))

    def summary(self):
        import pandas as pd

        rows = [{"quantity": q, **self.posterior(q).summary()} for q in QUANTITIES]
        return pd.DataFrame(rows).set_index("quantity")

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "pareto_k": self.pareto_k,
            "khat_threshold": self.khat_max,
            "reliable": self.reliable,
            "reason": self.reason,
            "ess": self.ess if self.refit is None else None,
            "priors": {k: p.to_dict() for k, p in self.priors.as_dict().items()},
            **{q: self.posterior(q).summary() for q in QUANTITIES},
            "probabilities": {"or_gt_1": self.prob_harm(1.0),
                              "theta_new_gt_0": self.prob_harm(1.0, predictive=True)},
        }


def reweight(base: BinaryMetaResult, priors: BinomialNormalPriors) -> ReweightedResult:
    """PSIS-reweight ``base``'s draws to ``priors`` (see the module docstring)."""
    from arviz_stats.base import array_stats

    post = base.idata["posterior"].to_dataset()
    log_ratio = (_summed(log_prior_arrays(post, priors))
                 - _summed(log_prior_arrays(post, base.priors)))
    n_draws = log_ratio.size
    threshold = khat_threshold(n_draws)
    problem = support_problem(base.priors, priors)
    if problem is None:
        gap = coverage_gap(base, priors)
        if gap > MAX_COVERAGE_GAP:
            problem = ("the new priors have heavier tails than the old ones: the importance "
                       "ratio grows where there are no draws" if math.isinf(gap) else
                       f"the importance ratio reaches e^{gap:.1f} times its largest value "
                       "among the draws where there are none")
    finite = np.isfinite(log_ratio)
    if not finite.any():
        problem = problem or "the new priors give every draw zero density"
        flat = np.full(n_draws, -math.log(n_draws))
        return ReweightedResult(base, priors, flat.reshape(log_ratio.shape), math.inf, 1.0,
                                problem, khat_max=threshold)
    # Draws the new prior excludes get weight 0 (a very small finite log ratio for PSIS).
    floor = log_ratio[finite].min() - 1000.0
    ratio = np.where(finite, log_ratio, floor)
    scaled = np.exp(ratio - ratio.max())
    r_eff = float(min(1.0, array_stats.ess(scaled, method="mean", relative=True)))
    smoothed, khat = array_stats.psislw(-ratio.reshape(-1), r_eff=r_eff)
    smoothed = np.where(finite.reshape(-1), smoothed, -np.inf)
    smoothed = smoothed - _logsumexp(smoothed)
    return ReweightedResult(base, priors, smoothed.reshape(log_ratio.shape), float(khat),
                            r_eff, problem, khat_max=threshold)


def _logsumexp(values: np.ndarray) -> float:
    top = np.max(values)
    return float(top + np.log(np.sum(np.exp(values - top))))
