"""Pieces of HTML that several models' report sections share, written once.

The summary's key box with the sampler verdict, the data section's notes on where the data
came from, the explanation of the probability words, the priors, results, studies and harm
tables, the random-effects equations and the citations of the methods paragraph are the same
for every model that has them; each model's
module (``binary``, ``rates``, ``conditional``, ``effects``) composes its sections from
these and its own text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bayesmeta.presentation.plots.common import interval_text, number
from bayesmeta.presentation.report import html as h
from bayesmeta.presentation.report.builder import Section
from bayesmeta.presentation.text import fmt, fmt_prob, likelihood_words
from bayesmeta.priors import Prior


def dataset_of(res: Any):
    """The bundled dataset the data came from, if any (for its title and citation)."""
    from bayesmeta.data.datasets import registry

    try:
        source = Path(res.data.source).resolve()
    except (OSError, ValueError):
        return None
    for ds in registry().values():
        if ds.path.resolve() == source:
            return ds
    return None


def sampler_status(diagnostics: Any) -> str:
    """The key box's last item: did the sampler's convergence checks pass?"""
    status = ('<span class="ok">passed</span>' if diagnostics.ok else
              '<span class="bad">FAILED — see Sampler diagnostics before using these '
              "numbers</span>")
    return f"Sampler checks {status}."


def key_box(res: Any, items: Sequence[str]) -> str:
    """The summary's key findings as a box, headed by the bundled dataset's title."""
    body = ('<div class="keybox"><ul>' + "".join(f"<li>{i}</li>" for i in items)
            + "</ul></div>")
    ds = dataset_of(res)
    if ds is not None:
        body = h.p(f"<strong>{h.esc(ds.title)}</strong> — outcome: {h.esc(ds.outcome)}.") + body
    return body


def source_notes(res: Any) -> list[str]:
    """Where the data came from (a bundled dataset's citation or the file) and which
    columns were read under other names: paragraphs for the data section."""
    d = res.data
    parts = []
    ds = dataset_of(res)
    if ds is not None:
        parts.append(h.p(f"Bundled dataset <code>{h.esc(ds.name)}</code>. Source: "
                         f"{h.esc(ds.citation)}" + (f" Note: {h.esc(ds.notes)}" if ds.notes
                                                    else "")))
    else:
        parts.append(h.p(f"Read from <code>{h.esc(d.source)}</code>."))
    if d.column_map:
        parts.append(h.p("Columns read under other names: " + h.esc(", ".join(
            f"{k} = '{v}'" for k, v in d.column_map.items())) + "."))
    return parts


def words_note(cite: str, n: int | None) -> str:
    """How probabilities are put into words (IPCC), and, with ``n`` draws, that 0 and 1
    are shown as bounds (text, without the paragraph tag)."""
    text = (f"Words follow the IPCC's calibrated language {cite}: virtually certain "
            "≥ 0.99, very likely ≥ 0.90, likely ≥ 0.66, about as likely as not ≥ 0.33, "
            "unlikely ≥ 0.10, very unlikely ≥ 0.01, exceptionally unlikely below.")
    if n is not None:
        text += f" A probability of 0 or 1 from {n:,} draws is shown as a bound."
    return text


def summary_rows(res: Any, names: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Rows of the results table for posterior quantities: label, median, 95% interval,
    mean, sd and the MCSE of the median."""
    rows = []
    for key, label in names:
        s = res.posterior(key).summary()
        rows.append(summary_row(label, s, number))
    return rows


def summary_row(label: str, s: Mapping[str, Any], num=fmt) -> list[str]:
    """One results-table row from a summary with MCSE (numbers written by ``num``)."""
    return [label, num(s["median"]), f"{num(s['q025'])} to {num(s['q975'])}",
            num(s["mean"]), num(s["sd"]), f"{s['mcse']['median']:.2g}"]


def random_effects_equations(mean: str) -> list[str]:
    """θ_i ∼ N(mean, τ²) and θ_new ∼ N(mean, τ²) as MathML blocks (``mean`` is ``θ`` or
    ``μ``, the pooled effect's symbol)."""
    th_i, m, tau, normal = h.msub(h.mi("θ"), h.mi("i")), h.mi(mean), h.mi("τ"), h.mi("N")
    word = {"θ": "theta", "μ": "mu"}[mean]
    return [
        h.math_block(th_i, h.mo("∼"), normal, h.mo("("), m, h.mo(","),
                     h.msup(tau, h.mn("2")), h.mo(")"), label=f"theta_i ~ N({word}, tau^2)"),
        h.math_block(h.msub(h.mi("θ"), h.mtext("new")), h.mo("∼"), normal, h.mo("("), m,
                     h.mo(","), h.msup(tau, h.mn("2")), h.mo(")"),
                     label=f"theta_new ~ N({word}, tau^2)"),
    ]


def priors_table(rows: Sequence[Sequence[str]]) -> str:
    """The priors table: parameter, meaning, prior, as given, source (cells are HTML)."""
    return h.table(["parameter", "meaning", "prior", "as given", "source"], rows,
                   text_columns=(0, 1, 2, 3, 4), escape_cells=False)


def tau_figure(ctx: Any) -> str:
    """The prior against the posterior of τ, for a model sampled by MCMC."""
    return ctx.figure(
        "tau", "Heterogeneity τ: the prior (dashed, its exact density) against the posterior "
        "(a boundary-corrected kernel density estimate of the draws). Where they coincide, "
        "the data say little about τ.", alt="Prior and posterior density of tau")


def results_table(rows: Sequence[Sequence[str]]) -> str:
    """The results table of an MCMC fit (rows from :func:`summary_rows`/:func:`summary_row`)."""
    return h.table(["quantity", "median", "95% interval", "mean", "sd", "MCSE of median"],
                   rows, escape_cells=False)


def study_rows(res: Any) -> list[list[str]]:
    """Per study of a two-arm fit: label, the treatment and control cells, the observed
    ratio (95% CI, or why there is none) and the shrunken ratio (95% CrI)."""
    scale = res.effect_scale
    rows = []
    for row in res.forest_table().studies:
        obs = (interval_text(*(scale.to_display(v) for v in (
            row.observed.estimate, row.observed.lower, row.observed.upper)))
            if row.observed else f"— ({row.observed_note})")
        m = row.model
        rows.append([row.label, row.details[0], row.details[1], obs,
                     interval_text(*(scale.to_display(v) for v in (
                         m.estimate, m.lower, m.upper)))])
    return rows


def harm_row(symbol: str, c: float, p: float, n: int | None, words: str) -> list[str]:
    """A row of the harm table: P(symbol > c), its value and the probability in words."""
    return [f"P({symbol} &gt; {c:g})", fmt_prob(p, n),
            f"It is <strong>{likelihood_words(p)}</strong> {h.esc(words)}."]


def harm_table(rows: Sequence[Sequence[str]]) -> str:
    return h.table(["probability", "value", "in words"], rows, text_columns=(0, 2),
                   escape_cells=False)


class MethodsCitations:
    """The author–year citations of a methods paragraph, and the list of those cited.

    ``source_keys(slot, prior)`` names the references of a default prior (None when the
    prior is not a documented default)."""

    def __init__(self, ctx: Any,
                 source_keys: Callable[[str, Prior], tuple[str, ...] | None]) -> None:
        self.ctx = ctx
        self.source_keys = source_keys
        self.used: list[str] = []

    def cite(self, *keys: str) -> str:
        self.used.extend(k for k in keys if k not in self.used)
        return self.ctx.cite_author_year(*keys)

    def prior_text(self, slot: str, prior: Prior) -> str:
        """The prior in words with its source: cited when a default, else as recorded."""
        keys = self.source_keys(slot, prior)
        if keys:
            return f"{h.esc(prior.describe())} {self.cite(*keys)}"
        if prior.source:
            return f"{h.esc(prior.describe())} ({h.esc(prior.source)})"
        return h.esc(prior.describe())

    def section(self, text: str) -> Section:
        """The methods section: ``text`` ready to paste, then its references."""
        refs = "".join(f"<li>{h.esc(self.ctx.references[k].full)}</li>"
                       for k in sorted(self.used, key=lambda k: self.ctx.references[k].full))
        parts = [h.p("Ready to paste:"),
                 f'<div class="methods" id="methods-text">{h.p(text)}'
                 f'<p><strong>References</strong></p><ul class="refs">{refs}</ul></div>']
        return Section("methods", "Methods paragraph", "\n".join(parts))
