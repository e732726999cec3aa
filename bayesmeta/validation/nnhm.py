"""SBC cases of the normal–normal model (:mod:`bayesmeta.models.nnhm`): exact and MCMC.

Design (what the simulated meta-analyses look like): 3–8 studies of log odds ratios whose
standard errors are log-uniform on 0.2–1.5 — the SEs of log ORs from two-arm trials of
roughly 10–300 patients with event risks of 5–50%. Priors: the defaults users fit log ORs
with (``models/nnhm_log_ratio.toml``: μ ~ N(0, 4²), τ ~ half-normal(0.5)), drawn by the
simulator and given to the fitter alike (SBC needs them to be the same; the flat μ prior
and the improper τ priors cannot be drawn from, so they cannot be calibrated this way — the
exact path is checked against R's bayesmeta for those instead, ``tests/test_nnhm_exact.py``).
Other priors can be set (``tau="halfcauchy:0.5"``), e.g. to calibrate a heavy-tailed τ.

* ``nnhm_exact`` — the production quadrature (:func:`~bayesmeta.inference.nnhm_exact.nnhm_exact`)
  reports each checked quantity's exact posterior CDF; the rank is F(truth) on the 0..L
  scale (no draws, no Monte Carlo error, milliseconds per fit);
* ``nnhm_mcmc`` — the production PyMC model (:func:`~bayesmeta.models.nnhm.build_nnhm`,
  whose y and s² are data containers) compiled for nutpie once per number of studies and
  refitted to each dataset with ``with_data``, sampled like ``bayesmeta fit effects
  --method mcmc``.

Deliberately broken variants (for the tests that the check can fail): ``fit_mu``/``fit_tau``
fit with another prior than the simulator draws from; ``bug="se_as_variance"`` gives the fit
the variances where it expects standard errors (the classic sei/vi mix-up);
``bug="predictive_without_tau"`` (exact only) reports the posterior of μ as that of θ_new,
i.e. forgets the between-study spread of a new study.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayesmeta.data.effects import EffectsData
from bayesmeta.models.nnhm import NNHMPriors
from bayesmeta.priors import parse_prior
from bayesmeta.validation.case_parts import sample_draws
from bayesmeta.validation.sbc import FitDraws, SBCCase

PARAMETERS = ("mu", "tau", "theta_new", "theta[0]")
BUGS = ("se_as_variance", "predictive_without_tau")

#: Compiled MCMC models by (priors, number of studies), shared by the cases of one process.
_COMPILED: dict[tuple[NNHMPriors, int], Any] = {}


def _priors(mu: str, tau: str) -> NNHMPriors:
    return NNHMPriors(mu=parse_prior(mu, option="mu", support="real"),
                      tau=parse_prior(tau, option="tau", support="positive"))


def _prior_sampler(sim: NNHMPriors, studies: tuple[int, int], se: tuple[float, float]):
    k_lo, k_hi = studies
    log_lo, log_hi = np.log(se[0]), np.log(se[1])
    mu_dist, tau_dist = sim.mu.dist(), sim.tau.dist()
    if mu_dist is None or tau_dist is None:
        raise ValueError("SBC needs proper priors (the simulator draws from them)")

    def draw_prior(rng: np.random.Generator) -> dict[str, Any]:
        k = int(rng.integers(k_lo, k_hi + 1))
        mu = float(mu_dist.rvs(random_state=rng))
        tau = float(tau_dist.rvs(random_state=rng))
        theta = mu + tau * rng.standard_normal(k)
        return {"k": k, "se": np.exp(rng.uniform(log_lo, log_hi, k)), "theta": theta,
                "mu": mu, "tau": tau, "theta_new": mu + tau * float(rng.standard_normal()),
                "theta[0]": float(theta[0])}

    return draw_prior


def _simulate(truth: dict[str, Any], rng: np.random.Generator) -> EffectsData:
    y = truth["theta"] + truth["se"] * rng.standard_normal(truth["k"])
    return EffectsData(tuple(f"s{i + 1}" for i in range(truth["k"])), y, truth["se"],
                       measure="logOR", source="simulated")


def _check(bug: str | None, allowed: tuple[str, ...]) -> None:
    if bug is not None and bug not in allowed:
        raise TypeError(f"unknown bug '{bug}' (known: {', '.join(allowed)})")


def _fitted_se(data: EffectsData, bug: str | None) -> np.ndarray:
    se = np.asarray(data.sei, dtype=float)
    return se**2 if bug == "se_as_variance" else se


def _label(sim: NNHMPriors, fitted: NNHMPriors, bug: str | None, what: str,
           studies: tuple[int, int], se: tuple[float, float]) -> str:
    broken = "broken: " if (bug or fitted != sim) else ""
    extra = f", bug {bug}" if bug else ""
    fit_priors = "" if fitted == sim else f"; fitted with {fitted.mu}, {fitted.tau}"
    return (f"{broken}normal-normal model ({what}), {studies[0]}-{studies[1]} studies, "
            f"SEs {se[0]:g}-{se[1]:g}, priors {sim.mu}, {sim.tau}{fit_priors}{extra}")


def nnhm_exact_case(*, studies: tuple[int, int] = (3, 8), se: tuple[float, float] = (0.2, 1.5),
                    mu: str = "normal:0:4", tau: str = "halfnormal:0.5",
                    fit_mu: str | None = None, fit_tau: str | None = None,
                    bug: str | None = None) -> SBCCase:
    """The NNHM by quadrature: every checked quantity's exact posterior CDF."""
    from bayesmeta.inference.nnhm_exact import NNHMInput, nnhm_exact
    from bayesmeta.results.exact_marginal import ExactMarginal

    _check(bug, BUGS)
    sim, fitted = _priors(mu, tau), _priors(fit_mu or mu, fit_tau or tau)
    assert fitted.tau is not None

    def fit(data: EffectsData, seed: int) -> FitDraws:
        post = nnhm_exact(NNHMInput(np.asarray(data.yi, dtype=float), _fitted_se(data, bug),
                                    fitted.mu, fitted.tau))
        new = post.mu if bug == "predictive_without_tau" else post.theta_new
        marginals = {"mu": ExactMarginal.of_mixture("mu", post.mu),
                     "tau": ExactMarginal.of_panels("tau", post.tau),
                     "theta_new": ExactMarginal.of_mixture("theta_new", new),
                     "theta[0]": ExactMarginal.of_mixture("theta[0]", post.theta.row(0))}
        return FitDraws(cdf={name: m.cdf for name, m in marginals.items()})

    return SBCCase("nnhm_exact", PARAMETERS, _prior_sampler(sim, studies, se), _simulate,
                   fit, _label(sim, fitted, bug, "exact", studies, se))


