"""The printed influence table (what ``bayesmeta influence`` shows)."""

from __future__ import annotations

from bayesmeta.presentation.plots.common import interval_text, number
from bayesmeta.presentation.text import fmt_prob, prob_equals, table
from bayesmeta.results.influence import Influence

RULE = "─" * 78


def render_influence(inf: Influence, *, label: str | None = None) -> str:
    sym, n = inf.symbol, inf.n_draws
    new_text = inf.harm_text.replace(sym, f"{sym}_new", 1)
    lines = [f"bayesmeta — influence of single studies{': ' + label if label else ''}", RULE]
    full = inf.full
    joint = " to " if min(full.lower, full.upper) < 0 else "–"
    lines.append(f"All studies: pooled {sym} {number(full.median)} (95% CrI "
                 f"{number(full.lower)}{joint}{number(full.upper)}), "
                 f"{prob_equals(f'P({inf.harm_text})', full.p_harm, n)}, "
                 f"{prob_equals(f'P({new_text})', full.p_harm_new, n)}")
    if inf.loo is None and n is None and inf.refits:
        lines += ["", "Exact posterior: each refit is exact (no Monte Carlo error); PSIS-LOO "
                  "is not needed."]
    if inf.loo is not None:
        lines += ["", f"PSIS-LOO: elpd_loo {inf.loo.elpd:.1f} (SE {inf.loo.elpd_se:.1f}), "
                  f"p_loo {inf.loo.p_loo:.1f}", "  " + inf.loo.verdict()]
    by_study = {r.study: r for r in inf.refits}
    studies = inf.loo.studies if inf.loo is not None else tuple(by_study)
    header = ["without", "Pareto k"] if inf.loo is not None else ["without"]
    if inf.refits:
        header += [f"{sym} (95% CrI)", "ratio" if inf.log_scale else "change",
                   f"P({inf.harm_text})", "change", f"P({new_text})"]
    rows = []
    for i, study in enumerate(studies):
        row = [study]
        if inf.loo is not None:
            k = float(inf.loo.pareto_k[i])
            row.append(f"{k:.2f}" + (" !" if k > inf.loo.good_k else ""))
        r = by_study.get(study)
        if r is not None:
            row += [interval_text(r.median, r.lower, r.upper)
                    + ("" if r.diagnostics_ok else " *"),
                    number(inf.shift(r)), fmt_prob(r.p_harm, n),
                    f"{r.p_harm - full.p_harm:+.3f}", fmt_prob(r.p_harm_new, n)]
        elif inf.refits:
            row += ["(not refitted)", "", "", "", ""]
        rows.append(row)
    if rows:
        lines += ["", table(rows, header=header)]
    notes = []
    if inf.loo is not None and inf.loo.n_high:
        notes.append(f"! Pareto k above {inf.loo.good_k:.2f}: PSIS-LOO unreliable for this "
                     "study")
    if any(not r.diagnostics_ok for r in inf.refits):
        notes.append("* this refit had sampler warnings (" + ", ".join(
            f"{r.study}: {', '.join(r.problems)}" for r in inf.refits if not r.diagnostics_ok)
            + "); its numbers are less precise")
    top = inf.most_influential()
    if top is not None:
        lead = inf.most_influential_words().format(study=top.study, symbol=sym)
        notes.append(f"{lead}: {number(full.median)} → {number(top.median)}; "
                     f"P({inf.harm_text}) "
                     f"{fmt_prob(full.p_harm, n)} → {fmt_prob(top.p_harm, n)}.")
    if inf.refits_skipped:
        notes.append(inf.refits_skipped[0].upper() + inf.refits_skipped[1:] + ".")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)
