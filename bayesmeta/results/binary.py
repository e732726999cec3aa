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
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from bayesmeta.data.binary import BinaryData
from bayesmeta.errors import InputError
from bayesmeta.files import write_with
from bayesmeta.inference.diagnostics import Diagnostics
from bayesmeta.inference.sampling import SamplerSettings
from bayesmeta.models.binomial_normal import NAME as MODEL_NAME
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.priors import Prior
from bayesmeta.results.absolute import NumberNeeded, risk_difference_draws
from bayesmeta.results.effect_scale import ODDS_RATIO, EffectScale
from bayesmeta.results.forest import ForestRow, ForestTable, Interval
from bayesmeta.results.marginal import DrawsMarginal
from bayesmeta.results.versions import software_versions

SCHEMA = "bayesmeta.fit.binary/1"

#: Quantities a user can ask for, and the posterior variable each comes from.
QUANTITIES = {
    "log_or": ("theta", None),
    "or": ("theta", np.exp),
    "tau": ("tau", None),
    "theta_new": ("theta_new", None),
    "or_new": ("theta_new", np.exp),
}


@dataclass(frozen=True)
class BaselineRisk:
    """The control-arm risk used for absolute effects, and where it came from."""

    value: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source}


def default_baseline(data: BinaryData) -> BaselineRisk:
    """Pooled control-arm risk: all control-arm events over all control-arm patients."""
    events, total = int(data.events_c.sum()), int(data.n_c.sum())
    if events == 0:
        return BaselineRisk(0.5 / total, f"no control-arm events in {total} patients; "
                            "0.5/N used — give --baseline-risk")
    return BaselineRisk(events / total, f"pooled control arms ({events}/{total})")


