r"""Binomial–normal model whose priors enter as data: one compiled model serves every prior.

The model is that of :mod:`bayesmeta.models.binomial_normal` (Günhan, Röver & Friede 2020):

.. math::

    r_{ij} &\sim \mathrm{Binomial}(n_{ij},\, p_{ij}), \qquad
    \operatorname{logit} p_{ij} = \mu_i + (x_{ij} - \tfrac12)\,\theta_i \\
    \theta_i &= \theta + \tau z_i, \qquad z_i \sim N(0, 1), \qquad
    \theta_{new} = \theta + \tau z_{new},\quad z_{new} \sim N(0, 1) \\
    \mu_i &\sim \pi_\mu \ \text{(i.i.d.)}, \qquad \theta \sim \pi_\theta, \qquad
    \tau \sim \pi_\tau

but the priors :math:`\pi_\mu, \pi_\theta, \pi_\tau` are not written into the graph: their
log densities are one fixed formula whose coefficients are *data* (the shared vector
``prior_values``, see :func:`encode_priors`). Changing priors changes only data, so a prior
sweep compiles once, and ``fit binary`` runs the very same compiled computation — a sweep row
equals a single fit with the same prior and seed. With nutpie (the default sampler) that
computation is this model's numba twin, :mod:`bayesmeta.models.binomial_normal_kernel`, tested
equal to it; PyMC's NUTS samples this model.

Prior log densities (coefficients computed in numpy from each family's parameters):

.. math::

    \log\pi(x) &= C + E\,(x - m)^2 + F\,\log\!\big(1 + G\,(x - m)^2\big)
        \qquad (\mu_i,\ \theta \text{ on the real line}) \\
    \log\pi(\tau) &= C + A\log\tau + B\log^2\tau + D\,\tau + E\,\tau^2
        + F\,\log(1 + G\,\tau^2) \qquad (\tau > 0)

* normal(m, s): :math:`C = -\log s - \tfrac12\log 2\pi,\ E = -1/(2s^2)`;
  Student-t(ν, m, s): :math:`C = \log\Gamma(\tfrac{ν+1}{2}) - \log\Gamma(\tfrac{ν}{2})
  - \tfrac12\log(νπ) - \log s,\ F = -\tfrac{ν+1}{2},\ G = 1/(νs^2)`;
* half-normal(s): :math:`C = \log 2 - \tfrac12\log 2π - \log s,\ E = -1/(2s^2)`;
  half-Cauchy(s): :math:`C = \log 2 - \log π - \log s,\ F = -1,\ G = 1/s^2`;
  half-t(ν, s): as Student-t with :math:`+\log 2`; exponential(r): :math:`C = \log r,\ D = -r`;
* log-normal on τ² (log τ² ~ N(m, s²), Turner et al. 2015), i.e. log τ ~ N(m/2, (s/2)²):
  with :math:`a = m/2,\ b = s/2`: :math:`C = -\log b - \tfrac12\log 2π - a^2/(2b^2),\
  A = a/b^2 - 1,\ B = -1/(2b^2)`;
* uniform(a, b) on τ: :math:`C = -\log(b - a)` (τ is kept inside (a, b) by its transform).

All other coefficients are 0. ``tests/test_prior_data_model.py`` checks every family's
coefficients against its scipy density, and the whole model's log density against
:func:`bayesmeta.models.binomial_normal.build_binomial_normal` (written with PyMC's own
distributions) at the same unconstrained point.

Sampling space. NUTS moves the unconstrained ``mu``, ``theta`` and ``tau_unconstrained`` u,
with one transform whose constants are data too:

.. math::

    \tau = l + \frac{w}{e^{-u} + \kappa}, \qquad
    \log\left|\frac{d\tau}{du}\right| = \log w - u - 2\log(e^{-u} + \kappa)

With l = 0, w = 1, κ = 0 this is τ = exp(u) (log-Jacobian u), PyMC's log transform; for a
uniform(a, b) prior, l = a, w = b − a, κ = 1 gives τ = a + (b − a)·sigmoid(u), PyMC's interval
transform. So for any one prior this model's log density *equals* that of
:mod:`binomial_normal` at the same unconstrained point (up to rounding).

Compile time was measured, not assumed (2-core machine, warm PyTensor cache): each family's
PyMC distribution behind a ``switch`` made PyTensor's graph rewriting ~3× slower
(make_functions 2.0 s vs 0.7 s for the fixed-prior model), and a ``switch`` between the two
transforms cost ~0.3 s more. In this form, with the binomial likelihood written out (below),
the whole nutpie compile takes what the fixed-prior model's does (2.00 vs 2.04 s).

The binomial likelihood is written out as a potential (see
:func:`_binomial_log_likelihood`; the counts are validated by the data layer).

Posterior variables are named as in :mod:`binomial_normal`: ``theta``, ``tau``,
``theta_study[study]``, ``theta_new``, ``mu[study]``, ``z[study]``, ``z_new``; the sampling
coordinate ``tau_unconstrained`` is not reported.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import gammaln

from bayesmeta.data.binary import BinaryData
from bayesmeta.errors import InputError
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.priors import Prior

NAME = "binomial_normal"
#: Name of the shared variable holding the priors' coefficients.
PRIOR_VALUES = "prior_values"
#: Free variables that are only sampling coordinates (not reported in the posterior).
SAMPLING_ONLY = ("tau_unconstrained",)

REAL_KEYS = ("C", "m", "E", "F", "G")
POSITIVE_KEYS = ("lower", "width", "kappa", "C", "A", "B", "D", "E", "F", "G")
#: The model's prior slots and their support, in their order inside ``prior_values``.
SLOTS: tuple[tuple[str, str], ...] = (("baseline", "real"), ("effect", "real"),
                                      ("tau", "positive"))
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _t_constant(nu: float, scale: float) -> float:
    return float(gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * math.log(nu * math.pi)
                 - math.log(scale))


def _real_coefficients(prior: Prior) -> dict[str, float] | None:
    p = prior.params
    if prior.family == "normal":
        m, s = p
        return {"C": -math.log(s) - _HALF_LOG_2PI, "m": m, "E": -1 / (2 * s * s)}
    if prior.family == "student_t":
        nu, m, s = p
        return {"C": _t_constant(nu, s), "m": m, "F": -(nu + 1) / 2, "G": 1 / (nu * s * s)}
    return None


def _positive_coefficients(prior: Prior) -> dict[str, float] | None:
    p = prior.params
    log2 = math.log(2.0)
    match prior.family:
        case "halfnormal":
            (s,) = p
            return {"C": log2 - _HALF_LOG_2PI - math.log(s), "E": -1 / (2 * s * s)}
        case "halfcauchy":
            (s,) = p
            return {"C": log2 - math.log(math.pi) - math.log(s), "F": -1.0, "G": 1 / (s * s)}
        case "halft":
            nu, s = p
            return {"C": log2 + _t_constant(nu, s), "F": -(nu + 1) / 2, "G": 1 / (nu * s * s)}
        case "exponential":
            (r,) = p
            return {"C": math.log(r), "D": -r}
        case "uniform":
            lo, hi = p
            return {"lower": lo, "width": hi - lo, "kappa": 1.0, "C": -math.log(hi - lo)}
        case "lognormal_tau2":
            a, b = p[0] / 2, p[1] / 2  # log τ ~ N(a, b²)
            return {"C": -math.log(b) - _HALF_LOG_2PI - a * a / (2 * b * b),
                    "A": a / (b * b) - 1, "B": -1 / (2 * b * b)}
    return None


def coefficients(prior: Prior) -> dict[str, float] | None:
    """The log-density coefficients of ``prior`` (None: family not expressible here)."""
    if prior.support == "real":
        found, keys = _real_coefficients(prior), REAL_KEYS
    else:
        found, keys = _positive_coefficients(prior), POSITIVE_KEYS
        if found is not None:
            found = {"lower": 0.0, "width": 1.0, "kappa": 0.0, **found}  # τ = exp(u)
    return None if found is None else {k: float(found.get(k, 0.0)) for k in keys}


def supports(prior: Prior) -> bool:
    """Whether ``prior`` can be given to this model as data."""
    return coefficients(prior) is not None


def encode_priors(priors: BinomialNormalPriors) -> np.ndarray:
    """The ``prior_values`` vector for ``priors``: the baseline, effect and τ blocks."""
    chosen = priors.as_dict()
    out: list[float] = []
    for slot, _ in SLOTS:
        prior = chosen[slot]
        coef = coefficients(prior)
        if coef is None:
            if not prior.proper:
                raise InputError(f"the prior '{prior.spec}' is improper and can only be used "
                                 "with exact methods, not MCMC", source=f"{slot} prior")
            raise InputError(f"the prior family '{prior.family}' cannot be used in a prior "
                             "sweep of the binomial-normal model", source=f"{slot} prior")
        out.extend(coef.values())
    return np.asarray(out, dtype=float)


def log_density(prior: Prior, x: np.ndarray) -> np.ndarray:
    """``prior``'s log density at ``x`` from its coefficients (numpy; mirrors the graph)."""
    coef = coefficients(prior)
    if coef is None:
        raise InputError(f"no coefficients for the prior '{prior.spec}'")
    x = np.asarray(x, dtype=float)
    if prior.support == "real":
        d2 = (x - coef["m"]) ** 2
        return coef["C"] + coef["E"] * d2 + coef["F"] * np.log1p(coef["G"] * d2)
    lower = coef["lower"]
    upper = lower + coef["width"] / coef["kappa"] if coef["kappa"] else np.inf
    inside = (x > lower) & (x < upper)
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.log(x)
        value = (coef["C"] + coef["A"] * lx + coef["B"] * lx * lx + coef["D"] * x
                 + coef["E"] * x * x + coef["F"] * np.log1p(coef["G"] * x * x))
    return np.where(inside, value, -np.inf)


