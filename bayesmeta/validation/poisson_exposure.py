"""SBC case of the Poisson–normal model for events over person-time
(:mod:`bayesmeta.models.poisson_exposure`).

Design: 3–8 studies, each arm followed for 20–500 units of person-time (e.g. person-years;
uniform, drawn per arm so the arms differ), low event rates. The study baselines μ_i (log
event rate midway between the arms, per unit of person-time) are drawn from the prior the
fit uses — normal(−4, 1) here, rates of about 0.3–13% per person-year (median 1.8%) —
instead of the vague default normal(0, 10): SBC needs the simulator's prior and the fit's
prior to be the same, and a vague baseline prior would simulate arms with thousands of
events or none. Over 20–500 person-years that gives (prior predictive, 4,000 simulated
meta-analyses) a median of 4 events per arm, one arm in five without events (a third of
the studies have an arm with none) and 2% double-zero studies — the sparse data the model
is for. The effect and τ priors are the defaults users fit
with (normal(0, 2.82), half-normal(0.5)).

The fit is the production builder (:func:`build_poisson_exposure` with ``refittable=True``:
counts and log person-time in data containers, same density — checked in
``tests/test_properties.py``) compiled for nutpie once per number of studies and refitted
with ``with_data``, sampled as ``bayesmeta fit rates`` does.

Deliberately broken variants: ``swap_arms=True`` fits the data with treatment and control
exchanged; ``fit_effect``/``fit_tau``/``fit_baseline`` fit with another prior than the
simulator draws from; ``bug="ignore_exposure"`` fits as if every arm had the same
person-time (the error of pooling counts without their exposure).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayesmeta.data.rates import RateData
from bayesmeta.models.poisson_exposure import PoissonNormalPriors
from bayesmeta.validation.case_parts import draw_two_arm_effects, sample_draws, two_arm_priors
from bayesmeta.validation.sbc import FitDraws, SBCCase

PARAMETERS = ("theta", "tau", "theta_new", "theta_study[0]", "mu[0]")

_COMPILED: dict[tuple[PoissonNormalPriors, int], Any] = {}


def _priors(baseline: str, effect: str, tau: str) -> PoissonNormalPriors:
    return two_arm_priors(PoissonNormalPriors, baseline, effect, tau)


def poisson_normal_case(*, studies: tuple[int, int] = (3, 8),
                        exposure: tuple[float, float] = (20.0, 500.0),
                        baseline: str = "normal:-4:1", effect: str = "normal:0:2.82",
                        tau: str = "halfnormal:0.5", fit_baseline: str | None = None,
                        fit_effect: str | None = None, fit_tau: str | None = None,
                        swap_arms: bool = False, bug: str | None = None, chains: int = 2,
                        draws: int = 1000, tune: int = 1000,
                        target_accept: float = 0.9) -> SBCCase:
    """The Poisson–normal SBC case; the options describe designs, priors and fit size."""
    from bayesmeta.models.poisson_exposure import build_poisson_exposure

    if bug not in (None, "ignore_exposure"):
        raise TypeError(f"unknown bug '{bug}' (known: ignore_exposure)")
    sim = _priors(baseline, effect, tau)
    fitted = _priors(fit_baseline or baseline, fit_effect or effect, fit_tau or tau)
    k_lo, k_hi = studies
    t_lo, t_hi = exposure

    def draw_prior(rng: np.random.Generator) -> dict[str, Any]:
        k = int(rng.integers(k_lo, k_hi + 1))
        effects = draw_two_arm_effects(sim, k, rng)
        return {"k": k, "exposure_t": rng.uniform(t_lo, t_hi, k),
                "exposure_c": rng.uniform(t_lo, t_hi, k), **effects}

    def simulate(truth: dict[str, Any], rng: np.random.Generator) -> RateData:
        log_rate_t = truth["mu"] + 0.5 * truth["theta_study"]
        log_rate_c = truth["mu"] - 0.5 * truth["theta_study"]
        events_t = rng.poisson(truth["exposure_t"] * np.exp(log_rate_t))
        events_c = rng.poisson(truth["exposure_c"] * np.exp(log_rate_c))
        return RateData(tuple(f"s{i + 1}" for i in range(truth["k"])), events_t,
                        truth["exposure_t"], events_c, truth["exposure_c"],
                        source="simulated")

    def fit(data: RateData, seed: int) -> FitDraws:
        from bayesmeta.inference.nutpie_compile import compile_for_nutpie

        if swap_arms:
            data = RateData(data.study, data.events_c, data.exposure_c, data.events_t,
                            data.exposure_t, source=data.source)
        key = (fitted, data.k)
        if key not in _COMPILED:
            _COMPILED[key] = compile_for_nutpie(
                build_poisson_exposure(data, fitted, refittable=True))
        log_t, log_c = np.log(data.exposure_t), np.log(data.exposure_c)
        if bug == "ignore_exposure":
            log_t = log_c = np.full(data.k, np.log(np.mean([data.exposure_t,
                                                             data.exposure_c])))
        model = _COMPILED[key].with_data(events_t_data=data.events_t,
                                           events_c_data=data.events_c,
                                           log_exposure_t=log_t, log_exposure_c=log_c)
        return sample_draws(model, PARAMETERS, seed=seed, chains=chains, draws=draws,
                            tune=tune, target_accept=target_accept)

    label = "broken: " if (swap_arms or bug or fitted != sim) else ""
    return SBCCase("poisson_normal", PARAMETERS, draw_prior, simulate, fit,
                   f"{label}Poisson-normal, {k_lo}-{k_hi} studies, person-time "
                   f"{t_lo:g}-{t_hi:g} per arm, priors {sim.baseline}, {sim.effect}, "
                   f"{sim.tau}" + (f", bug {bug}" if bug else ""))
