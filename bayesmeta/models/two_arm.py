"""What the two-arm models share: their priors, and the normal random effects on a log ratio.

The binomial–normal and the Poisson–normal model have the same three priors (study
baselines, the pooled log ratio, τ); the conditional model has the last two. All three let
the studies' log ratios vary normally around the pooled one, written non-centred. Each
model's module keeps its own likelihood; this holds only the set-up they have in common.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bayesmeta.priors import Prior, parse_prior


@dataclass(frozen=True)
class BaselinePriors:
    """Priors of a two-arm model with study baselines ``mu`` (a normal with SD 10 on the
    log scale), a pooled log ratio (normal, SD 2.82) and τ (half-normal 0.5) by default,
    as in Günhan et al. (2020)."""

    baseline: Prior = field(default_factory=lambda: Prior("normal", (0.0, 10.0)))
    effect: Prior = field(default_factory=lambda: Prior("normal", (0.0, 2.82)))
    tau: Prior = field(default_factory=lambda: Prior("halfnormal", (0.5,)))

    def __post_init__(self) -> None:
        parse_prior(self.baseline, option="baseline prior", support="real")
        parse_prior(self.effect, option="effect prior", support="real")
        parse_prior(self.tau, option="tau prior", support="positive")

    def as_dict(self) -> dict[str, Prior]:
        return {"baseline": self.baseline, "effect": self.effect, "tau": self.tau}


def normal_random_effects(effect: Prior, tau: Prior) -> Any:
    """In the current PyMC model (with a ``study`` coordinate): the pooled log ratio
    ``theta`` ~ ``effect``, ``tau`` ~ ``tau``, the studies' ``theta_study = theta + tau·z``
    with z ~ N(0, 1) (non-centred) and a new study's ``theta_new``; returns ``theta_study``
    for the likelihood."""
    import pymc as pm

    theta = effect.to_pymc("theta")
    sd = tau.to_pymc("tau")
    z = pm.Normal("z", 0.0, 1.0, dims="study")
    theta_study = pm.Deterministic("theta_study", theta + sd * z, dims="study")
    z_new = pm.Normal("z_new", 0.0, 1.0)
    pm.Deterministic("theta_new", theta + sd * z_new)
    return theta_study
