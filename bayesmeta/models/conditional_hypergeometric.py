r"""Conditional (non-central hypergeometric)–normal model for two-arm event counts.

For study :math:`i` with :math:`a_i` events of :math:`n_{1i}` under treatment and
:math:`c_i` of :math:`n_{2i}` under control, condition on the study's total number of events
:math:`m_i = a_i + c_i`. If the arms are binomial with odds ratio :math:`\psi_i = e^{\theta_i}`,
the treatment-arm count given the total follows Fisher's non-central hypergeometric
distribution, whatever the baseline risk:

.. math::

    P(a_i \mid m_i, \theta_i) &= \frac{\binom{n_{1i}}{a_i}\binom{n_{2i}}{m_i - a_i}
        e^{\theta_i a_i}}{\sum_{u=L_i}^{U_i} \binom{n_{1i}}{u}\binom{n_{2i}}{m_i - u}
        e^{\theta_i u}}, \qquad L_i = \max(0, m_i - n_{2i}),\; U_i = \min(n_{1i}, m_i) \\
    \theta_i &= \theta + \tau z_i, \qquad z_i \sim N(0, 1) \quad\text{(non-centred)} \\
    \theta &\sim N(0, 2.82^2), \qquad \tau \sim \text{half-normal}(0.5)

with :math:`\theta_{new} = \theta + \tau z_{new}`. Conditioning removes the study baselines
exactly, so — unlike the binomial–normal model — no prior is needed for them and nothing
about θ leaks in through them. It is the likelihood behind Fisher's exact test, conditional
logistic regression, and (approximately) the Mantel–Haenszel and Peto estimators, and the
Bayesian counterpart of metafor's ``rma.glmm(model = "CM.EL")``. A study with no events
(or only events) in both arms has a one-point support: its likelihood is 1, it says nothing
about θ, and it stays in the model only as a label (its θ_i is drawn from the random-effects
distribution). Why this model rather than the beta-binomial: it is exact for the binomial
data at hand and needs no model for the baselines, which is where sparse-event analyses are
most fragile; the beta-binomial (Kuss 2015) instead models arm-level overdispersion around a
common baseline, an assumption trials with different populations rarely meet.

References: Stijnen T, Hamza TH, Özdemir P. Random effects meta-analysis of event outcome in
the framework of the generalized linear mixed model with applications in sparse data. Stat
Med 2010;29:3046–3067 (model 3). Van Houwelingen HC, Zwinderman KH, Stijnen T. A bivariate
approach to meta-analysis. Stat Med 1993;12:2273–2284. Kuss O. Statistical methods for
meta-analyses including information from studies without any events — add nothing to
nothing and succeed nevertheless. Stat Med 2015;34:1097–1116.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import gammaln

from bayesmeta.data.binary import BinaryData
from bayesmeta.models.two_arm import normal_random_effects
from bayesmeta.priors import Prior, parse_prior

if TYPE_CHECKING:  # PyMC loads when a model is built, not when this module is imported
    import pymc as pm

NAME = "conditional_hypergeometric"

#: log-weight of padding points outside a study's support (exp() underflows to 0 exactly)
_OUTSIDE = -1e4


@dataclass(frozen=True)
class ConditionalPriors:
    """Priors of the conditional model: the pooled log OR and the heterogeneity."""

    effect: Prior = field(default_factory=lambda: Prior("normal", (0.0, 2.82)))
    tau: Prior = field(default_factory=lambda: Prior("halfnormal", (0.5,)))

    def __post_init__(self) -> None:
        parse_prior(self.effect, option="effect prior", support="real")
        parse_prior(self.tau, option="tau prior", support="positive")

    def as_dict(self) -> dict[str, Prior]:
        return {"effect": self.effect, "tau": self.tau}


def _log_choose(n, r):
    return gammaln(n + 1) - gammaln(r + 1) - gammaln(n - r + 1)


@dataclass(frozen=True)
class Support:
    """Every study's support u = L..U of the conditional distribution, flattened (``u``,
    ``log_weight`` = log C(n₁,u)C(n₂,m−u), ``study`` = row index), plus a padded (k × width)
    copy used only to find a numerically safe shift per study."""

    u: np.ndarray
    log_weight: np.ndarray
    study: np.ndarray
    padded_u: np.ndarray
    padded_log_weight: np.ndarray


def support_table(n_t, n_c, total) -> Support:
    """The supports of all studies (see :class:`Support`)."""
    n_t, n_c, total = (np.asarray(x, dtype=float) for x in (n_t, n_c, total))
    lower = np.maximum(0, total - n_c)
    upper = np.minimum(n_t, total)
    width = int(np.max(upper - lower)) + 1
    u = lower[:, None] + np.arange(width)[None, :]
    inside = u <= upper[:, None]
    u = np.where(inside, u, lower[:, None])
    with np.errstate(invalid="ignore"):
        logc = _log_choose(n_t[:, None], u) + _log_choose(n_c[:, None], total[:, None] - u)
    rows = np.broadcast_to(np.arange(len(n_t))[:, None], u.shape)
    return Support(u[inside], logc[inside], rows[inside].astype(np.int64), u,
                   np.where(inside, logc, _OUTSIDE))


def conditional_log_likelihood(events_t, n_t, n_c, total, theta) -> np.ndarray:
    """log P(a_i | m_i, θ_i) with numpy, for draws ``theta`` of shape (..., k): the same
    Fisher non-central hypergeometric log pmf as the model's (per study, the normalising
    sum over its support by log-sum-exp). Used for PSIS-LOO from posterior draws."""
    from scipy.special import logsumexp

    a = np.asarray(events_t, dtype=float)
    support = support_table(n_t, n_c, total)
    theta = np.asarray(theta, dtype=float)
    terms = support.padded_log_weight + support.padded_u * theta[..., None]
    log_norm = logsumexp(terms, axis=-1)
    n_t, n_c, total = (np.asarray(x, dtype=float) for x in (n_t, n_c, total))
    numerator = _log_choose(n_t, a) + _log_choose(n_c, total - a) + theta * a
    return numerator - log_norm


def noncentral_hypergeometric_logp(value, theta, n_t, n_c, total, support: Support):
    """log P(a | m, θ) of Fisher's non-central hypergeometric distribution (PyTensor).

    The normalising sum runs over the flattened supports (Σ(U−L+1) points rather than
    k × max width); each study's sum is shifted by its largest term (taken from the padded
    table, without gradient: the shift cancels exactly) so that nothing overflows.
    """
    import pytensor.tensor as pt
    from pytensor.gradient import disconnected_grad

    numerator = (pt.gammaln(n_t + 1) - pt.gammaln(value + 1) - pt.gammaln(n_t - value + 1)
                 + pt.gammaln(n_c + 1) - pt.gammaln(total - value + 1)
                 - pt.gammaln(n_c - total + value + 1) + theta * value)
    shift = disconnected_grad(pt.max(support.padded_log_weight
                                     + support.padded_u * theta[:, None], axis=1))
    terms = pt.exp(support.log_weight + support.u * theta[support.study]
                   - shift[support.study])
    sums = pt.inc_subtensor(pt.zeros_like(theta)[support.study], terms)
    return numerator - (pt.log(sums) + shift)


def build_conditional_hypergeometric(data: BinaryData,
                                     priors: ConditionalPriors | None = None) -> pm.Model:
    """Build the PyMC model; posteriors read ``theta``, ``tau``, ``theta_study[study]`` and
    ``theta_new``. The observed variable ``events_t`` is the treatment-arm count given the
    study's total events."""
    import pymc as pm

    priors = priors or ConditionalPriors()
    n_t = np.asarray(data.n_t, dtype=float)
    n_c = np.asarray(data.n_c, dtype=float)
    total = np.asarray(data.events_t + data.events_c, dtype=float)
    support = support_table(n_t, n_c, total)
    coords = {"study": list(data.study)}

    def logp(value, theta):
        return noncentral_hypergeometric_logp(value, theta, n_t, n_c, total, support)

    with pm.Model(coords=coords) as model:
        theta_study = normal_random_effects(priors.effect, priors.tau)
        pm.CustomDist("events_t", theta_study, logp=logp, observed=data.events_t,
                      dims="study")
    return model
