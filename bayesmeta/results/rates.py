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
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from bayesmeta.data.rates import RateData
from bayesmeta.errors import InputError
from bayesmeta.files import write_with
from bayesmeta.inference.diagnostics import Diagnostics
from bayesmeta.inference.sampling import SamplerSettings
from bayesmeta.models.poisson_exposure import NAME as MODEL_NAME
from bayesmeta.models.poisson_exposure import PoissonNormalPriors
from bayesmeta.results.binary import _clean, _records
from bayesmeta.results.effect_scale import RATE_RATIO, EffectScale
from bayesmeta.results.forest import ForestRow, ForestTable, Interval
from bayesmeta.results.marginal import DrawsMarginal
from bayesmeta.results.versions import software_versions

SCHEMA = "bayesmeta.fit.rates/1"

QUANTITIES = {
    "log_rr": ("theta", None),
    "rr": ("theta", np.exp),
    "tau": ("tau", None),
    "theta_new": ("theta_new", None),
    "rr_new": ("theta_new", np.exp),
}


@dataclass(frozen=True)
class BaselineRate:
    """The control-arm event rate used for absolute effects, and where it came from."""

    value: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source}


def default_baseline_rate(data: RateData) -> BaselineRate:
    events, time = int(data.events_c.sum()), float(data.exposure_c.sum())
    if events == 0:
        return BaselineRate(0.5 / time, f"no control-arm events in {time:g} person-time; "
                            "0.5/T used — give --baseline-rate")
    return BaselineRate(events / time, f"pooled control arms ({events} events / {time:g})")


