"""The rows of a forest plot, as numbers: model-neutral, built by each result type.

A result's ``forest_table()`` returns a :class:`ForestTable`: one row per study (observed
estimate with its 95% confidence interval when there is one, the model's shrunken estimate
with its 95% credible interval, and study details such as events/total), then the pooled
row and the predictive row. Values are on the model's internal scale (log OR);
``table.scale`` converts them for display. The forest plot and the report draw from this
alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from bayesmeta.results.effect_scale import EffectScale


@dataclass(frozen=True)
class Interval:
    """A point estimate with a (95%) interval, on the internal scale."""

    estimate: float
    lower: float
    upper: float


@dataclass(frozen=True)
class ForestRow:
    """One row of a forest plot.

    ``observed`` is None when the study has no observed estimate (e.g. a zero cell and no
    continuity correction); ``observed_note`` then says why.
    """

    label: str
    kind: Literal["study", "pooled", "predictive"]
    observed: Interval | None = None
    observed_note: str = ""
    model: Interval | None = None
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForestTable:
    """All rows of a forest plot, the names of the detail columns and the effect scale."""

    rows: tuple[ForestRow, ...]
    detail_headers: tuple[str, ...]
    scale: EffectScale
    observed_label: str = "observed"
    model_label: str = "model"
    details_caption: str = ""
    #: How the observed intervals were computed (the forest plot's legend).
    observed_caption: str = "no continuity correction"
    #: Why a study may have no observed estimate (the legend of † rows, after "no observed
    #: estimate").
    missing_caption: str = ("(a zero cell; no continuity correction is added) — the model "
                            "uses these studies' exact likelihood")

    @property
    def studies(self) -> tuple[ForestRow, ...]:
        return tuple(r for r in self.rows if r.kind == "study")

    def to_frame(self) -> pd.DataFrame:
        """One line per row, estimates on the displayed scale."""
        s = self.scale
        records = []
        for r in self.rows:
            rec: dict[str, object] = {"label": r.label, "kind": r.kind}
            rec.update(dict(zip(self.detail_headers, r.details, strict=False)))
            for name, iv in (("observed", r.observed), ("model", r.model)):
                rec[f"{name}"] = None if iv is None else s.to_display(iv.estimate)
                rec[f"{name}_lower"] = None if iv is None else s.to_display(iv.lower)
                rec[f"{name}_upper"] = None if iv is None else s.to_display(iv.upper)
            rec["observed_note"] = r.observed_note
            records.append(rec)
        return pd.DataFrame(records)