@dataclass(frozen=True, eq=False)
class BinaryMetaResult:
    """A fitted binomial–normal meta-analysis (see the module docstring)."""

    data: BinaryData
    priors: BinomialNormalPriors
    settings: SamplerSettings
    idata: xr.DataTree
    diagnostics: Diagnostics
    thresholds: tuple[float, ...] = ()
    baseline: BaselineRisk | None = None
    model: str = MODEL_NAME
    timings: dict[str, float] = field(default_factory=dict)
    #: How the data were named when fitted (the CLI's DATA argument); printed as "Data: ...".
    label: str | None = None
    #: Software versions that produced the fit (set when reloaded from a saved file;
    #: None means the versions running now).
    versions: dict[str, str] | None = None

    @property
    def schema(self) -> str:
        return SCHEMA

    #: The effect measure (plots, influence, report): the odds ratio, harm = OR above 1.
    effect_scale: ClassVar[EffectScale] = ODDS_RATIO
    #: The parameters whose chains the trace and rank plots show.
    main_parameters: ClassVar[tuple[str, ...]] = ("theta", "tau")

    # -- single quantities -------------------------------------------------------------
    @property
    def posterior_tree(self) -> xr.DataTree:
        return self.idata["posterior"]

    def posterior(self, name: str) -> DrawsMarginal:
        """The posterior of ``log_or``, ``or``, ``tau``, ``theta_new`` or ``or_new``."""
        if name not in QUANTITIES:
            raise InputError(f"unknown quantity '{name}'; known: {', '.join(QUANTITIES)}")
        var, func = QUANTITIES[name]
        draws = np.asarray(self.posterior_tree[var].transpose("chain", "draw").values)
        return DrawsMarginal(name, draws if func is None else func(draws))

    def prob_harm(self, threshold: float = 1.0, *, predictive: bool = False) -> float:
        """P(OR > threshold) — or, with ``predictive``, the same for a new study's OR."""
        if not threshold > 0:
            raise InputError(f"an OR threshold must be greater than 0 (got {threshold})",
                             source="--threshold")
        draws = self.posterior("theta_new" if predictive else "log_or")
        return draws.sf(math.log(threshold))

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

    # -- absolute effects --------------------------------------------------------------
    @property
    def baseline_risk(self) -> BaselineRisk:
        return self.baseline or default_baseline(self.data)

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

    # -- studies -----------------------------------------------------------------------
    def study_effects(self) -> pd.DataFrame:
        """Per study: counts, observed log OR (none when a cell is zero), shrunken log OR."""
        d = self.data
        with np.errstate(divide="ignore", invalid="ignore"):
            observed = (np.log(d.events_t) - np.log(d.n_t - d.events_t)
                        - np.log(d.events_c) + np.log(d.n_c - d.events_c))
            se = np.sqrt(1 / d.events_t + 1 / (d.n_t - d.events_t) + 1 / d.events_c
                         + 1 / (d.n_c - d.events_c))
        zero = d.any_zero
        theta = self.posterior_tree["theta_study"].transpose("chain", "draw", "study").values
        flat = theta.reshape(-1, d.k)
        q = np.quantile(flat, [0.025, 0.5, 0.975], axis=0)
        return pd.DataFrame({
            "study": list(d.study), "events_t": d.events_t, "n_t": d.n_t,
            "events_c": d.events_c, "n_c": d.n_c,
            "observed_log_or": np.where(zero, np.nan, observed),
            "observed_se": np.where(zero, np.nan, se),
            "log_or_mean": flat.mean(axis=0), "log_or_sd": flat.std(axis=0, ddof=1),
            "log_or_median": q[1], "log_or_q025": q[0], "log_or_q975": q[2],
            "or_median": np.exp(q[1]), "or_q025": np.exp(q[0]), "or_q975": np.exp(q[2]),
        })

    # -- tables and documents ----------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per pooled quantity: mean, sd, median, q025, q975."""
        rows = []
        for name in ("log_or", "or", "tau", "theta_new", "or_new"):
            rows.append({"quantity": name, **self.posterior(name).summary(with_mcse=False)})
        for predictive in (False, True):
            rd = self.risk_difference(predictive=predictive)
            rows.append({"quantity": rd.name, **rd.summary(with_mcse=False)})
        return pd.DataFrame(rows).set_index("quantity")

    def probabilities(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "or_gt_1": self.prob_harm(1.0),
            "theta_new_gt_0": self.prob_harm(1.0, predictive=True),
        }
        if self.thresholds:
            out["or_gt"] = {f"{c:g}": self.prob_harm(c) for c in self.thresholds}
            out["or_new_gt"] = {f"{c:g}": self.prob_harm(c, predictive=True)
                                for c in self.thresholds}
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (schema ``bayesmeta.fit.binary/1``, see docs/json.md)."""
        d = self.data
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "model": self.model,
            "data": {
                "source": d.source, "n_studies": d.k, "studies": list(d.study),
                "double_zero_studies": [s for s, z in zip(d.study, d.double_zero,
                                                          strict=True) if z],
                "events_t": int(d.events_t.sum()), "n_t": int(d.n_t.sum()),
                "events_c": int(d.events_c.sum()), "n_c": int(d.n_c.sum()),
                "column_map": dict(d.column_map),
            },
        }
        for name in QUANTITIES:
            out[name] = self.posterior(name).summary()
        out["baseline_risk"] = self.baseline_risk.to_dict()
        out["risk_difference_per_1000"] = self.risk_difference().summary()
        out["risk_difference_per_1000_new"] = self.risk_difference(predictive=True).summary()
        out["number_needed"] = self.number_needed().to_dict()
        out["probabilities"] = self.probabilities()
        out["studies"] = _records(self.study_effects())
        out["diagnostics"] = self.diagnostics.to_dict()
        sensitivity = self.prior_sensitivity()
        out["prior_sensitivity"] = None if sensitivity is None else sensitivity.to_dict()
        out["settings"] = self.settings_dict()
        return _clean(out)

    def settings_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "priors": {k: p.to_dict() for k, p in self.priors.as_dict().items()},
            "sampler": self.settings.to_dict(),
            "seed": self.settings.seed,
            "thresholds": list(self.thresholds),
            "baseline_risk": self.baseline_risk.to_dict(),
            "versions": dict(self.versions) if self.versions else software_versions(),
        }

    # -- plots, influence, reports -----------------------------------------------------
    def forest_table(self) -> ForestTable:
        """Forest-plot rows: observed log OR with its 95% Wald CI (none with a zero cell —
        no continuity correction), the shrunken log OR with its 95% CrI, events/total;
        then the pooled log OR and a new study's log OR (95% prediction interval)."""
        rows = []
        for r in self.study_effects().itertuples():
            observed = None
            note = ""
            if np.isnan(r.observed_log_or):
                note = ("double zero" if r.events_t == 0 and r.events_c == 0
                        else "zero cell")
            else:
                half = 1.959963984540054 * r.observed_se
                observed = Interval(r.observed_log_or, r.observed_log_or - half,
                                    r.observed_log_or + half)
            rows.append(ForestRow(
                label=str(r.study), kind="study", observed=observed, observed_note=note,
                model=Interval(r.log_or_median, r.log_or_q025, r.log_or_q975),
                details=(f"{r.events_t}/{r.n_t}", f"{r.events_c}/{r.n_c}")))
        for kind, name, label in (("pooled", "log_or", "Pooled OR"),
                                  ("predictive", "theta_new", "OR in a new study")):
            m = self.posterior(name)
            lo, hi = m.interval(0.95)
            rows.append(ForestRow(label=label, kind=kind, model=Interval(m.median, lo, hi)))
        return ForestTable(rows=tuple(rows), detail_headers=("treatment", "control"),
                           scale=self.effect_scale, observed_label="observed OR (95% CI)",
                           model_label="model OR (95% CrI)",
                           details_caption="events / patients")

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
        d = self.data
        data_ds = xr.Dataset(
            {name: ("study", getattr(d, name)) for name in ("events_t", "n_t", "events_c",
                                                           "n_c")},
            coords={"study": list(d.study)})
        tree = xr.DataTree.from_dict({
            "posterior": xr.DataTree(self.idata["posterior"].to_dataset()),
            "sample_stats": xr.DataTree(self.idata["sample_stats"].to_dataset()),
            "observed_data": xr.DataTree(data_ds),
        })
        settings = _clean(self.settings_dict())
        extra = self.data.extra.astype(str)
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
            "bayesmeta_extra": json.dumps({"columns": [str(c) for c in extra.columns],
                                           "rows": extra.values.tolist()},
                                          ensure_ascii=False),
            "bayesmeta_diagnostics": json.dumps(self.diagnostics.to_dict()),
        })
        return write_with(path, lambda tmp: tree.to_netcdf(tmp), force=force)


