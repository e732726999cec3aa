"""Prior sweeps of the normal–normal model: prior sets and the τ-scale curve.

``bayesmeta sensitivity DATA --model effects|continuous`` runs here (through
:func:`bayesmeta.api.sensitivity`): each configuration of a prior set is one call of the
same code as ``fit_effects`` — exact by default (milliseconds each), or NUTS with
``method="mcmc"`` — so every row *is* ``fit_effects`` with that prior. :func:`tau_scale_curve`
sweeps the scale of one τ prior family over a fine grid with exact fits.

Bundled prior sets (``models/``): ``sensitivity_log_ratio`` for log OR/RR/HR and
``sensitivity_smd`` for SMDs, chosen by the measure when ``priors`` is not given. MD, RD and
effects on their own scale have no default set: a τ prior has to be stated in the outcome's
units (as for ``fit effects``), so ``priors`` must be given — or sweep a scale with
:func:`tau_scale_curve`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from bayesmeta.api.common import RowProgress, sampler_kwargs
from bayesmeta.api.effects import _fit_nnhm, nnhm_priors
from bayesmeta.api.effects_loading import load_continuous, load_effects
from bayesmeta.data.effects import EffectsData, parse_measure
from bayesmeta.errors import InputError
from bayesmeta.inference.sampling import Progress, SamplerSettings, SilentProgress
from bayesmeta.models.nnhm import NNHMPriors
from bayesmeta.models.prior_sets import PriorSet, load_prior_set, prior_set_from_dict
from bayesmeta.priors import Prior, parse_prior
from bayesmeta.results.effects_sensitivity import (
    EffectsSensitivityResult,
    EffectsSensitivityRow,
    display_names,
    effect_scale_of,
)
from bayesmeta.results.tau_scale_curve import (
    TauScaleCurve,
    compute_curve,
    parse_curve_spec,
    scale_grid,
)

#: The bundled prior set for each measure (None: no default; the user gives one).
DEFAULT_SETS: dict[str, str | None] = {
    "logOR": "sensitivity_log_ratio", "logRR": "sensitivity_log_ratio",
    "logHR": "sensitivity_log_ratio", "SMD": "sensitivity_smd",
    "MD": None, "RD": None, "generic": None,
}
NNHM_MODELS = ("effects", "continuous")
METHODS = ("exact", "mcmc")


def load_nnhm_effects(data: Any, *, model: str = "effects", measure: str | None = None,
                      outcome_type: str | None = None, subgroup: str | None = None,
                      subgroup_column: str = "subgroup", cc: float | None = None,
                      cc_to: str = "only0", drop_double_zero: bool = True,
                      read_options: Mapping[str, object] | None = None) -> EffectsData:
    """The effects a sweep analyses, read as ``fit effects`` (``model="effects"``) or ``fit
    continuous`` (``model="continuous"``, ``measure`` MD or SMD) read them. Effects already
    read (an :class:`EffectsData`) are taken as they are (or their subgroup)."""
    options = dict(read_options or {})
    if isinstance(data, EffectsData):
        return load_effects(data, measure=measure, subgroup=subgroup,
                                subgroup_column=subgroup_column)
    if model == "effects":
        if outcome_type is not None:
            raise InputError("is for --model continuous (arm-level means)",
                             source="--outcome-type")
        return load_effects(data, measure=measure, subgroup=subgroup,
                                subgroup_column=subgroup_column, cc=cc, cc_to=cc_to,
                                drop_double_zero=drop_double_zero, **options)
    if model != "continuous":
        raise InputError(f"unknown model '{model}'; choose effects or continuous",
                         source="--model")
    if cc is not None:
        raise InputError("is for two-arm counts (--model effects)", source="--cc")
    if measure is None:
        raise InputError("continuous arms need --measure MD or SMD", source="--measure")
    canon = parse_measure(measure)
    if canon not in ("MD", "SMD"):
        raise InputError(f"continuous arms give MD or SMD, not {measure}", source="--measure")
    if outcome_type is not None:
        options["outcome_type"] = outcome_type
    return load_continuous(data, subgroup=subgroup, subgroup_column=subgroup_column,
                               **options).effects(canon)


def nnhm_prior_set(priors: Any, effects: EffectsData) -> PriorSet:
    """The prior set of a sweep: the given one (file, bundled name, PriorSet or dict) or
    the measure's bundled default; slots it leaves out take the measure's default priors."""
    measure = effects.measure
    if priors is None:
        name = DEFAULT_SETS.get(measure)
        if name is None:
            raise InputError(
                f"effects on the {measure} scale have no bundled prior set: a between-study "
                "SD has to be stated in the outcome's own units. Give --priors FILE (a TOML "
                "prior set for model \"nnhm\", see models/sensitivity_log_ratio.toml), or "
                "sweep a scale in those units with --tau-scale-curve halfnormal:FROM:TO",
                source="--priors")
        priors = name
    defaults = {k: v for k, v in nnhm_priors(measure).as_dict().items()}
    if isinstance(priors, PriorSet):
        prior_set = priors
    elif isinstance(priors, Mapping):
        configs = [{"name": name, **dict(slots)} for name, slots in priors.items()]
        prior_set = prior_set_from_dict({"configuration": configs}, model="nnhm",
                                        defaults=defaults)
    else:
        prior_set = load_prior_set(priors, model="nnhm", defaults=defaults)
    if prior_set.measures and measure not in prior_set.measures:
        raise InputError(f"this prior set is written for {', '.join(prior_set.measures)} "
                         f"effects, but the data are {measure}: its τ priors mean something "
                         "else on another scale (choose another --priors)",
                         source=prior_set.where)
    return prior_set


def _why_not(priors: NNHMPriors, effects: EffectsData, method: str) -> str | None:
    """Why a configuration cannot be fitted by ``method`` on these data (None: it can)."""
    from bayesmeta.inference.nnhm_exact import NNHMInput

    assert priors.tau is not None
    if method == "mcmc":
        bad = [f"{slot} {p.spec}" for slot, p in priors.as_dict().items() if not p.proper]
        if bad:
            return f"improper prior {', '.join(bad)}: exact method only"
        return None
    model = NNHMInput(np.asarray(effects.yi, float), np.asarray(effects.sei, float),
                      priors.mu, priors.tau)
    if model.posterior_tail_power() <= 1.0:
        return f"improper posterior with {effects.k} studies"
    return None


def _check_configuration(priors: NNHMPriors, method: str, place: str) -> None:
    if method == "exact" and priors.mu.family not in ("normal", "flat"):
        raise InputError(f"the exact normal–normal model takes a normal or flat prior on mu, "
                         f"not '{priors.mu.spec}' (use --method mcmc)", source=place)


def sensitivity_nnhm(data: Any, priors: Any = None, *, model: str = "effects",
                     method: str | None = None, thresholds: Iterable[float] = (),
                     settings: SamplerSettings | None = None,
                     progress: Progress | None = None, subgroup: str | None = None,
                     read_options: Mapping[str, object] | None = None,
                     measure: str | None = None, outcome_type: str | None = None,
                     cc: float | None = None, cc_to: str = "only0",
                     drop_double_zero: bool = True) -> EffectsSensitivityResult:
    """Fit the normal–normal model under every configuration of a prior set (see
    :func:`bayesmeta.api.sensitivity`, ``model="effects"`` or ``"continuous"``)."""
    method = method or "exact"
    if method not in METHODS:
        raise InputError(f"--model {model} takes --method exact or mcmc (got '{method}'; "
                         "refit/reweight are for --model binary)", source="--method")
    settings = settings or SamplerSettings()
    progress = progress or SilentProgress()
    t0 = time.perf_counter()
    effects = load_nnhm_effects(data, model=model, measure=measure, outcome_type=outcome_type,
                                subgroup=subgroup, cc=cc, cc_to=cc_to,
                                drop_double_zero=drop_double_zero, read_options=read_options)
    scale = effect_scale_of(effects.measure)
    cuts = scale.displayed_thresholds(thresholds)
    prior_set = nnhm_prior_set(priors, effects)
    internal = tuple(scale.to_internal(c) for c in cuts)
    configs = []
    skipped: list[tuple[str, str]] = []
    for config in prior_set.configurations:
        place = f"{prior_set.where} [[configuration]] '{config.name}'"
        nnhm = NNHMPriors(**config.priors)
        _check_configuration(nnhm, method, place)
        why = _why_not(nnhm, effects, method)
        if why is None:
            configs.append((config, nnhm))
        elif config.name == prior_set.reference:
            raise InputError(f"the reference configuration cannot be fitted ({why}); choose "
                             "another reference or method", source=place)
        else:
            skipped.append((config.name, why))
    rows = []
    for i, (config, nnhm) in enumerate(configs, start=1):
        row_progress = (RowProgress(progress, f"Prior {i}/{len(configs)} '{config.name}'")
                        if method == "mcmc" else None)
        fit = _fit_nnhm(effects, priors=nnhm, model=None, tau_prior=None, mu_prior=None,
                        effect_prior=None, method=method, thresholds=internal,
                        progress=row_progress, **sampler_kwargs(settings))
        rows.append(EffectsSensitivityRow(config.name, nnhm, fit, scale, config.source))
    total = time.perf_counter() - t0
    if method == "exact":
        progress.finished(f"{len(rows)} exact fits in {total:.2f} s")
    return EffectsSensitivityResult(
        data=effects, title=prior_set.title, reference=prior_set.reference, rows=tuple(rows),
        scale=scale, method=method, settings=settings if method == "mcmc" else None,
        thresholds=cuts, prior_set_source=prior_set.where, skipped=tuple(skipped),
        timings={"total_s": total})


def tau_scale_curve(data: Any, curve: str = "halfnormal:0.1:2", *, model: str = "effects",
                    points: int = 100, mu_prior: str | Prior | None = None,
                    thresholds: Iterable[float] = (), measure: str | None = None,
                    outcome_type: str | None = None, subgroup: str | None = None,
                    cc: float | None = None, cc_to: str = "only0",
                    drop_double_zero: bool = True,
                    read_options: Mapping[str, object] | None = None,
                    progress: Progress | None = None) -> TauScaleCurve:
    """The pooled effect and P(effect > c) as the scale of a τ prior family goes from FROM
    to TO (``curve="halfnormal:0.1:2"``; also ``halfcauchy``, ``halft:NU``, ``exponential``
    — its mean 1/rate — and ``uniform`` — its upper bound), with exact fits on ``points``
    log-spaced scales (plus the measure's default scale when it is of that family).

    ``mu_prior`` defaults to the measure's default (``normal:0:4`` for log ratios, flat for
    MD). ``thresholds`` are on the displayed scale (ORs for log ORs). Returns a
    :class:`~bayesmeta.results.tau_scale_curve.TauScaleCurve`.
    """
    family, lower, upper = parse_curve_spec(curve)
    t0 = time.perf_counter()
    effects = load_nnhm_effects(data, model=model, measure=measure, outcome_type=outcome_type,
                                subgroup=subgroup, cc=cc, cc_to=cc_to,
                                drop_double_zero=drop_double_zero, read_options=read_options)
    scale = effect_scale_of(effects.measure)
    cuts = scale.displayed_thresholds(thresholds)
    defaults = nnhm_priors(effects.measure)
    mu = (parse_prior(mu_prior, option="--mu-prior", support="real") if mu_prior is not None
          else defaults.mu)
    _check_configuration(NNHMPriors(mu=mu), "exact", "--mu-prior")
    reference = family.scale_of(defaults.tau) if defaults.tau is not None else None
    grid = scale_grid(lower, upper, points, include=reference)
    if reference is not None and not lower <= reference <= upper:
        reference = None
    pooled, new = display_names(effects.measure)

    def fit_at(s: float):
        return _fit_nnhm(effects, priors=NNHMPriors(mu=mu, tau=family.prior(s)),
                         model=None, tau_prior=None, mu_prior=None, effect_prior=None,
                         method="exact", thresholds=(), progress=None,
                         **sampler_kwargs(None))

    all_cuts = tuple(dict.fromkeys((scale.null, *cuts)))
    frame, crossings = compute_curve(fit_at, grid, scale, pooled, new, all_cuts)
    total = time.perf_counter() - t0
    (progress or SilentProgress()).finished(
        f"{len(grid)} exact fits along the {family.what} in {total:.2f} s")
    return TauScaleCurve(data=effects, family=family, lower=lower, upper=upper, mu_prior=mu,
                         scale=scale, pooled=pooled, new=new, grid=frame, crossings=crossings,
                         thresholds=cuts, reference_scale=reference,
                         timings={"total_s": total})
