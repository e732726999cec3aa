r"""Binomial–normal hierarchical model for two-arm binary data (Günhan, Röver & Friede 2020).

For study :math:`i = 1..k` and arm :math:`j` (:math:`x_{ij} = 1` treatment, 0 control):

.. math::

    r_{ij} &\sim \mathrm{Binomial}(n_{ij},\, p_{ij}) \\
    \operatorname{logit} p_{ij} &= \mu_i + (x_{ij} - \tfrac12)\,\theta_i \\
    \theta_i &= \theta + \tau z_i, \qquad z_i \sim N(0, 1) \quad\text{(non-centred)} \\
    \mu_i &\sim N(0, 10^2) \quad\text{(fixed study baselines)} \\
    \theta &\sim N(0, 2.82^2), \qquad \tau \sim \text{half-normal}(0.5)

:math:`\theta` is the pooled log odds ratio (treatment vs control), :math:`\tau` the
between-study standard deviation of the log OR, :math:`\theta_i` a study's own (shrunken)
log OR, and :math:`\theta_{new} = \theta + \tau z_{new}` the log OR of a new study. The
likelihood is exact: no continuity correction is added and studies with no events in either
arm are kept (they inform the baselines and, weakly, θ). Every prior is replaceable.

With ``refittable=True`` the counts are PyMC data containers (``n_t``, ``n_c``,
``events_t_data``, ``events_c_data``), so one compiled model can be refitted to other counts of
the same number of studies (nutpie's ``with_data``; used by simulation-based calibration,
:mod:`bayesmeta.validation`). The density is the same either way (tested); the default keeps
the counts as constants, which fixes the draws a seed gives.

Reference: Günhan BK, Röver C, Friede T. Random-effects meta-analysis of few studies
involving rare events. Res Synth Methods 2020;11:74–90.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bayesmeta.data.binary import BinaryData
from bayesmeta.models.two_arm import BaselinePriors, normal_random_effects

if TYPE_CHECKING:  # PyMC is imported when a model is built, not when this module is
    import pymc as pm

NAME = "binomial_normal"


@dataclass(frozen=True)
class BinomialNormalPriors(BaselinePriors):
    """Priors of the binomial–normal model; defaults as in Günhan et al. (2020) (fields,
    defaults and checks: :class:`~bayesmeta.models.two_arm.BaselinePriors`)."""


def build_binomial_normal(data: BinaryData, priors: BinomialNormalPriors | None = None, *,
                          refittable: bool = False) -> pm.Model:
    """Build the PyMC model; posteriors read ``theta``, ``tau``, ``theta_study[study]``,
    ``theta_new`` and ``mu[study]`` (baseline log-odds, midway between the arms).

    ``refittable`` holds the counts in data containers (see the module docstring)."""
    import pymc as pm

    priors = priors or BinomialNormalPriors()
    coords = {"study": list(data.study)}
    with pm.Model(coords=coords) as model:
        if refittable:
            n_t = pm.Data("n_t", data.n_t, dims="study")
            n_c = pm.Data("n_c", data.n_c, dims="study")
            events_t = pm.Data("events_t_data", data.events_t, dims="study")
            events_c = pm.Data("events_c_data", data.events_c, dims="study")
        else:
            n_t, n_c, events_t, events_c = data.n_t, data.n_c, data.events_t, data.events_c
        mu = priors.baseline.to_pymc("mu", dims="study")
        theta_study = normal_random_effects(priors.effect, priors.tau)
        pm.Binomial("events_t", n=n_t, logit_p=mu + 0.5 * theta_study,
                    observed=events_t, dims="study")
        pm.Binomial("events_c", n=n_c, logit_p=mu - 0.5 * theta_study,
                    observed=events_c, dims="study")
    return model
