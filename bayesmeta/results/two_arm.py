"""What the two-arm MCMC results share: the binomial–normal and Poisson–normal fits.

Both models put a normal random effect on a log ratio (the odds ratio, the rate ratio) with
a baseline ``mu`` per study, so their results ask the same questions of the same posterior
variables (``theta``, ``tau``, ``theta_new``, ``theta_study``) and write documents of the
same layout. :class:`TwoArmMCMCResult` holds that once. Each subclass says what its ratio is
called, how a study's observed estimate and the absolute effects are computed, and keeps
its own likelihood (``pointwise_log_likelihood``) in its own module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from bayesmeta.errors import InputError
from bayesmeta.inference.diagnostics import Diagnostics
from bayesmeta.inference.sampling import SamplerSettings
from bayesmeta.results.effect_scale import EffectScale
from bayesmeta.results.forest import ForestRow, ForestTable, Interval
from bayesmeta.results.jsonable import clean, records
from bayesmeta.results.marginal import DrawsMarginal
from bayesmeta.results.versions import software_versions

#: Half-width of a 95% Wald interval in standard errors.
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Baseline:
    """A control-arm quantity (risk or rate) used for absolute effects, and its origin."""

    value: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source}


@dataclass(frozen=True, eq=False)
class TwoArmMCMCResult[DataT, PriorsT, BaselineT]:
    """The fields, quantities, probabilities, tables and document of a two-arm fit.

    A subclass sets the class variables below and implements ``_observed`` (a study's
    observed log ratio and its SE), ``_arm_columns``/``_arm_totals`` (the data per study and
    in total), ``_absolute_difference``, ``_absolute_effects``, ``_baseline_used`` and
    ``_forest_details``.
    """

    data: DataT
    priors: PriorsT
    settings: SamplerSettings
    idata: xr.DataTree
    diagnostics: Diagnostics
    thresholds: tuple[float, ...] = ()
    baseline: BaselineT | None = None
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    #: How the data were named when fitted (the CLI's DATA argument); printed as "Data: ...".
    label: str | None = None
    #: Software versions that produced the fit (set when reloaded from a saved file;
    #: None means the versions running now).
    versions: dict[str, str] | None = None

    #: The JSON schema of the ``--json`` document and of a saved fit.
    _schema: ClassVar[str]
    #: Quantities a user can ask for, and the posterior variable (and transform) of each.
    _quantities: ClassVar[Mapping[str, tuple[str, Callable[[Any], Any] | None]]]
    #: The ratio's short name (``or``, ``rr``): in quantity, column and probability names.
    _ratio: ClassVar[str]
    #: The subject of the error message for a threshold that is not positive.
    _threshold_words: ClassVar[str]
    #: The settings key under which the baseline is documented.
    _baseline_key: ClassVar[str]
    #: Why a study without a double zero has no observed estimate (a forest-plot note).
    _zero_note: ClassVar[str]
    #: Captions of the forest table (``details_caption``, optionally ``missing_caption``).
    _forest_captions: ClassVar[Mapping[str, str]]

    #: The effect measure (plots, influence, report); harm = a ratio above 1.
    effect_scale: ClassVar[EffectScale]
    #: The parameters whose chains the trace and rank plots show.
    main_parameters: ClassVar[tuple[str, ...]] = ("theta", "tau")

    @property
    def schema(self) -> str:
        return self._schema

    # -- single quantities -------------------------------------------------------------
    @property
    def posterior_tree(self) -> xr.DataTree:
        return self.idata["posterior"]

    def posterior(self, name: str) -> DrawsMarginal:
        """The posterior of one of the quantities: the log ratio, the ratio, ``tau``,
        ``theta_new`` (a new study's log ratio) or a new study's ratio."""
        if name not in self._quantities:
            raise InputError(f"unknown quantity '{name}'; known: "
                             f"{', '.join(self._quantities)}")
        var, func = self._quantities[name]
        draws = np.asarray(self.posterior_tree[var].transpose("chain", "draw").values)
        return DrawsMarginal(name, draws if func is None else func(draws))

    def prob_harm(self, threshold: float = 1.0, *, predictive: bool = False) -> float:
        """P(ratio > threshold) — or, with ``predictive``, the same for a new study's ratio."""
        if not threshold > 0:
            raise InputError(f"{self._threshold_words} must be greater than 0 (got "
                             f"{threshold})", source="--threshold")
        draws = self.posterior("theta_new" if predictive else f"log_{self._ratio}")
        return draws.sf(math.log(threshold))

    # -- studies -----------------------------------------------------------------------
    def study_effects(self) -> pd.DataFrame:
        """Per study: the data, the observed log ratio (none with a zero cell or count) and
        its SE, and the shrunken log ratio (mean, sd, median, 95% CrI) and ratio."""
        d: Any = self.data
        observed, se = self._observed()
        zero = d.any_zero
        theta = self.posterior_tree["theta_study"].transpose("chain", "draw", "study").values
        flat = theta.reshape(-1, d.k)
        q = np.quantile(flat, [0.025, 0.5, 0.975], axis=0)
        r = self._ratio
        return pd.DataFrame({
            "study": list(d.study), **self._arm_columns(),
            f"observed_log_{r}": np.where(zero, np.nan, observed),
            "observed_se": np.where(zero, np.nan, se),
            f"log_{r}_mean": flat.mean(axis=0), f"log_{r}_sd": flat.std(axis=0, ddof=1),
            f"log_{r}_median": q[1], f"log_{r}_q025": q[0], f"log_{r}_q975": q[2],
            f"{r}_median": np.exp(q[1]), f"{r}_q025": np.exp(q[0]), f"{r}_q975": np.exp(q[2]),
        })

    # -- tables and documents ----------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per pooled quantity: mean, sd, median, q025, q975."""
        rows = [{"quantity": name, **self.posterior(name).summary(with_mcse=False)}
                for name in self._quantities]
        for predictive in (False, True):
            diff = self._absolute_difference(predictive=predictive)
            rows.append({"quantity": diff.name, **diff.summary(with_mcse=False)})
        return pd.DataFrame(rows).set_index("quantity")

    def probabilities(self) -> dict[str, Any]:
        r = self._ratio
        out: dict[str, Any] = {
            f"{r}_gt_1": self.prob_harm(1.0),
            "theta_new_gt_0": self.prob_harm(1.0, predictive=True),
        }
        if self.thresholds:
            out[f"{r}_gt"] = {f"{c:g}": self.prob_harm(c) for c in self.thresholds}
            out[f"{r}_new_gt"] = {f"{c:g}": self.prob_harm(c, predictive=True)
                                  for c in self.thresholds}
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (its schema is :attr:`schema`, see docs/json.md)."""
        d: Any = self.data
        out: dict[str, Any] = {
            "schema": self._schema,
            "model": self.model,
            "data": {
                "source": d.source, "n_studies": d.k, "studies": list(d.study),
                "double_zero_studies": [s for s, z in zip(d.study, d.double_zero,
                                                          strict=True) if z],
                **self._arm_totals(),
                "column_map": dict(d.column_map),
            },
        }
        for name in self._quantities:
            out[name] = self.posterior(name).summary()
        out.update(self._absolute_effects())
        out["probabilities"] = self.probabilities()
        out["studies"] = records(self.study_effects())
        out["diagnostics"] = self.diagnostics.to_dict()
        out.update(self._model_checks())
        out["settings"] = self.settings_dict()
        return clean(out)

    def settings_dict(self) -> dict[str, Any]:
        priors: Any = self.priors
        return {
            "model": self.model,
            "priors": {k: p.to_dict() for k, p in priors.as_dict().items()},
            "sampler": self.settings.to_dict(),
            "seed": self.settings.seed,
            "thresholds": list(self.thresholds),
            self._baseline_key: self._baseline_used().to_dict(),
            "versions": dict(self.versions) if self.versions else software_versions(),
        }

    # -- plots, influence, reports -----------------------------------------------------
    def forest_table(self) -> ForestTable:
        """Forest-plot rows: per study the observed log ratio with its 95% Wald CI (none
        with a zero cell or count — no continuity correction), the shrunken log ratio with
        its 95% CrI and the data per arm; then the pooled log ratio and a new study's
        (95% prediction interval)."""
        r, name = self._ratio, self._ratio.upper()
        rows = []
        for s in self.study_effects().itertuples():
            estimate = getattr(s, f"observed_log_{r}")
            observed = None
            note = ""
            if np.isnan(estimate):
                note = "double zero" if s.events_t == 0 and s.events_c == 0 else self._zero_note
            else:
                half = Z_95 * s.observed_se
                observed = Interval(estimate, estimate - half, estimate + half)
            rows.append(ForestRow(
                label=str(s.study), kind="study", observed=observed, observed_note=note,
                model=Interval(getattr(s, f"log_{r}_median"), getattr(s, f"log_{r}_q025"),
                               getattr(s, f"log_{r}_q975")),
                details=self._forest_details(s)))
        for kind, quantity, label in (("pooled", f"log_{r}", f"Pooled {name}"),
                                      ("predictive", "theta_new", f"{name} in a new study")):
            m = self.posterior(quantity)
            lo, hi = m.interval(0.95)
            rows.append(ForestRow(label=label, kind=kind, model=Interval(m.median, lo, hi)))
        return ForestTable(rows=tuple(rows), detail_headers=("treatment", "control"),
                           scale=self.effect_scale, observed_label=f"observed {name} (95% CI)",
                           model_label=f"model {name} (95% CrI)", **self._forest_captions)

    def _saved_tree(self, data_columns: tuple[str, ...]) -> xr.DataTree:
        """The groups of a saved fit: ``posterior``, ``sample_stats`` (the draws) and
        ``observed_data`` (``data_columns`` of the data, by study)."""
        d: Any = self.data
        data_ds = xr.Dataset({name: ("study", getattr(d, name)) for name in data_columns},
                             coords={"study": list(d.study)})
        return xr.DataTree.from_dict({
            "posterior": xr.DataTree(self.idata["posterior"].to_dataset()),
            "sample_stats": xr.DataTree(self.idata["sample_stats"].to_dataset()),
            "observed_data": xr.DataTree(data_ds),
        })

    # -- what each model says ----------------------------------------------------------
    def _observed(self) -> tuple[np.ndarray, np.ndarray]:
        """Each study's observed log ratio and its SE (inf/nan where a cell is zero)."""
        raise NotImplementedError

    def _arm_columns(self) -> dict[str, np.ndarray]:
        """The data columns of :meth:`study_effects`, by study."""
        raise NotImplementedError

    def _arm_totals(self) -> dict[str, Any]:
        """The data summed over studies, for the document's ``data`` section."""
        raise NotImplementedError

    def _absolute_difference(self, *, predictive: bool = False) -> DrawsMarginal:
        """The absolute effect per 1,000 at the baseline (the summary's last two rows)."""
        raise NotImplementedError

    def _absolute_effects(self) -> dict[str, Any]:
        """The document's baseline and absolute-effect entries, in order."""
        raise NotImplementedError

    def _baseline_used(self) -> Baseline:
        raise NotImplementedError

    def _forest_details(self, study: Any) -> tuple[str, ...]:
        """The treatment and control cells of a study's forest row."""
        raise NotImplementedError

    def _model_checks(self) -> dict[str, Any]:
        """Entries the document holds after ``diagnostics`` (none by default)."""
        return {}
