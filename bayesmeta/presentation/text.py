"""Plain-text building blocks: number formatting, aligned tables, probabilities in words."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def fmt(x: float | None, digits: int = 3) -> str:
    """Format a number with ``digits`` significant digits (at least 3 decimals below 1)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{x:,.{min(decimals, 6)}f}"


def fmt_prob(p: float, n_draws: int | None = None) -> str:
    """A probability; 0 or 1 from MCMC draws is shown as a bound, not as certainty, and so
    is one too close to 0 or 1 for four decimals (an exact 5e-6 is "< 0.0001", not 0.0000)."""
    if n_draws and p == 0:
        return f"< {fmt(1 / n_draws, 1)}"
    if n_draws and p == 1:
        return f"> {fmt(1 - 1 / n_draws, 4)}"
    if p < 0.00005:
        return "< 0.0001"
    if p > 0.99995:
        return "> 0.9999"
    if p < 0.001 or p > 0.999:
        return f"{p:.4f}"
    return f"{p:.3f}"


def prob_line(label: str, p: float, n_draws: int | None, meaning: str) -> str:
    """One aligned line of a printed summary: ``P(OR > 1)  =  0.034   unlikely that ...``,
    with ``<``/``>`` in place of ``=`` when the value is a bound."""
    value = fmt_prob(p, n_draws)
    relation, number_text = ((value[0], value[2:]) if value.startswith(("<", ">"))
                             else ("=", value))
    return (f"  {label:<18} {relation} {number_text:>9}   {likelihood_words(p)} "
            f"{meaning}")


def prob_equals(label: str, p: float, n_draws: int | None = None) -> str:
    """``P(OR > 1) = 0.034`` — or ``P(OR > 1) < 0.001`` when the draws only bound it."""
    value = fmt_prob(p, n_draws)
    if value.startswith(("<", ">")):
        return f"{label} {value}"
    return f"{label} = {value}"


#: Calibrated language for probabilities (Mastrandrea et al. 2010, IPCC guidance note).
LIKELIHOOD_WORDS = (
    (0.99, "virtually certain"),
    (0.90, "very likely"),
    (0.66, "likely"),
    (0.33, "about as likely as not"),
    (0.10, "unlikely"),
    (0.01, "very unlikely"),
    (0.0, "exceptionally unlikely"),
)


def likelihood_words(p: float) -> str:
    for bound, words in LIKELIHOOD_WORDS:
        if p >= bound:
            return words
    return LIKELIHOOD_WORDS[-1][1]


def table(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None,
          align: str | None = None, indent: int = 2) -> str:
    """An aligned plain-text table; ``align`` is one of 'l'/'r' per column (default: text
    left, the rest right)."""
    body = [list(map(str, r)) for r in rows]
    allrows = ([list(header)] if header else []) + body
    if not allrows:
        return ""
    ncol = max(len(r) for r in allrows)
    for r in allrows:
        r.extend([""] * (ncol - len(r)))
    widths = [max(len(r[i]) for r in allrows) for i in range(ncol)]
    align = align or ("l" + "r" * (ncol - 1))
    lines = []
    for j, r in enumerate(allrows):
        cells = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align,
                                                                            strict=True)]
        lines.append(" " * indent + "  ".join(cells).rstrip())
        if header and j == 0:
            lines.append(" " * indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def settings_text(settings: Any) -> str:
    """``Settings: ...``: the sampler, chains, warm-up and draws, target_accept and seed of
    an MCMC fit (the printed summaries' last line; callers may append to it)."""
    st = settings
    return (f"Settings: {st.resolved_sampler} NUTS, {st.chains} chains × ({st.tune} warm-up + "
            f"{st.draws} draws), target_accept {st.target_accept}, seed {st.seed}")


def column_map_line(column_map: Mapping[str, str]) -> str:
    """The data line that names the columns read under other names."""
    return "      columns read as: " + ", ".join(f"{k} = '{v}'" for k, v in column_map.items())


def observed_ratio_text(log_estimate: float, se: float) -> str:
    """A study's observed ratio with its 95% Wald interval, ``—`` when there is none."""
    if math.isnan(log_estimate):
        return "—"
    lo, hi = (math.exp(log_estimate + k * 1.96 * se) for k in (-1, 1))
    return f"{fmt(math.exp(log_estimate))} ({fmt(lo)}–{fmt(hi)})"
