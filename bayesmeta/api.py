"""The Python API: one call per analysis, mirroring the command line.

>>> import bayesmeta as bm
>>> res = bm.fit_binary("crins2014_ar", seed=1)            # a bundled dataset, file or DataFrame
>>> res.posterior("or").median, res.prob_harm(1.0)          # pooled OR, P(OR > 1)
>>> res.prob_harm(1.0, predictive=True)                     # P(harm) in a new trial
>>> res.risk_difference().summary()                         # per 1,000 patients
>>> res.summary(); res.to_dict(); res.to_netcdf("fit.nc")
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from bayesmeta.data import datasets
from bayesmeta.data.binary import BinaryData, read_binary
from bayesmeta.errors import InputError
from bayesmeta.inference.diagnostics import diagnose
from bayesmeta.inference.sampling import PreparedModel, Progress, SamplerSettings
from bayesmeta.models import binomial_normal_prior_data as prior_data
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

    def sample(self, priors: BinomialNormalPriors, settings: SamplerSettings,
               progress: Progress | None = None):
        """Posterior draws and sampler statistics under ``priors``, and the timings."""
        if not self.accepts(priors):
            raise InputError(f"the priors {', '.join(p.spec for p in priors.as_dict().values())}"
                             " cannot be given to this compiled model")
        if self.priors_as_data:
            return self.prepared.sample(
                settings, data={prior_data.PRIOR_VALUES: prior_data.encode_priors(priors)},
                progress=progress, drop=prior_data.SAMPLING_ONLY)
        return self.prepared.sample(settings, progress=progress)

    def fit(self, priors: BinomialNormalPriors, settings: SamplerSettings, *,
            thresholds: tuple[float, ...] = (), baseline: BaselineRisk | None = None,
            progress: Progress | None = None, started: float | None = None) -> BinaryMetaResult:
        """A full :class:`BinaryMetaResult` under ``priors``."""
        t0 = time.perf_counter() if started is None else started
        idata, times = self.sample(priors, settings, progress)
        t1 = time.perf_counter()
        diagnostics = diagnose(idata, var_names=["theta", "tau", "theta_study", "theta_new",
                                                 "mu"])
        return BinaryMetaResult(
            data=self.data, priors=priors, settings=settings, idata=idata,
            diagnostics=diagnostics, thresholds=thresholds, baseline=baseline,
            timings={"build_and_sample_s": t1 - t0, "compile_s": self.prepared.compile_s,
                     "sample_s": times.sample_s})
