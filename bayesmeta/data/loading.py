"""Load two-arm data of either kind from a bundled name, a CSV path or a DataFrame.

A table with person-time columns (``exposure_t``/``exposure_c`` or a known alias such as
metafor's ``t1i``/``t2i``) holds events over person-time (:class:`RateData`); any other is
read as event counts per arm (:class:`BinaryData`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from bayesmeta.data import datasets
from bayesmeta.data.binary import BinaryData, read_binary
from bayesmeta.data.rates import RateData, is_rate_table, read_rates

TABLE_OPTIONS = ("sep", "encoding", "columns")


def load_data(data: BinaryData | RateData | pd.DataFrame | str | Path,
              **read_options: Any) -> BinaryData | RateData:
    """Binary or rate data, whichever the table holds (person-time columns mean rates)."""
    if isinstance(data, (BinaryData, RateData)):
        return data
    source: pd.DataFrame | Path = data if isinstance(data, pd.DataFrame) else (
        datasets.resolve(data))
    table_options = {k: v for k, v in read_options.items() if k in TABLE_OPTIONS}
    if is_rate_table(source, **table_options):
        return read_rates(source, **table_options)
    return read_binary(source, **read_options)


def select_subgroup(data: BinaryData | RateData, value: str,
                    column: str = "subgroup") -> BinaryData | RateData:
    """Keep the studies whose extra column ``column`` equals ``value``."""
    return data.select(column, value)
