"""The printed summary of a normal–normal fit (``bayesmeta fit effects`` / ``fit continuous``)."""

from __future__ import annotations

import math

from bayesmeta.presentation.binary_text import diagnostics_text
from bayesmeta.presentation.text import (
    column_map_line,
    fmt,
    prob_line,
    settings_text,
    table,
)
from bayesmeta.results.effects import EffectsMetaResult

RULE = "─" * 78

_LABELS = {
    "mu": "pooled effect (mu)",
    "tau": "heterogeneity (tau)",
    "theta_new": "effect in a new study (theta_new)",
    "or": "odds ratio (exp mu)", "or_new": "OR in a new study",
    "rr": "risk ratio (exp mu)", "rr_new": "RR in a new study",
    "hr": "hazard ratio (exp mu)", "hr_new": "HR in a new study",
}


def _row(label: str, s: dict, digits: int = 3) -> list[str]:
    return [label, fmt(s["median"], digits),
            f"{fmt(s['q025'], digits)} to {fmt(s['q975'], digits)}",
            f"{fmt(s['shortest95_lo'], digits)} to {fmt(s['shortest95_hi'], digits)}",
            fmt(s["mean"], digits), fmt(s["sd"], digits)]


def _num(x: float) -> str:
    """3 significant digits; scientific notation outside 0.001 .. 100,000."""
    return fmt(x) if 1e-3 <= abs(x) < 1e5 else f"{x:.3g}"


def _bf_text(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 1:
        return f"{_num(value)} (the data favour the null {_num(value)} : 1)"
    return f"{_num(value)} (the data favour the alternative {_num(1 / value)} : 1)"


def render_effects(res: EffectsMetaResult, *, label: str | None = None) -> str:
    d = res.data
    exact = res.method == "exact"
    how = ("exact posterior by quadrature" if exact else
           f"MCMC, {res.settings.resolved_sampler if res.settings else ''} NUTS")
    lines = [f"bayesmeta — normal-normal random-effects meta-analysis ({how})", RULE]
    lines.append(f"Data: {label or d.source} — {d.k} studies; effects: {d.measure_text} "
                 f"({d.measure})")
    if d.derivation and d.derivation != "as given":
        lines.append(f"      {d.derivation}")
    if d.column_map:
        lines.append(column_map_line(d.column_map))
    lines += ["", "Priors"]
    p = res.priors
    rows = [["pooled effect", "mu", "~ " + p.mu.describe()]]
    if p.tau is not None:
        rows.append(["heterogeneity", "tau", "~ " + p.tau.describe()])
    lines.append(table(rows, align="lll"))
    lines += ["", "Pooled estimates"]
    sums = {n: res.quantity_summary(n) for n in res.quantities}
    body = [_row(_LABELS.get(n, n), sums[n]) for n in res.quantities]
    lines.append(table(body, header=["", "median", "95% CrI", "95% shortest", "mean", "sd"]))
    if exact and any(math.isnan(sums[n]["mean"]) for n in res.quantities):
        lines.append("  (— : a mean or SD that does not exist, or is not computed for ratios)")
    n_draws = None if exact else (res.settings.chains * res.settings.draws
                                  if res.settings else None)
    lines += ["", "Probabilities"]
    prob = res.probabilities()
    lines.append(prob_line("P(mu > 0)", prob["mu_gt_0"], n_draws,
                            "that the pooled effect is positive"))
    lines.append(prob_line("P(theta_new > 0)", prob["theta_new_gt_0"], n_draws,
                            "that a new study's effect is positive"))
    scale = res.effect_scale
    q = scale.symbol.lower() if scale.log else None  # log ratios: thresholds as ratios
    pooled, new = (f"{scale.symbol}", f"{scale.symbol}_new") if q else ("mu", "theta_new")
    for c, v in prob.get(f"{q}_gt" if q else "mu_gt", {}).items():
        lines.append(prob_line(f"P({pooled} > {c})", v, n_draws, f"that the pooled effect "
                                f"exceeds {c}"))
    for c, v in prob.get(f"{q}_new_gt" if q else "theta_new_gt", {}).items():
        lines.append(prob_line(f"P({new} > {c})", v, n_draws, "the same in a new study"))
    if exact:
        bf = res.bayes_factors()
        lines += ["", "Bayes factors BF01 = p(data | null) / p(data | model)"]
        lines.append(f"  tau = 0 (no heterogeneity): {_bf_text(bf['tau_0'])}")
        lines.append(f"  mu = 0 (no effect):         {_bf_text(bf['mu_0'])}")
        if bf["note"].startswith(("tau0", "mu0")):
            lines.append(f"  ({bf['note']})")
    lines += ["", "Studies: observed effect (95% CI) and shrunken effect theta_i (95% CrI)"]
    srows = []
    for r in res.study_effects().itertuples():
        lo, hi = r.yi - 1.959963984540054 * r.sei, r.yi + 1.959963984540054 * r.sei
        srows.append([r.study, f"{fmt(r.yi)} ({fmt(lo)} to {fmt(hi)})",
                      f"{fmt(r.median)} ({fmt(r.q025)} to {fmt(r.q975)})"])
    lines.append(table(srows, header=["study", "observed", "shrunken"], align="lrr"))
    lines.append("")
    if exact:
        det = res.method_details()
        lines.append(f"Method: exact — {det['quadrature_nodes']} quadrature nodes in "
                     f"{det['panels']} panels, estimated relative error "
                     f"{det['estimated_relative_error']:.0e}; no Monte Carlo error")
        if not det["ok"]:
            lines.append("!! The quadrature did not reach its accuracy: check the numbers with "
                         "--method mcmc, and please report the data set.")
    else:
        assert res.diagnostics is not None and res.settings is not None
        lines.append(diagnostics_text(res.diagnostics))
        lines.append(settings_text(res.settings))
    return "\n".join(lines)

