"""Make result documents JSON-safe: numpy scalars to Python numbers, NaN/inf to null.

(The same rules as the binary result's document; kept here, free of PyMC imports, so that
exact effect-size fits never load PyMC.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def scalar(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def clean(obj: Any) -> Any:
    """``obj`` with every nested number JSON-safe."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [clean(v) for v in obj.tolist()]
    return scalar(obj)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as a list of JSON-safe row objects."""
    return [{k: scalar(v) for k, v in row.items()} for row in frame.to_dict("records")]
