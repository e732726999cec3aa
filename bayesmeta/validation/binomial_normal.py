"""SBC case of the binomial–normal model (:mod:`bayesmeta.models.binomial_normal`).

Datasets look like the ones the model is for: 3–8 studies, arms of 10–100 patients, low
baseline risks. Baselines are drawn from the prior the fit uses — here normal(−3, 1) on the
log-odds scale (risks of about 1.5–13%) instead of the vague default normal(0, 10), because
SBC needs the simulator's prior and the fit's prior to be the same, and a vague baseline
prior would simulate arms in which every patient or none has the event. The effect and τ
priors are the defaults users fit with (normal(0, 2.82), half-normal(0.5)).

The fit is what ``bayesmeta fit binary`` runs: the model's numba kernel
(:mod:`bayesmeta.models.binomial_normal_kernel`, compiled once for any data) on each dataset,
sampled by :func:`~bayesmeta.inference.sampling.sample_compiled_nutpie`.

Deliberately broken variants (for the test that the check can fail): ``swap_arms=True``
fits the data with treatment and control exchanged; ``fit_effect``/``fit_tau``/
``fit_baseline`` fit with another prior than the simulator draws from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from bayesmeta.data.binary import BinaryData
from bayesmeta.models import binomial_normal_prior_data as prior_data
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.validation.case_parts import draw_two_arm_effects, sample_draws, two_arm_priors
from bayesmeta.validation.sbc import FitDraws, SBCCase

PARAMETERS = ("theta", "tau", "theta_new", "theta_study[0]", "mu[0]")


def _priors(baseline: str, effect: str, tau: str) -> BinomialNormalPriors:
    return two_arm_priors(BinomialNormalPriors, baseline, effect, tau)


def binomial_normal_case(*, studies: tuple[int, int] = (3, 8),
                         arm_size: tuple[int, int] = (10, 100),
                         baseline: str = "normal:-3:1", effect: str = "normal:0:2.82",
                         tau: str = "halfnormal:0.5", fit_baseline: str | None = None,
                         fit_effect: str | None = None, fit_tau: str | None = None,
                         swap_arms: bool = False, chains: int = 2, draws: int = 1000,
                         tune: int = 1000, target_accept: float = 0.9) -> SBCCase:
    """The binomial–normal SBC case; the options describe designs, priors and fit size."""
    sim = _priors(baseline, effect, tau)
    fitted = _priors(fit_baseline or baseline, fit_effect or effect, fit_tau or tau)
    k_lo, k_hi = studies
    n_lo, n_hi = arm_size

    def draw_prior(rng: np.random.Generator) -> dict[str, Any]:
        k = int(rng.integers(k_lo, k_hi + 1))
        effects = draw_two_arm_effects(sim, k, rng)
        return {"k": k, "n_t": rng.integers(n_lo, n_hi + 1, k),
                "n_c": rng.integers(n_lo, n_hi + 1, k), **effects}

    def simulate(truth: dict[str, Any], rng: np.random.Generator) -> BinaryData:
        k = truth["k"]
        events_t = rng.binomial(truth["n_t"], expit(truth["mu"] + truth["theta_study"] / 2))
        events_c = rng.binomial(truth["n_c"], expit(truth["mu"] - truth["theta_study"] / 2))
        return BinaryData(tuple(f"s{i + 1}" for i in range(k)), events_t, truth["n_t"],
                          events_c, truth["n_c"], source="simulated")

    def fit(data: BinaryData, seed: int) -> FitDraws:
        from bayesmeta.inference.nutpie_kernel import kernel_model
        from bayesmeta.models import binomial_normal_kernel as kernel

        if swap_arms:
            data = data.swap_arms()
        packed = kernel.pack(data, prior_data.encode_priors(fitted))
        model = kernel_model(kernel, packed, study=list(data.study))
        return sample_draws(model, PARAMETERS, seed=seed, chains=chains, draws=draws,
                            tune=tune, target_accept=target_accept)

    label = "broken: " if (swap_arms or fitted != sim) else ""
    return SBCCase("binomial_normal", PARAMETERS, draw_prior, simulate, fit,
                   f"{label}binomial-normal, {k_lo}-{k_hi} studies, arms {n_lo}-{n_hi}, "
                   f"priors {sim.baseline}, {sim.effect}, {sim.tau}")
