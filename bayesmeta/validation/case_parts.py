"""Pieces the simulation-based-calibration cases of the MCMC models share.

Each case module keeps what makes its model its own — the design, the data-generating
likelihood and the model it fits. What is the same for all of them lives here: sampling a
compiled model with nutpie as every SBC fit does and reading the checked parameters'
draws, and, for the two-arm models with study baselines (binomial– and Poisson–normal),
parsing the three priors and drawing the random effects from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bayesmeta.priors import parse_prior
from bayesmeta.validation.sbc import FitDraws


def sample_draws(model: Any, parameters: Sequence[str], *, seed: int, chains: int,
                 draws: int, tune: int, target_accept: float) -> FitDraws:
    """Sample a compiled model with nutpie (one core) and return the draws of
    ``parameters``, each (chain, draw); a name ``v[i]`` is element ``i`` of the per-study
    ``v``. The divergences are counted."""
    from bayesmeta.inference.sampling import SamplerSettings, sample_compiled_nutpie

    settings = SamplerSettings(sampler="nutpie", chains=chains, draws=draws, tune=tune,
                               seed=seed, target_accept=target_accept, cores=1)
    tree = sample_compiled_nutpie(model, settings)
    post = tree["posterior"]

    def values(name: str) -> np.ndarray:
        var, _, index = name.partition("[")
        arr = np.asarray(post[var].transpose("chain", "draw", ...).values)
        return arr[..., int(index.rstrip("]"))] if index else arr

    return FitDraws({name: values(name) for name in parameters},
                    int(np.asarray(tree["sample_stats"]["diverging"]).sum()))


def two_arm_priors(priors_type: type, baseline: str, effect: str, tau: str) -> Any:
    """The priors of a two-arm model with study baselines, from their specs."""
    return priors_type(
        baseline=parse_prior(baseline, option="baseline", support="real"),
        effect=parse_prior(effect, option="effect", support="real"),
        tau=parse_prior(tau, option="tau", support="positive"))


def draw_two_arm_effects(priors: Any, k: int, rng: np.random.Generator) -> dict[str, Any]:
    """Study baselines ``mu``, the pooled log ratio ``theta``, ``tau``, the study effects
    ``theta_study`` and a new study's ``theta_new`` drawn from ``priors`` (in this order
    from ``rng``), with the checked ``theta_study[0]`` and ``mu[0]``."""
    mu = priors.baseline.dist().rvs(size=k, random_state=rng)
    theta = float(priors.effect.dist().rvs(random_state=rng))
    tau = float(priors.tau.dist().rvs(random_state=rng))
    theta_study = theta + tau * rng.standard_normal(k)
    theta_new = theta + tau * float(rng.standard_normal())
    return {"mu": mu, "theta_study": theta_study, "theta": theta, "tau": tau,
            "theta_new": theta_new, "theta_study[0]": float(theta_study[0]),
            "mu[0]": float(mu[0])}
