"""The printed summary of a binomial–normal fit (what ``bayesmeta fit binary`` shows)."""

from __future__ import annotations

from bayesmeta.inference.diagnostics import Diagnostics
from bayesmeta.presentation.text import (
    column_map_line,
    fmt,
    observed_ratio_text,
    prob_line,
    settings_text,
    table,
)
from bayesmeta.results.binary import BinaryMetaResult

RULE = "─" * 78


def _row(label: str, s: dict, digits: int = 3) -> list[str]:
    return [label, fmt(s["median"], digits), f"{fmt(s['q025'], digits)} to "
            f"{fmt(s['q975'], digits)}", fmt(s["mean"], digits), fmt(s["sd"], digits)]


def diagnostics_text(diag: Diagnostics) -> str:
    line = (f"max R-hat {diag.max_rhat:.3f} ({diag.max_rhat_variable}), min bulk ESS "
            f"{diag.min_ess_bulk:.0f}, min tail ESS {diag.min_ess_tail:.0f}, "
            f"{diag.divergences} divergences, E-BFMI {diag.min_ebfmi:.2f}")
    if diag.ok:
        return f"Diagnostics: OK — {line}"
    out = [f"!! SAMPLER PROBLEMS ({len(diag.problems)}) — do not trust these numbers yet",
           f"   {line}"]
    for p in diag.problems:
        out.append(f"   * {p.message}.")
        out.append(f"     Remedy: {p.remedy}.")
    return "\n".join(out)


HEADERS = {
    "binomial_normal": "binomial-normal random-effects meta-analysis (exact binomial "
                       "likelihood)",
    "conditional_hypergeometric": "conditional (non-central hypergeometric)-normal "
                                  "random-effects meta-analysis (exact conditional likelihood)",
}
PRIOR_ROWS = {"baseline": ("study baselines", "mu[study]"), "effect": ("pooled log OR", "theta"),
              "tau": ("heterogeneity", "tau")}


def render_binary(res: BinaryMetaResult, *, label: str | None = None) -> str:
    d = res.data
    n_draws = res.settings.chains * res.settings.draws
    lines = ["bayesmeta — " + HEADERS.get(res.model, res.model), RULE]
    zero = [s for s, z in zip(d.study, d.any_zero, strict=True) if z]
    dz = [s for s, z in zip(d.study, d.double_zero, strict=True) if z]
    lines.append(f"Data: {label or d.source} — {d.k} studies; events {int(d.events_t.sum())}"
                 f"/{int(d.n_t.sum())} under treatment, {int(d.events_c.sum())}/"
                 f"{int(d.n_c.sum())} under control")
    kept = ("all kept" if res.model != "conditional_hypergeometric" else
            "double-zero trials carry no information in the conditional likelihood")
    lines.append(f"      {len(zero)} with a zero cell, {len(dz)} double-zero"
                 f"{' (' + ', '.join(dz) + ')' if dz else ''}; {kept}, "
                 "no continuity correction")
    if d.column_map:
        lines.append(column_map_line(d.column_map))
    lines += ["", "Priors"]
    lines.append(table([[*PRIOR_ROWS[slot], "~ " + prior.describe()]
                        for slot, prior in res.priors.as_dict().items()], align="lll"))
    lines += ["", "Pooled estimates"]
    s = {name: res.posterior(name).summary(with_mcse=False) for name in
         ("or", "log_or", "tau", "or_new", "theta_new")}
    rd = res.risk_difference().summary(with_mcse=False)
    rd_new = res.risk_difference(predictive=True).summary(with_mcse=False)
    base = res.baseline_risk
    lines.append(table([
        _row("odds ratio (OR)", s["or"]),
        _row("log OR (theta)", s["log_or"]),
        _row("heterogeneity (tau)", s["tau"]),
        _row("OR in a new study", s["or_new"]),
        _row("log OR in a new study (theta_new)", s["theta_new"]),
        _row("risk difference per 1,000", rd),
        _row("  ... in a new study", rd_new),
    ], header=["", "median", "95% CrI", "mean", "sd"]))
    lines.append(f"  (absolute effects at a baseline risk of {fmt(1000 * base.value)} per 1,000: "
                 f"{base.source})")
    lines.append(f"  number needed: {res.number_needed().text()}")
    lines += ["", "Probabilities"]
    prob = res.probabilities()
    lines.append(prob_line("P(OR > 1)", prob["or_gt_1"], n_draws,
                            "that the event is more frequent under treatment than control"))
    lines.append(prob_line("P(theta_new > 0)", prob["theta_new_gt_0"], n_draws,
                            "that a new trial would show more events under treatment"))
    for c, v in prob.get("or_gt", {}).items():
        lines.append(prob_line(f"P(OR > {c})", v, n_draws,
                                f"that treatment multiplies the odds of the event by more "
                                f"than {c}"))
    for c, v in prob.get("or_new_gt", {}).items():
        lines.append(prob_line(f"P(OR_new > {c})", v, n_draws, "the same in a new trial"))
    lines += ["", "Studies: observed OR (no correction; — where a cell is zero) and shrunken OR"]
    rows = []
    for r in res.study_effects().itertuples():
        obs = observed_ratio_text(r.observed_log_or, r.observed_se)
        rows.append([r.study, f"{r.events_t}/{r.n_t}", f"{r.events_c}/{r.n_c}", obs,
                     f"{fmt(r.or_median)} ({fmt(r.or_q025)}–{fmt(r.or_q975)})"])
    lines.append(table(rows, header=["study", "treatment", "control", "observed OR (95% CI)",
                                     "shrunken OR (95% CrI)"], align="lrrrr"))
    if res.prior_sensitivity() is not None:
        from bayesmeta.presentation.sensitivity_text import power_scaling_text

        lines += ["", "Prior sensitivity (power-scaling, Kallioinen et al. 2024; "
                      "`bayesmeta sensitivity` compares other priors)"]
        lines += power_scaling_text(res.prior_sensitivity())
    lines += ["", diagnostics_text(res.diagnostics)]
    lines.append(settings_text(res.settings))
    return "\n".join(lines)

