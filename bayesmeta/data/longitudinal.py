"""Effects at repeated follow-ups: one row per study × time point.

Three layouts are read (the first that fits the columns is used):

* contrasts — ``study, time, yi`` and ``sei`` (standard error) or ``vi`` (sampling
  variance): an effect estimate per study and time, e.g. a mean difference;
* arm level, wide — ``study, time, mean_t, sd_t, n_t, mean_c, sd_c, n_c`` (t = treatment,
  c = control), final values or changes from baseline, turned into a mean difference (MD)
  or Hedges' g (SMD) per row with :func:`~bayesmeta.data.effect_sizes.continuous_effects`;
* arm level, long — ``study, time, arm, mean, sd, n`` (one row per arm and time).

Time is a number (months by default: ``time_unit``). Studies may miss time points: a study
enters the model with the times it reported, nothing is filled in. A row without a time is
an error unless ``missing_time`` gives one explicitly (e.g. an open-ended "> 12 months"
follow-up placed at an assumed 24 months); the assumption is kept in :attr:`notes` and
printed with every result. ``where={"outcome": "sledai"}`` keeps the rows of a file that
holds several outcomes.

Every problem is a one-line :class:`~bayesmeta.errors.InputError` naming file, row and
column: duplicate study × time rows, non-positive standard errors or SDs, missing times,
text where a number belongs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from bayesmeta.data import cells, studies
from bayesmeta.data.effect_sizes import continuous_effects
from bayesmeta.data.table import Table, read_table
from bayesmeta.errors import InputError

MEASURES = ("MD", "SMD")

#: Column names of other tools recognised without a mapping (first match wins).
ALIASES: dict[str, tuple[str, ...]] = {
    "study": ("study", "trial", "studlab", "author", "publication"),
    "time": ("time", "months", "month", "follow_up", "followup", "timepoint"),
    "yi": ("yi", "y", "effect", "estimate", "md", "smd", "te"),
    "sei": ("sei", "se", "sigma", "std_err", "sete"),
    "vi": ("vi", "var", "variance"),
    "mean_t": ("mean_t", "m1i", "mean.e", "mean_exp"),
    "sd_t": ("sd_t", "sd1i", "sd.e", "sd_exp"),
    "n_t": ("n_t", "n1i", "n.e", "n_exp"),
    "mean_c": ("mean_c", "m2i", "mean.c", "mean_ctrl"),
    "sd_c": ("sd_c", "sd2i", "sd.c", "sd_ctrl"),
    "n_c": ("n_c", "n2i", "n.c", "n_ctrl"),
}
CONTRAST_COLUMNS = ("study", "time", "yi")
WIDE_ARM_COLUMNS = ("study", "time", "mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c")
LONG_ARM_COLUMNS = ("study", "time", "arm", "mean", "sd", "n")
#: Time columns that hold an index of follow-ups rather than a time in months.
INDEX_TIME_NAMES = frozenset({"timepoint", "time_index", "visit"})


@dataclass(frozen=True)
class LongitudinalData:
    """Validated effects per study and time, rows sorted by study then time.

    ``study`` lists the studies (order of first appearance); ``times`` the distinct time
    points (sorted). Row ``r`` is study ``study[study_index[r]]`` at time
    ``times[time_index[r]]`` with effect ``yi[r]`` and standard error ``sei[r]``;
    ``source_rows[r]`` is where it came from (spreadsheet row, or the two arm rows).
    """

    study: tuple[str, ...]
    times: np.ndarray
    study_index: np.ndarray
    time_index: np.ndarray
    yi: np.ndarray
    sei: np.ndarray
    measure: str = "given"
    source: str = "data frame"
    time_column: str = "time"
    time_unit: str = "months"
    source_rows: tuple[str, ...] = ()
    column_map: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: The time given to rows without one (``missing_time``), if any row needed it.
    assumed_time: float | None = None

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.study)

    @property
    def n_times(self) -> int:
        """Number of distinct time points."""
        return len(self.times)

    @property
    def n_rows(self) -> int:
        return len(self.yi)

    def time_label(self, t: float) -> str:
        """``6 months``; with no unit just the number."""
        text = f"{t:g}"
        return f"{text} {self.time_unit}" if self.time_unit else text

    def studies_per_time(self) -> np.ndarray:
        """How many studies reported each time point."""
        return np.bincount(self.time_index, minlength=self.n_times)

    def times_per_study(self) -> np.ndarray:
        """How many time points each study reported."""
        return np.bincount(self.study_index, minlength=self.k)

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame: study, time, yi, sei (one row per study × time)."""
        return pd.DataFrame({
            "study": [self.study[i] for i in self.study_index],
            "time": self.times[self.time_index],
            "yi": self.yi, "sei": self.sei,
        })


