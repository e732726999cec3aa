"""The self-contained HTML report (``bayesmeta report``): one file, images inline as base64,
CSS inline, no scripts and no external requests, so it opens offline and can be e-mailed.

>>> from bayesmeta.presentation.report import build_report, write_report
>>> html = build_report(res, influence=bm.influence(res), label="crins2014_ar")
>>> write_report(html, "report.html")

Sections come from the model type (:mod:`.binary` for the binomial–normal model,
:mod:`.conditional`, :mod:`.rates`, :mod:`.effects` for the normal–normal model) and from
the shared builders (:mod:`.common`); see :mod:`.builder` for how a new model plugs in.
"""

from __future__ import annotations

from pathlib import Path

from bayesmeta.files import write_text_atomic
from bayesmeta.presentation.report import binary as _binary  # noqa: F401  (registers)
from bayesmeta.presentation.report import common as _common  # noqa: F401  (registers)
from bayesmeta.presentation.report import conditional as _conditional  # noqa: F401
from bayesmeta.presentation.report import effects as _effects  # noqa: F401  (registers)
from bayesmeta.presentation.report import rates as _rates  # noqa: F401  (registers)
from bayesmeta.presentation.report.builder import (
    COMMON_SECTIONS,
    REPORT_MODELS,
    SECTION_ORDER,
    ReportContext,
    ReportModel,
    Section,
    build_report,
    register_report_model,
    register_sensitivity_renderer,
)


def write_report(html: str, path: str | Path, *, force: bool = False) -> Path:
    """Write the report atomically; never over an existing file without ``force``."""
    return write_text_atomic(path, html, force=force)


__all__ = ["COMMON_SECTIONS", "REPORT_MODELS", "SECTION_ORDER", "ReportContext", "ReportModel",
           "Section", "build_report", "register_report_model", "register_sensitivity_renderer",
           "write_report"]
