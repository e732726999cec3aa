"""The Python API: one call per analysis, mirroring the command line.

>>> import bayesmeta as bm
>>> res = bm.fit_binary("crins2014_ar", seed=1)            # a bundled dataset, file or DataFrame
>>> res.posterior("or").median, res.prob_harm(1.0)          # pooled OR, P(OR > 1)
>>> res.prob_harm(1.0, predictive=True)                     # P(harm) in a new trial
>>> res.risk_difference().summary()                         # per 1,000 patients
>>> res.summary(); res.to_dict(); res.to_netcdf("fit.nc")
>>> bm.influence(res).to_frame()                            # PSIS-LOO k̂, leave-one-out refits
>>> bm.load_fit("fit.nc")                                   # a saved fit, back
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmeta.data import datasets
from bayesmeta.data.binary import BinaryData, read_binary
from bayesmeta.errors import InputError
from bayesmeta.inference.diagnostics import diagnose
from bayesmeta.inference.sampling import Progress, SamplerSettings, sample_model
from bayesmeta.models.binomial_normal import BinomialNormalPriors, build_binomial_normal
from bayesmeta.models.spec_files import load_model_spec
from bayesmeta.priors import Prior, parse_prior
from bayesmeta.results.binary import BaselineRisk, BinaryMetaResult

DataLike = BinaryData | pd.DataFrame | str | Path


def load_binary(data: DataLike, *, subgroup: str | None = None,
                subgroup_column: str = "subgroup", **read_options) -> BinaryData:
    """Binary data from a BinaryData, DataFrame, CSV path or bundled dataset name."""
    if isinstance(data, BinaryData):
        loaded = data
    elif isinstance(data, pd.DataFrame):
        loaded = read_binary(data, **read_options)
    else:
        loaded = read_binary(datasets.resolve(data, kind="binary"), **read_options)
    if subgroup is not None:
        loaded = loaded.select(subgroup_column, subgroup)
    return loaded


def binomial_normal_priors(
    *,
    model: str | Path | None = None,
    tau_prior: str | Prior | None = None,
    effect_prior: str | Prior | None = None,
    baseline_prior: str | Prior | None = None,
) -> BinomialNormalPriors:
    """Priors from a model file (optional) with single priors overriding it."""
    chosen: dict[str, Prior] = {}
    if model is not None:
        spec = load_model_spec(model)
        if spec.model != "binomial_normal":
            raise InputError(f"model file is for '{spec.model}', not binomial_normal",
                             source=str(spec.path))
        chosen.update(spec.priors)
    for slot, value, option, support in (
            ("tau", tau_prior, "--tau-prior", "positive"),
            ("effect", effect_prior, "--effect-prior", "real"),
            ("baseline", baseline_prior, "--baseline-prior", "real")):
        if value is not None:
            chosen[slot] = parse_prior(value, option=option, support=support)
    return BinomialNormalPriors(**chosen)


def fit_binary(
    data: DataLike,
    *,
    priors: BinomialNormalPriors | None = None,
    model: str | Path | None = None,
    tau_prior: str | Prior | None = None,
    effect_prior: str | Prior | None = None,
    baseline_prior: str | Prior | None = None,
    sampler: str = "auto",
    chains: int = 4,
    draws: int = 1000,
    tune: int = 1000,
    seed: int = 1,
    target_accept: float = 0.9,
    cores: int | None = None,
    thresholds: Iterable[float] = (),
    baseline_risk: float | None = None,
    subgroup: str | None = None,
    progress: Progress | None = None,
    read_options: Mapping[str, object] | None = None,
) -> BinaryMetaResult:
    """Fit the binomial–normal model (:mod:`bayesmeta.models.binomial_normal`) by NUTS.

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
    """
    binary = load_binary(data, subgroup=subgroup, **dict(read_options or {}))
    if priors is None:
        priors = binomial_normal_priors(model=model, tau_prior=tau_prior,
                                        effect_prior=effect_prior,
                                        baseline_prior=baseline_prior)
    settings = SamplerSettings(sampler=sampler, chains=chains, draws=draws, tune=tune,
                               seed=seed, target_accept=target_accept, cores=cores)
    cuts = tuple(float(c) for c in thresholds)
    for c in cuts:
        if not (c > 0 and c < float("inf")):
            raise InputError(f"an OR threshold must be a positive number (got {c:g})",
                             source="--threshold")
    baseline = None
    if baseline_risk is not None:
        if not 0 < baseline_risk < 1:
            raise InputError(f"must be a risk between 0 and 1 (got {baseline_risk:g})",
                             source="--baseline-risk")
        baseline = BaselineRisk(float(baseline_risk), "given by the user")
    t0 = time.perf_counter()
    model_obj = build_binomial_normal(binary, priors)
    idata, times = sample_model(model_obj, settings, progress)
    t1 = time.perf_counter()
    diagnostics = diagnose(idata, var_names=["theta", "tau", "theta_study", "theta_new", "mu"])
    return BinaryMetaResult(
        data=binary, priors=priors, settings=settings, idata=idata, diagnostics=diagnostics,
        thresholds=cuts, baseline=baseline,
        timings={"build_and_sample_s": t1 - t0, "compile_s": times.compile_s,
                 "sample_s": times.sample_s})


# -- influence, saved fits ----------------------------------------------------------------
def refit_binary(result: BinaryMetaResult, data: BinaryData,
                 progress: Progress | None = None) -> BinaryMetaResult:
    """Fit the binomial–normal model to ``data`` with ``result``'s priors, sampler settings,
    seed, thresholds and baseline risk (a leave-one-study-out refit)."""
    s = result.settings
    baseline = result.baseline.value if result.baseline is not None else None
    return fit_binary(data, priors=result.priors, sampler=s.sampler, chains=s.chains,
                      draws=s.draws, tune=s.tune, seed=s.seed, target_accept=s.target_accept,
                      cores=s.cores, thresholds=result.thresholds, baseline_risk=baseline,
                      progress=progress)


#: How to refit each kind of result without a study: result class → refit(result, data).
#: A new model adds its entry (the normal–normal model: an exact fit).
REFITTERS: dict[type, Callable[[Any, Any], Any]] = {BinaryMetaResult: refit_binary}


def influence(result: Any, *, refits: bool = True, threshold: float | None = None,
              studies: Iterable[str] | None = None, progress: Progress | None = None):
    """Which study drives the result: PSIS-LOO Pareto k̂ per study and, with ``refits``,
    the pooled estimate and P(harm) refitted without each study (or each of ``studies``).

    >>> inf = bm.influence(res, threshold=1.0)
    >>> inf.to_frame()            # pareto_k, median_without, p_harm_without, ...
    >>> inf.loo.verdict()         # how far PSIS-LOO can be trusted here

    Refits use the fit's own priors, sampler settings and seed, so a refit equals a
    separate fit without that study. Returns :class:`bayesmeta.results.influence.Influence`.
    """
    from bayesmeta.results.influence import influence as compute

    refit = None
    if refits:
        refitter = REFITTERS.get(type(result))
        if refitter is None:
            raise InputError(f"no leave-one-out refits for {type(result).__name__}")
        refit = refitter
    chosen = None if studies is None else list(studies)
    if threshold is not None and not threshold > 0 and result.effect_scale.log:
        raise InputError(f"an {result.effect_scale.symbol} threshold must be greater than 0 "
                         f"(got {threshold:g})", source="--threshold")
    return compute(result, refit, threshold=threshold, studies=chosen, progress=progress)


def load_fit(path: str | Path) -> BinaryMetaResult:
    """A fit saved with ``res.to_netcdf(path)`` / ``--save fit.nc``, ready to plot, report or
    refit (diagnostics recomputed)."""
    from bayesmeta.results.binary import load_binary_result

    return load_binary_result(path)