def read_longitudinal(
    data: str | Path | pd.DataFrame,
    *,
    time_col: str | None = None,
    columns: Mapping[str, str] | None = None,
    measure: Literal["MD", "SMD"] | None = None,
    missing_time: float | None = None,
    time_unit: str | None = None,
    where: Mapping[str, str] | None = None,
    treatment: str | None = None,
    control: str | None = None,
    sep: str = ",",
    encoding: str = "utf-8",
) -> LongitudinalData:
    """Read and validate effects per study and time from a CSV file or a DataFrame.

    Parameters
    ----------
    data
        Path to a CSV file, or a DataFrame (layouts in the module docstring).
    time_col
        The column holding the time (default: the first of ``time, months, month,
        follow_up, timepoint`` present).
    columns
        Map our column names to yours, e.g. ``{"yi": "md", "sei": "se_md"}``.
    measure
        For arm-level data: ``"MD"`` (mean difference, treatment − control; the default) or
        ``"SMD"`` (Hedges' g). Contrasts are used as given (a measure is then refused).
    missing_time
        Time given to rows whose time cell is empty (an explicit, reported assumption).
    time_unit
        Unit of the time column, for labels: default "months", or "" (a plain index) when
        the time column is called ``timepoint``, ``time_index`` or ``visit``.
    where
        Keep only rows whose column equals the value, e.g. ``{"outcome": "sledai"}``.
    treatment, control
        Long arm layout: the ``arm`` labels of the two arms (default: common names such
        as treatment/control/placebo/MSC).
    """
    if measure is not None and measure not in MEASURES:
        raise InputError(f"unknown measure '{measure}' (use MD or SMD)", source="--measure")
    if missing_time is not None and not (np.isfinite(missing_time) and missing_time >= 0):
        raise InputError(f"must be a non-negative number (got {missing_time:g})",
                         source="--missing-time")
    table = read_table(data, sep=sep, encoding=encoding, columns=columns)
    table = _filter(table, where or {})
    if time_col is not None and time_col != "time":
        if not table.has(time_col):
            raise InputError(f"no time column '{time_col}' (columns found: "
                             f"{', '.join(table.frame.columns)})", source="--time-col")
        table = _rename(table, {time_col: "time"})
    table, used = _resolve_aliases(table, given=columns or {})
    if time_col is not None:
        used["time"] = time_col
    used.setdefault("time", "time")
    cells.require_columns(table, ("study",), hint="map yours with --col study=NAME")
    cells.require_columns(
        table, ("time",),
        hint="name the time column with --time-col NAME (time in months by default)")
    if time_unit is None:
        time_unit = "" if used["time"].lower() in INDEX_TIME_NAMES else "months"
    notes: list[str] = []
    if table.has("yi"):
        if measure is not None:
            raise InputError(f"these rows are effects (column '{used['yi']}'), used as given; "
                             f"--measure {measure} applies to arm-level means", source="--measure")
        rows = _read_contrasts(table, notes)
        measure_used = "given"
    elif table.has("arm"):
        measure_used = measure or "MD"
        rows = _read_long_arms(table, treatment, control, measure_used)
    elif table.has("mean_t"):
        measure_used = measure or "MD"
        rows = _read_wide_arms(table, measure_used)
    else:
        found = ", ".join(table.frame.columns)
        raise InputError(
            "cannot tell the layout: give contrasts (study, time, yi, sei or vi), arms side "
            "by side (study, time, mean_t, sd_t, n_t, mean_c, sd_c, n_c) or one row per arm "
            f"(study, time, arm, mean, sd, n); columns found: {found}", source=table.source)
    time, time_notes = _time_values(table, rows.positions, missing_time, used["time"],
                                    time_unit)
    notes += time_notes
    out = _assemble(table, rows, time, measure_used, used, time_unit, notes)
    if time_notes:
        out = replace(out, assumed_time=float(missing_time))  # type: ignore[arg-type]
    return out


# -- table helpers -------------------------------------------------------------------------
def _filter(table: Table, where: Mapping[str, str]) -> Table:
    if not where:
        return table
    keep = np.ones(len(table.frame), dtype=bool)
    for column, value in where.items():
        if not table.has(column):
            raise InputError(f"no column '{column}' to select on (columns found: "
                             f"{', '.join(table.frame.columns)})", source="--where")
        keep &= (table.frame[column] == str(value)).to_numpy()
    if not keep.any():
        shown = ", ".join(f"{c} = '{v}'" for c, v in where.items())
        raise InputError(f"no rows with {shown}", source=table.source)
    frame = table.frame.loc[keep].reset_index(drop=True)
    rows = tuple(r for r, k in zip(table.rows, keep, strict=True) if k)
    return Table(frame, table.source, rows)


