"""Many methods on the same data, one row each: what ``bayesmeta compare`` reports.

A :class:`ComparisonRow` holds, on the scale a reader reads (OR, RR, IRR; RD as is), the
point estimate (classical: the estimate; Bayesian: the posterior median), its 95% interval
(confidence or credible), the 95% prediction interval for a new study where the method has
one, τ with its interval, what was done to zero cells, and how many studies the method
actually used. A method that has no estimate on these data keeps its row, with the reason
in ``note``. :class:`Comparison` is the table: ``table()`` (a DataFrame), ``to_dict()`` (the
``--json`` document, schema ``bayesmeta.compare/1``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from bayesmeta.inference.classical.result import ClassicalFit
from bayesmeta.results.jsonable import clean
from bayesmeta.results.versions import software_versions

SCHEMA = "bayesmeta.compare/1"
KINDS = ("classical", "bayesian")


@dataclass(frozen=True)
class ComparisonRow:
    """One method's result on the natural scale (see the module docstring)."""

    name: str
    label: str
    kind: str
    measure: str
    zeros: str
    studies_used: int
    studies_total: int
    estimate: float | None = None
    lower: float | None = None
    upper: float | None = None
    pred_lower: float | None = None
    pred_upper: float | None = None
    tau: float | None = None
    tau_lower: float | None = None
    tau_upper: float | None = None
    interval: str = ""
    rule: str = ""
    prob_above_null: float | None = None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.estimate is not None and math.isfinite(self.estimate)

    @classmethod
    def failed(cls, name: str, label: str, kind: str, measure: str, zeros: str,
               studies_total: int, reason: str) -> ComparisonRow:
        return cls(name=name, label=label, kind=kind, measure=measure, zeros=zeros,
                   studies_used=0, studies_total=studies_total, note=f"no estimate: {reason}")

    @classmethod
    def from_classical(cls, name: str, fit: ClassicalFit, *, label: str | None = None
                       ) -> ComparisonRow:
        """A row from a classical fit: estimate, CI (z or HKSJ t), PI, τ with Q-profile CI."""
        nat = fit.on_natural_scale()
        pred = nat["prediction"] or (None, None)
        tau_ci = (None, None) if fit.tau2_ci is None else tuple(math.sqrt(x) for x in
                                                                fit.tau2_ci)
        if fit.test == "knha":
            interval = f"{fit.level:.0%} CI (Hartung–Knapp, t{fit.df})"
        else:
            interval = f"{fit.level:.0%} CI (normal)"
        return cls(name=name, label=label or fit.label, kind="classical", measure=fit.measure,
                   zeros=fit.zero_handling, studies_used=fit.k_used, studies_total=fit.k,
                   estimate=nat["estimate"], lower=nat["ci"][0], upper=nat["ci"][1],
                   pred_lower=pred[0], pred_upper=pred[1], tau=fit.tau,
                   tau_lower=tau_ci[0], tau_upper=tau_ci[1], interval=interval,
                   detail=fit.to_dict())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        return out


@dataclass(frozen=True)
class Comparison:
    """The rows of a comparison, the data they were computed on, and the settings."""

    rows: tuple[ComparisonRow, ...]
    data: dict[str, Any]
    settings: dict[str, Any]

    def table(self) -> pd.DataFrame:
        """One row per method: estimate, interval, prediction interval, τ, zeros, studies."""
        cols = ("name", "label", "kind", "measure", "estimate", "lower", "upper",
                "pred_lower", "pred_upper", "tau", "tau_lower", "tau_upper",
                "prob_above_null", "rule", "zeros", "studies_used", "studies_total", "interval",
                "note")
        frame = pd.DataFrame([{c: getattr(r, c) for c in cols} for r in self.rows])
        return frame.set_index("name")

    def row(self, name: str) -> ComparisonRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (schema ``bayesmeta.compare/1``, see docs/json.md)."""
        return clean({"schema": SCHEMA, "data": self.data,
                      "methods": [r.to_dict() for r in self.rows],
                      "settings": {**self.settings, "versions": software_versions()}})
