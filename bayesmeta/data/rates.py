"""Events over person-time in two arms: one row per study.

Columns ``study, events_t, exposure_t, events_c, exposure_c`` — events counted in each arm
and the person-time at risk (e.g. person-years) over which they were counted. The names of
metafor (``x1i, t1i, x2i, t2i``) and meta (``event.e, time.e, event.c, time.c``) are
recognised; any other name is mapped with ``columns={"exposure_t": "py_msc"}``
(``--col exposure_t=py_msc``). Counts must be whole numbers ≥ 0, exposures positive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmeta.data import cells, studies
from bayesmeta.data.table import read_table, resolve_aliases

RATE_COLUMNS = ("study", "events_t", "exposure_t", "events_c", "exposure_c")

RATE_ALIASES: dict[str, tuple[str, ...]] = {
    "study": ("study", "trial", "studlab", "author"),
    "events_t": ("events_t", "x1i", "event.e", "x_t"),
    "exposure_t": ("exposure_t", "t1i", "time.e", "py_t", "person_years_t"),
    "events_c": ("events_c", "x2i", "event.c", "x_c"),
    "exposure_c": ("exposure_c", "t2i", "time.c", "py_c", "person_years_c"),
}


@dataclass(frozen=True)
class RateData(studies.TwoArmEvents):
    """Validated two-arm event-rate data, one entry per study (treatment ``_t``, control ``_c``)."""

    study: tuple[str, ...]
    events_t: np.ndarray
    exposure_t: np.ndarray
    events_c: np.ndarray
    exposure_c: np.ndarray
    extra: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = "data frame"
    column_map: Mapping[str, str] = field(default_factory=dict)

    @property
    def any_zero(self) -> np.ndarray:
        return (self.events_t == 0) | (self.events_c == 0)

    def pooled_control_rate(self) -> float:
        """All control-arm events over all control-arm person-time."""
        return float(self.events_c.sum() / self.exposure_c.sum())

    def select(self, column: str, value: str) -> RateData:
        """Keep the studies whose extra column ``column`` equals ``value`` (a subgroup)."""
        return self._keep(studies.subgroup_mask(self, column, value))

    def without(self, study: str) -> RateData:
        """The same data without one study (for leave-one-study-out refits)."""
        return self._keep(studies.leave_out_mask(self, study))

    def _keep(self, keep: np.ndarray) -> RateData:
        return RateData(studies.kept_studies(self.study, keep), self.events_t[keep],
                        self.exposure_t[keep], self.events_c[keep], self.exposure_c[keep],
                        studies.kept_extra(self.extra, keep), self.source, self.column_map)

    def to_frame(self) -> pd.DataFrame:
        return studies.with_extra(pd.DataFrame({
            "study": list(self.study), "events_t": self.events_t,
            "exposure_t": self.exposure_t, "events_c": self.events_c,
            "exposure_c": self.exposure_c}), self.extra)


def is_rate_table(data: str | Path | pd.DataFrame, *, sep: str = ",",
                  encoding: str = "utf-8", columns: Mapping[str, str] | None = None) -> bool:
    """True when the table has person-time columns (under our names or a known alias)."""
    table = read_table(data, sep=sep, encoding=encoding, columns=columns)
    names = set(table.frame.columns)
    return any(alias in names for ours in ("exposure_t", "exposure_c")
               for alias in RATE_ALIASES[ours])


def read_rates(data: str | Path | pd.DataFrame, *, columns: Mapping[str, str] | None = None,
               sep: str = ",", encoding: str = "utf-8") -> RateData:
    """Read and validate two-arm event-rate data from a CSV file or a DataFrame.

    Raises
    ------
    InputError
        With a one-line message naming file, row and column for every problem.
    """
    table = read_table(data, sep=sep, encoding=encoding, columns=columns)
    table, used = resolve_aliases(table, columns or {}, RATE_ALIASES)
    cells.require_columns(
        table, RATE_COLUMNS,
        hint="a rate table has events and person-time per arm; map yours with "
             "--col exposure_t=NAME (columns={'exposure_t': 'NAME'})")
    study = cells.text_column(table, "study")
    events_t = cells.count_column(table, "events_t")
    exposure_t = cells.float_column(table, "exposure_t", positive=True)
    events_c = cells.count_column(table, "events_c")
    exposure_c = cells.float_column(table, "exposure_c", positive=True)
    cells.unique_labels(table, "study", study)
    cells.at_least_two_studies(table, len(study))
    extra = table.frame.drop(columns=list(RATE_COLUMNS)).reset_index(drop=True)
    return RateData(tuple(study), events_t, exposure_t, events_c, exposure_c, extra,
                    table.source, {k: v for k, v in used.items() if k != v})
