"""The printed table of ``bayesmeta compare``: one line per method, then what the zero-cell
rules did, in words."""

from __future__ import annotations

from bayesmeta.presentation.text import fmt, fmt_prob, likelihood_words, table
from bayesmeta.results.comparison import Comparison, ComparisonRow

RULE = "─" * 78
MEASURE_NAMES = {"OR": "odds ratio", "RR": "risk ratio", "RD": "risk difference",
                 "IRR": "incidence rate ratio", "IRD": "incidence rate difference"}


def _interval(lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return ""
    return f"{fmt(lo)} to {fmt(hi)}"


def _row(r: ComparisonRow) -> list[str]:
    if not r.ok:
        return [r.label, r.kind, "—", r.note, "", "", f"{r.studies_used}/{r.studies_total}"]
    tau = "" if r.tau is None else fmt(r.tau)
    return [r.label + (" !" if r.note else ""), r.kind, fmt(r.estimate),
            _interval(r.lower, r.upper), _interval(r.pred_lower, r.pred_upper), tau,
            f"{r.studies_used}/{r.studies_total}"]


def render_comparison(comparison: Comparison, *, label: str | None = None) -> str:
    """Every method's estimate, interval, prediction interval, τ and studies used; then,
    numbered, what each method did to zero cells."""
    d = comparison.data
    lines = ["bayesmeta — the same data, every method (classical methods are comparators, "
             "labelled as such)", RULE]
    what = ("events" if d["kind"] == "binary" else "events over person-time")
    lines.append(f"Data: {label or d['source']} — {d['n_studies']} studies ({what}); "
                 f"{d['studies_with_a_zero']} with a zero cell, "
                 f"{len(d['double_zero_studies'])} without events in either arm")
    measures = list(dict.fromkeys(r.measure for r in comparison.rows))
    zero_rules: dict[str, int] = {}
    for measure in measures:
        rows = [r for r in comparison.rows if r.measure == measure]
        lines += ["", f"{MEASURE_NAMES.get(measure, measure)} ({measure}), treatment vs "
                      "control; 95% intervals (CI classical, CrI Bayesian)"]
        body = []
        for r in rows:
            cells = _row(r)
            number = zero_rules.setdefault(r.zeros, len(zero_rules) + 1)
            cells.append(f"[{number}]")
            body.append(cells)
        lines.append(table(body, header=["method", "kind", measure, "95% interval",
                                         "95% prediction", "tau", "studies", "zeros"],
                           align="llrrrrrl"))
    lines += ["", "Zero cells — what each method did:"]
    for text, number in zero_rules.items():
        lines.append(f"  [{number}] {text}")
    notes = [r for r in comparison.rows if r.note and r.ok]
    if notes:
        lines += ["", "! " + "; ".join(f"{r.label}: {r.note}" for r in notes)]
    lines += ["", "Bayesian rows: posterior median and 95% credible interval; prediction = a "
              "new trial's effect.", "Classical rows: estimate, 95% confidence interval "
              "(normal, or Hartung–Knapp t), prediction interval (random effects).",
              "tau: between-study SD (classical: the estimate; Bayesian: posterior median). "
              "studies: used/given."]
    bayes = [r for r in comparison.rows if r.kind == "bayesian" and r.ok]
    for r in bayes:
        if r.prob_above_null is not None and r.measure != "RD":
            shown = fmt_prob(r.prob_above_null, r.detail.get("n_draws"))
            relation = "" if shown[0] in "<>" else "= "
            lines.append(f"{r.label}: P({r.measure} > 1) {relation}{shown} "
                         f"({likelihood_words(r.prob_above_null)})")
    return "\n".join(lines)
