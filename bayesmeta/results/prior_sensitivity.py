"""Local prior sensitivity of a binomial–normal fit, without refitting: power-scaling.

Power-scaling sensitivity (Kallioinen, Paananen, Bürkner & Vehtari 2024, Stat Comput 34:57)
asks how much the posterior of a quantity moves when the prior — or the likelihood — is
raised to a power α near 1 (0.99 and 1.01), estimated by Pareto-smoothed importance
sampling from the draws we have. The numbers are the derivative of the cumulative
Jensen–Shannon distance with respect to log2 α; ``arviz_stats.psense`` computes them.

It needs two groups next to the posterior, which we compute here in numpy/scipy from the
draws (no extra PyTensor compile):

* ``log_prior`` — log π(μ_i), log π(θ), log π(τ) from each prior's scipy face: the priors a
  user chose. The non-centred z_i ~ N(0, 1) are the random-effects distribution, part of the
  model, and are not power-scaled (as priorsense does for brms' ``lprior``);
* ``log_likelihood`` — the binomial log-probabilities of the treatment and control counts,
  ``events_t[study]`` and ``events_c[study]``.

``tests/test_prior_sensitivity.py`` checks both against PyMC's ``compute_log_prior`` and
``compute_log_likelihood`` and our numbers against ``arviz_stats`` called directly.

Diagnosis, as in ``arviz_stats.psense_summary`` (and R's priorsense), with threshold 0.05:
prior and likelihood sensitivity both ≥ 0.05 → "potential prior-data conflict"; prior
sensitivity > 0.05 and likelihood sensitivity < 0.05 → "potential strong prior / weak
likelihood"; otherwise no concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy.special import gammaln, log_expit

from bayesmeta.data.binary import BinaryData
from bayesmeta.models.binomial_normal import BinomialNormalPriors

THRESHOLD = 0.05
ALPHAS = (0.99, 1.01)
#: Reported quantities and the posterior variable each is computed from.
QUANTITY_VARIABLES = {"log_or": "theta", "tau": "tau", "theta_new": "theta_new"}

CONFLICT = "potential prior-data conflict"
STRONG_PRIOR = "potential strong prior / weak likelihood"
NO_CONCERN = "✓"

EXPLANATIONS = {
    CONFLICT: ("the posterior moves when either the prior or the likelihood is made "
               "slightly stronger: prior and data pull in different directions, so the "
               "result depends on the prior; compare other defensible priors (bayesmeta "
               "sensitivity)"),
    STRONG_PRIOR: ("the posterior follows the prior but barely the data: the studies carry "
                   "little information about this quantity, so what is reported is largely "
                   "the prior; report it as such or choose the prior with care"),
    NO_CONCERN: "the data dominate: scaling the prior changes the posterior little",
}


def log_prior_arrays(posterior: xr.Dataset,
                     priors: BinomialNormalPriors) -> dict[str, np.ndarray]:
    """log π of each chosen prior at every draw: ``mu`` (chain, draw, study), ``theta``,
    ``tau`` (chain, draw)."""
    return {"mu": priors.baseline.logpdf(_chain_draw(posterior["mu"])),
            "theta": priors.effect.logpdf(_chain_draw(posterior["theta"])),
            "tau": priors.tau.logpdf(_chain_draw(posterior["tau"]))}


def log_likelihood_arrays(posterior: xr.Dataset, data: BinaryData) -> dict[str, np.ndarray]:
    """Binomial log-probability of each arm's count at every draw, (chain, draw, study):

    log C(n, r) + r·log expit(η) + (n − r)·log expit(−η), with η the arm's log-odds
    μ_i ± θ_i/2 (the same as ``scipy.stats.binom.logpmf``, without its overhead)."""
    mu = _chain_draw(posterior["mu"])
    theta = _chain_draw(posterior["theta_study"])
    out = {}
    for name, events, n, sign in (("events_t", data.events_t, data.n_t, 0.5),
                                  ("events_c", data.events_c, data.n_c, -0.5)):
        eta = mu + sign * theta
        log_choose = gammaln(n + 1) - gammaln(events + 1) - gammaln(n - events + 1)
        out[name] = log_choose + events * log_expit(eta) + (n - events) * log_expit(-eta)
    return out


def _as_dataset(arrays: dict[str, np.ndarray], posterior: xr.Dataset) -> xr.Dataset:
    coords = {"chain": posterior["chain"].values, "draw": posterior["draw"].values,
              "study": posterior["study"].values}
    return xr.Dataset({
        name: xr.DataArray(values, dims=("chain", "draw", "study")[:values.ndim],
                           coords={k: coords[k] for k in ("chain", "draw", "study")
                                   [:values.ndim]})
        for name, values in arrays.items()})


def log_prior_dataset(posterior: xr.Dataset, priors: BinomialNormalPriors) -> xr.Dataset:
    """:func:`log_prior_arrays` as the ``log_prior`` group."""
    return _as_dataset(log_prior_arrays(posterior, priors), posterior)


def log_likelihood_dataset(posterior: xr.Dataset, data: BinaryData) -> xr.Dataset:
    """:func:`log_likelihood_arrays` as the ``log_likelihood`` group."""
    return _as_dataset(log_likelihood_arrays(posterior, data), posterior)


def with_log_densities(idata: xr.DataTree, data: BinaryData,
                       priors: BinomialNormalPriors) -> xr.DataTree:
    """A copy of ``idata`` with the ``log_prior`` and ``log_likelihood`` groups added."""
    post = idata["posterior"].to_dataset()
    tree = idata.copy()
    tree["log_prior"] = xr.DataTree(log_prior_dataset(post, priors))
    tree["log_likelihood"] = xr.DataTree(log_likelihood_dataset(post, data))
    return tree


def diagnosis(prior: float, likelihood: float, threshold: float = THRESHOLD) -> str:
    """``arviz_stats.psense_summary``'s diagnosis rule for one quantity."""
    if prior >= threshold and likelihood >= threshold:
        return CONFLICT
    if prior > threshold > likelihood:
        return STRONG_PRIOR
    return NO_CONCERN


