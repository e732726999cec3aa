"""Pieces of HTML that several models' report sections share, written once.

The summary's key box with the sampler verdict, the data section's notes on where the data
came from, the explanation of the probability words, the table rows of posterior summaries
and the random-effects equations are the same for every model that has them; each model's
module (``binary``, ``rates``, ``conditional``, ``effects``) composes its sections from
these and its own text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bayesmeta.presentation.plots.common import number
from bayesmeta.presentation.report import html as h
from bayesmeta.presentation.text import fmt


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
