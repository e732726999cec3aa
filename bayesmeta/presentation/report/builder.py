"""The report builder: a page made of sections, each provided by the model type or shared.

A model type registers a :class:`ReportModel` for its result class with
:func:`register_report_model`: section builders for what only it knows (its data table,
its model in math, its priors and their sources, its results, harm in words, the methods
paragraph). Shared builders (:mod:`bayesmeta.presentation.report.common`) fill the rest —
sensitivity, influence, diagnostics, software and references — unless the model overrides
them. Sections appear in :data:`SECTION_ORDER`; a model's extra sections (e.g. effect over
time) go before the methods paragraph.

A builder takes the :class:`ReportContext` and returns a :class:`Section`, or None to leave
the section out. Figures are drawn through the plot registry
(:mod:`bayesmeta.presentation.plots`) and inlined as base64 images; citations are numbered
in order of first use and listed at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bayesmeta.errors import InputError
from bayesmeta.presentation.plots import plot
from bayesmeta.presentation.plots.save import data_uri
from bayesmeta.presentation.report import html as h

SECTION_ORDER = ("summary", "data", "model", "priors", "results", "harm", "sensitivity",
                 "influence", "diagnostics", "methods", "software", "references")


@dataclass(frozen=True)
class Reference:
    """A work cited: ``short`` in author–year form (for the methods paragraph), ``full`` as
    listed among the references."""

    short: str
    full: str


@dataclass(frozen=True)
class Section:
    """One section of the report: an anchor id, a heading and its HTML body."""

    id: str
    title: str
    body: str


@dataclass
class ReportContext:
    """Everything a section builder may use.

    ``threshold`` is the harm threshold shown in the posterior plot (default: the fit's
    first ``--threshold``, else no effect). ``sensitivity`` is a prior-sensitivity result
    (rendered by a registered renderer) or None. ``references`` maps citation keys to
    reference text; :meth:`cite` numbers them in order of use.
    """

    result: Any
    influence: Any = None
    sensitivity: Any = None
    title: str | None = None
    label: str | None = None
    threshold: float | None = None
    command: str | None = None
    image_format: str = "png"
    references: dict[str, Reference] = field(default_factory=dict)
    cited: list[str] = field(default_factory=list)
    figure_count: int = 0

    def cite(self, *keys: str) -> str:
        """``[n]`` (or ``[n, m]``) for reference keys, numbered by first use."""
        numbers = []
        for key in keys:
            if key not in self.references:
                raise KeyError(f"unknown reference '{key}'")
            if key not in self.cited:
                self.cited.append(key)
            numbers.append(self.cited.index(key) + 1)
        return "[" + ", ".join(str(n) for n in numbers) + "]"

    def cite_author_year(self, *keys: str) -> str:
        """``(Günhan et al. 2020; Friede et al. 2017)`` as HTML; the works also join the
        numbered references."""
        self.cite(*keys)
        return "(" + "; ".join(h.esc(self.references[k].short) for k in keys) + ")"

    def add_reference(self, key: str, reference: Reference) -> None:
        self.references.setdefault(key, reference)

    def figure(self, kind: str, caption_html: str, alt: str, **options: Any) -> str:
        """Draw plot ``kind`` of the result, inline it, and return the ``<figure>`` HTML."""
        obj = plot(kind, self.result, **options)
        self.figure_count += 1
        uri = data_uri(obj, self.image_format)
        _release(obj)
        return h.figure(uri, alt, f"<strong>Figure {self.figure_count}.</strong> "
                        f"{caption_html}", f"figure-{kind}")


def _release(obj: Any) -> None:
    from bayesmeta.presentation.plots.save import figure_of

    fig = figure_of(obj)
    fig.clear()


SectionBuilder = Callable[[ReportContext], Section | None]


@dataclass(frozen=True)
class ReportModel:
    """What a model type contributes to the report: its name in words and its sections."""

    name: str
    sections: Mapping[str, SectionBuilder]
    references: Mapping[str, Reference] = field(default_factory=dict)
    #: A short name for figure titles, e.g. "binomial–normal model".
    short_name: str = ""


REPORT_MODELS: dict[type, ReportModel] = {}
COMMON_SECTIONS: dict[str, SectionBuilder] = {}
COMMON_REFERENCES: dict[str, Reference] = {}
#: Renderers for prior-sensitivity results, by type: ``render(ctx, sensitivity) -> html``.
SENSITIVITY_RENDERERS: dict[type, Callable[[ReportContext, Any], str]] = {}


def register_report_model(result_type: type, model: ReportModel) -> None:
    """Register the report sections of a result type (e.g. the binomial–normal fit)."""
    REPORT_MODELS[result_type] = model


def register_sensitivity_renderer(sensitivity_type: type,
                                  render: Callable[[ReportContext, Any], str]) -> None:
    """Register how a prior-sensitivity result is shown in the report's sensitivity
    section."""
    SENSITIVITY_RENDERERS[sensitivity_type] = render


def report_model_for(result: Any) -> ReportModel:
    for cls in type(result).__mro__:
        if cls in REPORT_MODELS:
            return REPORT_MODELS[cls]
    known = ", ".join(m.name for m in REPORT_MODELS.values()) or "none"
    raise InputError(f"no report for {type(result).__name__} results (reports exist for: "
                     f"{known})")


def build_report(result: Any, *, influence: Any = None, sensitivity: Any = None,
                 title: str | None = None, label: str | None = None,
                 threshold: float | None = None, command: str | None = None,
                 image_format: str = "png") -> str:
    """The report of ``result`` as one self-contained HTML page (a string).

    ``influence`` is :func:`bayesmeta.api.influence`'s result (or None: the influence
    section then says it was not computed); ``sensitivity`` a prior-sensitivity result
    with a registered renderer (or None: the section says none was run).
    """
    if image_format not in {"png", "svg"}:
        raise InputError(f"image format must be png or svg (got {image_format})")
    model = report_model_for(result)
    ctx = ReportContext(result=result, influence=influence, sensitivity=sensitivity,
                        title=title, label=label, threshold=threshold, command=command,
                        image_format=image_format,
                        references={**COMMON_REFERENCES, **model.references})
    order = list(SECTION_ORDER)
    extra = [sid for sid in model.sections if sid not in order]
    at = order.index("methods")
    order[at:at] = extra
    sections: list[Section] = []
    for sid in order:
        builder = model.sections.get(sid) or COMMON_SECTIONS.get(sid)
        if builder is None:
            continue
        section = builder(ctx)
        if section is not None:
            sections.append(section)
    body = "\n".join(f'<section id="{h.esc(s.id)}">\n<h2>{h.esc(s.title)}</h2>\n{s.body}\n'
                     "</section>" for s in sections)
    page_title = title or f"Bayesian meta-analysis: {label or getattr(result.data, 'source', '')}"
    subtitle = (f"{h.esc(model.name)} · produced by bayesmeta"
                + (f" · <code>{h.esc(command)}</code>" if command else ""))
    return h.page(page_title, subtitle, [(s.id, s.title) for s in sections], body)
