"""The result of a longitudinal meta-analysis: the effect at each follow-up, and its course.

``LongitudinalMetaResult`` answers, in the same way as the binary result:

* ``posterior(name, time=)`` — a :class:`~bayesmeta.results.marginal.DrawsMarginal` for
  ``mu`` (pooled effect at a time), ``theta_new`` (a new study's effect there), ``tau``
  (between-study SD there), ``phi``/``rho`` (the between-study correlation parameter),
  ``rho_within`` (when it had a prior), and ``corr`` (between-study correlation of two
  times: ``time=(3, 12)``);
* ``prob_benefit(time, threshold=0, predictive=False)`` — P(effect < threshold) when lower
  is better, P(effect > threshold) when higher is better;
* ``change(from_time, to_time)`` — how the pooled effect moves between two follow-ups;
* ``effects()`` — one row per time; ``study_effects()`` — observed and shrunken effects per
  study and time; ``summary()``, ``to_dict()`` (the ``--json`` document), ``to_netcdf()``.

Derived draws (θ_new, the correlation matrix; study-level θ on first use) are computed
from the posterior draws with random generators seeded from the fit's seed, so the same
inputs give the same numbers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayesmeta.data.longitudinal import LongitudinalData
from bayesmeta.errors import InputError
from bayesmeta.files import write_with
from bayesmeta.inference.diagnostics import Diagnostics
from bayesmeta.inference.sampling import SamplerSettings
from bayesmeta.models.longitudinal import (
    NAME as MODEL_NAME,
)
from bayesmeta.models.longitudinal import (
    LongitudinalOptions,
    LongitudinalPriors,
    between_correlation,
    conditional_study_effects,
    new_study_effects,
    tau_by_time,
)
from bayesmeta.priors import Prior
from bayesmeta.results.jsonable import clean, records
from bayesmeta.results.marginal import DrawsMarginal
from bayesmeta.results.versions import software_versions

SCHEMA = "bayesmeta.fit.longitudinal/1"
DIRECTIONS = ("lower", "higher")
PER_TIME = ("mu", "theta_new", "tau")
#: Offset added to the fit's seed for the generator of derived draws.
DERIVED_SEED_OFFSET = 7919


def _flat_draws(posterior: xr.Dataset) -> dict[str, np.ndarray]:
    n = posterior.sizes["chain"] * posterior.sizes["draw"]
    return {str(v): np.asarray(posterior[v].transpose("chain", "draw", ...).values)
            .reshape(n, *posterior[v].shape[2:]) for v in posterior.data_vars}


def derived_draws(data: LongitudinalData, options: LongitudinalOptions,
                  posterior: xr.Dataset, seed: int) -> xr.Dataset:
    """θ_new[time] (a new study), corr[time, time2] and tau_time[time] from the draws."""
    chains, draws_n = posterior.sizes["chain"], posterior.sizes["draw"]
    flat = _flat_draws(posterior)
    rng = np.random.default_rng(seed + DERIVED_SEED_OFFSET)
    times = data.times
    theta_new = new_study_effects(options, times, flat, rng)
    corr = between_correlation(options, times, flat)

    def shaped(x: np.ndarray) -> np.ndarray:
        return x.reshape(chains, draws_n, *x.shape[1:])

    coords = {"chain": posterior["chain"].values, "draw": posterior["draw"].values,
              "time": times, "time2": times}
    return xr.Dataset({
        "theta_new": (("chain", "draw", "time"), shaped(theta_new)),
        "corr": (("chain", "draw", "time", "time2"), shaped(corr)),
        "tau_time": (("chain", "draw", "time"), shaped(tau_by_time(flat, len(times)))),
    }, coords=coords)


def study_draws(data: LongitudinalData, options: LongitudinalOptions,
                priors: LongitudinalPriors, posterior: xr.Dataset, seed: int) -> xr.DataArray:
    """theta[study, time]: each study's effect at every time, one exact conditional draw per
    posterior draw (its own generator, so the result does not depend on what was asked
    first)."""
    chains, draws_n = posterior.sizes["chain"], posterior.sizes["draw"]
    n = chains * draws_n
    flat = _flat_draws(posterior)
    rho_w = (np.full(n, float(priors.rho_within)) if priors.rho_within_fixed
             else flat["rho_within"])
    rng = np.random.default_rng(seed + DERIVED_SEED_OFFSET + 1)
    theta = conditional_study_effects(data, options, flat, rho_w, rng)
    return xr.DataArray(theta.reshape(chains, draws_n, data.k, data.n_times),
                        dims=("chain", "draw", "study", "time"),
                        coords={"chain": posterior["chain"].values,
                                "draw": posterior["draw"].values,
                                "study": list(data.study), "time": data.times},
                        name="theta")


@dataclass(frozen=True, eq=False)
class LongitudinalMetaResult:
    """A fitted longitudinal meta-analysis (see the module docstring)."""

    data: LongitudinalData
    priors: LongitudinalPriors
    options: LongitudinalOptions
    settings: SamplerSettings
    idata: xr.DataTree
    diagnostics: Diagnostics
    direction: str | None = None  # "lower" or "higher" is better; None = not stated
    thresholds: tuple[float, ...] = ()
    model: str = MODEL_NAME
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.direction not in (None, *DIRECTIONS):
            raise InputError(f"direction must be 'lower' or 'higher' (got {self.direction})")

    # -- draws ---------------------------------------------------------------------------
    @property
    def posterior_tree(self) -> xr.DataTree:
        return self.idata["posterior"]

    @cached_property
    def _post(self) -> xr.Dataset:
        return self.posterior_tree.to_dataset()

    @property
    def times(self) -> np.ndarray:
        return self.data.times

    def _time_position(self, time: float | None, name: str) -> int:
        times = self.times
        if time is None:
            if len(times) == 1:
                return 0
            raise InputError(f"'{name}' is given per time point; pass time= one of "
                             f"{', '.join(f'{t:g}' for t in times)}")
        hits = np.flatnonzero(np.isclose(times, float(time)))
        if not hits.size:
            raise InputError(f"no time point {time:g}; the times are "
                             f"{', '.join(f'{t:g}' for t in times)}")
        return int(hits[0])

    @cached_property
    def _theta(self) -> xr.DataArray:
        """Study-level effects (computed on first use: at 500 studies they take seconds)."""
        if "theta" in self._post:
            return self._post["theta"]
        return study_draws(self.data, self.options, self.priors,
                           self._post[["mu", *self._parameter_vars()]], self.settings.seed)

    def _parameter_vars(self) -> list[str]:
        return [v for v in ("tau", "phi", "rho", "corr_cpc01", "rho_within") if v in self._post]

    def _draws(self, var: str) -> np.ndarray:
        if var == "theta":
            return np.asarray(self._theta.transpose("chain", "draw", ...).values)
        return np.asarray(self._post[var].transpose("chain", "draw", ...).values)

    def posterior(self, name: str, time: float | Sequence[float] | None = None
                  ) -> DrawsMarginal:
        """The posterior of ``mu``, ``theta_new``, ``tau`` (at ``time``), ``phi``, ``rho``,
        ``rho_within``, or ``corr`` (``time=(t1, t2)``)."""
        if name in PER_TIME:
            k = self._time_position(time, name)  # type: ignore[arg-type]
            var = "tau_time" if name == "tau" else name
            return DrawsMarginal(f"{name}[{self.times[k]:g}]", self._draws(var)[..., k])
        if name == "corr":
            if time is None or isinstance(time, (int, float)) or len(time) != 2:
                raise InputError("corr needs two times, e.g. time=(3, 12)")
            a, b = (self._time_position(t, name) for t in time)
            return DrawsMarginal(f"corr[{self.times[a]:g},{self.times[b]:g}]",
                                 self._draws("corr")[..., a, b])
        if name in ("phi", "rho", "rho_within"):
            if name not in self._post:
                raise InputError(f"this fit has no '{name}' ({self._why_missing(name)})")
            return DrawsMarginal(name, self._draws(name))
        raise InputError(f"unknown quantity '{name}'; known: mu, theta_new, tau, phi, rho, "
                         "rho_within, corr")

    def _why_missing(self, name: str) -> str:
        if name == "rho_within":
            return f"the within-study correlation was fixed at {self.priors.rho_within:g}"
        if self.data.n_times == 1:
            return "one time point: no correlation between times"
        return f"structure '{self.options.structure}'"

    @property
    def correlation_parameter(self) -> str | None:
        """``phi`` (ar1), ``rho`` (cs) or None (unstructured, or one time point)."""
        if self.data.n_times == 1:
            return None
        return {"ar1": "phi", "cs": "rho", "un": None}[self.options.structure]

    # -- probabilities -------------------------------------------------------------------
    def prob_below(self, threshold: float, time: float | None = None, *,
                   predictive: bool = False) -> float:
        """P(effect < threshold) at ``time`` (a new study's effect with ``predictive``)."""
        return self.posterior("theta_new" if predictive else "mu", time).cdf(threshold)

    def prob_above(self, threshold: float, time: float | None = None, *,
                   predictive: bool = False) -> float:
        return self.posterior("theta_new" if predictive else "mu", time).sf(threshold)

    def prob_benefit(self, time: float | None = None, threshold: float = 0.0, *,
                     predictive: bool = False) -> float:
        """P(effect better than ``threshold``) in the outcome's direction."""
        if self.direction is None:
            raise InputError("the outcome's direction is not known; say --lower-is-better "
                             "or --higher-is-better (direction='lower'/'higher')")
        if self.direction == "lower":
            return self.prob_below(threshold, time, predictive=predictive)
        return self.prob_above(threshold, time, predictive=predictive)

    def change(self, from_time: float, to_time: float) -> DrawsMarginal:
        """μ(to_time) − μ(from_time): how the pooled effect moves between two follow-ups."""
        a = self._time_position(from_time, "mu")
        b = self._time_position(to_time, "mu")
        mu = self._draws("mu")
        return DrawsMarginal(f"mu[{self.times[b]:g}]-mu[{self.times[a]:g}]",
                             mu[..., b] - mu[..., a])

    # -- tables --------------------------------------------------------------------------
    def effects(self) -> pd.DataFrame:
        """One row per time: studies, pooled effect, new-study effect, τ, probabilities."""
        rows = []
        counts = self.data.studies_per_time()
        for k, t in enumerate(self.times):
            row: dict[str, Any] = {"time": float(t), "n_studies": int(counts[k])}
            for name in PER_TIME:
                s = self.posterior(name, t).summary(with_mcse=False)
                row.update({f"{name}_{key}": value for key, value in s.items()})
            row.update(self._probabilities_at(t))
            rows.append(row)
        return pd.DataFrame(rows)

    def _probabilities_at(self, t: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            "p_lt_0": self.prob_below(0.0, t), "p_gt_0": self.prob_above(0.0, t),
            "p_new_lt_0": self.prob_below(0.0, t, predictive=True),
            "p_new_gt_0": self.prob_above(0.0, t, predictive=True),
            "p_benefit": None, "p_new_benefit": None,
        }
        if self.direction is not None:
            out["p_benefit"] = self.prob_benefit(t)
            out["p_new_benefit"] = self.prob_benefit(t, predictive=True)
        return out

    def study_effects(self) -> pd.DataFrame:
        """Per study and time: observed effect and SE (empty where not reported) and the
        shrunken effect θ_ik (median, 95% interval) — at unreported times, the model's
        estimate for that study, marked ``reported = False``."""
        d = self.data
        theta = self._draws("theta")
        flat = theta.reshape(-1, d.k, d.n_times)
        q = np.quantile(flat, [0.025, 0.5, 0.975], axis=0)
        observed = np.full((d.k, d.n_times), np.nan)
        se = np.full((d.k, d.n_times), np.nan)
        observed[d.study_index, d.time_index] = d.yi
        se[d.study_index, d.time_index] = d.sei
        rows = []
        for i, s in enumerate(d.study):
            for k, t in enumerate(d.times):
                rows.append({
                    "study": s, "time": float(t), "reported": bool(np.isfinite(observed[i, k])),
                    "yi": observed[i, k], "sei": se[i, k],
                    "theta_mean": float(flat[:, i, k].mean()),
                    "theta_median": q[1, i, k], "theta_q025": q[0, i, k],
                    "theta_q975": q[2, i, k]})
        return pd.DataFrame(rows)

    def correlation_matrix(self) -> pd.DataFrame:
        """Posterior median of the between-study correlation between each pair of times."""
        med = np.median(self._draws("corr").reshape(-1, self.data.n_times, self.data.n_times),
                        axis=0)
        labels = [f"{t:g}" for t in self.times]
        return pd.DataFrame(med, index=labels, columns=labels)

    def summary(self) -> pd.DataFrame:
        """One row per quantity (and time): mean, sd, median, q025, q975."""
        rows = []
        for t in self.times:
            for name in PER_TIME:
                s = self.posterior(name, t).summary(with_mcse=False)
                rows.append({"quantity": name, "time": float(t), **s})
        for name in self._scalar_names():
            rows.append({"quantity": name, "time": np.nan,
                         **self.posterior(name).summary(with_mcse=False)})
        return pd.DataFrame(rows).set_index(["quantity", "time"])

    def _scalar_names(self) -> list[str]:
        names = []
        if self.correlation_parameter:
            names.append(self.correlation_parameter)
        if not self.priors.rho_within_fixed:
            names.append("rho_within")
        return names

    # -- documents -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (schema ``bayesmeta.fit.longitudinal/1``, docs/json.md)."""
        d = self.data
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "model": self.model,
            "data": {
                "source": d.source, "n_studies": d.k, "n_rows": d.n_rows,
                "studies": list(d.study), "times": d.times.tolist(),
                "time_column": d.time_column, "time_unit": d.time_unit,
                "measure": d.measure, "studies_per_time": d.studies_per_time().tolist(),
                "assumed_time": d.assumed_time,
                "column_map": dict(d.column_map), "notes": list(d.notes),
            },
            "direction": self.direction,
        }
        per_time = []
        for k, t in enumerate(d.times):
            entry: dict[str, Any] = {"time": float(t), "n_studies": int(d.studies_per_time()[k])}
            for name in PER_TIME:
                entry[name] = self.posterior(name, t).summary()
            entry["probabilities"] = self._probabilities_at(t)
            if self.thresholds:
                entry["probabilities"]["lt"] = {f"{c:g}": self.prob_below(c, t)
                                                for c in self.thresholds}
                entry["probabilities"]["gt"] = {f"{c:g}": self.prob_above(c, t)
                                                for c in self.thresholds}
                entry["probabilities"]["new_lt"] = {
                    f"{c:g}": self.prob_below(c, t, predictive=True) for c in self.thresholds}
                entry["probabilities"]["new_gt"] = {
                    f"{c:g}": self.prob_above(c, t, predictive=True) for c in self.thresholds}
            per_time.append(entry)
        out["times"] = per_time
        corr: dict[str, Any] = {"structure": self.options.structure,
                                "parameter": self.correlation_parameter}
        if self.correlation_parameter:
            corr[self.correlation_parameter] = self.posterior(self.correlation_parameter).summary()
        corr["matrix_median"] = self.correlation_matrix().to_numpy().tolist()
        out["between_correlation"] = corr
        within: dict[str, Any] = {"structure": self.options.within,
                                  "fixed": self.priors.rho_within_fixed}
        if self.priors.rho_within_fixed:
            within["value"] = float(self.priors.rho_within)
        else:
            within["rho_within"] = self.posterior("rho_within").summary()
        out["within_correlation"] = within
        out["studies"] = records(self.study_effects())
        out["diagnostics"] = self.diagnostics.to_dict()
        out["settings"] = self.settings_dict()
        return clean(out)

    def settings_dict(self) -> dict[str, Any]:
        priors: dict[str, Any] = {}
        for key, value in self.priors.as_dict().items():
            priors[key] = value.to_dict() if isinstance(value, Prior) else value
        return {
            "model": self.model, "options": self.options.to_dict(), "priors": priors,
            "sampler": self.settings.to_dict(), "seed": self.settings.seed,
            "direction": self.direction, "thresholds": list(self.thresholds),
            "derived_draws_seed": self.settings.seed + DERIVED_SEED_OFFSET,
            "versions": software_versions(),
        }

    def to_netcdf(self, path: str | Path, *, force: bool = False) -> Path:
        """Save posterior (with derived draws), sampler statistics, data and settings."""
        d = self.data
        data_ds = xr.Dataset(
            {"study": ("row", [d.study[i] for i in d.study_index]),
             "time": ("row", d.times[d.time_index]), "yi": ("row", d.yi),
             "sei": ("row", d.sei)})
        tree = self.idata.copy()
        if "theta" not in self._post:
            tree["posterior"] = xr.DataTree(self._post.assign(theta=self._theta))
        tree["observed_data"] = xr.DataTree(data_ds)
        tree.attrs.update({
            "bayesmeta_schema": SCHEMA, "bayesmeta_model": self.model,
            "bayesmeta_settings": json.dumps(clean(self.settings_dict())),
            "bayesmeta_data_source": d.source,
        })
        return write_with(path, lambda tmp: tree.to_netcdf(tmp), force=force)