@dataclass(frozen=True)
class PowerScaling:
    """Power-scaling sensitivity of the reported quantities.

    ``prior[q]`` / ``likelihood[q]``: sensitivity of quantity ``q`` (``log_or``, ``tau``,
    ``theta_new``) to scaling all chosen priors / the likelihood; ``by_prior[slot][q]``:
    to scaling one prior alone (``baseline``, ``effect``, ``tau``).
    """

    prior: dict[str, float]
    likelihood: dict[str, float]
    by_prior: dict[str, dict[str, float]]
    threshold: float = THRESHOLD
    alphas: tuple[float, float] = ALPHAS

    def diagnosis(self, quantity: str) -> str:
        return diagnosis(self.prior[quantity], self.likelihood[quantity], self.threshold)

    @property
    def concerns(self) -> dict[str, str]:
        """Quantities with a diagnosis other than ✓."""
        return {q: self.diagnosis(q) for q in self.prior if self.diagnosis(q) != NO_CONCERN}

    def most_influential_prior(self, quantity: str) -> str:
        """The prior slot whose power-scaling moves ``quantity`` most."""
        return max(self.by_prior, key=lambda slot: self.by_prior[slot][quantity])

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "power-scaling (Kallioinen et al. 2024), arviz_stats.psense",
            "threshold": self.threshold,
            "alphas": list(self.alphas),
            "quantities": {q: {"prior": self.prior[q], "likelihood": self.likelihood[q],
                               "diagnosis": self.diagnosis(q)} for q in self.prior},
            "by_prior": {slot: dict(values) for slot, values in self.by_prior.items()},
        }


def power_scaling(idata: xr.DataTree, data: BinaryData,
                  priors: BinomialNormalPriors) -> PowerScaling:
    """Power-scaling sensitivity of log OR, τ and θ_new for a fit (see the module doc).

    The computation is ``arviz_stats.psense``'s, step by step, on numpy arrays through
    arviz-stats' own array functions (``power_scale_lw``, ``power_scale_sense``): the same
    numbers (tested) in ~15 ms instead of ~50 ms per call spent in xarray bookkeeping, which
    lets every ``fit`` report it.
    """
    post = idata["posterior"].to_dataset()
    log_prior = log_prior_arrays(post, priors)
    log_lik = log_likelihood_arrays(post, data)
    draws = {q: _chain_draw(post[v]) for q, v in QUANTITY_VARIABLES.items()}

    def sense(component: np.ndarray) -> dict[str, float]:
        if np.ptp(component) <= 1e-12 * (1.0 + np.abs(component).max()):
            # A constant log density (a uniform prior over the draws): scaling it changes
            # nothing, so the sensitivity is 0 (arviz_stats would stop: equal tail values).
            return dict.fromkeys(draws, 0.0)
        lower, upper = (_power_scale_weights(component, a) for a in ALPHAS)
        return {q: _sensitivity(x, lower, upper) for q, x in draws.items()}

    by_prior = {slot: sense(_summed(log_prior, [var])) for slot, var in
                (("baseline", "mu"), ("effect", "theta"), ("tau", "tau"))}
    return PowerScaling(prior=sense(_summed(log_prior)),
                        likelihood=sense(_summed(log_lik)), by_prior=by_prior)


def _chain_draw(da: xr.DataArray) -> np.ndarray:
    return np.asarray(da.transpose("chain", "draw", ...).values, dtype=float)


def _summed(arrays: dict[str, np.ndarray], names: list[str] | None = None) -> np.ndarray:
    """Sum of the named arrays over all their non-sample dimensions: (chain, draw)."""
    total = 0.0
    for name in names or list(arrays):
        values = arrays[name]
        total = total + values.reshape(values.shape[0], values.shape[1], -1).sum(axis=2)
    return np.asarray(total)


def _power_scale_weights(component: np.ndarray, alpha: float) -> np.ndarray:
    """Normalised PSIS weights of the posterior with ``component`` raised to ``alpha``."""
    from arviz_stats.base import array_stats

    log_w = array_stats.power_scale_lw(component, alpha=alpha, axis=(-2, -1))
    weights = np.exp(log_w)
    return weights / weights.sum()


def _sensitivity(draws: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    from arviz_stats.base import array_stats

    return float(array_stats.power_scale_sense(draws, lower, upper, lower_alpha=ALPHAS[0],
                                               upper_alpha=ALPHAS[1]))