def nnhm_mcmc_case(*, studies: tuple[int, int] = (3, 8), se: tuple[float, float] = (0.2, 1.5),
                   mu: str = "normal:0:4", tau: str = "halfnormal:0.5",
                   fit_mu: str | None = None, fit_tau: str | None = None,
                   bug: str | None = None, chains: int = 2, draws: int = 1000,
                   tune: int = 1000, target_accept: float = 0.9) -> SBCCase:
    """The NNHM by NUTS (nutpie), as ``fit effects --method mcmc`` samples it."""
    from bayesmeta.models.nnhm import build_nnhm

    _check(bug, ("se_as_variance",))
    sim, fitted = _priors(mu, tau), _priors(fit_mu or mu, fit_tau or tau)

    def fit(data: EffectsData, seed: int) -> FitDraws:
        from bayesmeta.inference.nutpie_compile import compile_for_nutpie

        key = (fitted, data.k)
        if key not in _COMPILED:
            _COMPILED[key] = compile_for_nutpie(build_nnhm(data, fitted))
        se_fit = _fitted_se(data, bug)
        model = _COMPILED[key].with_data(y=np.asarray(data.yi, dtype=float), s2=se_fit**2)
        return sample_draws(model, PARAMETERS, seed=seed, chains=chains, draws=draws,
                            tune=tune, target_accept=target_accept)

    return SBCCase("nnhm_mcmc", PARAMETERS, _prior_sampler(sim, studies, se), _simulate,
                   fit, _label(sim, fitted, bug, "MCMC", studies, se))
