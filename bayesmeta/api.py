"""The Python API: one call per analysis, mirroring the command line.

>>> import bayesmeta as bm
>>> res = bm.fit_binary("crins2014_ar", seed=1)            # a bundled dataset, file or DataFrame
>>> res.posterior("or").median, res.prob_harm(1.0)          # pooled OR, P(OR > 1)
>>> res.prob_harm(1.0, predictive=True)                     # P(harm) in a new trial
>>> res.risk_difference().summary()                         # per 1,000 patients
>>> res.summary(); res.to_dict(); res.to_netcdf("fit.nc")
>>> res.prior_sensitivity().to_dict()                       # power-scaling diagnosis
>>> bm.reweight(res, tau_prior="halfnormal:0.25")           # PSIS, or a refit if unreliable
>>> sens = bm.sensitivity("crins2014_ar", priors="sensitivity_rare_events", thresholds=[1.5])
>>> sens.table(); sens.verdict_text(); sens.results["HC(0.5)"]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from bayesmeta.data import datasets
from bayesmeta.data.binary import BinaryData, read_binary
from bayesmeta.errors import InputError
from bayesmeta.inference.diagnostics import diagnose
from bayesmeta.inference.sampling import (
    PreparedModel,
    Progress,
    RunningSampler,
    SamplerSettings,
    SamplingTimes,
    SilentProgress,
)
from bayesmeta.models import binomial_normal_prior_data as prior_data
from bayesmeta.models.binomial_normal import BinomialNormalPriors, build_binomial_normal
from bayesmeta.models.prior_sets import PriorSet, load_prior_set, prior_set_from_dict
from bayesmeta.models.spec_files import load_model_spec
from bayesmeta.priors import Prior, parse_prior
from bayesmeta.results.binary import BaselineRisk, BinaryMetaResult
from bayesmeta.results.reweighting import ReweightedResult
from bayesmeta.results.reweighting import reweight as reweight_draws
from bayesmeta.results.sensitivity import SensitivityResult, SensitivityRow

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
    fitter = BinaryFitter(binary, priors, settings.resolved_sampler, progress)
    return fitter.fit(priors, settings, thresholds=cuts, baseline=baseline, progress=progress,
                      started=t0)


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
    data: DataLike,
    *,
    priors: PriorsLike = "sensitivity_rare_events",
    model: str = "binary",
    method: str = "refit",
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
) -> SensitivityResult:
    """Fit the meta-analysis under every prior configuration of a prior set.

    The model is compiled once; each configuration's priors enter it as data, so each row
    equals ``fit_binary`` with that configuration's priors and the same settings and seed.
    ``method="reweight"`` reweights the reference fit to the other priors where that is
    reliable (:func:`reweight`) and refits the rest. Returns a :class:`SensitivityResult`
    (table, verdict, each configuration's result).

    Parameters
    ----------
    data
        As for :func:`fit_binary`.
    priors
        A prior set: TOML path or bundled name (``sensitivity_rare_events``,
        ``sensitivity_tau``), a :class:`PriorSet`, or ``{"name": {"tau": "...", ...}}``.
    model
        ``"binary"`` (binomial–normal). ``"effects"`` and ``"continuous"`` are refused
        until the normal–normal model is available.
    method
        ``"refit"`` (every configuration by MCMC) or ``"reweight"``.
    thresholds
        OR thresholds c of the verdict, besides c = 1.
    """
    if model not in SENSITIVITY_MODELS:
        raise InputError(f"unknown model '{model}'; choose one of "
                         f"{', '.join(SENSITIVITY_MODELS)}", source="--model")
    entry = SENSITIVITY_MODELS[model]
    if entry is None:
        raise InputError(_NOT_YET.format(model=model), source="--model")
    model_name, runner = entry
    if method not in ("refit", "reweight"):
        raise InputError(f"must be refit or reweight (got '{method}')", source="--method")
    prior_set = load_priors(priors, model=model_name)
    settings = SamplerSettings(sampler=sampler, chains=chains, draws=draws, tune=tune,
                               seed=seed, target_accept=target_accept, cores=cores)
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


#: ``sensitivity(model=...)``: the model name prior sets are checked against, and the
#: function running the sweep. None = announced but not in this version: ``effects`` and
#: ``continuous`` plug in here with the exact normal–normal model (a runner with
#: ``_sensitivity_binary``'s signature returning its own result object).
SENSITIVITY_MODELS: dict[str, tuple[str, Callable[..., Any]] | None] = {
    "binary": ("binomial_normal", _sensitivity_binary),
    "effects": None,
    "continuous": None,
}
