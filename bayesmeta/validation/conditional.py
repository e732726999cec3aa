"""SBC case of the conditional (non-central hypergeometric)–normal model
(:mod:`bayesmeta.models.conditional_hypergeometric`, ``fit binary --likelihood conditional``).

The model conditions on each study's total number of events m_i, so its posterior is
p(θ, τ, θ_i | a, m) ∝ p(θ) p(τ) Π p(θ_i | θ, τ) P(a_i | m_i, θ_i): the totals are treated
as fixed by design. SBC must simulate from that same joint model, so the simulator draws
the design — arm sizes 10–100 and the totals m_i — independently of the parameters (m_i
binomial over both arms at a risk with logit ~ normal(−3, 1), i.e. the sparse totals of
rare adverse events: a median of 5 events per study, none in 8% of studies), then the
parameters from the priors the fit uses (the defaults: θ ~ normal(0, 2.82), τ ~
half-normal(0.5)), then each study's treatment-arm count from Fisher's non-central
hypergeometric distribution given m_i (``scipy.stats.nchypergeom_fisher``, an
implementation independent of the model's PyTensor one). Drawing m_i from binomial arms
whose risks depend on θ_i would leak information about θ through the totals that the
conditional model deliberately ignores, and SBC would then test another posterior.

The fit is the production builder and sampler: the model's support tables depend on the
data, so it is compiled for every simulated dataset (≈ 3 s per fit under load: the
costliest case here).

Deliberately broken variants: ``swap_arms=True`` (arms exchanged), ``fit_effect``/
``fit_tau`` (another prior than the simulator's).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from scipy.special import expit

from bayesmeta.data.binary import BinaryData
from bayesmeta.models.conditional_hypergeometric import ConditionalPriors
from bayesmeta.priors import parse_prior
from bayesmeta.validation.case_parts import sample_draws
from bayesmeta.validation.sbc import FitDraws, SBCCase

PARAMETERS = ("theta", "tau", "theta_new", "theta_study[0]")


def _priors(effect: str, tau: str) -> ConditionalPriors:
    return ConditionalPriors(effect=parse_prior(effect, option="effect", support="real"),
                             tau=parse_prior(tau, option="tau", support="positive"))


def conditional_case(*, studies: tuple[int, int] = (3, 8),
                     arm_size: tuple[int, int] = (10, 100), risk_logit: tuple[float, float] =
                     (-3.0, 1.0), effect: str = "normal:0:2.82", tau: str = "halfnormal:0.5",
                     fit_effect: str | None = None, fit_tau: str | None = None,
                     swap_arms: bool = False, chains: int = 2, draws: int = 1000,
                     tune: int = 1000, target_accept: float = 0.9) -> SBCCase:
    """The conditional-model SBC case; the options describe designs, priors and fit size."""
    from bayesmeta.models.conditional_hypergeometric import build_conditional_hypergeometric

    sim = _priors(effect, tau)
    fitted = _priors(fit_effect or effect, fit_tau or tau)
    k_lo, k_hi = studies
    n_lo, n_hi = arm_size

    def draw_prior(rng: np.random.Generator) -> dict[str, Any]:
        k = int(rng.integers(k_lo, k_hi + 1))
        n_t = rng.integers(n_lo, n_hi + 1, k)
        n_c = rng.integers(n_lo, n_hi + 1, k)
        risk = expit(risk_logit[0] + risk_logit[1] * rng.standard_normal(k))
        total = rng.binomial(n_t + n_c, risk)  # the design: independent of the parameters
        theta = float(sim.effect.dist().rvs(random_state=rng))
        tau_ = float(sim.tau.dist().rvs(random_state=rng))
        theta_study = theta + tau_ * rng.standard_normal(k)
        return {"k": k, "n_t": n_t, "n_c": n_c, "total": total, "theta": theta,
                "tau": tau_, "theta_study": theta_study,
                "theta_new": theta + tau_ * float(rng.standard_normal()),
                "theta_study[0]": float(theta_study[0])}

    def simulate(truth: dict[str, Any], rng: np.random.Generator) -> BinaryData:
        n_t, n_c, total = truth["n_t"], truth["n_c"], truth["total"]
        events_t = np.array([
            int(stats.nchypergeom_fisher(int(a + b), int(a), int(m), float(np.exp(t)))
                .rvs(random_state=rng))
            for a, b, m, t in zip(n_t, n_c, total, truth["theta_study"], strict=True)])
        return BinaryData(tuple(f"s{i + 1}" for i in range(truth["k"])), events_t, n_t,
                          total - events_t, n_c, source="simulated")

    def fit(data: BinaryData, seed: int) -> FitDraws:
        from bayesmeta.inference.nutpie_compile import compile_for_nutpie

        if swap_arms:
            data = data.swap_arms()
        compiled = compile_for_nutpie(build_conditional_hypergeometric(data, fitted))
        return sample_draws(compiled, PARAMETERS, seed=seed, chains=chains, draws=draws,
                            tune=tune, target_accept=target_accept)

    label = "broken: " if (swap_arms or fitted != sim) else ""
    return SBCCase("conditional_hypergeometric", PARAMETERS, draw_prior, simulate, fit,
                   f"{label}conditional hypergeometric-normal, {k_lo}-{k_hi} studies, arms "
                   f"{n_lo}-{n_hi}, totals at logit risk N({risk_logit[0]:g}, "
                   f"{risk_logit[1]:g}²), priors {sim.effect}, {sim.tau}")
