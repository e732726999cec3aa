"""Effects at repeated follow-ups: loading, priors and ``fit_longitudinal`` (the joint model
of a study's effects over time)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd
import xarray as xr

from bayesmeta.api.common import finite_thresholds, sample_timed
from bayesmeta.data import datasets
from bayesmeta.data.longitudinal import LongitudinalData, read_longitudinal
from bayesmeta.errors import InputError
from bayesmeta.inference.diagnostics import diagnose
from bayesmeta.inference.sampling import Progress, SamplerSettings
from bayesmeta.models.longitudinal import (
    LongitudinalOptions,
    LongitudinalPriors,
    build_longitudinal,
    correlation_prior,
    default_priors,
    free_parameter_names,
    rho_within_value,
)
from bayesmeta.priors import Prior, parse_prior
from bayesmeta.results.longitudinal import LongitudinalMetaResult, derived_draws

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
    sampler: str = "auto", chains: int = 4, draws: int = 1000, tune: int = 1000,  # NUTS
    seed: int = 1, target_accept: float = 0.9, cores: int | None = None,
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
    cuts = finite_thresholds(thresholds)
    t0 = time.perf_counter()
    idata, timings = sample_timed(build_longitudinal(loaded, priors, options), settings,
                                  progress, t0)
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
        timings={**timings, "derived_s": time.perf_counter() - t1})
