"""The result of a binomial–normal meta-analysis: every question a user asks of it.

``BinaryMetaResult`` holds the data, priors, sampler settings, the posterior (an
``xarray.DataTree``) and its diagnostics, and answers:

* ``posterior(name)`` for ``log_or``, ``or``, ``tau``, ``theta_new``, ``or_new`` — a
  :class:`~bayesmeta.results.marginal.DrawsMarginal` (median, quantiles, cdf, sf, ...);
* ``prob_harm(threshold=1.0, predictive=False)`` — P(OR > threshold), or for a new study;
* ``risk_difference(baseline_risk)`` — per 1,000 patients, and the number needed to harm;
* ``study_effects()`` — observed and shrunken per-study log ORs and ORs;
* ``summary()`` (a table), ``to_dict()`` (the ``--json`` document), ``to_netcdf(path)``;
* for plots, influence and reports: ``effect_scale`` (odds ratio), ``forest_table()``,
  ``pointwise_log_likelihood()`` (per study, both arms), ``main_parameters``;
  :func:`load_binary_result` reads a fit saved with ``to_netcdf`` back.
* ``prior_sensitivity()`` — power-scaling prior/likelihood sensitivity of log OR, τ and
  θ_new (:mod:`bayesmeta.results.prior_sensitivity`), computed from the draws.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xarray as xr

from bayesmeta.data.binary import BinaryData
from bayesmeta.errors import InputError
from bayesmeta.files import write_with
from bayesmeta.models.binomial_normal import NAME as MODEL_NAME
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.results.absolute import NumberNeeded, risk_difference_draws
from bayesmeta.results.effect_scale import ODDS_RATIO, EffectScale
from bayesmeta.results.jsonable import clean
from bayesmeta.results.marginal import DrawsMarginal
from bayesmeta.results.two_arm import Baseline, TwoArmMCMCResult

SCHEMA = "bayesmeta.fit.binary/1"

#: Quantities a user can ask for, and the posterior variable each comes from.
QUANTITIES = {
    "log_or": ("theta", None),
    "or": ("theta", np.exp),
    "tau": ("tau", None),
    "theta_new": ("theta_new", None),
    "or_new": ("theta_new", np.exp),
}


class BaselineRisk(Baseline):
    """The control-arm risk used for absolute effects, and where it came from."""


def default_baseline(data: BinaryData) -> BaselineRisk:
    """Pooled control-arm risk: all control-arm events over all control-arm patients."""
    events, total = int(data.events_c.sum()), int(data.n_c.sum())
    if events == 0:
        return BaselineRisk(0.5 / total, f"no control-arm events in {total} patients; "
                            "0.5/N used — give --baseline-risk")
    return BaselineRisk(events / total, f"pooled control arms ({events}/{total})")


@dataclass(frozen=True, eq=False)
class BinaryMetaResult(TwoArmMCMCResult[BinaryData, BinomialNormalPriors, BaselineRisk]):
    """A fitted binomial–normal meta-analysis (see the module docstring; the fields and the
    shared questions are :class:`~bayesmeta.results.two_arm.TwoArmMCMCResult`'s)."""

    model: str = MODEL_NAME

    _schema: ClassVar[str] = SCHEMA
    _quantities: ClassVar[Mapping[str, tuple[str, Any]]] = QUANTITIES
    _ratio: ClassVar[str] = "or"
    _threshold_words: ClassVar[str] = "an OR threshold"
    _baseline_key: ClassVar[str] = "baseline_risk"
    _zero_note: ClassVar[str] = "zero cell"
    _forest_captions: ClassVar[Mapping[str, str]] = {"details_caption": "events / patients"}

    #: The effect measure (plots, influence, report): the odds ratio, harm = OR above 1.
    effect_scale: ClassVar[EffectScale] = ODDS_RATIO

    # -- local prior sensitivity -------------------------------------------------------
    def prior_sensitivity(self):
        """Power-scaling sensitivity (Kallioinen et al. 2024) of log OR, τ and θ_new; None
        for the conditional likelihood (its log-likelihood is not computed from draws)."""
        if self.model != MODEL_NAME:
            return None
        return self._power_scaling

    @cached_property
    def _power_scaling(self):
        from bayesmeta.results.prior_sensitivity import power_scaling

        return power_scaling(self.idata, self.data, self.priors)

    def _model_checks(self) -> dict[str, Any]:
        sensitivity = self.prior_sensitivity()
        return {"prior_sensitivity": None if sensitivity is None else sensitivity.to_dict()}

    # -- absolute effects --------------------------------------------------------------
    @property
    def baseline_risk(self) -> BaselineRisk:
        return self.baseline or default_baseline(self.data)

    def _baseline_used(self) -> BaselineRisk:
        return self.baseline_risk

    def risk_difference(self, *, predictive: bool = False, per: int = 1000) -> DrawsMarginal:
        """Risk difference (treatment − control) per ``per`` patients at the baseline risk."""
        log_or = self.posterior("theta_new" if predictive else "log_or").draws
        rd = risk_difference_draws(log_or, self.baseline_risk.value)
        name = f"risk_difference_per_{per}" + ("_new" if predictive else "")
        return DrawsMarginal(name, per * rd)

    def number_needed(self, *, predictive: bool = False) -> NumberNeeded:
        rd = self.risk_difference(predictive=predictive, per=1)
        lo, hi = rd.interval(0.95)
        return NumberNeeded(rd.median, lo, hi)

    def _absolute_difference(self, *, predictive: bool = False) -> DrawsMarginal:
        return self.risk_difference(predictive=predictive)

    def _absolute_effects(self) -> dict[str, Any]:
        return {
            "baseline_risk": self.baseline_risk.to_dict(),
            "risk_difference_per_1000": self.risk_difference().summary(),
            "risk_difference_per_1000_new": self.risk_difference(predictive=True).summary(),
            "number_needed": self.number_needed().to_dict(),
        }

    # -- studies -----------------------------------------------------------------------
    def _observed(self) -> tuple[np.ndarray, np.ndarray]:
        """Observed log OR and its SE (inf/nan with a zero cell)."""
        d = self.data
        with np.errstate(divide="ignore", invalid="ignore"):
            observed = (np.log(d.events_t) - np.log(d.n_t - d.events_t)
                        - np.log(d.events_c) + np.log(d.n_c - d.events_c))
            se = np.sqrt(1 / d.events_t + 1 / (d.n_t - d.events_t) + 1 / d.events_c
                         + 1 / (d.n_c - d.events_c))
        return observed, se

    def _arm_columns(self) -> dict[str, np.ndarray]:
        d = self.data
        return {"events_t": d.events_t, "n_t": d.n_t, "events_c": d.events_c, "n_c": d.n_c}

    def _arm_totals(self) -> dict[str, Any]:
        d = self.data
        return {"events_t": int(d.events_t.sum()), "n_t": int(d.n_t.sum()),
                "events_c": int(d.events_c.sum()), "n_c": int(d.n_c.sum())}

    # -- plots, influence, reports -----------------------------------------------------
    def _forest_details(self, study: Any) -> tuple[str, ...]:
        return (f"{study.events_t}/{study.n_t}", f"{study.events_c}/{study.n_c}")

    def pointwise_log_likelihood(self) -> xr.DataArray:
        """log p(data of study i | draw), both arms' binomial log pmf, (chain, draw, study).

        Computed from the posterior draws of the baselines ``mu`` and the study log ORs
        ``theta_study`` with scipy, as the model defines them; used by PSIS-LOO.
        """
        from scipy import stats
        from scipy.special import expit

        post = self.posterior_tree
        mu = post["mu"].transpose("chain", "draw", "study")
        theta = post["theta_study"].transpose("chain", "draw", "study")
        d = self.data
        log_lik = (stats.binom.logpmf(d.events_t, d.n_t, expit(mu.values + 0.5 * theta.values))
                   + stats.binom.logpmf(d.events_c, d.n_c,
                                        expit(mu.values - 0.5 * theta.values)))
        return xr.DataArray(log_lik, dims=("chain", "draw", "study"), coords=mu.coords,
                            name="events")

    def to_netcdf(self, path: str | Path, *, force: bool = False) -> Path:
        """Save everything needed to reprint this result without refitting, as NetCDF.

        Groups ``posterior`` and ``sample_stats`` (the draws), ``observed_data`` (the counts
        by study); attributes (JSON where structured): schema, model name, priors, sampler
        settings and seed, thresholds, baseline risk, package versions, the data's source,
        label, column map and extra columns, and the convergence diagnostics.
        :func:`load_binary_result` (or ``bayesmeta show FILE.nc``) reads it back.
        """
        from bayesmeta.results.saved import extra_to_json

        d = self.data
        tree = self._saved_tree(("events_t", "n_t", "events_c", "n_c"))
        settings = clean(self.settings_dict())
        tree.attrs.update({
            "bayesmeta_schema": SCHEMA,
            "bayesmeta_model": self.model,
            "bayesmeta_seed": self.settings.seed,
            "bayesmeta_version": settings["versions"].get("bayesmeta", ""),
            "bayesmeta_settings": json.dumps(settings, ensure_ascii=False),
            "bayesmeta_versions": json.dumps(settings["versions"]),
            "bayesmeta_data_source": d.source,
            "bayesmeta_label": self.label if self.label is not None else "",
            "bayesmeta_column_map": json.dumps(dict(d.column_map), ensure_ascii=False),
            "bayesmeta_extra": extra_to_json(d.extra),
            "bayesmeta_diagnostics": json.dumps(self.diagnostics.to_dict()),
        })
        return write_with(path, lambda tmp: tree.to_netcdf(tmp), force=force)


def load_binary_result(tree: xr.DataTree, source: str = "saved file") -> BinaryMetaResult:
    """Rebuild a :class:`BinaryMetaResult` from a tree written by ``to_netcdf``.

    Nothing is refitted: the draws, data, priors, settings, diagnostics and versions are the
    saved ones, so every summary, probability and table comes out as when it was fitted.
    """
    from bayesmeta.results import saved

    attrs = tree.attrs
    try:
        settings = saved.settings_from_attrs(attrs)
        obs = tree["observed_data"]
        data = BinaryData(
            study=tuple(str(s) for s in obs["study"].values.tolist()),
            events_t=np.asarray(obs["events_t"].values, dtype=np.int64),
            n_t=np.asarray(obs["n_t"].values, dtype=np.int64),
            events_c=np.asarray(obs["events_c"].values, dtype=np.int64),
            n_c=np.asarray(obs["n_c"].values, dtype=np.int64),
            extra=saved.extra_from_attrs(attrs),
            source=str(attrs.get("bayesmeta_data_source", source)),
            column_map=json.loads(attrs.get("bayesmeta_column_map", "{}")))
        baseline = settings["baseline_risk"]
        model = str(attrs.get("bayesmeta_model", MODEL_NAME))
        result_type, priors_type = _types_of(model)
        return result_type(
            data=data, priors=priors_type(**saved.priors_from_attrs(attrs)),
            settings=saved.sampler_from_settings(settings), idata=saved.draws_from_tree(tree),
            diagnostics=saved.diagnostics_from_attrs(attrs),
            thresholds=tuple(float(c) for c in settings["thresholds"]),
            baseline=BaselineRisk(float(baseline["value"]), str(baseline["source"])),
            model=model, label=str(attrs.get("bayesmeta_label", "")) or None,
            versions=saved.versions_from_settings(settings))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"is not a complete bayesmeta binary fit ({type(exc).__name__}: "
                         f"{exc})", source=source) from None


def _types_of(model: str) -> tuple[type, type]:
    """The result and priors classes of a saved fit of ``model`` (the conditional
    likelihood has its own result type and no baseline prior)."""
    from bayesmeta.models.conditional_hypergeometric import NAME as CONDITIONAL
    from bayesmeta.models.conditional_hypergeometric import ConditionalPriors
    from bayesmeta.results.conditional import ConditionalMetaResult

    if model == CONDITIONAL:
        return ConditionalMetaResult, ConditionalPriors
    return BinaryMetaResult, BinomialNormalPriors
