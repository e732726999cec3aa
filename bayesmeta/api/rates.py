"""Events over person-time: loading, priors and ``fit_rates`` (Poisson–normal model)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from bayesmeta.api.common import (
    effect_baseline_slots,
    load_table,
    priors_from,
    ratio_thresholds,
    sample_timed,
)
from bayesmeta.data.rates import RateData, read_rates
from bayesmeta.errors import InputError
from bayesmeta.inference.diagnostics import diagnose
from bayesmeta.inference.sampling import Progress, SamplerSettings
from bayesmeta.models.poisson_exposure import PoissonNormalPriors, build_poisson_exposure
from bayesmeta.priors import Prior
from bayesmeta.results.rates import BaselineRate, RateMetaResult

RateLike = RateData | pd.DataFrame | str | Path


def poisson_normal_priors(*, model: str | Path | None = None,
                          tau_prior: str | Prior | None = None,
                          effect_prior: str | Prior | None = None,
                          baseline_prior: str | Prior | None = None) -> PoissonNormalPriors:
    """Priors of the Poisson–normal model from a model file and/or single priors."""
    return PoissonNormalPriors(**priors_from(
        "poisson_normal", model, effect_baseline_slots(tau_prior, effect_prior,
                                                       baseline_prior)))


def load_rates(data: RateLike, *, subgroup: str | None = None,
               subgroup_column: str = "subgroup", **read_options) -> RateData:
    """Event-rate data (events and person-time per arm) from a RateData, DataFrame, CSV path
    or bundled dataset name."""
    return load_table(data, RateData, read_rates, "rates", subgroup=subgroup,
                      subgroup_column=subgroup_column, read_options=read_options)


def fit_rates(
    data: RateLike,
    *,
    priors: PoissonNormalPriors | None = None,
    model: str | Path | None = None,
    tau_prior: str | Prior | None = None,
    effect_prior: str | Prior | None = None,
    baseline_prior: str | Prior | None = None,
    sampler: str = "auto", chains: int = 4, draws: int = 1000, tune: int = 1000,  # NUTS
    seed: int = 1, target_accept: float = 0.9, cores: int | None = None,
    thresholds: Iterable[float] = (),
    baseline_rate: float | None = None,
    subgroup: str | None = None,
    progress: Progress | None = None,
    read_options: Mapping[str, object] | None = None,
) -> RateMetaResult:
    """Fit the Poisson–normal model (:mod:`bayesmeta.models.poisson_exposure`) to events
    over person-time by NUTS. Arguments as :func:`~bayesmeta.api.fit_binary`; ``thresholds``
    are rate-ratio thresholds, ``baseline_rate`` the control-arm event rate per unit of
    person-time for absolute effects (default: pooled control arms)."""
    rates = load_rates(data, subgroup=subgroup, **dict(read_options or {}))
    if priors is None:
        priors = poisson_normal_priors(model=model, tau_prior=tau_prior,
                                       effect_prior=effect_prior,
                                       baseline_prior=baseline_prior)
    settings = SamplerSettings(sampler=sampler, chains=chains, draws=draws, tune=tune,
                               seed=seed, target_accept=target_accept, cores=cores)
    cuts = ratio_thresholds(thresholds, "a rate-ratio")
    baseline = None
    if baseline_rate is not None:
        if not 0 < baseline_rate < float("inf"):
            raise InputError(f"must be a positive rate (got {baseline_rate:g})",
                             source="--baseline-rate")
        baseline = BaselineRate(float(baseline_rate), "given by the user")
    t0 = time.perf_counter()
    idata, timings = sample_timed(build_poisson_exposure(rates, priors), settings, progress, t0)
    diagnostics = diagnose(idata, var_names=["theta", "tau", "theta_study", "theta_new", "mu"])
    return RateMetaResult(
        data=rates, priors=priors, settings=settings, idata=idata, diagnostics=diagnostics,
        thresholds=cuts, baseline=baseline, timings=timings)