def _real_logp(block: Any, x: Any) -> Any:
    import pytensor.tensor as pt

    c, m, e, f, g = (block[i] for i in range(len(REAL_KEYS)))
    d2 = pt.sqr(x - m)
    return c + e * d2 + f * pt.log1p(g * d2)


def _tau_and_logp(block: Any, u: Any) -> tuple[Any, Any]:
    """τ from its sampling coordinate u, and log π(τ) + log |dτ/du|."""
    import pytensor.tensor as pt

    lower, width, kappa, c, a, b, d, e, f, g = (block[i] for i in range(len(POSITIVE_KEYS)))
    q = pt.exp(-u) + kappa
    tau = lower + width / q
    log_tau = pt.log(tau)
    tau2 = pt.sqr(tau)
    log_prior = (c + a * log_tau + b * pt.sqr(log_tau) + d * tau + e * tau2
                 + f * pt.log1p(g * tau2))
    log_jacobian = pt.log(width) - u - 2 * pt.log(q)
    return tau, log_prior + log_jacobian


def build_binomial_normal_prior_data(data: BinaryData,
                                     priors: BinomialNormalPriors | None = None) -> Any:
    """Build the PyMC model with ``priors`` as the initial value of ``prior_values``.

    Change priors with ``pm.set_data({"prior_values": encode_priors(other)})`` or, compiled
    for nutpie, ``compiled.with_data(prior_values=encode_priors(other))``.
    """
    import pymc as pm

    values = encode_priors(priors or BinomialNormalPriors())
    n_real, n_pos = len(REAL_KEYS), len(POSITIVE_KEYS)
    # check_bounds=False drops PyMC's parameter checks, which cannot fail here (n ≥ 0 and
    # 0 ≤ p ≤ 1 by construction, unit-sd normals, validated counts) and cost compile time.
    with pm.Model(coords={"study": list(data.study)}, check_bounds=False) as model:
        prior_values = pm.Data(PRIOR_VALUES, values)
        baseline_block = prior_values[:n_real]
        effect_block = prior_values[n_real:2 * n_real]
        tau_block = prior_values[2 * n_real:2 * n_real + n_pos]
        mu = pm.Flat("mu", dims="study")
        theta = pm.Flat("theta")
        tau_u = pm.Flat("tau_unconstrained")
        tau_value, tau_logp = _tau_and_logp(tau_block, tau_u)
        tau = pm.Deterministic("tau", tau_value)
        pm.Potential("baseline_prior", _real_logp(baseline_block, mu).sum())
        pm.Potential("effect_prior", _real_logp(effect_block, theta))
        pm.Potential("tau_prior", tau_logp)
        z = pm.Normal("z", 0.0, 1.0, dims="study")
        theta_study = pm.Deterministic("theta_study", theta + tau * z, dims="study")
        z_new = pm.Normal("z_new", 0.0, 1.0)
        pm.Deterministic("theta_new", theta + tau * z_new)
        for name, events, n, sign in (("events_t", data.events_t, data.n_t, 0.5),
                                       ("events_c", data.events_c, data.n_c, -0.5)):
            pm.Potential(f"likelihood_{name}",
                         _binomial_log_likelihood(events, n, mu + sign * theta_study))
    return model


def _binomial_log_likelihood(events: np.ndarray, n: np.ndarray, log_odds: Any) -> Any:
    """Σ log Binomial(r | n, expit(η)) = Σ [log C(n, r) + r·η − n·log(1 + e^η)].

    Written out rather than as ``pm.Binomial`` observed variables: the same density (the
    tests compare the two models' log densities), but PyTensor compiles it ~0.17 s faster
    (no support checks on constant counts, no sigmoid to rewrite) — the difference between
    ``fit binary`` staying under its 5 s budget or not.
    """
    import pytensor.tensor as pt

    events = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    log_choose = float(np.sum(gammaln(n + 1) - gammaln(events + 1) - gammaln(n - events + 1)))
    return log_choose + pt.sum(events * log_odds - n * pt.softplus(log_odds))
