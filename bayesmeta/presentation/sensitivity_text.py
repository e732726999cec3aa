"""The printed report of a prior sensitivity analysis and of power-scaling sensitivity."""

from __future__ import annotations

from bayesmeta.presentation.binary_text import RULE
from bayesmeta.presentation.text import fmt, fmt_prob, settings_text, table
from bayesmeta.results.prior_sensitivity import (
    CONFLICT,
    EXPLANATIONS,
    NO_CONCERN,
    STRONG_PRIOR,
    PowerScaling,
)
from bayesmeta.results.sensitivity import SensitivityResult

QUANTITY_LABELS = {"log_or": "pooled log OR (theta)", "tau": "heterogeneity (tau)",
                   "theta_new": "log OR in a new study"}
SLOT_LABELS = {"baseline": "baselines", "effect": "effect", "tau": "tau"}


def power_scaling_text(ps: PowerScaling, *, indent: str = "  ") -> list[str]:
    """Power-scaling sensitivity as a small table plus what each diagnosis means."""
    rows = []
    for q, label in QUANTITY_LABELS.items():
        diag = ps.diagnosis(q)
        top = ps.most_influential_prior(q)
        rows.append([label, f"{ps.prior[q]:.3f}", f"{ps.likelihood[q]:.3f}",
                     "no concern" if diag == NO_CONCERN else diag.removeprefix("potential "),
                     f"{SLOT_LABELS[top]} ({ps.by_prior[top][q]:.3f})"])
    lines = [table(rows, header=["", "prior", "likelihood", "diagnosis",
                                 "most influential prior"], align="lrrll")]
    seen = {ps.diagnosis(q) for q in QUANTITY_LABELS}
    for diag in (CONFLICT, STRONG_PRIOR):
        if diag in seen:
            lines.append(f"{indent}{diag.removeprefix('potential ').capitalize()}: "
                         f"{EXPLANATIONS[diag]}.")
    if seen == {NO_CONCERN}:
        lines.append(f"{indent}No concern: {EXPLANATIONS[NO_CONCERN]}.")
    lines.append(f"{indent}(Sensitivity = change of the posterior when the prior or the "
                 f"likelihood is raised to a power near 1; ≥ {ps.threshold:g} flags it. A "
                 "uniform prior does not change when scaled: compare other priors instead.)")
    return lines


def render_sensitivity(res: SensitivityResult, *, label: str | None = None) -> str:
    d = res.data
    n_draws = res.settings.chains * res.settings.draws
    lines = ["bayesmeta — prior sensitivity of a binomial-normal meta-analysis", RULE]
    lines.append(f"Data: {label or d.source} — {d.k} studies; events {int(d.events_t.sum())}"
                 f"/{int(d.n_t.sum())} under treatment, {int(d.events_c.sum())}/"
                 f"{int(d.n_c.sum())} under control")
    lines.append(f"Priors: {res.title or 'prior set'} — {len(res.rows)} configurations "
                 f"({res.prior_set_source}); reference: {res.reference}")
    ref = res.reference_row
    lines.append(f"  reference priors: baselines ~ {ref.priors.baseline.describe()}, "
                 f"effect ~ {ref.priors.effect.describe()}, tau ~ {ref.priors.tau.describe()}")
    lines.append("")
    header = ["prior", "changed from the reference", "OR median (95% CrI)", "tau median",
              "P(OR>1)", "P(θnew>0)", *[f"P(OR>{c:g})" for c in res.thresholds],
              "diagnostics", "power-scaling"]
    rows = []
    for r in res.rows:
        changed = [f"{slot} {p.spec}" for slot, p in r.priors.as_dict().items()
                   if ref.priors.as_dict()[slot] != p]
        s = r.summary("or")
        ps = r.power_scaling
        flags = ("" if ps is None else
                 ", ".join(f"{q}: {d.removeprefix('potential ').split(' /')[0]}"
                           for q, d in ps.concerns.items()) or "✓")
        diag = r.diagnostics_text()
        if r.method != "mcmc":
            diag = f"{r.method}: {diag}" if r.method == "reweighted" else f"refit; {diag}"
        rows.append([r.name, "; ".join(changed) or "—",
                     f"{fmt(s['median'])} ({fmt(s['q025'])}–{fmt(s['q975'])})",
                     fmt(r.summary("tau")["median"], 2),
                     fmt_prob(r.prob(1.0), n_draws),
                     fmt_prob(r.prob(1.0, predictive=True), n_draws),
                     *[fmt_prob(r.prob(c), n_draws) for c in res.thresholds],
                     diag, flags])
    lines.append(table(rows, header=header, align="llrrrr" + "r" * len(res.thresholds)
                       + "ll"))
    lines += ["", "Verdict"]
    lines += [f"  {sentence}" for sentence in res.verdict_text()]
    flagged = {r.power_scaling.diagnosis(q) for r in res.rows if r.power_scaling
               for q in QUANTITY_LABELS} - {NO_CONCERN}
    if flagged:
        lines += ["", "Power-scaling (local prior sensitivity, Kallioinen et al. 2024)"]
        for diag in sorted(flagged):
            lines.append(f"  {diag.removeprefix('potential ').capitalize()}: "
                         f"{EXPLANATIONS[diag]}.")
        lines.append("  A uniform prior does not change when scaled, so power-scaling cannot "
                     "flag it; the sweep above compares it with the others.")
    st = res.settings
    lines += ["", settings_text(st) + "; one compiled model, priors given as data; method "
                  f"{res.method}"]
    return "\n".join(lines)
