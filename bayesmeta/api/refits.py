"""Influence of single studies: PSIS-LOO and leave-one-study-out refits of each kind of
result, with the result's own priors, settings and seed.

(Named ``refits`` rather than ``influence`` so that the module does not shadow the
function ``bayesmeta.api.influence``.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bayesmeta.api.binary import fit_binary
from bayesmeta.api.common import sampler_kwargs
from bayesmeta.api.effects import _fit_nnhm
from bayesmeta.api.rates import fit_rates
from bayesmeta.data.binary import BinaryData
from bayesmeta.data.effects import EffectsData
from bayesmeta.data.rates import RateData
from bayesmeta.errors import InputError
from bayesmeta.inference.sampling import Progress
from bayesmeta.results.binary import BinaryMetaResult
from bayesmeta.results.conditional import ConditionalMetaResult
from bayesmeta.results.effects import EffectsMetaResult
from bayesmeta.results.rates import RateMetaResult


def refit_binary(result: BinaryMetaResult, data: BinaryData,
                 progress: Progress | None = None) -> BinaryMetaResult:
    """Fit the binomial–normal model to ``data`` with ``result``'s priors, sampler settings,
    seed, thresholds and baseline risk (a leave-one-study-out refit)."""
    return _refit_two_arm(fit_binary, "baseline_risk", result, data, progress)


def refit_effects(result: EffectsMetaResult, data: EffectsData,
                  progress: Progress | None = None) -> EffectsMetaResult:
    """Fit the normal–normal model to ``data`` with ``result``'s priors, method and
    thresholds (and, for MCMC, its sampler settings and seed). With the exact method a
    refit takes milliseconds and equals a separate exact fit without the study."""
    return _fit_nnhm(data, priors=result.priors, model=None, tau_prior=None, mu_prior=None,
                     effect_prior=None, method=result.method, thresholds=result.thresholds,
                     progress=progress, **sampler_kwargs(result.settings))


def refit_rates(result: RateMetaResult, data: RateData,
                progress: Progress | None = None) -> RateMetaResult:
    """Fit the Poisson–normal model to ``data`` with ``result``'s priors, sampler settings,
    seed, thresholds and baseline rate (a leave-one-study-out refit)."""
    return _refit_two_arm(fit_rates, "baseline_rate", result, data, progress)


def _refit_two_arm(fit: Callable[..., Any], baseline_argument: str, result: Any, data: Any,
                   progress: Progress | None) -> Any:
    """``fit`` (fit_binary, fit_rates) of ``data`` with everything ``result`` was fitted
    with, its baseline (risk or rate) given as ``baseline_argument``."""
    baseline = result.baseline.value if result.baseline is not None else None
    return fit(data, priors=result.priors, thresholds=result.thresholds, progress=progress,
               **{baseline_argument: baseline}, **sampler_kwargs(result.settings))


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
