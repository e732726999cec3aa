"""Write result documents: JSON for scripts, CSV tables — atomically, never over a file
without ``force``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from bayesmeta.files import write_text_atomic


def write_json(document: dict[str, Any], path: str | Path, *, force: bool) -> Path:
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return write_text_atomic(path, text, force=force)


def write_csv(frame: pd.DataFrame, path: str | Path, *, force: bool) -> Path:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=True, float_format="%.10g")
    return write_text_atomic(path, buffer.getvalue(), force=force)
