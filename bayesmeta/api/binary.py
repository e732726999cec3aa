"""Two-arm event counts: loading, priors and ``fit_binary`` (binomial–normal or
conditional hypergeometric–normal model).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from bayesmeta.api.binary_fitter import BinaryFitter
from bayesmeta.api.common import (
    effect_baseline_slots,
    load_table,
    priors_from,
    ratio_thresholds,
    sample_timed,
)
from bayesmeta.data.binary import BinaryData, read_binary
from bayesmeta.errors import InputError
from bayesmeta.inference.diagnostics import diagnose
from bayesmeta.inference.sampling import Progress, SamplerSettings
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.models.conditional_hypergeometric import (
    ConditionalPriors,
    build_conditional_hypergeometric,
)
from bayesmeta.priors import Prior
from bayesmeta.results.binary import BaselineRisk, BinaryMetaResult
from bayesmeta.results.conditional import ConditionalMetaResult

DataLike = BinaryData | pd.DataFrame | str | Path

#: Likelihoods of ``fit_binary``: the binomial–normal model, or the conditional
#: (non-central hypergeometric)–normal model.
BINARY_LIKELIHOODS = ("binomial", "conditional")


def load_binary(data: DataLike, *, subgroup: str | None = None,
                subgroup_column: str = "subgroup", **read_options) -> BinaryData:
    """Binary data from a BinaryData, DataFrame, CSV path or bundled dataset name."""
    return load_table(data, BinaryData, read_binary, "binary", subgroup=subgroup,
                      subgroup_column=subgroup_column, read_options=read_options)


def binomial_normal_priors(
    *,
    model: str | Path | None = None,
    tau_prior: str | Prior | None = None,
    effect_prior: str | Prior | None = None,
    baseline_prior: str | Prior | None = None,
) -> BinomialNormalPriors:
    """Priors from a model file (optional) with single priors overriding it."""
    return BinomialNormalPriors(**priors_from(
        "binomial_normal", model, effect_baseline_slots(tau_prior, effect_prior,
                                                        baseline_prior),
        label="binomial-normal"))


def conditional_priors(*, model: str | Path | None = None,
                       tau_prior: str | Prior | None = None,
                       effect_prior: str | Prior | None = None,
                       baseline_prior: str | Prior | None = None) -> ConditionalPriors:
    """Priors of the conditional (hypergeometric)–normal model: effect and τ only."""
    return ConditionalPriors(**priors_from(
        "conditional_hypergeometric", model,
        effect_baseline_slots(tau_prior, effect_prior, baseline_prior)))


def fit_binary(
    data: DataLike,
    *,
    priors: BinomialNormalPriors | None = None,
    model: str | Path | None = None,
    tau_prior: str | Prior | None = None,
    effect_prior: str | Prior | None = None,
    baseline_prior: str | Prior | None = None,
    sampler: str = "auto", chains: int = 4, draws: int = 1000, tune: int = 1000,  # NUTS
    seed: int = 1, target_accept: float = 0.9, cores: int | None = None,
    thresholds: Iterable[float] = (),
    baseline_risk: float | None = None,
    subgroup: str | None = None,
    progress: Progress | None = None,
    read_options: Mapping[str, object] | None = None,
    likelihood: str = "binomial",
) -> BinaryMetaResult:
    """Fit the binomial–normal model (:mod:`bayesmeta.models.binomial_normal`) by NUTS —
    or, with ``likelihood="conditional"``, the conditional (non-central hypergeometric)–normal
    model (:mod:`bayesmeta.models.conditional_hypergeometric`), which has no study baselines.

    Parameters
    ----------
    data
        Two-arm event counts: a bundled dataset name, CSV path, DataFrame or BinaryData.
    priors, model, tau_prior, effect_prior, baseline_prior
        Priors: a :class:`BinomialNormalPriors`, or a model file (bundled name or path)
        and/or single priors such as ``tau_prior="halfnormal:0.5"``.
    sampler, chains, draws, tune, seed, target_accept, cores
        NUTS settings (see :class:`~bayesmeta.inference.sampling.SamplerSettings`).
    thresholds
        OR thresholds c for which P(OR > c) is reported (besides c = 1).
    baseline_risk
        Control-arm risk for absolute effects; default: pooled control-arm risk.
    subgroup
        Keep only studies whose ``subgroup`` column has this value.
    likelihood
        ``"binomial"`` (default) or ``"conditional"``.
    """
    if likelihood not in BINARY_LIKELIHOODS:
        raise InputError(f"unknown likelihood '{likelihood}'; choose one of "
                         f"{', '.join(BINARY_LIKELIHOODS)}", source="--likelihood")
    binary = load_binary(data, subgroup=subgroup, **dict(read_options or {}))
    if priors is None:
        choose = conditional_priors if likelihood == "conditional" else binomial_normal_priors
        priors = choose(model=model, tau_prior=tau_prior, effect_prior=effect_prior,
                        baseline_prior=baseline_prior)
    settings = SamplerSettings(sampler=sampler, chains=chains, draws=draws, tune=tune,
                               seed=seed, target_accept=target_accept, cores=cores)
    cuts = ratio_thresholds(thresholds)
    baseline = None
    if baseline_risk is not None:
        if not 0 < baseline_risk < 1:
            raise InputError(f"must be a risk between 0 and 1 (got {baseline_risk:g})",
                             source="--baseline-risk")
        baseline = BaselineRisk(float(baseline_risk), "given by the user")
    t0 = time.perf_counter()
    if not isinstance(priors, ConditionalPriors):
        fitter = BinaryFitter(binary, priors, settings.resolved_sampler, progress)
        return fitter.fit(priors, settings, thresholds=cuts, baseline=baseline,
                          progress=progress, started=t0)
    idata, timings = sample_timed(build_conditional_hypergeometric(binary, priors), settings,
                                  progress, t0)
    diagnostics = diagnose(idata, var_names=["theta", "tau", "theta_study", "theta_new"])
    return ConditionalMetaResult(
        data=binary, priors=priors, settings=settings, idata=idata, diagnostics=diagnostics,
        thresholds=cuts, baseline=baseline, model="conditional_hypergeometric",
        timings=timings)
