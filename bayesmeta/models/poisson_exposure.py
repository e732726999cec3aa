r"""Poisson–normal hierarchical model for events over person-time in two arms.

For study :math:`i = 1..k` and arm :math:`j` (:math:`x_{ij} = 1` treatment, 0 control), with
:math:`y_{ij}` events over person-time :math:`T_{ij}` (e.g. person-years):

.. math::

    y_{ij} &\sim \mathrm{Poisson}(T_{ij}\,\lambda_{ij}) \\
    \log \lambda_{ij} &= \mu_i + (x_{ij} - \tfrac12)\,\theta_i \\
    \theta_i &= \theta + \tau z_i, \qquad z_i \sim N(0, 1) \quad\text{(non-centred)} \\
    \mu_i &\sim N(0, 10^2) \quad\text{(fixed study baselines: log event rate per unit time)} \\
    \theta &\sim N(0, 2.82^2), \qquad \tau \sim \text{half-normal}(0.5)

:math:`\theta` is the pooled log incidence-rate ratio (treatment vs control), :math:`\tau`
the between-study SD of the log rate ratio, :math:`\theta_i` a study's own (shrunken) log
rate ratio and :math:`\theta_{new} = \theta + \tau z_{new}` that of a new study. This is the
binomial–normal model (:mod:`bayesmeta.models.binomial_normal`) with the binomial replaced by
a Poisson process: the right model when arms are followed for different lengths of time and
events are counted per person-time (adverse-event rates, exacerbations, infections). The
likelihood is exact — no continuity correction; studies without events stay in. With
:math:`T = n` and rare events it approximates the binomial model (Cai, Parast & Ryan 2010).

References: Cai T, Parast L, Ryan L. Meta-analysis for rare events. Stat Med
2010;29:2078–2089. Stijnen T, Hamza TH, Özdemir P. Stat Med 2010;29:3046–3067 (the
Poisson–normal GLMM, section 3.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bayesmeta.data.rates import RateData
from bayesmeta.models.two_arm import BaselinePriors, normal_random_effects

if TYPE_CHECKING:  # PyMC loads when a model is built, not when this module is imported
    import pymc as pm

NAME = "poisson_normal"


@dataclass(frozen=True)
class PoissonNormalPriors(BaselinePriors):
    """Priors of the Poisson–normal model (the binomial–normal defaults, on the rate scale;
    fields, defaults and checks: :class:`~bayesmeta.models.two_arm.BaselinePriors`)."""


def build_poisson_exposure(data: RateData, priors: PoissonNormalPriors | None = None, *,
                           refittable: bool = False) -> pm.Model:
    """Build the PyMC model; posteriors read ``theta``, ``tau``, ``theta_study[study]``,
    ``theta_new`` and ``mu[study]`` (log event rate midway between the arms).

    ``refittable`` holds the counts and log person-times in data containers
    (``events_t_data``, ``events_c_data``, ``log_exposure_t``, ``log_exposure_c``) so that
    one compiled model can be refitted to other data of the same size (simulation-based
    calibration); the density is the same."""
    import pymc as pm

    priors = priors or PoissonNormalPriors()
    coords = {"study": list(data.study)}
    log_t = np.log(np.asarray(data.exposure_t, dtype=float))
    log_c = np.log(np.asarray(data.exposure_c, dtype=float))
    events_t, events_c = data.events_t, data.events_c
    with pm.Model(coords=coords) as model:
        if refittable:
            log_t = pm.Data("log_exposure_t", log_t, dims="study")
            log_c = pm.Data("log_exposure_c", log_c, dims="study")
            events_t = pm.Data("events_t_data", events_t, dims="study")
            events_c = pm.Data("events_c_data", events_c, dims="study")
        mu = priors.baseline.to_pymc("mu", dims="study")
        theta_study = normal_random_effects(priors.effect, priors.tau)
        pm.Poisson("events_t", mu=pm.math.exp(log_t + mu + 0.5 * theta_study),
                   observed=events_t, dims="study")
        pm.Poisson("events_c", mu=pm.math.exp(log_c + mu - 0.5 * theta_study),
                   observed=events_c, dims="study")
    return model
