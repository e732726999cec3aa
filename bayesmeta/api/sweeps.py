"""Prior sensitivity: a fit under other priors (``reweight``), a prior set swept
(``sensitivity``) and the τ-scale curve (``tau_scale_curve``).

The binomial–normal sweep runs in :mod:`bayesmeta.api.binary_sweeps`; the normal–normal
one in :mod:`bayesmeta.api.nnhm_sweeps`, loaded on use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from bayesmeta.api.binary import DataLike
from bayesmeta.api.binary_fitter import BinaryFitter
from bayesmeta.api.binary_sweeps import sensitivity_binary
from bayesmeta.api.common import effect_baseline_slots, parse_given, ratio_thresholds
from bayesmeta.api.effects_loading import ContinuousLike, EffectsLike
from bayesmeta.errors import InputError
from bayesmeta.inference.sampling import Progress, SamplerSettings
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.models.prior_sets import PriorSet, load_prior_set, prior_set_from_dict
from bayesmeta.priors import Prior
from bayesmeta.results.binary import BinaryMetaResult
from bayesmeta.results.reweighting import ReweightedResult
from bayesmeta.results.reweighting import reweight as reweight_draws

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
        chosen.update(parse_given(effect_baseline_slots(tau_prior, effect_prior,
                                                        baseline_prior)))
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
    sampler: str = "auto", chains: int = 4, draws: int = 1000, tune: int = 1000,  # NUTS
    seed: int = 1, target_accept: float = 0.9, cores: int | None = None,
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
    reliable (:func:`reweight`) and refits the rest. Returns a
    :class:`~bayesmeta.results.sensitivity.SensitivityResult` (table, verdict, each
    configuration's result).

    With ``model="effects"`` or ``"continuous"`` the normal–normal model is fitted instead
    (:mod:`bayesmeta.api.nnhm_sweeps`): exactly by default (milliseconds per prior), each row
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
    cuts = ratio_thresholds(thresholds)
    return runner(data, prior_set, settings=settings, thresholds=cuts, method=method,
                  progress=progress, subgroup=subgroup, read_options=read_options)


def _sensitivity_nnhm(*args: Any, **kwargs: Any) -> Any:
    """``sensitivity(..., model="effects"|"continuous")``: the normal–normal model's sweep
    (:func:`bayesmeta.api.nnhm_sweeps.sensitivity_nnhm`; imported on use)."""
    from bayesmeta.api.nnhm_sweeps import sensitivity_nnhm

    return sensitivity_nnhm(*args, **kwargs)


#: ``sensitivity(model=...)``: the model name prior sets are checked against, and the
#: function running the sweep. None = announced but not in this version. The binomial–normal
#: runner gets the loaded prior set; the normal–normal one (``nnhm``) gets the ``priors``
#: argument and the reading options, since its default set depends on the data's measure.
SENSITIVITY_MODELS: dict[str, tuple[str, Callable[..., Any]] | None] = {
    "binary": ("binomial_normal", sensitivity_binary),
    "effects": ("nnhm", _sensitivity_nnhm),
    "continuous": ("nnhm", _sensitivity_nnhm),
}


def tau_scale_curve(data: EffectsLike | ContinuousLike, curve: str = "halfnormal:0.1:2",
                    **options: Any):
    """P(harm) and the pooled effect along the scale of a τ prior family, by exact fits on
    a fine grid: ``bm.tau_scale_curve("eight_schools", "halfcauchy:1:50")``. See
    :func:`bayesmeta.api.nnhm_sweeps.tau_scale_curve` for the options (``model``, ``points``,
    ``mu_prior``, ``thresholds``, ``measure``, ``cc``, ...)."""
    from bayesmeta.api.nnhm_sweeps import tau_scale_curve as run_curve

    return run_curve(data, curve, **options)
