"""The result of a normal–normal (effect-size) meta-analysis: every question a user asks of it.

``EffectsMetaResult`` holds the data, priors and the posterior — exact (quadrature, the
default) or MCMC draws — and answers the same way in both cases:

* ``posterior(name)`` for ``mu``, ``tau``, ``theta_new`` and, for log ratio measures, the
  ratio (``or``/``or_new``, ``rr``/``rr_new``, ``hr``/``hr_new``) — an
  :class:`~bayesmeta.results.exact_marginal.ExactMarginal` or a
  :class:`~bayesmeta.results.marginal.DrawsMarginal` (median, quantiles, cdf, sf, ...);
* ``study(label)`` — one study's shrunken effect θ_i; ``study_effects()`` — all of them;
* ``probabilities()`` — P(μ > 0), P(θ_new > 0) and P(> c) for each threshold c;
* ``bayes_factors()`` — BF₀₁ for τ = 0 and μ = 0 from marginal likelihoods (exact only);
* ``summary()`` (a table), ``to_dict()`` (the ``--json`` document), ``to_netcdf(path)``;
* for plots, influence and reports: ``effect_scale`` (by measure: ratios on a log axis),
  ``forest_table()``, ``display_thresholds`` and, for MCMC fits, ``pointwise_log_likelihood()``
  and ``main_parameters``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from bayesmeta.data.effects import RATIO_NAMES, EffectsData
from bayesmeta.errors import InputError
from bayesmeta.inference.diagnostics import Diagnostics
from bayesmeta.inference.nnhm_exact import NNHMPosterior
from bayesmeta.inference.sampling import SamplerSettings
from bayesmeta.models.nnhm import NAME as MODEL_NAME
from bayesmeta.models.nnhm import NNHMPriors
from bayesmeta.results.effect_scale import EFFECT_SIZE_SCALES, EffectScale
from bayesmeta.results.exact_marginal import ExactMarginal
from bayesmeta.results.forest import ForestRow, ForestTable, Interval
from bayesmeta.results.jsonable import clean as _clean
from bayesmeta.results.jsonable import records as _records
from bayesmeta.results.marginal import DrawsMarginal
from bayesmeta.results.versions import software_versions as _software_versions

SCHEMA = "bayesmeta.fit.effects/1"


@cache
def software_versions() -> dict[str, str]:
    """The versions recorded with every result (read once per process: reading package
    metadata costs more than an exact fit)."""
    return _software_versions()
BASE_QUANTITIES = ("mu", "tau", "theta_new")
#: The exact method's result is flagged when the quadrature's estimated relative error
#: exceeds this (it aims at 1e-10; a larger error means the panel limit was reached).
QUADRATURE_TOL = 1e-7

Marginal = ExactMarginal | DrawsMarginal


@dataclass(frozen=True, eq=False)
class EffectsMetaResult:
    """A fitted normal–normal meta-analysis (see the module docstring).

    ``method`` is ``"exact"`` (``exact`` holds the quadrature posterior) or ``"mcmc"``
    (``idata``, ``settings`` and ``diagnostics`` hold the draws and their checks).
    """

    data: EffectsData
    priors: NNHMPriors
    method: str
    exact: NNHMPosterior | None = None
    idata: xr.DataTree | None = None
    settings: SamplerSettings | None = None
    diagnostics: Diagnostics | None = None
    thresholds: tuple[float, ...] = ()
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

    # -- quantities --------------------------------------------------------------------
    @property
    def ratio_name(self) -> str | None:
        """``or``/``rr``/``hr`` when the effects are log ratios, else None."""
        return RATIO_NAMES.get(self.data.measure)

    @property
    def quantities(self) -> tuple[str, ...]:
        ratio = self.ratio_name
        extra = (ratio, f"{ratio}_new") if ratio else ()
        return (*BASE_QUANTITIES, *extra)

    def posterior(self, name: str) -> Marginal:
        """The posterior of ``mu``, ``tau``, ``theta_new`` (or a ratio: ``or``, ``or_new``...)."""
        if name not in self.quantities:
            raise InputError(f"unknown quantity '{name}'; known: {', '.join(self.quantities)}")
        return self._marginals[name]

    @cached_property
    def _marginals(self) -> dict[str, Marginal]:
        out: dict[str, Marginal] = {}
        if self.method == "exact":
            post = self._exact
            out["mu"] = ExactMarginal.of_mixture("mu", post.mu)
            out["tau"] = ExactMarginal.of_panels("tau", post.tau)
            out["theta_new"] = ExactMarginal.of_mixture("theta_new", post.theta_new)
        else:
            for name in BASE_QUANTITIES:
                out[name] = DrawsMarginal(name, self._draws(name))
        ratio = self.ratio_name
        if ratio:
            for base, name in (("mu", ratio), ("theta_new", f"{ratio}_new")):
                m = out[base]
                out[name] = m.exp(name) if isinstance(m, ExactMarginal) else m.map(name, np.exp)
        return out

    @property
    def _exact(self) -> NNHMPosterior:
        if self.exact is None:
            raise InputError("this result holds MCMC draws, not an exact posterior")
        return self.exact

    def _draws(self, var: str) -> np.ndarray:
        assert self.idata is not None
        return np.asarray(self.idata["posterior"][var].transpose("chain", "draw", ...).values)

    def study(self, label: str | int) -> Marginal:
        """Study ``label``'s (or index's) shrunken effect θ_i."""
        i = self._index(label)
        name = f"theta[{self.data.study[i]}]"
        if self.method == "exact":
            return ExactMarginal.of_mixture(name, self._exact.theta.row(i))
        return DrawsMarginal(name, self._draws("theta")[..., i])

    def _index(self, label: str | int) -> int:
        if isinstance(label, int | np.integer):
            if not 0 <= int(label) < self.data.k:
                raise InputError(f"study index {label} out of range 0..{self.data.k - 1}")
            return int(label)
        if label not in self.data.study:
            raise InputError(f"no study '{label}'; studies: {', '.join(self.data.study)}")
        return self.data.study.index(label)

    # -- probabilities and evidence ----------------------------------------------------
    def probabilities(self) -> dict[str, Any]:
        """P(μ > 0), P(θ_new > 0), and with thresholds c: P(μ > c), P(θ_new > c) keyed by c
        on the effects' scale; for log ratios also the same keyed by the ratio, e.g.
        ``or_gt["1.5"]`` = P(OR > 1.5) = ``mu_gt["0.405465"]`` (as ``fit binary`` names it)."""
        mu, new = self.posterior("mu"), self.posterior("theta_new")
        out: dict[str, Any] = {"mu_gt_0": mu.sf(0.0), "theta_new_gt_0": new.sf(0.0)}
        if self.thresholds:
            out["mu_gt"] = {f"{c:g}": mu.sf(c) for c in self.thresholds}
            out["theta_new_gt"] = {f"{c:g}": new.sf(c) for c in self.thresholds}
            scale = self.effect_scale
            if scale.log:
                q = scale.symbol.lower()
                shown = [f"{c:g}" for c in self.display_thresholds]
                out[f"{q}_gt"] = dict(zip(shown, out["mu_gt"].values(), strict=True))
                out[f"{q}_new_gt"] = dict(zip(shown, out["theta_new_gt"].values(),
                                              strict=True))
        return out

    def bayes_factors(self) -> dict[str, Any]:
        """BF₀₁ = p(y | null) / p(y) for τ = 0 and μ = 0 (> 1 favours the null), with the
        log marginal likelihoods; None where a needed prior is improper (or for MCMC)."""
        if self.method != "exact":
            return {"tau_0": None, "mu_0": None, "log_marginal_likelihood": None,
                    "note": "Bayes factors are computed by the exact method only"}
        bf = self._exact.bayes_factors
        note = "; ".join(f"{k}: not defined, {v}" for k, v in bf.why.items())
        return {"tau_0": bf.tau0, "mu_0": bf.mu0, "log_marginal_likelihood": bf.log_marginal,
                "log_marginal_likelihood_tau_0": bf.log_marginal_tau0,
                "log_marginal_likelihood_mu_0": bf.log_marginal_mu0,
                "note": note or "BF01 > 1 favours the null hypothesis"}

    # -- studies -----------------------------------------------------------------------
    @cached_property
    def _study_table(self) -> pd.DataFrame:
        d = self.data
        if self.method == "exact":
            th = self._exact.theta
            q = th.quantile(np.array([0.025, 0.5, 0.975]))
            lo, hi = th.shortest_interval(0.95)
            mean = th.mean() if th.mean_exists else np.full(d.k, np.nan)
            sd = np.sqrt(th.var()) if th.var_exists else np.full(d.k, np.nan)
        else:
            flat = self._draws("theta").reshape(-1, d.k)
            q = np.quantile(flat, [0.025, 0.5, 0.975], axis=0).T
            mean, sd = flat.mean(axis=0), flat.std(axis=0, ddof=1)
            lo, hi = np.array([DrawsMarginal("theta", flat[:, i]).shortest_interval(0.95)
                               for i in range(d.k)]).T
        return pd.DataFrame({
            "study": list(d.study), "yi": d.yi, "sei": d.sei,
            "mean": mean, "sd": sd, "median": q[:, 1], "q025": q[:, 0], "q975": q[:, 2],
            "shortest95_lo": lo, "shortest95_hi": hi,
        })

    def study_effects(self) -> pd.DataFrame:
        """Per study: observed ``yi``, ``sei`` and the shrunken θ_i (mean, sd, median,
        equal-tailed and shortest 95% intervals)."""
        return self._study_table.copy()

    # -- tables and documents ----------------------------------------------------------
    def quantity_summary(self, name: str, *, mcse: bool = False) -> dict[str, Any]:
        """``{mean, sd, median, q025, q975, shortest95_lo, shortest95_hi}`` of one quantity,
        the same keys for both methods (MCMC adds ``mcse`` when asked)."""
        return _summary(self.posterior(name), mcse=mcse and self.method == "mcmc")

    def summary(self) -> pd.DataFrame:
        """One row per pooled quantity."""
        rows = [{"quantity": n, **self.quantity_summary(n)} for n in self.quantities]
        return pd.DataFrame(rows).set_index("quantity")

    def method_details(self) -> dict[str, Any]:
        """How the posterior was computed: quadrature accuracy, or the sampler's checks."""
        if self.method == "exact":
            post = self._exact
            return {"method": "exact", "ok": bool(post.tau.error <= QUADRATURE_TOL),
                    "quadrature_nodes": post.n_nodes,
                    "panels": post.n_panels, "estimated_relative_error": post.tau.error,
                    "posterior_tail_power_tau": post.tail_power}
        assert self.diagnostics is not None
        return {"method": "mcmc", **self.diagnostics.to_dict()}

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (schema ``bayesmeta.fit.effects/1``, see docs/json.md)."""
        d = self.data
        out: dict[str, Any] = {
            "schema": SCHEMA, "model": self.model, "method": self.method,
            "data": {
                "source": d.source, "n_studies": d.k, "studies": list(d.study),
                "measure": d.measure, "measure_text": d.measure_text,
                "derivation": d.derivation, "column_map": dict(d.column_map),
                "details": dict(d.details),
            },
        }
        for name in self.quantities:
            out[name] = self.quantity_summary(name, mcse=True)
        out["probabilities"] = self.probabilities()
        out["bayes_factors"] = self.bayes_factors()
        out["studies"] = _records(self.study_effects())
        out["diagnostics"] = self.method_details()
        out["settings"] = self.settings_dict()
        return _clean(out)

    def settings_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "method": self.method, "measure": self.data.measure,
            "priors": {k: p.to_dict() for k, p in self.priors.as_dict().items()},
            "sampler": None if self.settings is None else self.settings.to_dict(),
            "seed": None if self.settings is None else self.settings.seed,
            "thresholds": list(self.thresholds),
            "display_thresholds": list(self.display_thresholds),
            "versions": dict(self.versions) if self.versions else dict(software_versions()),
        }

    def to_netcdf(self, path: str | Path, *, force: bool = False) -> Path:
        """Save the data, priors, settings, versions and the posterior as NetCDF: the draws
        (MCMC) or the exact posterior as computed — τ's quadrature panels, nodes and
        weights and the normal mixtures of μ, θ_new and every θ_i
        (:mod:`bayesmeta.results.effects_saved`). ``bayesmeta show`` reprints it."""
        from bayesmeta.results.effects_saved import write_effects_netcdf

        return write_effects_netcdf(self, path, force=force)


    # -- plots, influence, reports -----------------------------------------------------
    #: The parameters whose chains the trace and rank plots show (MCMC fits).
    main_parameters: ClassVar[tuple[str, ...]] = ("mu", "tau")
    #: Why PSIS-LOO's Pareto k̂ can be high here (the influence verdict's words).
    high_k_reason: ClassVar[str] = ("expected when a study lies far from the others or the "
                                    "pooled estimate leans on it")

    @property
    def effect_scale(self) -> EffectScale:
        """The measure's scale: OR/RR/HR from log ratios (log axis, harm above 1); RD, MD,
        SMD and generic effects as they are (linear axis around 0)."""
        return EFFECT_SIZE_SCALES[self.data.measure]

    @property
    def display_thresholds(self) -> tuple[float, ...]:
        """``thresholds`` (on the effects' scale, e.g. log OR) on the displayed scale (OR),
        where plots and reports take a harm threshold."""
        # 12 significant digits: exp(log(1.5)) is 1.5, as the user typed it
        return tuple(float(f"{self.effect_scale.to_display(c):.12g}") for c in self.thresholds)

    def forest_table(self) -> ForestTable:
        """Forest-plot rows: each study's estimate y_i ± 1.96·SE (as given or derived, with
        the continuity correction it was given), its shrunken θ_i (median, 95% CrI), n (when
        known) and SE; then the pooled μ and a new study's θ_new (95% prediction interval)."""
        scale = self.effect_scale
        sym = scale.symbol
        z = 1.959963984540054
        d = self.data
        rows = []
        for i, r in enumerate(self.study_effects().itertuples()):
            details = (f"{r.sei:.3g}",)
            if d.n is not None:
                details = (f"{d.n[i]:.0f}", *details)
            rows.append(ForestRow(label=str(r.study), kind="study",
                                  observed=Interval(r.yi, r.yi - z * r.sei, r.yi + z * r.sei),
                                  model=Interval(r.median, r.q025, r.q975), details=details))
        new_label = f"{sym} in a new study"
        for kind, name, label in (("pooled", "mu", f"Pooled {sym}"),
                                  ("predictive", "theta_new",
                                   new_label[0].upper() + new_label[1:])):
            m = self.posterior(name)
            lo, hi = m.interval(0.95)
            rows.append(ForestRow(label=label, kind=kind, model=Interval(m.median, lo, hi)))
        headers = ("SE",) if d.n is None else ("n", "SE")
        se_of = f"log {sym}" if scale.log else sym
        shown = "" if sym == "effect" else f" {sym}"
        return ForestTable(rows=tuple(rows), detail_headers=headers, scale=scale,
                           observed_label=f"observed{shown} (95% CI)",
                           model_label=f"model{shown} (95% CrI)",
                           details_caption=f"SE of the {se_of}",
                           observed_caption=self._observed_caption())

    def _observed_caption(self) -> str:
        """How the observed intervals were made, for the forest plot's legend."""
        details = self.data.details
        text = "estimate ± 1.96 SE"
        if details.get("from") == "binary":
            corrected = list(details.get("corrected_studies") or [])
            cc = details.get("continuity_correction")
            text += (f"; {cc:g} added to the cells of {len(corrected)} table(s)" if corrected
                     else "; no continuity correction")
        return text

    def pointwise_log_likelihood(self) -> xr.DataArray:
        """log p(y_i | μ, τ) = log N(y_i; μ, s_i² + τ²) per draw and study (chain, draw,
        study): the model's likelihood of study i with its θ_i integrated out, as the PyMC
        model observes it; used by PSIS-LOO. MCMC fits only."""
        if self.method != "mcmc" or self.idata is None:
            raise InputError("PSIS-LOO needs posterior draws; this exact fit has none (its "
                             "leave-one-study-out refits are exact instead)")
        from scipy import stats

        post = self.idata["posterior"]
        mu = post["mu"].transpose("chain", "draw").values[..., None]
        tau = post["tau"].transpose("chain", "draw").values[..., None]
        y, s = np.asarray(self.data.yi, float), np.asarray(self.data.sei, float)
        log_lik = stats.norm.logpdf(y, mu, np.sqrt(s**2 + tau**2))
        theta = post["theta"].transpose("chain", "draw", "study")
        return xr.DataArray(log_lik, dims=("chain", "draw", "study"), coords=theta.coords,
                            name="y_obs")


def _summary(m: Marginal, *, mcse: bool = False) -> dict[str, Any]:
    if isinstance(m, ExactMarginal):
        return m.summary()
    out = m.summary(with_mcse=mcse)
    out["shortest95_lo"], out["shortest95_hi"] = m.shortest_interval(0.95)
    return out
