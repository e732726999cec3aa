"""The Python API: one call per analysis, mirroring the command line.

>>> import bayesmeta as bm
>>> res = bm.fit_binary("crins2014_ar", seed=1)            # a bundled dataset, file or DataFrame
>>> res.posterior("or").median, res.prob_harm(1.0)          # pooled OR, P(OR > 1)
>>> res.prob_harm(1.0, predictive=True)                     # P(harm) in a new trial
>>> res.risk_difference().summary()                         # per 1,000 patients
>>> res.summary(); res.to_dict(); res.to_netcdf("fit.nc")
>>> bm.fit_binary("nissen2007_mi", likelihood="conditional")  # hypergeometric-normal model
>>> bm.fit_rates("hart1999_warfarin")                        # events over person-years
>>> bm.fit_classical("crins2014_ar", "REML", test="knha")    # a classical comparator
>>> bm.compare("crins2014_ar").table()                      # every method side by side
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from bayesmeta.data import datasets
from bayesmeta.data.binary import BinaryData, read_binary
from bayesmeta.data.loading import load_data
from bayesmeta.data.rates import RateData, read_rates
from bayesmeta.errors import InputError
from bayesmeta.inference.classical.analyses import classical_binary, classical_rates
from bayesmeta.inference.classical.result import ClassicalFit
from bayesmeta.inference.diagnostics import diagnose
from bayesmeta.inference.sampling import Progress, SamplerSettings, sample_model
from bayesmeta.models.binomial_normal import BinomialNormalPriors, build_binomial_normal
from bayesmeta.models.conditional_hypergeometric import (
    ConditionalPriors,
    build_conditional_hypergeometric,
)
from bayesmeta.models.poisson_exposure import PoissonNormalPriors, build_poisson_exposure
from bayesmeta.models.spec_files import load_model_spec
from bayesmeta.priors import Prior, parse_prior
from bayesmeta.results.binary import BaselineRisk, BinaryMetaResult
from bayesmeta.results.rates import BaselineRate, RateMetaResult

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
    if isinstance(priors, ConditionalPriors):
        model_obj = build_conditional_hypergeometric(binary, priors)
        checked = ["theta", "tau", "theta_study", "theta_new"]
        extra = {"model": "conditional_hypergeometric"}
    else:
        model_obj = build_binomial_normal(binary, priors)
        checked = ["theta", "tau", "theta_study", "theta_new", "mu"]
        extra = {}
    idata, times = sample_model(model_obj, settings, progress)
    t1 = time.perf_counter()
    diagnostics = diagnose(idata, var_names=checked)
    return BinaryMetaResult(
        data=binary, priors=priors, settings=settings, idata=idata, diagnostics=diagnostics,
        thresholds=cuts, baseline=baseline,
        timings={"build_and_sample_s": t1 - t0, "compile_s": times.compile_s,
                 "sample_s": times.sample_s}, **extra)


def _priors_from(model_name: str, model: str | Path | None,
                 given: dict[str, tuple[str | Prior | None, str, str]]) -> dict[str, Prior]:
    """Priors for ``model_name`` from a model file (optional) overridden by single priors;
    ``given`` maps a slot to (value, option, support). A value for a slot the model does
    not have is refused."""
    from bayesmeta.models.spec_files import MODEL_PRIOR_SLOTS

    slots = MODEL_PRIOR_SLOTS[model_name]
    chosen: dict[str, Prior] = {}
    if model is not None:
        spec = load_model_spec(model)
        if spec.model != model_name:
            raise InputError(f"model file is for '{spec.model}', not {model_name}",
                             source=str(spec.path))
        chosen.update(spec.priors)
    for slot, (value, option, support) in given.items():
        if value is None:
            continue
        if slot not in slots:
            raise InputError(f"the {model_name} model has no {slot} prior (its priors: "
                             f"{', '.join(slots)})", source=option)
        chosen[slot] = parse_prior(value, option=option, support=support)
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
        if not baseline_rate > 0:
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
        return classical_rates(loaded, method, measure=measure or "IRR", cc=cc, cc_to=cc_to,
                               drop00=bool(drop00), test=test, level=level)
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
