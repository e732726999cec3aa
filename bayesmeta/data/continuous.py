"""Arm-level continuous data: mean, SD and number of patients in a treatment and a control arm.

Two layouts are read:

* wide — one row per study: ``study, mean_t, sd_t, n_t, mean_c, sd_c, n_c``; metafor's
  ``m1i, sd1i, n1i, m2i, sd2i, n2i`` (arm 1 = treatment) and meta's ``mean.e, sd.e, n.e,
  mean.c, sd.c, n.c`` are recognised, any other name can be mapped with ``columns=`` /
  ``--col``;
* long — one row per arm: ``study, arm, mean, sd, n`` (arm labels as for binary data, or
  named with ``treatment=``/``control=``).

Whether the means are **final values** or **changes from baseline** is stated per study in an
``outcome_type`` column (``final``/``change``) or for all studies with ``outcome_type=``
(``--outcome-type``), and recorded in the result. Both kinds may be combined in a mean
difference (they estimate the same effect in randomised trials), but not in a standardised
mean difference, because the SDs of changes and of final values differ (Cochrane Handbook
§10.5.2): that combination is refused.

Every SD must be > 0 and every arm must have at least 2 patients (an SD needs two values).
:meth:`ContinuousData.effects` turns the arms into MD or SMD (Hedges' g) with
:func:`bayesmeta.data.effect_sizes.continuous_effects`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from bayesmeta.data import cells, studies
from bayesmeta.data.effect_sizes import continuous_effects
from bayesmeta.data.effects import (
    EffectsData,
    check_derived_effects,
    parse_measure,
)
from bayesmeta.data.table import Table, read_table, resolve_aliases
from bayesmeta.errors import InputError

WIDE_COLUMNS = ("study", "mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c")
LONG_COLUMNS = ("study", "arm", "mean", "sd", "n")
#: The default arm labels as this reader's error message lists them.
ARM_LABELS_TEXT = ("treatment/t/exp/experimental/intervention/active or "
                   "control/c/ctrl/placebo/comparator")
OUTCOME_TYPES = ("final", "change")

WIDE_ALIASES: dict[str, tuple[str, ...]] = {
    "study": ("study", "studlab", "trial", "author", "publication"),
    "mean_t": ("mean_t", "m1i", "mean.e", "mean_exp", "m_t"),
    "sd_t": ("sd_t", "sd1i", "sd.e", "sd_exp", "s_t"),
    "n_t": ("n_t", "n1i", "n.e", "n_exp"),
    "mean_c": ("mean_c", "m2i", "mean.c", "mean_ctrl", "m_c"),
    "sd_c": ("sd_c", "sd2i", "sd.c", "sd_ctrl", "s_c"),
    "n_c": ("n_c", "n2i", "n.c", "n_ctrl"),
    "outcome_type": ("outcome_type", "type", "value_type"),
}

_TYPE_WORDS = {
    "final": "final", "final value": "final", "final values": "final", "end": "final",
    "endpoint": "final", "post": "final", "follow-up": "final", "followup": "final",
    "change": "change", "change from baseline": "change", "cfb": "change", "delta": "change",
    "changes": "change", "change score": "change",
}


def parse_outcome_type(text: str, *, source: str = "--outcome-type", row=None,
                       column=None) -> str:
    key = " ".join(str(text).strip().lower().replace("_", " ").split())
    if key not in _TYPE_WORDS:
        raise InputError(f"'{text}' is neither 'final' (values at follow-up) nor 'change' "
                         "(change from baseline)", source=source, row=row, column=column)
    return _TYPE_WORDS[key]


@dataclass(frozen=True)
class ContinuousData:
    """Validated two-arm continuous data, one entry per study (treatment ``_t``, control
    ``_c``); ``outcome_type`` per study is ``final``, ``change`` or ``unstated``."""

    study: tuple[str, ...]
    mean_t: np.ndarray
    sd_t: np.ndarray
    n_t: np.ndarray
    mean_c: np.ndarray
    sd_c: np.ndarray
    n_c: np.ndarray
    outcome_type: tuple[str, ...]
    extra: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = "data frame"
    column_map: Mapping[str, str] = field(default_factory=dict)
    rows: tuple[int | str, ...] = ()

    @property
    def k(self) -> int:
        return len(self.study)

    @property
    def outcome_types(self) -> str:
        """``final``, ``change``, ``mixed`` or ``unstated``, for all studies together."""
        kinds = set(self.outcome_type)
        return kinds.pop() if len(kinds) == 1 else "mixed"

    def select(self, column: str, value: str) -> ContinuousData:
        keep = studies.subgroup_mask(self, column, value)
        pick = np.flatnonzero(keep)
        return ContinuousData(
            tuple(self.study[i] for i in pick), self.mean_t[keep], self.sd_t[keep],
            self.n_t[keep], self.mean_c[keep], self.sd_c[keep], self.n_c[keep],
            tuple(self.outcome_type[i] for i in pick),
            self.extra.loc[keep].reset_index(drop=True), self.source, self.column_map,
            tuple(self.rows[i] for i in pick) if self.rows else ())

    def effects(self, measure: str = "MD") -> EffectsData:
        """MD or SMD (Hedges' g, treatment − control) per study, with standard errors."""
        canon = parse_measure(measure)
        if canon not in ("MD", "SMD"):
            raise InputError(f"continuous arms give MD or SMD, not {canon}",
                             source="--measure")
        kinds = self.outcome_types
        if canon == "SMD" and kinds == "mixed":
            minority = min(OUTCOME_TYPES, key=lambda t: self.outcome_type.count(t))
            i = self.outcome_type.index(minority)
            raise InputError(
                "an SMD cannot combine final values and changes from baseline (their SDs "
                "differ; Cochrane Handbook 10.5.2): use --measure MD, or analyse them "
                f"separately (study '{self.study[i]}' is '{minority}')", source=self.source,
                row=self.rows[i] if self.rows else None, column="outcome_type")
        with np.errstate(over="ignore", invalid="ignore"):
            eff = continuous_effects(self.mean_t, self.sd_t, self.n_t, self.mean_c,
                                     self.sd_c, self.n_c, measure=canon)
        check_derived_effects(self.study, eff.yi, np.sqrt(eff.vi), self.source,
                              f"arms' means and SDs ({canon})")
        what = {"final": "final values", "change": "changes from baseline",
                "mixed": "final values and changes from baseline combined",
                "unstated": "final values or changes (not stated)"}[kinds]
        how = ("mean difference (treatment − control), SE from the arms' SDs"
               if canon == "MD" else
               "Hedges' g (treatment − control; pooled SD, exact small-sample correction J; "
               "variance 1/n_t + 1/n_c + g²/(2(n_t + n_c)))")
        details = {"from": "continuous", "outcome_type": kinds,
                   "outcome_type_per_study": list(self.outcome_type)}
        return EffectsData(self.study, eff.yi, np.sqrt(eff.vi), canon, self.source,
                           dict(self.column_map), self.extra, f"{how}; {what}",
                           (self.n_t + self.n_c).astype(float), details)


def read_continuous(
    data: str | Path | pd.DataFrame,
    *,
    layout: Literal["auto", "wide", "long"] = "auto",
    columns: Mapping[str, str] | None = None,
    treatment: str | None = None,
    control: str | None = None,
    outcome_type: str | None = None,
    sep: str = ",",
    encoding: str = "utf-8",
) -> ContinuousData:
    """Read and validate arm-level continuous data (see the module docstring).

    Raises
    ------
    InputError
        With a one-line message naming file, row and column for every problem.
    """
    given_type = None if outcome_type is None else parse_outcome_type(outcome_type)
    table = read_table(data, sep=sep, encoding=encoding, columns=columns)
    if layout == "auto":
        layout = "long" if table.has("arm") else "wide"
    if layout == "long":
        return _read_long(table, treatment, control, given_type, columns or {})
    if layout == "wide":
        return _read_wide(table, given_type, columns or {})
    raise InputError(f"unknown layout '{layout}' (use wide, long or auto)", source="--layout")


def _types(table: Table, n: int, given: str | None) -> tuple[str, ...]:
    if not table.has("outcome_type"):
        return (given or "unstated",) * n
    values = []
    for i, cell in enumerate(table.frame["outcome_type"]):
        kind = parse_outcome_type(cell, source=table.source, row=table.row_of(i),
                                  column="outcome_type")
        if given is not None and kind != given:
            raise InputError(f"'{cell}' contradicts --outcome-type {given}; drop one of the two",
                             source=table.source, row=table.row_of(i), column="outcome_type")
        values.append(kind)
    return tuple(values)


def _arms(table: Table, mean: str, sd: str, n: str) -> tuple[np.ndarray, ...]:
    m = cells.float_column(table, mean)
    s = cells.float_column(table, sd, positive=True)
    counts = cells.count_column(table, n, minimum=1)
    small = np.flatnonzero(counts < 2)
    if small.size:
        i = int(small[0])
        raise InputError(f"{counts[i]} patient(s): an arm needs at least 2 for its SD",
                         source=table.source, row=table.row_of(i), column=n)
    return m, s, counts


def _read_wide(table: Table, given: str | None, columns: Mapping[str, str]) -> ContinuousData:
    table, used = resolve_aliases(table, columns, WIDE_ALIASES)
    cells.require_columns(
        table, WIDE_COLUMNS,
        hint="map yours with --col mean_t=NAME (columns={'mean_t': 'NAME'}), or give one "
             "row per arm with columns study, arm, mean, sd, n")
    study = cells.text_column(table, "study")
    mean_t, sd_t, n_t = _arms(table, "mean_t", "sd_t", "n_t")
    mean_c, sd_c, n_c = _arms(table, "mean_c", "sd_c", "n_c")
    kinds = _types(table, len(study), given)
    cells.unique_labels(table, "study", study)
    cells.at_least_two_studies(table, len(study))
    drop = [c for c in (*WIDE_COLUMNS, "outcome_type") if c in table.frame.columns]
    extra = table.frame.drop(columns=drop).reset_index(drop=True)
    return ContinuousData(tuple(study), mean_t, sd_t, n_t, mean_c, sd_c, n_c, kinds, extra,
                          table.source, {k: v for k, v in used.items() if k != v}, table.rows)


def _read_long(table: Table, treatment: str | None, control: str | None, given: str | None,
               columns: Mapping[str, str]) -> ContinuousData:
    cells.require_columns(table, LONG_COLUMNS,
                          hint="map yours with --col mean=NAME, or use the wide layout")
    study = cells.text_column(table, "study")
    arm = cells.text_column(table, "arm")
    mean, sd, n = _arms(table, "mean", "sd", "n")
    kinds = _types(table, len(study), given)
    order, slots = studies.pair_arms(table, study, arm, treatment, control,
                                     default_labels=ARM_LABELS_TEXT)
    for s in order:
        if len(slots[s]) < 2:
            only = next(iter(slots[s].values()))
            missing = "control" if "t" in slots[s] else "treatment"
            raise InputError(f"study '{s}' has no {missing} arm", source=table.source,
                             row=table.row_of(only), column="arm")
        it, ic = slots[s]["t"], slots[s]["c"]
        if kinds[it] != kinds[ic]:
            raise InputError(f"study '{s}': one arm gives final values, the other changes; "
                             "both arms of a study must be the same kind",
                             source=table.source, row=table.row_of(ic), column="outcome_type")
    cells.at_least_two_studies(table, len(order))
    t_idx = np.array([slots[s]["t"] for s in order])
    c_idx = np.array([slots[s]["c"] for s in order])
    return ContinuousData(tuple(order), mean[t_idx], sd[t_idx], n[t_idx], mean[c_idx],
                          sd[c_idx], n[c_idx], tuple(kinds[i] for i in t_idx), pd.DataFrame(),
                          table.source, dict(columns),
                          tuple(table.row_of(int(i)) for i in t_idx))
