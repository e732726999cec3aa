"""Arm-level binary data: events and patients in a treatment and a control arm per study.

Two layouts are read:

* wide — one row per study: ``study, events_t, n_t, events_c, n_c`` (+ any extra columns,
  e.g. ``subgroup``, ``source``), and
* long — one row per arm: ``study, arm, events, n`` with ``arm`` naming the treatment or
  the control arm.

Well-known column names of other tools are recognised (bayesmeta/MetaStan ``r_exp, n_exp,
r_ctrl, n_ctrl``; metafor ``ai, n1i, ci, n2i``; meta ``event.e, n.e, event.c, n.c``) and
any other name can be mapped with ``columns={"events_t": "my_column"}``
(``--col events_t=my_column``). The mapping used is kept in :attr:`BinaryData.column_map`
and printed, so nothing is renamed silently. Zero cells are kept as they are: the exact
binomial likelihood needs no continuity correction and double-zero studies stay in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from bayesmeta.data import cells, studies
from bayesmeta.data.table import Table, read_table, resolve_aliases
from bayesmeta.errors import InputError

WIDE_COLUMNS = ("study", "events_t", "n_t", "events_c", "n_c")
LONG_COLUMNS = ("study", "arm", "events", "n")

#: Column names used by other tools, recognised without a mapping.
WIDE_ALIASES: dict[str, tuple[str, ...]] = {
    "study": ("study", "publication", "trial", "studlab", "author"),
    "events_t": ("events_t", "r_exp", "r_t", "ai", "event.e"),
    "n_t": ("n_t", "n_exp", "n1i", "n.e"),
    "events_c": ("events_c", "r_ctrl", "r_c", "ci", "event.c"),
    "n_c": ("n_c", "n_ctrl", "n2i", "n.c"),
}


@dataclass(frozen=True)
class BinaryData(studies.TwoArmEvents):
    """Validated two-arm binary data, one entry per study (treatment ``_t``, control ``_c``)."""

    study: tuple[str, ...]
    events_t: np.ndarray
    n_t: np.ndarray
    events_c: np.ndarray
    n_c: np.ndarray
    extra: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = "data frame"
    column_map: Mapping[str, str] = field(default_factory=dict)

    @property
    def any_zero(self) -> np.ndarray:
        """True for studies with a zero cell (an arm with no events or all events)."""
        return ((self.events_t == 0) | (self.events_c == 0) | (self.events_t == self.n_t)
                | (self.events_c == self.n_c))

    def pooled_control_risk(self) -> float:
        """Crude pooled control-arm risk: all control events over all control patients."""
        return float(self.events_c.sum() / self.n_c.sum())

    def to_frame(self) -> pd.DataFrame:
        """The data as a wide DataFrame with our column names (plus the extra columns)."""
        return studies.with_extra(pd.DataFrame({
            "study": list(self.study),
            "events_t": self.events_t, "n_t": self.n_t,
            "events_c": self.events_c, "n_c": self.n_c,
        }), self.extra)

    def swap_arms(self) -> BinaryData:
        """The same trials with treatment and control exchanged (log OR changes sign)."""
        return BinaryData(self.study, self.events_c, self.n_c, self.events_t, self.n_t,
                          self.extra, self.source, self.column_map)

    def select(self, column: str, value: str) -> BinaryData:
        """Keep the studies whose extra column ``column`` equals ``value`` (e.g. a subgroup)."""
        return self._keep(studies.subgroup_mask(self, column, value))

    def without(self, study: str) -> BinaryData:
        """The same data without one study (for leave-one-study-out refits)."""
        return self._keep(studies.leave_out_mask(self, study))

    def _keep(self, keep: np.ndarray) -> BinaryData:
        return BinaryData(studies.kept_studies(self.study, keep), self.events_t[keep],
                          self.n_t[keep], self.events_c[keep], self.n_c[keep],
                          studies.kept_extra(self.extra, keep), self.source, self.column_map)


def read_binary(
    data: str | Path | pd.DataFrame,
    *,
    layout: Literal["auto", "wide", "long"] = "auto",
    columns: Mapping[str, str] | None = None,
    treatment: str | None = None,
    control: str | None = None,
    sep: str = ",",
    encoding: str = "utf-8",
) -> BinaryData:
    """Read and validate arm-level binary data from a CSV file or a DataFrame.

    Parameters
    ----------
    data
        Path to a CSV file, or a DataFrame.
    layout
        ``"wide"`` (one row per study), ``"long"`` (one row per arm) or ``"auto"`` (long
        when there is an ``arm`` column).
    columns
        Map our column names to yours, e.g. ``{"events_t": "deaths_msc"}``.
    treatment, control
        In the long layout, the ``arm`` values naming the two arms (by default common
        names such as ``treatment``/``control``/``placebo`` are recognised).

    Raises
    ------
    InputError
        With a one-line message naming file, row and column for every problem.
    """
    table = read_table(data, sep=sep, encoding=encoding, columns=columns)
    if layout == "auto":
        layout = "long" if table.has("arm") else "wide"
    if layout == "long":
        return _read_long(table, treatment, control, columns or {})
    if layout == "wide":
        for option, value in (("--treatment", treatment), ("--control", control)):
            if value is not None:
                raise InputError(f"names an arm label, but {table.source} has one row per "
                                 "study (wide layout, no 'arm' column); drop the option or "
                                 "give one row per arm", source=option)
        return _read_wide(table, columns or {})
    raise InputError(f"unknown layout '{layout}' (use wide, long or auto)", source="--layout")


def _read_wide(table: Table, given: Mapping[str, str]) -> BinaryData:
    table, used = resolve_aliases(table, given, WIDE_ALIASES)
    cells.require_columns(
        table, WIDE_COLUMNS,
        hint="map yours with --col events_t=NAME (columns={'events_t': 'NAME'}), or give "
             "one row per arm with columns study, arm, events, n",
    )
    study = cells.text_column(table, "study")
    events_t = cells.count_column(table, "events_t")
    n_t = cells.count_column(table, "n_t", minimum=1)
    events_c = cells.count_column(table, "events_c")
    n_c = cells.count_column(table, "n_c", minimum=1)
    for events, n, ev_col, n_col in ((events_t, n_t, "events_t", "n_t"),
                                     (events_c, n_c, "events_c", "n_c")):
        bad = np.flatnonzero(events > n)
        if bad.size:
            i = int(bad[0])
            raise InputError(f"events ({events[i]}) exceed {n_col} ({n[i]})",
                             source=table.source, row=table.row_of(i), column=ev_col)
    cells.unique_labels(table, "study", study)
    cells.at_least_two_studies(table, len(study))
    extra = table.frame.drop(columns=list(WIDE_COLUMNS)).reset_index(drop=True)
    return BinaryData(tuple(study), events_t, n_t, events_c, n_c, extra, table.source,
                      {k: v for k, v in used.items() if k != v})


def _read_long(table: Table, treatment: str | None, control: str | None,
               given: Mapping[str, str]) -> BinaryData:
    cells.require_columns(table, LONG_COLUMNS,
                          hint="map yours with --col events=NAME, or use the wide layout")
    study = cells.text_column(table, "study")
    arm = cells.text_column(table, "arm")
    events = cells.count_column(table, "events")
    n = cells.count_column(table, "n", minimum=1)
    bad = np.flatnonzero(events > n)
    if bad.size:
        i = int(bad[0])
        raise InputError(f"events ({events[i]}) exceed n ({n[i]})", source=table.source,
                         row=table.row_of(i), column="events")
    order, slots = studies.pair_arms(table, study, arm, treatment, control)
    for s in order:
        missing = {"t", "c"} - set(slots[s])
        if missing:
            what = "treatment" if "t" in missing else "control"
            first = next(iter(slots[s].values()))
            raise InputError(f"study '{s}' has no {what} arm", source=table.source,
                             row=table.row_of(first), column="arm")
    cells.at_least_two_studies(table, len(order))
    it = np.array([slots[s]["t"] for s in order])
    ic = np.array([slots[s]["c"] for s in order])
    extra_cols = [c for c in table.frame.columns if c not in LONG_COLUMNS]
    extra = table.frame.iloc[it][extra_cols].reset_index(drop=True)
    return BinaryData(tuple(order), events[it], n[it], events[ic], n[ic], extra, table.source,
                      {k: v for k, v in given.items() if k != v})