def load_binary_result(tree: xr.DataTree, source: str = "saved file") -> BinaryMetaResult:
    """Rebuild a :class:`BinaryMetaResult` from a tree written by ``to_netcdf``.

    Nothing is refitted: the draws, data, priors, settings, diagnostics and versions are the
    saved ones, so every summary, probability and table comes out as when it was fitted.
    """
    from bayesmeta.inference.diagnostics import Problem

    attrs = tree.attrs
    try:
        settings = json.loads(attrs["bayesmeta_settings"])
        obs = tree["observed_data"]
        extra_doc = json.loads(attrs.get("bayesmeta_extra", '{"columns": [], "rows": []}'))
        data = BinaryData(
            study=tuple(str(s) for s in obs["study"].values.tolist()),
            events_t=np.asarray(obs["events_t"].values, dtype=np.int64),
            n_t=np.asarray(obs["n_t"].values, dtype=np.int64),
            events_c=np.asarray(obs["events_c"].values, dtype=np.int64),
            n_c=np.asarray(obs["n_c"].values, dtype=np.int64),
            extra=pd.DataFrame(extra_doc["rows"], columns=extra_doc["columns"], dtype=object)
            if extra_doc["columns"] else pd.DataFrame(),
            source=str(attrs.get("bayesmeta_data_source", source)),
            column_map=json.loads(attrs.get("bayesmeta_column_map", "{}")))
        priors = {}
        for slot, doc in settings["priors"].items():
            generic = ":".join([doc["family"], *(f"{p:g}" for p in doc["params"])])
            priors[slot] = Prior(doc["family"], tuple(float(p) for p in doc["params"]),
                                 label=None if doc["spec"] == generic else doc["spec"],
                                 source=doc.get("source", ""))
        sampler = SamplerSettings(**settings["sampler"])
        diag_doc = json.loads(attrs["bayesmeta_diagnostics"])
        problems = tuple(Problem(**p) for p in diag_doc.pop("problems"))
        for key in ("ok", "thresholds"):
            diag_doc.pop(key, None)
        diag_doc = {k: (math.nan if v is None else v) for k, v in diag_doc.items()}
        diagnostics = Diagnostics(**diag_doc, problems=problems)
        baseline = settings["baseline_risk"]
        idata = xr.DataTree.from_dict({
            "posterior": xr.DataTree(tree["posterior"].to_dataset()),
            "sample_stats": xr.DataTree(tree["sample_stats"].to_dataset())})
        model = str(attrs.get("bayesmeta_model", MODEL_NAME))
        result_type, priors_type = _types_of(model)
        return result_type(
            data=data, priors=priors_type(**priors), settings=sampler, idata=idata,
            diagnostics=diagnostics, thresholds=tuple(float(c) for c in settings["thresholds"]),
            baseline=BaselineRisk(float(baseline["value"]), str(baseline["source"])),
            model=model, label=str(attrs.get("bayesmeta_label", "")) or None,
            versions=dict(settings["versions"]))
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


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _scalar(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _scalar(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    return value


def _clean(obj: Any) -> Any:
    """Make ``obj`` JSON-safe: numpy scalars to Python, NaN/inf to null."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.ndarray,)):
        return [_clean(v) for v in obj.tolist()]
    return _scalar(obj)
