"""The Python API: one call per analysis, mirroring the command line.

>>> import bayesmeta as bm
>>> res = bm.fit_binary("crins2014_ar", seed=1)            # a bundled dataset, file or DataFrame
>>> res.posterior("or").median, res.prob_harm(1.0)          # pooled OR, P(OR > 1)
>>> res.prob_harm(1.0, predictive=True)                     # P(harm) in a new trial
>>> res.risk_difference().summary()                         # per 1,000 patients
>>> res.summary(); res.to_dict(); res.to_netcdf("fit.nc")

Effect sizes (normal–normal model, exact by default):

>>> res = bm.fit_effects("eight_schools", tau_prior="halfcauchy:25")
>>> res.posterior("mu").median, res.posterior("tau").shortest_interval()
>>> res.probabilities(), res.bayes_factors(), res.study_effects()
>>> bm.fit_continuous("normand1999_arms", measure="SMD")           # arm-level means/SDs
>>> bm.fit_effects("crins2014_ar", measure="logOR", cc=0.5)         # 2x2 tables -> log ORs
>>> bm.influence(res).to_frame()                            # PSIS-LOO k̂, leave-one-out refits
>>> bm.load_result("fit.nc")                                # a saved fit, back
>>> bm.fit_binary("nissen2007_mi", likelihood="conditional")  # hypergeometric-normal model
>>> bm.fit_rates("hart1999_warfarin")                        # events over person-years
>>> bm.fit_classical("crins2014_ar", "REML", test="knha")    # a classical comparator
>>> bm.compare("crins2014_ar").table()                      # every method side by side
>>> res.prior_sensitivity().to_dict()                       # power-scaling diagnosis
>>> bm.reweight(res, tau_prior="halfnormal:0.25")           # PSIS, or a refit if unreliable
>>> sens = bm.sensitivity("crins2014_ar", priors="sensitivity_rare_events", thresholds=[1.5])
>>> sens.table(); sens.verdict_text(); sens.results["HC(0.5)"]
>>> bm.sensitivity("crins2014_ar", model="effects", cc=0.5)  # exact NNHM, log-ratio prior set
>>> bm.tau_scale_curve("crins2014_ar", "halfnormal:0.1:2", cc=0.5).verdict_text()
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from bayesmeta.data import datasets
from bayesmeta.data.binary import BinaryData, read_binary
from bayesmeta.data.continuous import ContinuousData, read_continuous
from bayesmeta.data.effects import (
    ALIASES as EFFECT_ALIASES,
)
from bayesmeta.data.effects import (
    EffectsData,
    effects_from_binary,
    parse_measure,
    read_effects,
)
from bayesmeta.data.loading import load_data
from bayesmeta.data.longitudinal import LongitudinalData, read_longitudinal
from bayesmeta.data.rates import RateData, read_rates
from bayesmeta.errors import InputError
from bayesmeta.inference.diagnostics import diagnose
from bayesmeta.inference.sampling import (
    PreparedModel,
    Progress,
    RunningSampler,
    SamplerSettings,
    SamplingTimes,
    SilentProgress,
    sample_model,
)
from bayesmeta.models import binomial_normal_prior_data as prior_data
from bayesmeta.models.binomial_normal import BinomialNormalPriors, build_binomial_normal
from bayesmeta.models.conditional_hypergeometric import (
    ConditionalPriors,
    build_conditional_hypergeometric,
)
from bayesmeta.models.longitudinal import (
    LongitudinalOptions,
    LongitudinalPriors,
    build_longitudinal,
    correlation_prior,
    default_priors,
    free_parameter_names,
    rho_within_value,
)
from bayesmeta.models.nnhm import NNHMPriors, build_nnhm, default_prior_file
from bayesmeta.models.poisson_exposure import PoissonNormalPriors, build_poisson_exposure
from bayesmeta.models.prior_sets import PriorSet, load_prior_set, prior_set_from_dict
from bayesmeta.models.spec_files import load_model_spec
from bayesmeta.priors import Prior, parse_prior
from bayesmeta.results.binary import BaselineRisk, BinaryMetaResult
from bayesmeta.results.conditional import ConditionalMetaResult
from bayesmeta.results.effect_scale import EFFECT_SIZE_SCALES
from bayesmeta.results.effects import EffectsMetaResult
from bayesmeta.results.longitudinal import LongitudinalMetaResult, derived_draws
from bayesmeta.results.rates import BaselineRate, RateMetaResult
from bayesmeta.results.reweighting import ReweightedResult
from bayesmeta.results.reweighting import reweight as reweight_draws
from bayesmeta.results.sensitivity import SensitivityResult, SensitivityRow

if TYPE_CHECKING:  # classical estimators load only when asked for (scipy.optimize)
    from bayesmeta.inference.classical.result import ClassicalFit

DataLike = BinaryData | pd.DataFrame | str | Path
RateLike = RateData | pd.DataFrame | str | Path

#: Likelihoods of ``fit_binary``: the binomial–normal model, or the conditional
#: (non-central hypergeometric)–normal model.
BINARY_LIKELIHOODS = ("binomial", "conditional")


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
    places: dict[str, str] = {}
    if model is not None:
        spec = load_model_spec(model)
        if spec.model != "binomial_normal":
            raise InputError(f"model file is for '{spec.model}', not binomial_normal",
                             source=str(spec.path))
        chosen.update(spec.priors)
        places.update({slot: f"{spec.path} [priors] {slot}" for slot in spec.priors})
    for slot, value, option, support in (
            ("tau", tau_prior, "--tau-prior", "positive"),
            ("effect", effect_prior, "--effect-prior", "real"),
            ("baseline", baseline_prior, "--baseline-prior", "real")):
        if value is not None:
            chosen[slot] = parse_prior(value, option=option, support=support)
            places[slot] = option
    for slot, prior in chosen.items():
        if not prior.proper:  # MCMC needs a proper prior; say where the improper one came from
            raise InputError(f"'{prior.spec}' is an improper prior, usable only by exact "
                             "methods, not by the binomial-normal MCMC model; choose a proper "
                             "one (e.g. halfnormal:0.5 for tau, normal:0:2.82 for the effect)",
                             source=places[slot])
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
        if likelihood == "conditional":
            priors = conditional_priors(model=model, tau_prior=tau_prior,
                                        effect_prior=effect_prior,
                                        baseline_prior=baseline_prior)
        else:
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
    if not isinstance(priors, ConditionalPriors):
        fitter = BinaryFitter(binary, priors, settings.resolved_sampler, progress)
        return fitter.fit(priors, settings, thresholds=cuts, baseline=baseline,
                          progress=progress, started=t0)
    model_obj = build_conditional_hypergeometric(binary, priors)
    idata, times = sample_model(model_obj, settings, progress)
    t1 = time.perf_counter()
    diagnostics = diagnose(idata, var_names=["theta", "tau", "theta_study", "theta_new"])
    return ConditionalMetaResult(
        data=binary, priors=priors, settings=settings, idata=idata, diagnostics=diagnostics,
        thresholds=cuts, baseline=baseline, model="conditional_hypergeometric",
        timings={"build_and_sample_s": t1 - t0, "compile_s": times.compile_s,
                 "sample_s": times.sample_s})


def _priors_from(model_name: str, model: str | Path | None,
                 given: dict[str, tuple[str | Prior | None, str, str]]) -> dict[str, Prior]:
    """Priors for ``model_name`` from a model file (optional) overridden by single priors;
    ``given`` maps a slot to (value, option, support). A value for a slot the model does
    not have is refused."""
    from bayesmeta.models.spec_files import MODEL_PRIOR_SLOTS

    slots = MODEL_PRIOR_SLOTS[model_name]
    chosen: dict[str, Prior] = {}
    places: dict[str, str] = {}
    if model is not None:
        spec = load_model_spec(model)
        if spec.model != model_name:
            raise InputError(f"model file is for '{spec.model}', not {model_name}",
                             source=str(spec.path))
        chosen.update(spec.priors)
        places.update({slot: f"{spec.path} [priors] {slot}" for slot in spec.priors})
    for slot, (value, option, support) in given.items():
        if value is None:
            continue
        if slot not in slots:
            raise InputError(f"the {model_name} model has no {slot} prior (its priors: "
                             f"{', '.join(slots)})", source=option)
        chosen[slot] = parse_prior(value, option=option, support=support)
        places[slot] = option
    for slot, prior in chosen.items():
        if not prior.proper:  # these models are fitted by MCMC, which needs proper priors
            raise InputError(f"'{prior.spec}' is an improper prior, usable only by exact "
                             f"methods, not by the {model_name} MCMC model; choose a proper "
                             "one (e.g. halfnormal:0.5 for tau, normal:0:2.82 for the effect)",
                             source=places[slot])
    return chosen


def conditional_priors(*, model: str | Path | None = None,
                       tau_prior: str | Prior | None = None,
                       effect_prior: str | Prior | None = None,
                       baseline_prior: str | Prior | None = None) -> ConditionalPriors:
    """Priors of the conditional (hypergeometric)–normal model: effect and τ only."""
    return ConditionalPriors(**_priors_from("conditional_hypergeometric", model, {
        "tau": (tau_prior, "--tau-prior", "positive"),
        "effect": (effect_prior, "--effect-prior", "real"),
        "baseline": (baseline_prior, "--baseline-prior", "real")}))


def poisson_normal_priors(*, model: str | Path | None = None,
                          tau_prior: str | Prior | None = None,
                          effect_prior: str | Prior | None = None,
                          baseline_prior: str | Prior | None = None) -> PoissonNormalPriors:
    """Priors of the Poisson–normal model from a model file and/or single priors."""
    return PoissonNormalPriors(**_priors_from("poisson_normal", model, {
        "tau": (tau_prior, "--tau-prior", "positive"),
        "effect": (effect_prior, "--effect-prior", "real"),
        "baseline": (baseline_prior, "--baseline-prior", "real")}))


def load_rates(data: RateLike, *, subgroup: str | None = None,
               subgroup_column: str = "subgroup", **read_options) -> RateData:
    """Event-rate data (events and person-time per arm) from a RateData, DataFrame, CSV path
    or bundled dataset name."""
    if isinstance(data, RateData):
        loaded = data
    elif isinstance(data, pd.DataFrame):
        loaded = read_rates(data, **read_options)
    else:
        loaded = read_rates(datasets.resolve(data, kind="rates"), **read_options)
    if subgroup is not None:
        loaded = loaded.select(subgroup_column, subgroup)
    return loaded


def fit_rates(
    data: RateLike,
    *,
    priors: PoissonNormalPriors | None = None,
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
    baseline_rate: float | None = None,
    subgroup: str | None = None,
    progress: Progress | None = None,
    read_options: Mapping[str, object] | None = None,
) -> RateMetaResult:
    """Fit the Poisson–normal model (:mod:`bayesmeta.models.poisson_exposure`) to events
    over person-time by NUTS. Arguments as :func:`fit_binary`; ``thresholds`` are rate-ratio
    thresholds, ``baseline_rate`` the control-arm event rate per unit of person-time for
    absolute effects (default: pooled control arms)."""
    rates = load_rates(data, subgroup=subgroup, **dict(read_options or {}))
    if priors is None:
        priors = poisson_normal_priors(model=model, tau_prior=tau_prior,
                                       effect_prior=effect_prior,
                                       baseline_prior=baseline_prior)
    settings = SamplerSettings(sampler=sampler, chains=chains, draws=draws, tune=tune,
                               seed=seed, target_accept=target_accept, cores=cores)
    cuts = tuple(float(c) for c in thresholds)
    for c in cuts:
        if not (c > 0 and c < float("inf")):
            raise InputError(f"a rate-ratio threshold must be a positive number (got {c:g})",
                             source="--threshold")
    baseline = None
    if baseline_rate is not None:
        if not 0 < baseline_rate < float("inf"):
            raise InputError(f"must be a positive rate (got {baseline_rate:g})",
                             source="--baseline-rate")
        baseline = BaselineRate(float(baseline_rate), "given by the user")
    t0 = time.perf_counter()
    idata, times = sample_model(build_poisson_exposure(rates, priors), settings, progress)
    t1 = time.perf_counter()
    diagnostics = diagnose(idata, var_names=["theta", "tau", "theta_study", "theta_new", "mu"])
    return RateMetaResult(
        data=rates, priors=priors, settings=settings, idata=idata, diagnostics=diagnostics,
        thresholds=cuts, baseline=baseline,
        timings={"build_and_sample_s": t1 - t0, "compile_s": times.compile_s,
                 "sample_s": times.sample_s})


# -- effect sizes: the normal–normal model ----------------------------------------------
EffectsLike = EffectsData | BinaryData | pd.DataFrame | str | Path
ContinuousLike = ContinuousData | pd.DataFrame | str | Path
METHODS = ("exact", "mcmc")


def _looks_binary(data: pd.DataFrame | str | Path, read_options: Mapping[str, object]) -> bool:
    """True when a table holds two-arm counts rather than effect estimates."""
    from bayesmeta.data.binary import WIDE_ALIASES
    from bayesmeta.data.table import read_table

    table = read_table(data, sep=str(read_options.get("sep", ",")),
                       encoding=str(read_options.get("encoding", "utf-8")))
    cols = set(table.frame.columns) | set(dict(read_options.get("columns") or {}))
    if cols & set(EFFECT_ALIASES["yi"]):
        return False
    return bool(cols & set(WIDE_ALIASES["events_t"])) or {"arm", "events"} <= cols


def load_effects(data: EffectsLike, *, measure: str | None = None,
                 subgroup: str | None = None, subgroup_column: str = "subgroup",
                 cc: float | None = None, cc_to: str = "only0",
                 drop_double_zero: bool = True, **read_options) -> EffectsData:
    """Effect estimates from an EffectsData, DataFrame, CSV path or bundled dataset name.

    Two-arm event counts (a BinaryData, a bundled binary dataset, or a table with
    ``events_t, n_t, events_c, n_c``) are turned into log ORs (``measure``: logOR [default],
    logRR or RD) — with a continuity correction only when ``cc`` is given
    (:func:`~bayesmeta.data.effects.effects_from_binary`).
    """
    if isinstance(data, EffectsData):
        _refuse_count_options(cc, cc_to, drop_double_zero, read_options)
        loaded = data
        if measure is not None and parse_measure(measure) != data.measure:
            if data.measure != "generic":
                raise InputError(f"the data hold {data.measure}, not {parse_measure(measure)}",
                                 source="--measure")
            loaded = replace(data, measure=parse_measure(measure))
    elif isinstance(data, BinaryData):
        if subgroup is not None:  # select the tables first: conversion may drop some
            data, subgroup = data.select(subgroup_column, subgroup), None
        loaded = effects_from_binary(data, measure=measure or "logOR", cc=cc, cc_to=cc_to,
                                     drop_double_zero=drop_double_zero)
    else:
        source: pd.DataFrame | Path
        if isinstance(data, pd.DataFrame):
            source, kind = data, None
        else:
            source = datasets.resolve(data)
            kind = next((d.kind for d in datasets.registry().values() if d.path == source),
                        None)
        if kind == "continuous":
            raise InputError(f"'{data}' holds arm-level continuous data: use `bayesmeta fit "
                             "continuous` (fit_continuous) with --measure MD or SMD")
        if kind not in (None, "binary", "effects"):
            raise InputError(f"bundled dataset '{data}' holds {kind} data, not effects")
        if kind == "binary" or (kind is None and _looks_binary(source, read_options)):
            binary = read_binary(source, **read_options)
            if subgroup is not None:  # select the tables first: conversion may drop some
                binary, subgroup = binary.select(subgroup_column, subgroup), None
            loaded = effects_from_binary(binary, measure=measure or "logOR", cc=cc,
                                         cc_to=cc_to, drop_double_zero=drop_double_zero)
        else:
            _refuse_count_options(cc, cc_to, drop_double_zero, read_options)
            allowed = {k: v for k, v in read_options.items()
                       if k in ("columns", "sep", "encoding")}
            loaded = read_effects(source, measure=measure, **allowed)
    if subgroup is not None:
        loaded = loaded.select(subgroup_column, subgroup)
    return loaded


#: Options that only two-arm event counts use, with their command-line names and the
#: value meaning "not given".
_COUNT_OPTIONS = {"layout": ("--layout", "auto"), "treatment": ("--treatment", None),
                  "control": ("--control", None)}


def _refuse_count_options(cc: float | None, cc_to: str, drop_double_zero: bool,
                          read_options: Mapping[str, object]) -> None:
    """Effect estimates (yi, sei) take no continuity correction and have no arms: an
    option for counts given with them is refused, not silently ignored."""
    given = [option for key, (option, unset) in _COUNT_OPTIONS.items()
             if read_options.get(key, unset) != unset]
    given += [option for option, is_given in (("--cc", cc is not None),
                                              ("--cc-to", cc_to != "only0"),
                                              ("--keep-double-zero", not drop_double_zero))
              if is_given]
    if given:
        raise InputError("applies to two-arm event counts, but the data are effect "
                         "estimates (yi with sei or vi): leave it out, or give the 2×2 "
                         "tables (study, events_t, n_t, events_c, n_c)", source=given[0])


def load_continuous(data: ContinuousLike, *, subgroup: str | None = None,
                    subgroup_column: str = "subgroup", **read_options) -> ContinuousData:
    """Arm-level means/SDs/ns from a ContinuousData, DataFrame, CSV path or bundled name."""
    if isinstance(data, ContinuousData):
        loaded = data
    elif isinstance(data, pd.DataFrame):
        loaded = read_continuous(data, **read_options)
    else:
        loaded = read_continuous(datasets.resolve(data, kind="continuous"), **read_options)
    if subgroup is not None:
        loaded = loaded.select(subgroup_column, subgroup)
    return loaded


def nnhm_priors(measure: str = "generic", *, model: str | Path | None = None,
                tau_prior: str | Prior | None = None,
                mu_prior: str | Prior | None = None) -> NNHMPriors:
    """Priors of the normal–normal model: the measure's defaults (``models/nnhm_*.toml``),
    then a model file, then single priors — each overriding the one before."""
    chosen: dict[str, Prior] = {}
    default = default_prior_file(parse_measure(measure))
    if default is not None:
        chosen.update(load_model_spec(default).priors)
    if model is not None:
        spec = load_model_spec(model)
        if spec.model != "nnhm":
            raise InputError(f"model file is for '{spec.model}', not nnhm",
                             source=str(spec.path))
        chosen.update(spec.priors)
    for slot, value, option, support in (("tau", tau_prior, "--tau-prior", "positive"),
                                         ("mu", mu_prior, "--mu-prior", "real")):
        if value is not None:
            chosen[slot] = parse_prior(value, option=option, support=support)
    return NNHMPriors(**chosen)


def _require_tau_prior(effects: EffectsData, priors: NNHMPriors) -> None:
    if priors.tau is not None:
        return
    uisd = effects.unit_information_sd()
    orient = (f" (for orientation: the unit-information SD of these data, "
              f"sqrt(sum n / sum se^-2), is {uisd:.3g})" if uisd else "")
    raise InputError(
        f"effects on the {effects.measure} scale have no default prior for tau: a "
        "between-study SD must be stated in the outcome's own units. Give --tau-prior "
        "(tau_prior=), e.g. halfnormal:S with S a between-study SD you would call large"
        f"{orient}, or a scale-free reference prior, uniform_improper (R bayesmeta's "
        "default) or jeffreys (exact method only); see models/nnhm_reference.toml",
        source="--tau-prior")


def _check_thresholds(thresholds: Iterable[float]) -> tuple[float, ...]:
    cuts = tuple(float(c) for c in thresholds)
    for c in cuts:
        if not np.isfinite(c):
            raise InputError(f"a threshold must be a finite number (got {c:g})",
                             source="--threshold")
    return cuts


def fit_effects(
    data: EffectsLike,
    *,
    measure: str | None = None,
    priors: NNHMPriors | None = None,
    model: str | Path | None = None,
    tau_prior: str | Prior | None = None,
    mu_prior: str | Prior | None = None,
    effect_prior: str | Prior | None = None,
    method: str = "exact",
    thresholds: Iterable[float] = (),
    subgroup: str | None = None,
    cc: float | None = None,
    cc_to: str = "only0",
    drop_double_zero: bool = True,
    sampler: str = "auto",
    chains: int = 4,
    draws: int = 1000,
    tune: int = 1000,
    seed: int = 1,
    target_accept: float = 0.9,
    cores: int | None = None,
    progress: Progress | None = None,
    read_options: Mapping[str, object] | None = None,
) -> EffectsMetaResult:
    """Fit the normal–normal model (:mod:`bayesmeta.models.nnhm`) to effect estimates.

    Parameters
    ----------
    data
        Estimates and standard errors (``study, yi, sei`` or ``vi``): a bundled dataset
        name, CSV path, DataFrame or EffectsData; or two-arm counts, turned into ``measure``
        (logOR by default) with a continuity correction ``cc`` only when given.
    measure
        The scale of the effects: logOR, logRR, logHR, RD, MD, SMD or generic (default).
        It chooses the default priors (none for τ on MD/RD/generic: give ``tau_prior``).
    priors, model, tau_prior, mu_prior (alias effect_prior)
        An :class:`NNHMPriors`, or a model file (bundled name or path) and/or single
        priors such as ``tau_prior="halfnormal:0.5"``, ``mu_prior="normal:0:4"``.
    method
        ``"exact"`` (quadrature, milliseconds, no Monte Carlo error; allows improper
        priors) or ``"mcmc"`` (NUTS on the PyMC model; needs proper priors).
    thresholds
        Values c on the displayed scale — an OR (RR, HR) for log-ratio effects, e.g. 1.5;
        the effects' own scale otherwise — for which P(μ > c) and P(θ_new > c) are reported
        (c as a log ratio for log ratios), as by ``sensitivity``, ``influence`` and the plots.
    sampler, chains, draws, tune, seed, target_accept, cores
        NUTS settings for ``method="mcmc"``.
    """
    effects = load_effects(data, measure=measure, subgroup=subgroup, cc=cc, cc_to=cc_to,
                           drop_double_zero=drop_double_zero, **dict(read_options or {}))
    return _fit_nnhm(effects, priors=priors, model=model, tau_prior=tau_prior,
                     mu_prior=mu_prior, effect_prior=effect_prior, method=method,
                     thresholds=_effect_scale_thresholds(effects, thresholds),
                     sampler=sampler, chains=chains, draws=draws, tune=tune, seed=seed,
                     target_accept=target_accept, cores=cores, progress=progress)


def fit_continuous(
    data: ContinuousLike,
    *,
    measure: str = "MD",
    outcome_type: str | None = None,
    priors: NNHMPriors | None = None,
    model: str | Path | None = None,
    tau_prior: str | Prior | None = None,
    mu_prior: str | Prior | None = None,
    effect_prior: str | Prior | None = None,
    method: str = "exact",
    thresholds: Iterable[float] = (),
    subgroup: str | None = None,
    sampler: str = "auto",
    chains: int = 4,
    draws: int = 1000,
    tune: int = 1000,
    seed: int = 1,
    target_accept: float = 0.9,
    cores: int | None = None,
    progress: Progress | None = None,
    read_options: Mapping[str, object] | None = None,
) -> EffectsMetaResult:
    """Meta-analysis of arm-level continuous data (mean, SD, n per arm) as MD or SMD.

    ``measure``: ``"MD"`` (mean difference, the outcome's units; needs a ``tau_prior``) or
    ``"SMD"`` (Hedges' g). ``outcome_type``: ``"final"`` or ``"change"`` (from baseline)
    for all studies, when the data have no ``outcome_type`` column. Other arguments as
    :func:`fit_effects`.
    """
    options = dict(read_options or {})
    if outcome_type is not None:
        options["outcome_type"] = outcome_type
    arms = load_continuous(data, subgroup=subgroup, **options)
    canon = parse_measure(measure)
    if canon not in ("MD", "SMD"):
        raise InputError(f"continuous arms give MD or SMD, not {measure}", source="--measure")
    effects = arms.effects(canon)
    return _fit_nnhm(effects, priors=priors, model=model, tau_prior=tau_prior,
                     mu_prior=mu_prior, effect_prior=effect_prior, method=method,
                     thresholds=_effect_scale_thresholds(effects, thresholds),
                     sampler=sampler, chains=chains, draws=draws, tune=tune, seed=seed,
                     target_accept=target_accept, cores=cores, progress=progress)


def _effect_scale_thresholds(effects: EffectsData,
                             thresholds: Iterable[float]) -> tuple[float, ...]:
    """Thresholds given on the displayed scale (ORs for log ORs) on the effects' scale."""
    scale = EFFECT_SIZE_SCALES[effects.measure]
    return tuple(scale.to_internal(c) for c in scale.displayed_thresholds(thresholds))


def _fit_nnhm(effects: EffectsData, *, priors: NNHMPriors | None, model, tau_prior, mu_prior,
              effect_prior, method: str, thresholds: Iterable[float], sampler: str,
              chains: int, draws: int, tune: int, seed: int, target_accept: float,
              cores: int | None, progress: Progress | None) -> EffectsMetaResult:
    if method not in METHODS:
        raise InputError(f"unknown method '{method}'; use exact or mcmc", source="--method")
    if effect_prior is not None:
        if mu_prior is not None and str(mu_prior) != str(effect_prior):
            raise InputError("give --mu-prior or its alias --effect-prior, not both",
                             source="--effect-prior")
        mu_prior = effect_prior
    if priors is None:
        priors = nnhm_priors(effects.measure, model=model, tau_prior=tau_prior,
                             mu_prior=mu_prior)
    _require_tau_prior(effects, priors)
    cuts = _check_thresholds(thresholds)
    t0 = time.perf_counter()
    if method == "exact":
        from bayesmeta.inference.nnhm_exact import NNHMInput, nnhm_exact

        assert priors.tau is not None
        try:
            posterior = nnhm_exact(NNHMInput(np.asarray(effects.yi, float),
                                             np.asarray(effects.sei, float), priors.mu,
                                             priors.tau))
        except FloatingPointError as exc:  # numbers beyond double precision: say so
            raise InputError(f"the exact posterior cannot be computed for these data ({exc}); "
                             "are some estimates or standard errors extreme?",
                             source=effects.source) from None
        return EffectsMetaResult(data=effects, priors=priors, method="exact", exact=posterior,
                                 thresholds=cuts,
                                 timings={"exact_s": time.perf_counter() - t0})
    places = {}
    if model is not None:  # an improper prior from a model file is named by the file
        spec = load_model_spec(model)
        given = {"mu": mu_prior, "tau": tau_prior}
        places = {slot: f"{spec.path} [priors] {slot}" for slot in spec.priors
                  if given.get(slot) is None}
    priors.require_proper(places)
    settings = SamplerSettings(sampler=sampler, chains=chains, draws=draws, tune=tune,
                               seed=seed, target_accept=target_accept, cores=cores)
    model_obj = build_nnhm(effects, priors)
    idata, times = sample_model(model_obj, settings, progress)
    t1 = time.perf_counter()
    diagnostics = diagnose(idata, var_names=["mu", "tau", "theta", "theta_new"])
    return EffectsMetaResult(data=effects, priors=priors, method="mcmc", idata=idata,
                             settings=settings, diagnostics=diagnostics, thresholds=cuts,
                             timings={"build_and_sample_s": t1 - t0,
                                      "compile_s": times.compile_s,
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


_SAMPLER_DEFAULTS: dict[str, Any] = {"sampler": "auto", "chains": 4, "draws": 1000,
                                     "tune": 1000, "seed": 1, "target_accept": 0.9,
                                     "cores": None}


def refit_effects(result: EffectsMetaResult, data: EffectsData,
                  progress: Progress | None = None) -> EffectsMetaResult:
    """Fit the normal–normal model to ``data`` with ``result``'s priors, method and
    thresholds (and, for MCMC, its sampler settings and seed). With the exact method a
    refit takes milliseconds and equals a separate exact fit without the study."""
    s = result.settings
    sampler = ({} if s is None else
               {"sampler": s.sampler, "chains": s.chains, "draws": s.draws, "tune": s.tune,
                "seed": s.seed, "target_accept": s.target_accept, "cores": s.cores})
    return _fit_nnhm(data, priors=result.priors, model=None, tau_prior=None, mu_prior=None,
                     effect_prior=None, method=result.method, thresholds=result.thresholds,
                     progress=progress, **{**_SAMPLER_DEFAULTS, **sampler})


def refit_rates(result: RateMetaResult, data: RateData,
                progress: Progress | None = None) -> RateMetaResult:
    """Fit the Poisson–normal model to ``data`` with ``result``'s priors, sampler settings,
    seed, thresholds and baseline rate (a leave-one-study-out refit)."""
    s = result.settings
    baseline = result.baseline.value if result.baseline is not None else None
    return fit_rates(data, priors=result.priors, sampler=s.sampler, chains=s.chains,
                     draws=s.draws, tune=s.tune, seed=s.seed, target_accept=s.target_accept,
                     cores=s.cores, thresholds=result.thresholds, baseline_rate=baseline,
                     progress=progress)


#: How to refit each kind of result without a study: result class → refit(result, data).
#: A new model adds its entry (the normal–normal model: an exact fit).
REFITTERS: dict[type, Callable[[Any, Any], Any]] = {
    BinaryMetaResult: refit_binary,
    ConditionalMetaResult: refit_binary,  # its priors select the conditional likelihood
    EffectsMetaResult: refit_effects,
    RateMetaResult: refit_rates,
}


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

def fit_classical(data: DataLike | RateLike, method: str = "REML", *,
                  measure: str | None = None, cc: float = 0.5, cc_to: str = "only0",
                  cc_method: str = "constant", drop00: bool | None = None,
                  test: str = "z", level: float = 0.95,
                  subgroup: str | None = None) -> ClassicalFit:
    """A classical (frequentist) meta-analysis, for comparison with the Bayesian models.

    ``method``: ``"MH"``, ``"Peto"``, ``"FE"``, ``"DL"``, ``"REML"``, ``"ML"``, ``"PM"`` or
    ``"GLMM"``; ``measure``: ``"OR"`` (default), ``"RR"``, ``"RD"`` for binary data,
    ``"IRR"`` (default) or ``"IRD"`` for rates. The zero-cell rule of the inverse-variance
    methods: ``cc`` added (``cc_method="constant"``, or ``"tacc"`` for the treatment-arm
    correction) to the tables chosen by ``cc_to`` (``"only0"``, ``"all"``, ``"if0all"``,
    ``"none"`` = no correction: tables with a zero cell are left out); ``drop00`` drops
    double-zero tables (default: True for binary data, False for rates, as metafor).
    ``test="knha"`` gives the Hartung–Knapp–Sidik–Jonkman interval. See
    :mod:`bayesmeta.inference.classical`.
    """
    loaded = load_data(data)
    if subgroup is not None:
        loaded = loaded.select("subgroup", subgroup)
    if isinstance(loaded, RateData):
        from bayesmeta.inference.classical.analyses import classical_rates

        return classical_rates(loaded, method, measure=measure or "IRR", cc=cc, cc_to=cc_to,
                               drop00=bool(drop00), test=test, level=level)
    from bayesmeta.inference.classical.analyses import classical_binary

    return classical_binary(loaded, method, measure=measure or "OR", cc=cc, cc_to=cc_to,
                            cc_method=cc_method, drop00=True if drop00 is None else drop00,
                            test=test, level=level)


def compare(data: DataLike | RateLike, methods: Iterable[str] | None = None, **options):
    """Every classical method and every Bayesian model on the same data, in one table.

    See :func:`bayesmeta.comparison.compare` for the options (``measure``, sampler
    settings, ``progress``); ``bayesmeta.comparison.METHODS`` lists the methods.
    """
    from bayesmeta.comparison import compare as run_compare

    return run_compare(data, methods=methods, **options)


# -- longitudinal (effects at repeated follow-ups) -------------------------------------------
LongitudinalLike = LongitudinalData | pd.DataFrame | str | Path


def bundled_defaults(data: object) -> dict[str, object]:
    """Reading options of a bundled dataset given by name (``{}`` for files and frames)."""
    if isinstance(data, (str, Path)) and not Path(data).exists():
        reg = datasets.registry()
        if str(data) in reg:
            return dict(reg[str(data)].defaults)
    return {}


def load_longitudinal(data: LongitudinalLike, **read_options) -> LongitudinalData:
    """Effects per study and time from a LongitudinalData, DataFrame, CSV path or bundled
    dataset name (whose reading defaults, e.g. ``time_col``, apply unless overridden).

    ``read_options`` go to :func:`~bayesmeta.data.longitudinal.read_longitudinal`;
    ``None`` values mean "not given".
    """
    if isinstance(data, LongitudinalData):
        return data
    options = {k: v for k, v in read_options.items() if v is not None}
    if isinstance(data, pd.DataFrame):
        return read_longitudinal(data, **options)
    defaults = bundled_defaults(data)
    own_time_col = options.get("time_col", defaults.get("time_col")) == defaults.get("time_col")
    for key in ("time_col", "missing_time", "time_unit", "measure"):
        if key in defaults and (own_time_col or key == "measure"):
            options.setdefault(key, defaults[key])
    return read_longitudinal(datasets.resolve(data, kind="longitudinal"), **options)


def longitudinal_priors(
    data: LongitudinalData,
    options: LongitudinalOptions,
    *,
    effect_prior: str | Prior | None = None,
    tau_prior: str | Prior | None = None,
    corr_prior: str | Prior | None = None,
    lkj_eta: float | None = None,
    rho_within: float | str | Prior | None = None,
) -> LongitudinalPriors:
    """Default priors (scaled to the data) with any single prior overriding its default."""
    chosen: dict[str, object] = {}
    if effect_prior is not None:
        chosen["effect"] = parse_prior(effect_prior, option="--effect-prior", support="real")
    if tau_prior is not None:
        chosen["tau"] = parse_prior(tau_prior, option="--tau-prior", support="positive")
    if corr_prior is not None:
        chosen["corr"] = correlation_prior(corr_prior, option="--corr-prior")
    if lkj_eta is not None:
        chosen["lkj_eta"] = float(lkj_eta)
    if rho_within is not None:
        chosen["rho_within"] = rho_within_value(rho_within)
    return dataclasses.replace(default_priors(data, options), **chosen)


def fit_longitudinal(
    data: LongitudinalLike,
    *,
    structure: str = "ar1",
    tau_per_time: bool | None = None,
    within: str = "cs",
    rho_within: float | str | Prior | None = None,
    priors: LongitudinalPriors | None = None,
    effect_prior: str | Prior | None = None,
    tau_prior: str | Prior | None = None,
    corr_prior: str | Prior | None = None,
    lkj_eta: float | None = None,
    lower_is_better: bool | None = None,
    thresholds: Iterable[float] = (),
    time_col: str | None = None,
    missing_time: float | None = None,
    time_unit: str | None = None,
    measure: str | None = None,
    where: Mapping[str, str] | None = None,
    sampler: str = "auto",
    chains: int = 4,
    draws: int = 1000,
    tune: int = 1000,
    seed: int = 1,
    target_accept: float = 0.9,
    cores: int | None = None,
    progress: Progress | None = None,
    read_options: Mapping[str, object] | None = None,
) -> LongitudinalMetaResult:
    """Fit the joint model of effects over time (:mod:`bayesmeta.models.longitudinal`).

    Parameters
    ----------
    data
        One row per study × time: contrasts (``study, time, yi, sei`` or ``vi``) or arms
        (``mean, sd, n``); a bundled dataset name, CSV path, DataFrame or LongitudinalData.
    structure, tau_per_time
        Between-study correlation of a study's effects over time: ``"ar1"`` (continuous-time
        AR(1), default), ``"cs"`` (compound symmetry) or ``"un"`` (unstructured, LKJ);
        one τ for all times (default for cs/ar1) or one per time (``tau_per_time=True``).
    within, rho_within
        Within-study correlation of a study's estimates at two times: ``"cs"`` (ρ_w, the
        default) or ``"ar1"`` (ρ_w^|Δt|); ρ_w fixed (default 0.5) or a prior
        (``"beta:2:2"``).
    priors, effect_prior, tau_prior, corr_prior, lkj_eta
        All priors at once, or single overrides of the data-scaled defaults.
    lower_is_better
        The outcome's direction: P(benefit) = P(effect < 0) if True, P(effect > 0) if
        False; None reports both P(< 0) and P(> 0) without saying which is good.
    thresholds
        Also report P(effect < c) and P(effect > c) for these c (e.g. a minimal
        important difference).
    time_col, missing_time, time_unit, measure, where
        Reading options (see :func:`~bayesmeta.data.longitudinal.read_longitudinal`).
    """
    defaults = bundled_defaults(data)
    loaded = load_longitudinal(data, time_col=time_col, missing_time=missing_time,
                               time_unit=time_unit, measure=measure, where=where,
                               **dict(read_options or {}))
    options = LongitudinalOptions(structure=structure, tau_per_time=tau_per_time,
                                  within=within)
    if priors is None:
        priors = longitudinal_priors(loaded, options, effect_prior=effect_prior,
                                     tau_prior=tau_prior, corr_prior=corr_prior,
                                     lkj_eta=lkj_eta, rho_within=rho_within)
    settings = SamplerSettings(sampler=sampler, chains=chains, draws=draws, tune=tune,
                               seed=seed, target_accept=target_accept, cores=cores)
    if settings.resolved_sampler in ("numpyro", "blackjax"):
        raise InputError("the longitudinal model's likelihood is a numba operation that JAX "
                         "samplers cannot run; use --sampler nutpie (default) or pymc",
                         source="--sampler")
    if lower_is_better is None and "lower_is_better" in defaults:
        lower_is_better = bool(defaults["lower_is_better"])
    direction = None if lower_is_better is None else ("lower" if lower_is_better else "higher")
    cuts = tuple(float(c) for c in thresholds)
    for c in cuts:
        if not np.isfinite(c):
            raise InputError(f"a threshold must be a finite number (got {c})",
                             source="--threshold")
    t0 = time.perf_counter()
    model_obj = build_longitudinal(loaded, priors, options)
    idata, times = sample_model(model_obj, settings, progress)
    t1 = time.perf_counter()
    posterior = idata["posterior"].to_dataset()
    derived = derived_draws(loaded, options, posterior, settings.seed)
    idata["posterior"] = xr.DataTree(xr.merge([posterior, derived]))
    names = [n for n in free_parameter_names(loaded, priors, options) if n != "corr_cpc01"]
    if options.structure == "un" and loaded.n_times > 1:
        names.append("corr")
    diagnostics = diagnose(idata, var_names=names)
    return LongitudinalMetaResult(
        data=loaded, priors=priors, options=options, settings=settings, idata=idata,
        diagnostics=diagnostics, direction=direction, thresholds=cuts,
        timings={"build_and_sample_s": t1 - t0, "compile_s": times.compile_s,
                 "sample_s": times.sample_s, "derived_s": time.perf_counter() - t1})


class BinaryFitter:
    """The binomial–normal model of one data set, compiled once, fitted with any priors.

    Priors enter the compiled model as data
    (:mod:`bayesmeta.models.binomial_normal_prior_data`), so :meth:`fit` with other priors
    does not recompile, and a fit from a fitter made for other priors gives exactly the
    numbers of a fresh ``fit_binary`` with the same priors, settings and seed. A prior
    family that cannot be given as data falls back to
    :func:`~bayesmeta.models.binomial_normal.build_binomial_normal` (one compile per fit).
    """

    def __init__(self, data: BinaryData, priors: BinomialNormalPriors, sampler: str,
                 progress: Progress | None = None) -> None:
        self.data = data
        self.sampler = sampler
        self.priors_as_data = all(prior_data.supports(p) for p in priors.as_dict().values())
        if self.priors_as_data:
            model = prior_data.build_binomial_normal_prior_data(data, priors)
        else:
            model = build_binomial_normal(data, priors)
        self._fixed_priors = None if self.priors_as_data else priors
        self.prepared = PreparedModel(model, sampler, progress)

    def accepts(self, priors: BinomialNormalPriors) -> bool:
        """Whether :meth:`fit` can use these priors without recompiling."""
        if self.priors_as_data:
            return all(prior_data.supports(p) for p in priors.as_dict().values())
        return priors == self._fixed_priors

    def start(self, priors: BinomialNormalPriors, settings: SamplerSettings,
              progress: Progress | None = None) -> RunningSampler:
        """Start sampling under ``priors`` (in the background with nutpie)."""
        if not self.accepts(priors):
            raise InputError(f"the priors {', '.join(p.spec for p in priors.as_dict().values())}"
                             " cannot be given to this compiled model")
        if self.priors_as_data:
            return self.prepared.start(
                settings, data={prior_data.PRIOR_VALUES: prior_data.encode_priors(priors)},
                progress=progress, drop=prior_data.SAMPLING_ONLY)
        return self.prepared.start(settings, progress=progress)

    def finish(self, running: RunningSampler, priors: BinomialNormalPriors,
               settings: SamplerSettings, *, thresholds: tuple[float, ...] = (),
               baseline: BaselineRisk | None = None,
               started: float | None = None) -> BinaryMetaResult:
        """The :class:`BinaryMetaResult` of a run started by :meth:`start`."""
        t0 = time.perf_counter() if started is None else started
        idata, times = running.wait()
        return self.result(idata, times, priors, settings, thresholds=thresholds,
                           baseline=baseline, started=t0)

    def result(self, idata: xr.DataTree, times: SamplingTimes, priors: BinomialNormalPriors,
               settings: SamplerSettings, *, thresholds: tuple[float, ...] = (),
               baseline: BaselineRisk | None = None,
               started: float | None = None) -> BinaryMetaResult:
        """Diagnose sampled draws and wrap them in a :class:`BinaryMetaResult`."""
        t0 = time.perf_counter() if started is None else started
        t1 = time.perf_counter()
        diagnostics = diagnose(idata, var_names=["theta", "tau", "theta_study", "theta_new",
                                                 "mu"])
        return BinaryMetaResult(
            data=self.data, priors=priors, settings=settings, idata=idata,
            diagnostics=diagnostics, thresholds=thresholds, baseline=baseline,
            timings={"build_and_sample_s": t1 - t0, "compile_s": self.prepared.compile_s,
                     "sample_s": times.sample_s})

    def fit(self, priors: BinomialNormalPriors, settings: SamplerSettings, *,
            thresholds: tuple[float, ...] = (), baseline: BaselineRisk | None = None,
            progress: Progress | None = None, started: float | None = None) -> BinaryMetaResult:
        """A full :class:`BinaryMetaResult` under ``priors``."""
        t0 = time.perf_counter() if started is None else started
        running = self.start(priors, settings, progress)
        return self.finish(running, priors, settings, thresholds=thresholds,
                           baseline=baseline, started=t0)


# -- prior sensitivity ----------------------------------------------------------------------
_NOT_YET = ("prior sensitivity for --model {model} needs the exact normal–normal model, "
            "which is not in this version yet; available now: --model binary")

PriorsLike = str | Path | PriorSet | Mapping[str, Mapping[str, str | Prior]]


def load_priors(priors: PriorsLike, *, model: str = "binomial_normal") -> PriorSet:
    """A prior set from a TOML file or bundled name, a PriorSet, or a dict of configurations
    ``{"name": {"tau": "halfcauchy:0.5", ...}, ...}`` (the first is the reference)."""
    if isinstance(priors, PriorSet):
        return priors
    if isinstance(priors, Mapping):
        configs = [{"name": name, **dict(slots)} for name, slots in priors.items()]
        return prior_set_from_dict({"configuration": configs}, model=model)
    return load_prior_set(priors, model=model)


def reweight(result: BinaryMetaResult, *, priors: BinomialNormalPriors | None = None,
             tau_prior: str | Prior | None = None, effect_prior: str | Prior | None = None,
             baseline_prior: str | Prior | None = None, refit: bool = True,
             progress: Progress | None = None) -> ReweightedResult:
    """``result`` under other priors by Pareto-smoothed importance reweighting, refitting
    (same data, settings and seed) when that is unreliable — Pareto k̂ above
    min(1 − 1/log10 S, 0.7), or draws that cannot cover the new prior
    (:mod:`bayesmeta.results.reweighting`). Unchanged slots keep ``result``'s priors."""
    if priors is None:
        chosen = result.priors.as_dict()
        for slot, value, option, support in (
                ("tau", tau_prior, "--tau-prior", "positive"),
                ("effect", effect_prior, "--effect-prior", "real"),
                ("baseline", baseline_prior, "--baseline-prior", "real")):
            if value is not None:
                chosen[slot] = parse_prior(value, option=option, support=support)
        priors = BinomialNormalPriors(**chosen)
    out = reweight_draws(result, priors)
    if out.reliable or not refit:
        return out
    fitter = BinaryFitter(result.data, priors, result.settings.resolved_sampler, progress)
    again = fitter.fit(priors, result.settings, thresholds=result.thresholds,
                       baseline=result.baseline, progress=progress)
    return replace(out, refit=again)


def sensitivity(
    data: DataLike | EffectsLike,
    *,
    priors: PriorsLike | None = None,
    model: str = "binary",
    method: str | None = None,
    thresholds: Iterable[float] = (),
    sampler: str = "auto",
    chains: int = 4,
    draws: int = 1000,
    tune: int = 1000,
    seed: int = 1,
    target_accept: float = 0.9,
    cores: int | None = None,
    subgroup: str | None = None,
    progress: Progress | None = None,
    read_options: Mapping[str, object] | None = None,
    measure: str | None = None,
    outcome_type: str | None = None,
    cc: float | None = None,
    cc_to: str = "only0",
    drop_double_zero: bool = True,
) -> Any:
    """Fit the meta-analysis under every prior configuration of a prior set.

    The model is compiled once; each configuration's priors enter it as data, so each row
    equals ``fit_binary`` with that configuration's priors and the same settings and seed.
    ``method="reweight"`` reweights the reference fit to the other priors where that is
    reliable (:func:`reweight`) and refits the rest. Returns a :class:`SensitivityResult`
    (table, verdict, each configuration's result).

    With ``model="effects"`` or ``"continuous"`` the normal–normal model is fitted instead
    (:mod:`bayesmeta.nnhm_sweeps`): exactly by default (milliseconds per prior), each row
    being ``fit_effects`` with that prior; the result is an
    :class:`~bayesmeta.results.effects_sensitivity.EffectsSensitivityResult`.

    Parameters
    ----------
    data
        As for :func:`fit_binary` (``model="binary"``), :func:`fit_effects` or
        :func:`fit_continuous`.
    priors
        A prior set: TOML path or bundled name (``sensitivity_rare_events``,
        ``sensitivity_tau``; for effects ``sensitivity_log_ratio``, ``sensitivity_smd``), a
        :class:`PriorSet`, or ``{"name": {"tau": "...", ...}}``. Default: binary
        ``sensitivity_rare_events``; effects the set of their measure (log ratios, SMD).
    model
        ``"binary"`` (binomial–normal), ``"effects"`` or ``"continuous"`` (normal–normal).
    method
        binary: ``"refit"`` (every configuration by MCMC, the default) or ``"reweight"``;
        effects/continuous: ``"exact"`` (the default) or ``"mcmc"``.
    thresholds
        Thresholds c of the verdict besides no effect, on the displayed scale: ORs (RRs,
        HRs) for binary data and log-ratio effects, else the measure's own scale.
    measure, outcome_type, cc, cc_to, drop_double_zero
        Effects/continuous only: how the effects are read, as in :func:`fit_effects` and
        :func:`fit_continuous`.
    """
    if model not in SENSITIVITY_MODELS:
        raise InputError(f"unknown model '{model}'; choose one of "
                         f"{', '.join(SENSITIVITY_MODELS)}", source="--model")
    entry = SENSITIVITY_MODELS[model]
    if entry is None:
        raise InputError(_NOT_YET.format(model=model), source="--model")
    model_name, runner = entry
    settings = SamplerSettings(sampler=sampler, chains=chains, draws=draws, tune=tune,
                               seed=seed, target_accept=target_accept, cores=cores)
    if model_name == "nnhm":
        return runner(data, priors, model=model, method=method, thresholds=thresholds,
                      settings=settings, progress=progress, subgroup=subgroup,
                      read_options=read_options, measure=measure, outcome_type=outcome_type,
                      cc=cc, cc_to=cc_to, drop_double_zero=drop_double_zero)
    method = method or "refit"
    if method not in ("refit", "reweight"):
        raise InputError(f"must be refit or reweight for --model binary (got '{method}'; "
                         "exact/mcmc are for --model effects|continuous)", source="--method")
    for option, value in (("--measure", measure), ("--outcome-type", outcome_type),
                          ("--cc", cc)):
        if value is not None:
            raise InputError("is for --model effects|continuous (the binomial-normal model "
                             "needs no continuity correction)", source=option)
    prior_set = load_priors("sensitivity_rare_events" if priors is None else priors,
                            model=model_name)
    cuts = tuple(float(c) for c in thresholds)
    for c in cuts:
        if not (c > 0 and c < float("inf")):
            raise InputError(f"an OR threshold must be a positive number (got {c:g})",
                             source="--threshold")
    return runner(data, prior_set, settings=settings, thresholds=cuts, method=method,
                  progress=progress, subgroup=subgroup, read_options=read_options)


def _sensitivity_binary(data: DataLike, prior_set: PriorSet, *, settings: SamplerSettings,
                        thresholds: tuple[float, ...], method: str, progress: Progress | None,
                        subgroup: str | None,
                        read_options: Mapping[str, object] | None) -> SensitivityResult:
    """``sensitivity(..., model="binary")``: the binomial–normal model, priors as data."""
    for config in prior_set.configurations:
        try:
            prior_data.encode_priors(BinomialNormalPriors(**config.priors))
        except InputError as exc:
            raise InputError(exc.reason, source=f"{prior_set.where} [[configuration]] "
                                                f"'{config.name}' {exc.source}") from None
    binary = load_binary(data, subgroup=subgroup, **dict(read_options or {}))
    return _sweep_binary(binary, prior_set, settings, thresholds, method, progress)


def _sweep_binary(binary: BinaryData, prior_set: PriorSet, settings: SamplerSettings,
                  cuts: tuple[float, ...], method: str,
                  progress: Progress | None) -> SensitivityResult:
    """Fit every configuration with one compiled model, the reference first.

    Runs are pipelined: the next configuration samples (nutpie's threads, no GIL) while
    Python summarises the previous one (diagnostics, power-scaling, summaries), so the two
    overlap. Sampling one configuration already keeps both cores of the reference machine
    busy (4 chains), so running configurations side by side (one core each) cannot do
    better there; benchmarks/bench_sensitivity.py measures the three ways.
    """
    progress = progress or SilentProgress()
    t0 = time.perf_counter()
    reference = prior_set.reference_configuration
    ordered = [reference, *[c for c in prior_set.configurations if c is not reference]]
    fitter = BinaryFitter(binary, BinomialNormalPriors(**reference.priors),
                          settings.resolved_sampler, progress)
    n = len(ordered)
    priors_of = {c.name: BinomialNormalPriors(**c.priors) for c in ordered}
    rows: dict[str, SensitivityRow] = {}

    def launch(i: int) -> RunningSampler:
        config = ordered[i]
        return fitter.start(priors_of[config.name], settings,
                            _RowProgress(progress, f"Prior {i + 1}/{n} '{config.name}'"))

    todo = list(range(n))
    if method == "reweight":
        # The reference first: the others may not need sampling at all.
        base = fitter.finish(launch(0), priors_of[reference.name], settings, thresholds=cuts)
        rows[reference.name] = SensitivityRow(reference.name, priors_of[reference.name], base,
                                              reference.source, "mcmc",
                                              base.prior_sensitivity())
        todo = []
        for i, config in enumerate(ordered[1:], start=1):
            rw = reweight_draws(base, priors_of[config.name])
            if rw.reliable:
                progress.finished(f"Prior {i + 1}/{n} '{config.name}': reweighted the "
                                  f"reference fit (Pareto k̂ {rw.pareto_k:.2f})")
                rows[config.name] = SensitivityRow(config.name, priors_of[config.name], rw,
                                                   config.source, "reweighted")
            else:
                todo.append(i)
    running = launch(todo[0]) if todo else None
    for j, i in enumerate(todo):
        config = ordered[i]
        priors = priors_of[config.name]
        idata, times = running.wait()
        running = launch(todo[j + 1]) if j + 1 < len(todo) else None  # samples meanwhile
        fit = fitter.result(idata, times, priors, settings, thresholds=cuts)
        if method == "reweight":
            row = SensitivityRow(config.name, priors, replace(reweight_draws(base, priors),
                                                              refit=fit),
                                 config.source, "refit", fit.prior_sensitivity())
        else:
            row = SensitivityRow(config.name, priors, fit, config.source, "mcmc",
                                 fit.prior_sensitivity())
        row.warm(cuts)
        rows[config.name] = row
    t1 = time.perf_counter()
    return SensitivityResult(
        data=binary, title=prior_set.title, reference=prior_set.reference,
        rows=tuple(rows[c.name] for c in prior_set.configurations), settings=settings,
        thresholds=cuts, method=method, prior_set_source=prior_set.where,
        timings={"total_s": t1 - t0, "compile_s": fitter.prepared.compile_s})


class _RowProgress:
    """Progress of one configuration of a sweep: the sampling bar, then one line."""

    def __init__(self, outer: Progress, label: str) -> None:
        self.outer = outer
        self.label = label

    def stage(self, message: str) -> None:
        pass

    def sampling(self, done: int, total: int, divergences: int) -> None:
        self.outer.sampling(done, total, divergences)

    def finished(self, message: str) -> None:
        sampled = message.split(", ")[-1]
        self.outer.finished(f"{self.label}: {sampled}")


def _sensitivity_nnhm(*args: Any, **kwargs: Any) -> Any:
    """``sensitivity(..., model="effects"|"continuous")``: the normal–normal model's sweep
    (:func:`bayesmeta.nnhm_sweeps.sensitivity_nnhm`; imported on use)."""
    from bayesmeta.nnhm_sweeps import sensitivity_nnhm

    return sensitivity_nnhm(*args, **kwargs)


#: ``sensitivity(model=...)``: the model name prior sets are checked against, and the
#: function running the sweep. None = announced but not in this version. The binomial–normal
#: runner gets the loaded prior set; the normal–normal one (``nnhm``) gets the ``priors``
#: argument and the reading options, since its default set depends on the data's measure.
SENSITIVITY_MODELS: dict[str, tuple[str, Callable[..., Any]] | None] = {
    "binary": ("binomial_normal", _sensitivity_binary),
    "effects": ("nnhm", _sensitivity_nnhm),
    "continuous": ("nnhm", _sensitivity_nnhm),
}


def tau_scale_curve(data: EffectsLike | ContinuousLike, curve: str = "halfnormal:0.1:2",
                    **options: Any):
    """P(harm) and the pooled effect along the scale of a τ prior family, by exact fits on
    a fine grid: ``bm.tau_scale_curve("eight_schools", "halfcauchy:1:50")``. See
    :func:`bayesmeta.nnhm_sweeps.tau_scale_curve` for the options (``model``, ``points``,
    ``mu_prior``, ``thresholds``, ``measure``, ``cc``, ...)."""
    from bayesmeta.nnhm_sweeps import tau_scale_curve as run_curve

    return run_curve(data, curve, **options)
