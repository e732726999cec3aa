"""The printed summary of a Poisson–normal fit (what ``bayesmeta fit rates`` shows)."""

from __future__ import annotations

from bayesmeta.presentation.binary_text import RULE, _row, diagnostics_text
from bayesmeta.presentation.text import (
    column_map_line,
    fmt,
    observed_ratio_text,
    prob_line,
    settings_text,
    table,
)
from bayesmeta.results.rates import RateMetaResult

PRIOR_ROWS = {"baseline": ("study baselines (log rate)", "mu[study]"),
              "effect": ("pooled log rate ratio", "theta"), "tau": ("heterogeneity", "tau")}


def render_rates(res: RateMetaResult, *, label: str | None = None) -> str:
    d = res.data
    n_draws = res.settings.chains * res.settings.draws
    lines = ["bayesmeta — Poisson-normal random-effects meta-analysis of event rates "
             "(exact Poisson likelihood)", RULE]
    zero = [s for s, z in zip(d.study, d.any_zero, strict=True) if z]
    dz = [s for s, z in zip(d.study, d.double_zero, strict=True) if z]
    lines.append(f"Data: {label or d.source} — {d.k} studies; {int(d.events_t.sum())} events "
                 f"in {fmt(float(d.exposure_t.sum()))} person-time under treatment, "
                 f"{int(d.events_c.sum())} in {fmt(float(d.exposure_c.sum()))} under control")
    lines.append(f"      {len(zero)} with no events in an arm, {len(dz)} with none in either; "
                 "all kept, no continuity correction")
    if d.column_map:
        lines.append(column_map_line(d.column_map))
    lines += ["", "Priors"]
    lines.append(table([[*PRIOR_ROWS[slot], "~ " + prior.describe()]
                        for slot, prior in res.priors.as_dict().items()], align="lll"))
    lines += ["", "Pooled estimates"]
    s = {name: res.posterior(name).summary(with_mcse=False)
         for name in ("rr", "log_rr", "tau", "rr_new", "theta_new")}
    base = res.baseline_rate
    lines.append(table([
        _row("rate ratio (RR)", s["rr"]),
        _row("log RR (theta)", s["log_rr"]),
        _row("heterogeneity (tau)", s["tau"]),
        _row("RR in a new study", s["rr_new"]),
        _row("log RR in a new study (theta_new)", s["theta_new"]),
        _row("extra events per 1,000 person-time", res.rate_difference().summary(
            with_mcse=False)),
        _row("  ... in a new study", res.rate_difference(predictive=True).summary(
            with_mcse=False)),
    ], header=["", "median", "95% CrI", "mean", "sd"]))
    lines.append(f"  (absolute effects at a baseline rate of {fmt(1000 * base.value)} per "
                 f"1,000 person-time: {base.source})")
    lines += ["", "Probabilities"]
    prob = res.probabilities()
    lines.append(prob_line("P(RR > 1)", prob["rr_gt_1"], n_draws,
                            "that the event rate is higher under treatment than control"))
    lines.append(prob_line("P(theta_new > 0)", prob["theta_new_gt_0"], n_draws,
                            "that a new study would show a higher rate under treatment"))
    for c, v in prob.get("rr_gt", {}).items():
        lines.append(prob_line(f"P(RR > {c})", v, n_draws,
                                f"that treatment multiplies the rate by more than {c}"))
    for c, v in prob.get("rr_new_gt", {}).items():
        lines.append(prob_line(f"P(RR_new > {c})", v, n_draws, "the same in a new study"))
    lines += ["", "Studies: observed RR (— where an arm has no events) and shrunken RR"]
    rows = []
    for r in res.study_effects().itertuples():
        obs = observed_ratio_text(r.observed_log_rr, r.observed_se)
        rows.append([r.study, f"{r.events_t}/{fmt(r.exposure_t)}",
                     f"{r.events_c}/{fmt(r.exposure_c)}", obs,
                     f"{fmt(r.rr_median)} ({fmt(r.rr_q025)}–{fmt(r.rr_q975)})"])
    lines.append(table(rows, header=["study", "treatment", "control", "observed RR (95% CI)",
                                     "shrunken RR (95% CrI)"], align="lrrrr"))
    lines += ["", diagnostics_text(res.diagnostics)]
    lines.append(settings_text(res.settings))
    return "\n".join(lines)
