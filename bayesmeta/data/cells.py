"""Turn text cells into numbers, naming the exact cell when one is wrong.

Shared by every reader (binary, effect-size, continuous, longitudinal) so that the
messages read the same everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from bayesmeta.data.table import MISSING_TOKENS, Table
from bayesmeta.errors import InputError

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+$")

MAX_COUNT = 10**9  # more patients than any trial has had: a typo, not data


def require_columns(table: Table, needed: Sequence[str], *, hint: str = "") -> None:
    """Raise when a needed column is missing, listing the columns that are there."""
    for name in needed:
        if not table.has(name):
            found = ", ".join(table.frame.columns) or "none"
            extra = f"; {hint}" if hint else ""
            raise InputError(f"missing column '{name}' (columns found: {found}){extra}",
                             source=table.source)


def _error(table: Table, position: int, column: str, message: str) -> InputError:
    return InputError(message, source=table.source, row=table.row_of(position), column=column)


def text_column(table: Table, column: str) -> list[str]:
    """Return a column of labels; missing labels are an error."""
    values = list(table.frame[column])
    for i, value in enumerate(values):
        if value.lower() in MISSING_TOKENS:
            raise _error(table, i, column, "missing value")
    return values


def float_column(
    table: Table,
    column: str,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    allow_missing: bool = False,
) -> np.ndarray:
    """Parse a column of real numbers (NaN where missing, if ``allow_missing``)."""
    out = np.empty(len(table.frame), dtype=float)
    for i, cell in enumerate(table.frame[column]):
        out[i] = _parse_float(table, i, column, cell, allow_missing)
        if np.isnan(out[i]):
            continue
        if positive and out[i] <= 0:
            raise _error(table, i, column, f"{cell} must be greater than 0")
        if nonnegative and out[i] < 0:
            raise _error(table, i, column, f"{cell} must not be negative")
    return out


def count_column(table: Table, column: str, *, minimum: int = 0) -> np.ndarray:
    """Parse a column of whole, non-negative counts (events or patients)."""
    out = np.empty(len(table.frame), dtype=np.int64)
    for i, cell in enumerate(table.frame[column]):
        value = _parse_float(table, i, column, cell, allow_missing=False)
        if value != math.floor(value):
            raise _error(table, i, column, f"{cell} is not a whole number; counts must be")
        if value < 0:
            raise _error(table, i, column, f"{cell} is negative; counts cannot be")
        if value > MAX_COUNT:
            raise _error(table, i, column, f"{cell} is implausibly large for a count")
        if value < minimum:
            what = "no patients" if minimum == 1 else f"fewer than {minimum}"
            raise _error(table, i, column, f"{cell}: an arm with {what} cannot be analysed")
        out[i] = int(value)
    return out


def _parse_float(table: Table, i: int, column: str, cell: str, allow_missing: bool) -> float:
    if cell.lower() in MISSING_TOKENS:
        if allow_missing:
            return float("nan")
        raise _error(table, i, column, "missing value")
    try:
        value = float(cell)
    except ValueError:
        shown = cell if len(cell) <= 40 else cell[:37] + "..."
        if _THOUSANDS.match(cell):
            hint = f" (thousands separator? write {cell.replace(',', '')})"
        elif "," in cell:
            hint = " (decimal comma? use a point)"
        else:
            hint = ""
        raise _error(table, i, column, f"'{shown}' is not a number{hint}") from None
    if not math.isfinite(value):
        raise _error(table, i, column, f"{cell} is not a finite number")
    return value


def unique_labels(table: Table, column: str, labels: Sequence[str]) -> None:
    """Raise when a study label repeats, naming both rows."""
    first: dict[str, int] = {}
    for i, label in enumerate(labels):
        if label in first:
            raise _error(
                table, i, column,
                f"study label '{label}' repeats row {table.row_of(first[label])}; "
                "labels must be unique",
            )
        first[label] = i


def at_least_two_studies(table: Table, k: int) -> None:
    if k < 2:
        raise InputError(
            f"{'no studies' if k == 0 else 'only 1 study'}; a meta-analysis needs at least two",
            source=table.source,
        )