def _rename(table: Table, renames: Mapping[str, str]) -> Table:
    frame = table.frame
    clashes = [new for new in renames.values() if new in frame.columns and new not in renames]
    frame = frame.drop(columns=clashes).rename(columns=dict(renames))
    return Table(frame, table.source, table.rows)


def _resolve_aliases(table: Table, given: Mapping[str, str]) -> tuple[Table, dict[str, str]]:
    used: dict[str, str] = dict(given)
    renames: dict[str, str] = {}
    present = set(table.frame.columns)
    for ours, aliases in ALIASES.items():
        if ours in present:
            used.setdefault(ours, ours)
            continue
        for alias in aliases:
            if alias in present and alias not in renames and alias not in ALIASES:
                renames[alias] = ours
                used[ours] = alias
                break
    return _rename(table, renames), used


# -- layouts -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Rows:
    """Per analysed row: its study label, effect, SE and where it came from."""

    positions: np.ndarray  # table position of the row that holds the time
    study: list[str]
    yi: np.ndarray
    sei: np.ndarray
    origin: list[str]


def _read_contrasts(table: Table, notes: list[str]) -> _Rows:
    study = cells.text_column(table, "study")
    yi = cells.float_column(table, "yi")
    if table.has("sei"):
        sei = cells.float_column(table, "sei", positive=True)
        if table.has("vi"):
            vi = cells.float_column(table, "vi", positive=True)
            off = np.flatnonzero(np.abs(np.sqrt(vi) - sei) > 0.01 * sei)
            if off.size:
                i = int(off[0])
                raise InputError(f"sei ({sei[i]:g}) disagrees with sqrt(vi) "
                                 f"({np.sqrt(vi[i]):g}); give one of them",
                                 source=table.source, row=table.row_of(i), column="sei")
    elif table.has("vi"):
        sei = np.sqrt(cells.float_column(table, "vi", positive=True))
    else:
        raise InputError("contrasts need a standard error column 'sei' or a variance column "
                         "'vi' (map yours with --col sei=NAME)", source=table.source)
    positions = np.arange(len(study))
    return _Rows(positions, study, yi, sei, [str(table.row_of(i)) for i in positions])


def _read_wide_arms(table: Table, measure: str) -> _Rows:
    cells.require_columns(table, WIDE_ARM_COLUMNS,
                          hint="map yours with --col mean_t=NAME (columns={'mean_t': 'NAME'})")
    study = cells.text_column(table, "study")
    values = {}
    for arm in ("t", "c"):
        values[f"mean_{arm}"] = cells.float_column(table, f"mean_{arm}")
        values[f"sd_{arm}"] = cells.float_column(table, f"sd_{arm}", positive=True)
        values[f"n_{arm}"] = cells.count_column(table, f"n_{arm}", minimum=1)
    _check_smd_sizes(table, measure, values["n_t"], values["n_c"], np.arange(len(study)), "n_t")
    eff = continuous_effects(values["mean_t"], values["sd_t"], values["n_t"],
                             values["mean_c"], values["sd_c"], values["n_c"], measure=measure)
    positions = np.arange(len(study))
    return _Rows(positions, study, eff.yi, eff.sei, [str(table.row_of(i)) for i in positions])