@dataclass(frozen=True, eq=False)
class RateMetaResult:
    """A fitted Poisson–normal meta-analysis (see the module docstring)."""

    data: RateData
    priors: PoissonNormalPriors
    settings: SamplerSettings
    idata: xr.DataTree
    diagnostics: Diagnostics
    thresholds: tuple[float, ...] = ()
    baseline: BaselineRate | None = None
    model: str = MODEL_NAME
    timings: dict[str, float] = field(default_factory=dict)
    #: How the data were named when fitted (the CLI's DATA argument); printed as "Data: ...".
    label: str | None = None
    #: Software versions that produced the fit (set when reloaded from a saved file).
    versions: dict[str, str] | None = None

    @property
    def schema(self) -> str:
        return SCHEMA

    #: The effect measure (plots, influence, report): the rate ratio, harm = RR above 1.
    effect_scale: ClassVar[EffectScale] = RATE_RATIO
    #: The parameters whose chains the trace and rank plots show.
    main_parameters: ClassVar[tuple[str, ...]] = ("theta", "tau")

    @property
    def posterior_tree(self) -> xr.DataTree:
        return self.idata["posterior"]

    def posterior(self, name: str) -> DrawsMarginal:
        """The posterior of ``log_rr``, ``rr``, ``tau``, ``theta_new`` or ``rr_new``."""
        if name not in QUANTITIES:
            raise InputError(f"unknown quantity '{name}'; known: {', '.join(QUANTITIES)}")
        var, func = QUANTITIES[name]
        draws = np.asarray(self.posterior_tree[var].transpose("chain", "draw").values)
        return DrawsMarginal(name, draws if func is None else func(draws))

    def prob_harm(self, threshold: float = 1.0, *, predictive: bool = False) -> float:
        """P(RR > threshold) — or, with ``predictive``, the same for a new study's RR."""
        if not threshold > 0:
            raise InputError(f"a rate-ratio threshold must be greater than 0 (got "
                             f"{threshold})", source="--threshold")
        return self.posterior("theta_new" if predictive else "log_rr").sf(math.log(threshold))

    @property
    def baseline_rate(self) -> BaselineRate:
        return self.baseline or default_baseline_rate(self.data)

    def rate_difference(self, *, predictive: bool = False, per: float = 1000) -> DrawsMarginal:
        """Extra events per ``per`` units of person-time (treatment − control) at the
        baseline rate: λ₀·(RR − 1)·per."""
        log_rr = self.posterior("theta_new" if predictive else "log_rr").draws
        name = f"rate_difference_per_{per:g}" + ("_new" if predictive else "")
        return DrawsMarginal(name, per * self.baseline_rate.value * np.expm1(log_rr))

    def study_effects(self) -> pd.DataFrame:
        """Per study: events and person-time, observed log RR (none with a zero count),
        shrunken log RR."""
        d = self.data
        with np.errstate(divide="ignore", invalid="ignore"):
            observed = (np.log(d.events_t / d.exposure_t) - np.log(d.events_c / d.exposure_c))
            se = np.sqrt(1 / d.events_t + 1 / d.events_c)
        zero = d.any_zero
        theta = self.posterior_tree["theta_study"].transpose("chain", "draw", "study").values
        flat = theta.reshape(-1, d.k)
        q = np.quantile(flat, [0.025, 0.5, 0.975], axis=0)
        return pd.DataFrame({
            "study": list(d.study), "events_t": d.events_t, "exposure_t": d.exposure_t,
            "events_c": d.events_c, "exposure_c": d.exposure_c,
            "observed_log_rr": np.where(zero, np.nan, observed),
            "observed_se": np.where(zero, np.nan, se),
            "log_rr_mean": flat.mean(axis=0), "log_rr_sd": flat.std(axis=0, ddof=1),
            "log_rr_median": q[1], "log_rr_q025": q[0], "log_rr_q975": q[2],
            "rr_median": np.exp(q[1]), "rr_q025": np.exp(q[0]), "rr_q975": np.exp(q[2]),
        })

    def summary(self) -> pd.DataFrame:
        rows = [{"quantity": name, **self.posterior(name).summary(with_mcse=False)}
                for name in QUANTITIES]
        for predictive in (False, True):
            rd = self.rate_difference(predictive=predictive)
            rows.append({"quantity": rd.name, **rd.summary(with_mcse=False)})
        return pd.DataFrame(rows).set_index("quantity")

    def probabilities(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rr_gt_1": self.prob_harm(1.0),
                               "theta_new_gt_0": self.prob_harm(1.0, predictive=True)}
        if self.thresholds:
            out["rr_gt"] = {f"{c:g}": self.prob_harm(c) for c in self.thresholds}
            out["rr_new_gt"] = {f"{c:g}": self.prob_harm(c, predictive=True)
                                for c in self.thresholds}
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (schema ``bayesmeta.fit.rates/1``, see docs/json.md)."""
        d = self.data
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "model": self.model,
            "data": {
                "source": d.source, "n_studies": d.k, "studies": list(d.study),
                "double_zero_studies": [s for s, z in zip(d.study, d.double_zero,
                                                          strict=True) if z],
                "events_t": int(d.events_t.sum()), "exposure_t": float(d.exposure_t.sum()),
                "events_c": int(d.events_c.sum()), "exposure_c": float(d.exposure_c.sum()),
                "column_map": dict(d.column_map),
            },
        }
        for name in QUANTITIES:
            out[name] = self.posterior(name).summary()
        out["baseline_rate"] = self.baseline_rate.to_dict()
        out["rate_difference_per_1000"] = self.rate_difference().summary()
        out["rate_difference_per_1000_new"] = self.rate_difference(predictive=True).summary()
        out["probabilities"] = self.probabilities()
        out["studies"] = _records(self.study_effects())
        out["diagnostics"] = self.diagnostics.to_dict()
        out["settings"] = self.settings_dict()
        return _clean(out)

    def settings_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "priors": {k: p.to_dict() for k, p in self.priors.as_dict().items()},
            "sampler": self.settings.to_dict(),
            "seed": self.settings.seed,
            "thresholds": list(self.thresholds),
            "baseline_rate": self.baseline_rate.to_dict(),
            "versions": dict(self.versions) if self.versions else software_versions(),
        }

    # -- plots, influence, reports -----------------------------------------------------
    def forest_table(self) -> ForestTable:
        """Forest-plot rows: observed log rate ratio with its 95% Wald CI (none with a zero
        count — no continuity correction), the shrunken log RR with its 95% CrI,
        events/person-time per arm; then the pooled log RR and a new study's."""
        rows = []
        for r in self.study_effects().itertuples():
            observed = None
            note = ""
            if np.isnan(r.observed_log_rr):
                note = ("double zero" if r.events_t == 0 and r.events_c == 0
                        else "zero count")
            else:
                half = 1.959963984540054 * r.observed_se
                observed = Interval(r.observed_log_rr, r.observed_log_rr - half,
                                    r.observed_log_rr + half)
            rows.append(ForestRow(
                label=str(r.study), kind="study", observed=observed, observed_note=note,
                model=Interval(r.log_rr_median, r.log_rr_q025, r.log_rr_q975),
                details=(f"{r.events_t}/{_time(r.exposure_t)}",
                         f"{r.events_c}/{_time(r.exposure_c)}")))
        for kind, name, label in (("pooled", "log_rr", "Pooled RR"),
                                  ("predictive", "theta_new", "RR in a new study")):
            m = self.posterior(name)
            lo, hi = m.interval(0.95)
            rows.append(ForestRow(label=label, kind=kind, model=Interval(m.median, lo, hi)))
        return ForestTable(rows=tuple(rows), detail_headers=("treatment", "control"),
                           scale=self.effect_scale, observed_label="observed RR (95% CI)",
                           model_label="model RR (95% CrI)",
                           details_caption="events / person-time",
                           missing_caption="(no events in an arm; no continuity correction "
                                           "is added) — the model uses these studies' exact "
                                           "Poisson likelihood")

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
        data_ds = xr.Dataset(
            {name: ("study", getattr(d, name)) for name in ("events_t", "exposure_t",
                                                           "events_c", "exposure_c")},
            coords={"study": list(d.study)})
        tree = xr.DataTree.from_dict({
            "posterior": xr.DataTree(self.idata["posterior"].to_dataset()),
            "sample_stats": xr.DataTree(self.idata["sample_stats"].to_dataset()),
            "observed_data": xr.DataTree(data_ds),
        })
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
        idata = xr.DataTree.from_dict({
            "posterior": xr.DataTree(tree["posterior"].to_dataset()),
            "sample_stats": xr.DataTree(tree["sample_stats"].to_dataset())})
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
