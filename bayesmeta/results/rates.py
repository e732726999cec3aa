"""The result of a Poisson–normal meta-analysis of event rates over person-time.

``RateMetaResult`` answers the same questions as
:class:`~bayesmeta.results.binary.BinaryMetaResult`, on the rate scale:

* ``posterior(name)`` for ``log_rr``, ``rr`` (incidence rate ratio), ``tau``, ``theta_new``,
  ``rr_new``;
* ``prob_harm(threshold=1.0, predictive=False)`` — P(RR > threshold);
* ``rate_difference(per=1000)`` — extra events per ``per`` units of person-time at the
  baseline (control) rate: λ₀·(RR − 1), draw by draw;
* ``study_effects()``, ``summary()``, ``to_dict()`` (the ``--json`` document), ``to_netcdf``;
* for plots, influence and reports: ``effect_scale`` (the rate ratio), ``forest_table()``,
  ``pointwise_log_likelihood()`` (per study, both arms), ``main_parameters``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xarray as xr

from bayesmeta.data.rates import RateData
from bayesmeta.errors import InputError
from bayesmeta.files import write_with
from bayesmeta.models.poisson_exposure import NAME as MODEL_NAME
from bayesmeta.models.poisson_exposure import PoissonNormalPriors
from bayesmeta.results.effect_scale import RATE_RATIO, EffectScale
from bayesmeta.results.marginal import DrawsMarginal
from bayesmeta.results.two_arm import Baseline, TwoArmMCMCResult

SCHEMA = "bayesmeta.fit.rates/1"

QUANTITIES = {
    "log_rr": ("theta", None),
    "rr": ("theta", np.exp),
    "tau": ("tau", None),
    "theta_new": ("theta_new", None),
    "rr_new": ("theta_new", np.exp),
}


class BaselineRate(Baseline):
    """The control-arm event rate used for absolute effects, and where it came from."""


def default_baseline_rate(data: RateData) -> BaselineRate:
    events, time = int(data.events_c.sum()), float(data.exposure_c.sum())
    if events == 0:
        return BaselineRate(0.5 / time, f"no control-arm events in {time:g} person-time; "
                            "0.5/T used — give --baseline-rate")
    return BaselineRate(events / time, f"pooled control arms ({events} events / {time:g})")


@dataclass(frozen=True, eq=False)
class RateMetaResult(TwoArmMCMCResult[RateData, PoissonNormalPriors, BaselineRate]):
    """A fitted Poisson–normal meta-analysis (see the module docstring; the fields and the
    shared questions are :class:`~bayesmeta.results.two_arm.TwoArmMCMCResult`'s)."""

    model: str = MODEL_NAME

    _schema: ClassVar[str] = SCHEMA
    _quantities: ClassVar[Mapping[str, tuple[str, Any]]] = QUANTITIES
    _ratio: ClassVar[str] = "rr"
    _threshold_words: ClassVar[str] = "a rate-ratio threshold"
    _baseline_key: ClassVar[str] = "baseline_rate"
    _zero_note: ClassVar[str] = "zero count"
    _forest_captions: ClassVar[Mapping[str, str]] = {
        "details_caption": "events / person-time",
        "missing_caption": "(no events in an arm; no continuity correction is added) — the "
                           "model uses these studies' exact Poisson likelihood"}

    #: The effect measure (plots, influence, report): the rate ratio, harm = RR above 1.
    effect_scale: ClassVar[EffectScale] = RATE_RATIO

    # -- absolute effects --------------------------------------------------------------
    @property
    def baseline_rate(self) -> BaselineRate:
        return self.baseline or default_baseline_rate(self.data)

    def _baseline_used(self) -> BaselineRate:
        return self.baseline_rate

    def rate_difference(self, *, predictive: bool = False, per: float = 1000) -> DrawsMarginal:
        """Extra events per ``per`` units of person-time (treatment − control) at the
        baseline rate: λ₀·(RR − 1)·per."""
        log_rr = self.posterior("theta_new" if predictive else "log_rr").draws
        name = f"rate_difference_per_{per:g}" + ("_new" if predictive else "")
        return DrawsMarginal(name, per * self.baseline_rate.value * np.expm1(log_rr))

    def _absolute_difference(self, *, predictive: bool = False) -> DrawsMarginal:
        return self.rate_difference(predictive=predictive)

    def _absolute_effects(self) -> dict[str, Any]:
        return {
            "baseline_rate": self.baseline_rate.to_dict(),
            "rate_difference_per_1000": self.rate_difference().summary(),
            "rate_difference_per_1000_new": self.rate_difference(predictive=True).summary(),
        }

    # -- studies -----------------------------------------------------------------------
    def _observed(self) -> tuple[np.ndarray, np.ndarray]:
        """Observed log rate ratio and its SE (inf/nan with a zero count)."""
        d = self.data
        with np.errstate(divide="ignore", invalid="ignore"):
            observed = (np.log(d.events_t / d.exposure_t) - np.log(d.events_c / d.exposure_c))
            se = np.sqrt(1 / d.events_t + 1 / d.events_c)
        return observed, se

    def _arm_columns(self) -> dict[str, np.ndarray]:
        d = self.data
        return {"events_t": d.events_t, "exposure_t": d.exposure_t,
                "events_c": d.events_c, "exposure_c": d.exposure_c}

    def _arm_totals(self) -> dict[str, Any]:
        d = self.data
        return {"events_t": int(d.events_t.sum()), "exposure_t": float(d.exposure_t.sum()),
                "events_c": int(d.events_c.sum()), "exposure_c": float(d.exposure_c.sum())}

    # -- plots, influence, reports -----------------------------------------------------
    def _forest_details(self, study: Any) -> tuple[str, ...]:
        return (f"{study.events_t}/{_time(study.exposure_t)}",
                f"{study.events_c}/{_time(study.exposure_c)}")

    def pointwise_log_likelihood(self) -> xr.DataArray:
        """log p(data of study i | draw): both arms' Poisson log pmf, (chain, draw, study),
        from the draws of the baselines ``mu`` and the study log rate ratios
        ``theta_study`` as the model defines them; used by PSIS-LOO."""
        from scipy import stats

        post = self.posterior_tree
        mu = post["mu"].transpose("chain", "draw", "study")
        theta = post["theta_study"].transpose("chain", "draw", "study").values
        d = self.data
        log_lik = (stats.poisson.logpmf(d.events_t, d.exposure_t
                                        * np.exp(mu.values + 0.5 * theta))
                   + stats.poisson.logpmf(d.events_c, d.exposure_c
                                          * np.exp(mu.values - 0.5 * theta)))
        return xr.DataArray(log_lik, dims=("chain", "draw", "study"), coords=mu.coords,
                            name="events")

    def to_netcdf(self, path: str | Path, *, force: bool = False) -> Path:
        """Save the draws (``posterior``, ``sample_stats``), the data (``observed_data``:
        events and person-time by study) and, as attributes, the priors, sampler settings
        and seed, thresholds, baseline rate, versions, label and diagnostics (see
        docs/json.md, "Saved fits"); :func:`load_rates_result` (``bayesmeta show``) reads
        it back without refitting."""
        from bayesmeta.results.saved import fit_attributes

        d = self.data
        tree = self._saved_tree(("events_t", "exposure_t", "events_c", "exposure_c"))
        tree.attrs.update(fit_attributes(
            schema=SCHEMA, model=self.model, method="mcmc", settings=self.settings_dict(),
            priors=self.priors.as_dict(), seed=self.settings.seed, source=d.source,
            label=self.label, column_map=d.column_map, extra=d.extra,
            diagnostics=self.diagnostics.to_dict()))
        return write_with(path, lambda tmp: tree.to_netcdf(tmp), force=force)


def _time(x: float) -> str:
    """Person-time for a table cell: whole numbers with thousands separators."""
    return f"{x:,.0f}" if float(x).is_integer() or x >= 100 else f"{x:,.1f}"


def load_rates_result(tree: xr.DataTree, source: str = "saved file") -> RateMetaResult:
    """Rebuild a :class:`RateMetaResult` from a tree written by ``to_netcdf``: the saved
    draws, data, priors, settings, diagnostics and versions; nothing is refitted."""
    from bayesmeta.results import saved

    attrs = tree.attrs
    try:
        settings = saved.settings_from_attrs(attrs)
        obs = tree["observed_data"]
        data = RateData(
            study=tuple(str(s) for s in obs["study"].values.tolist()),
            events_t=np.asarray(obs["events_t"].values, dtype=np.int64),
            exposure_t=np.asarray(obs["exposure_t"].values, dtype=float),
            events_c=np.asarray(obs["events_c"].values, dtype=np.int64),
            exposure_c=np.asarray(obs["exposure_c"].values, dtype=float),
            extra=saved.extra_from_attrs(attrs),
            source=str(attrs.get("bayesmeta_data_source", source)),
            column_map=json.loads(attrs.get("bayesmeta_column_map", "{}")))
        baseline = settings["baseline_rate"]
        idata = saved.draws_from_tree(tree)
        return RateMetaResult(
            data=data, priors=PoissonNormalPriors(**saved.priors_from_attrs(attrs)),
            settings=saved.sampler_from_settings(settings), idata=idata,
            diagnostics=saved.diagnostics_from_attrs(
                attrs, idata=idata, var_names=["theta", "tau", "theta_study", "theta_new",
                                                "mu"]),
            thresholds=tuple(float(c) for c in settings["thresholds"]),
            baseline=BaselineRate(float(baseline["value"]), str(baseline["source"])),
            model=str(attrs.get("bayesmeta_model", MODEL_NAME)),
            label=str(attrs.get("bayesmeta_label", "")) or None,
            versions=saved.versions_from_settings(settings))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"is not a complete bayesmeta rate fit ({type(exc).__name__}: "
                         f"{exc})", source=source) from None