def _read_long_arms(table: Table, treatment: str | None, control: str | None,
                    measure: str) -> _Rows:
    cells.require_columns(table, LONG_ARM_COLUMNS,
                          hint="map yours with --col mean=NAME, or give one row per study "
                               "and time")
    study = cells.text_column(table, "study")
    arm = cells.text_column(table, "arm")
    time_text = list(table.frame["time"])
    mean = cells.float_column(table, "mean")
    sd = cells.float_column(table, "sd", positive=True)
    n = cells.count_column(table, "n", minimum=1)
    slots: dict[tuple[str, str], dict[str, int]] = {}
    order: list[tuple[str, str]] = []
    for i, (s, a, t) in enumerate(zip(study, arm, time_text, strict=True)):
        role = studies.arm_role(a, treatment, control)
        if role is None:
            raise studies.unknown_arm(table, i, a, treatment, control)
        key = (s, t)
        if key not in slots:
            slots[key] = {}
            order.append(key)
        if role in slots[key]:
            what = "treatment" if role == "t" else "control"
            raise InputError(
                f"study '{s}' has a second {what} arm at time '{t}' (first in row "
                f"{table.row_of(slots[key][role])}); combine arms, or select one outcome "
                "or measure with --where COLUMN=VALUE", source=table.source,
                row=table.row_of(i), column="arm")
        slots[key][role] = i
    for key in order:
        missing = {"t", "c"} - set(slots[key])
        if missing:
            first = next(iter(slots[key].values()))
            what = "treatment" if "t" in missing else "control"
            raise InputError(f"study '{key[0]}' has no {what} arm at time '{key[1]}'",
                             source=table.source, row=table.row_of(first), column="arm")
    it = np.array([slots[k]["t"] for k in order])
    ic = np.array([slots[k]["c"] for k in order])
    _check_smd_sizes(table, measure, n[it], n[ic], it, "n")
    eff = continuous_effects(mean[it], sd[it], n[it], mean[ic], sd[ic], n[ic], measure=measure)
    origin = [f"{table.row_of(a)}+{table.row_of(b)}" for a, b in zip(it, ic, strict=True)]
    return _Rows(it, [study[i] for i in it], eff.yi, eff.sei, origin)


def _check_smd_sizes(table: Table, measure: str, n_t: np.ndarray, n_c: np.ndarray,
                     positions: np.ndarray, column: str) -> None:
    if measure != "SMD":
        return
    bad = np.flatnonzero(n_t + n_c <= 2)
    if bad.size:
        i = int(positions[bad[0]])
        raise InputError("an SMD needs more than 2 patients in the two arms together",
                         source=table.source, row=table.row_of(i), column=column)


# -- time and assembly ---------------------------------------------------------------------
def _time_values(table: Table, positions: np.ndarray, missing_time: float | None,
                 shown_name: str, unit: str) -> tuple[np.ndarray, list[str]]:
    raw = cells.float_column(table, "time", allow_missing=True)
    time = raw[positions]
    notes: list[str] = []
    empty = np.flatnonzero(np.isnan(time))
    if empty.size:
        if missing_time is None:
            i = int(positions[empty[0]])
            raise InputError(
                "missing time; every row needs one (for an open-ended follow-up such as "
                "'> 12 months', choose a time with --missing-time and report it)",
                source=table.source, row=table.row_of(i), column=shown_name)
        time = np.where(np.isnan(time), float(missing_time), time)
        notes.append(f"{empty.size} row(s) without a time in column '{shown_name}' placed "
                     f"at the assumed time {missing_time:g}{' ' + unit if unit else ''} (an "
                     "assumption, not data)")
    negative = np.flatnonzero(time < 0)
    if negative.size:
        i = int(positions[negative[0]])
        raise InputError(f"{time[negative[0]]:g} is negative; times are counted from "
                         "randomisation or baseline", source=table.source,
                         row=table.row_of(i), column=shown_name)
    return time, notes


def _assemble(table: Table, rows: _Rows, time: np.ndarray, measure: str,
              used: Mapping[str, str], time_unit: str, notes: list[str]) -> LongitudinalData:
    first: dict[tuple[str, float], int] = {}
    for j, (s, t) in enumerate(zip(rows.study, time, strict=True)):
        key = (s, float(t))
        if key in first:
            raise InputError(
                f"study '{s}' has a second row for time {t:g} (first in row "
                f"{rows.origin[first[key]]}); give one effect per study and time, or select "
                "one outcome or measure with --where COLUMN=VALUE",
                source=table.source, row=table.row_of(int(rows.positions[j])),
                column=used.get("time", "time"))
        first[key] = j
    if not rows.study:
        raise InputError("no data rows", source=table.source)
    studies = list(dict.fromkeys(rows.study))
    times = np.unique(time)
    s_index = np.array([studies.index(s) for s in rows.study])
    t_index = np.searchsorted(times, time)
    order = np.lexsort((t_index, s_index))
    if len(studies) == 1:
        notes.append("only 1 study: the between-study SD and correlations are determined by "
                     "their priors, not by data")
    return LongitudinalData(
        study=tuple(studies), times=times.astype(float), study_index=s_index[order],
        time_index=t_index[order], yi=np.asarray(rows.yi, float)[order],
        sei=np.asarray(rows.sei, float)[order], measure=measure, source=table.source,
        time_column=used.get("time", "time"), time_unit=time_unit,
        source_rows=tuple(rows.origin[i] for i in order),
        column_map={k: v for k, v in used.items() if k != v}, notes=tuple(notes))
