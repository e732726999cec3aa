"""Effect sizes: priors and fits of the normal–normal model (``fit_effects``,
``fit_continuous``), exactly by quadrature or by NUTS."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from bayesmeta.api.common import finite_thresholds, parse_given, sample_timed
from bayesmeta.api.effects_loading import (
    ContinuousLike,
    EffectsLike,
    load_continuous,
    load_effects,
)
from bayesmeta.data.effects import EffectsData, parse_measure
from bayesmeta.errors import InputError
from bayesmeta.inference.diagnostics import diagnose
from bayesmeta.inference.sampling import Progress, SamplerSettings
from bayesmeta.models.nnhm import NNHMPriors, build_nnhm, default_prior_file
from bayesmeta.models.spec_files import load_model_spec
from bayesmeta.priors import Prior
from bayesmeta.results.effect_scale import EFFECT_SIZE_SCALES
from bayesmeta.results.effects import EffectsMetaResult

METHODS = ("exact", "mcmc")


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
    chosen.update(parse_given({"tau": (tau_prior, "--tau-prior", "positive"),
                               "mu": (mu_prior, "--mu-prior", "real")}))
    return NNHMPriors(**chosen)


def _require_tau_prior(effects: EffectsData, priors: NNHMPriors) -> None:
    """Refuse a fit without a τ prior (MD, RD, generic effects have no default one)."""
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
    sampler: str = "auto", chains: int = 4, draws: int = 1000, tune: int = 1000,  # NUTS
    seed: int = 1, target_accept: float = 0.9, cores: int | None = None,
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
    sampler: str = "auto", chains: int = 4, draws: int = 1000, tune: int = 1000,  # NUTS
    seed: int = 1, target_accept: float = 0.9, cores: int | None = None,
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
    """The fit of ``fit_effects`` and ``fit_continuous`` once the effects are read (and of
    leave-one-out refits and prior sweeps, which give their effects as they are)."""
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
    cuts = finite_thresholds(thresholds)
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
    idata, timings = sample_timed(build_nnhm(effects, priors), settings, progress, t0)
    diagnostics = diagnose(idata, var_names=["mu", "tau", "theta", "theta_new"])
    return EffectsMetaResult(data=effects, priors=priors, method="mcmc", idata=idata,
                             settings=settings, diagnostics=diagnostics, thresholds=cuts,
                             timings=timings)
