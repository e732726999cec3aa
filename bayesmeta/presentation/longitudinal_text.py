"""The printed summary of a longitudinal fit (what ``bayesmeta fit longitudinal`` shows)."""

from __future__ import annotations

from bayesmeta.models.longitudinal import data_scale
from bayesmeta.presentation.binary_text import RULE, diagnostics_text
from bayesmeta.presentation.text import (
    column_map_line,
    fmt,
    fmt_prob,
    likelihood_words,
    settings_text,
    table,
)
from bayesmeta.priors import Prior
from bayesmeta.results.longitudinal import LongitudinalMetaResult

STRUCTURE_WORDS = {
    "ar1": "continuous-time AR(1): corr = phi^|t - t'|",
    "cs": "compound symmetry: corr = rho between any two times",
    "un": "unstructured (LKJ prior)",
}


def _interval(s: dict, digits: int = 3) -> str:
    return f"{fmt(s['q025'], digits)} to {fmt(s['q975'], digits)}"


def _prior_text(prior: Prior) -> str:
    note = ""
    if prior.source.startswith("default, scaled to the data"):
        note = "  (default, scaled to the data: " + prior.source.rsplit("; ", 1)[-1] + ")"
    elif prior.source:
        note = f"  ({prior.source})"
    return "~ " + prior.describe() + note


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _p_equals(p: float, n_draws: int) -> str:
    text = fmt_prob(p, n_draws)
    return f"P {text}" if text[0] in "<>" else f"P = {text}"


def render_longitudinal(res: LongitudinalMetaResult, *, label: str | None = None) -> str:
    d = res.data
    o = res.options
    p = res.priors
    n_draws = res.settings.chains * res.settings.draws
    unit = f" ({d.time_unit})" if d.time_unit else " (index)"
    lines = ["bayesmeta — random-effects meta-analysis of effects over repeated follow-ups",
             RULE]
    measure = {"given": "effects as given", "MD": "mean difference (treatment - control)",
               "SMD": "standardised mean difference, Hedges' g"}[d.measure]
    lines.append(f"Data: {label or d.source} — {_n(d.k, 'study', 'studies')}, "
                 f"{_n(d.n_rows, 'effect')} at {_n(d.n_times, 'time point')}; {measure}")
    counts = ", ".join(f"{d.time_label(t)}: {n}" for t, n in zip(d.times, d.studies_per_time(),
                                                                  strict=True))
    lines.append(f"      time from column '{d.time_column}'{unit}; studies per time — {counts}")
    missing = int((d.times_per_study() < d.n_times).sum())
    if missing:
        lines.append(f"      {missing} of {d.k} studies miss some time point(s): each enters "
                     "with the times it reported (nothing imputed)")
    if d.column_map:
        lines.append(column_map_line(d.column_map))
    for note in d.notes:
        lines.append(f"  NOTE: {note}")
    lines += ["", "Model"]
    if d.n_times > 1:
        tau_words = "one per time point" if o.heteroscedastic else "one for all time points"
        lines.append(f"  between studies: {STRUCTURE_WORDS[o.structure]}; tau {tau_words} "
                     f"(metafor struct \"{o.metafor_name}\")")
    else:
        lines.append("  one time point: the normal-normal hierarchical model")
    if p.rho_within_fixed:
        rw = f"rho_w = {float(p.rho_within):g} (fixed)"
    else:
        rw = f"rho_w {_prior_text(p.rho_within)}"
    within = "rho_w between any two times" if o.within == "cs" else "rho_w^|t - t'|"
    if d.n_times > 1:
        lines.append(f"  within studies (sampling errors): corr = {within}; {rw}")
    lines += ["", "Priors"]
    rows = [["pooled effect per time", "mu[time]", _prior_text(p.effect)],
            ["between-study SD", "tau" + ("[time]" if o.heteroscedastic else ""),
             _prior_text(p.tau)]]
    if res.correlation_parameter:
        rows.append(["between-study correlation", res.correlation_parameter,
                     _prior_text(p.corr)])
    elif o.structure == "un" and d.n_times > 1:
        rows.append(["between-study correlation", "R", f"~ LKJ(eta = {p.lkj_eta:g})"])
    lines.append(table(rows, align="lll"))
    if any(pr.source.startswith("default, scaled") for pr in (p.effect, p.tau)):
        lines.append(f"  U = {data_scale(d):g}: the outcome's scale, sqrt(mean(y^2) + "
                     "mean(se^2)) to 2 significant digits; set your own with --effect-prior "
                     "and --tau-prior")

    lines += ["", "Pooled effect by follow-up (posterior median, 95% credible interval)"]
    direction = res.direction
    prob_head = {"lower": "P(benefit) = P(mu < 0)", "higher": "P(benefit) = P(mu > 0)",
                 None: "P(mu < 0)"}[direction]
    body = []
    for row in res.effects().itertuples():
        mu = {"q025": row.mu_q025, "q975": row.mu_q975}
        new = {"q025": row.theta_new_q025, "q975": row.theta_new_q975}
        tau = {"q025": row.tau_q025, "q975": row.tau_q975}
        p_show = row.p_benefit if direction else row.p_lt_0
        body.append([d.time_label(row.time), str(row.n_studies), fmt(row.mu_median),
                     _interval(mu), _interval(new), fmt(row.tau_median), _interval(tau),
                     fmt_prob(p_show, n_draws)])
    lines.append(table(body, header=["time", "studies", "effect", "95% CrI",
                                     "new study 95% PrI", "tau", "tau 95% CrI", prob_head],
                       align="lrrrrrrr"))
    lines.append("  (new study: the effect a further study would show at that time — the "
                 "prediction interval)")
    if direction is None:
        lines.append("  The outcome's direction was not given: add --lower-is-better or "
                     "--higher-is-better to report the probability of benefit.")
    else:
        last = res.effects().iloc[-1]
        lines.append(f"  At {d.time_label(float(last.time))}: {likelihood_words(last.p_benefit)}"
                     f" that the pooled effect is a benefit ({_p_equals(last.p_benefit, n_draws)}"
                     f"); for a new study {_p_equals(last.p_new_benefit, n_draws)}.")
    if res.thresholds:
        lines += ["", "Threshold probabilities (pooled effect; new study in brackets)"]
        rows = []
        for t in d.times:
            for c in res.thresholds:
                rows.append([d.time_label(t), f"P(mu < {c:g})",
                             f"{fmt_prob(res.prob_below(c, t), n_draws)} "
                             f"[{fmt_prob(res.prob_below(c, t, predictive=True), n_draws)}]",
                             f"P(mu > {c:g})",
                             f"{fmt_prob(res.prob_above(c, t), n_draws)} "
                             f"[{fmt_prob(res.prob_above(c, t, predictive=True), n_draws)}]"])
        lines.append(table(rows, align="lrrrr"))

    if d.n_times > 1:
        lines += ["", "Correlation between time points"]
        if res.correlation_parameter:
            s = res.posterior(res.correlation_parameter).summary(with_mcse=False)
            meaning = ("per 1 " + (d.time_unit.rstrip("s") if d.time_unit else "step")
                       if o.structure == "ar1" else "between any two times")
            lines.append(f"  {res.correlation_parameter} = {fmt(s['median'])} "
                         f"({_interval(s)}), {meaning}")
        if not p.rho_within_fixed:
            s = res.posterior("rho_within").summary(with_mcse=False)
            lines.append(f"  rho_within = {fmt(s['median'])} ({_interval(s)})")
        matrix = res.correlation_matrix()
        lines.append("  between-study correlation matrix (posterior median):")
        rows = [[f"{d.time_label(float(idx))}"] + [f"{v:.2f}" for v in r]
                for idx, r in zip(matrix.index, matrix.to_numpy(), strict=True)]
        lines.append(table(rows, header=["", *matrix.columns], indent=4))
        first, last = d.times[0], d.times[-1]
        ch = res.change(first, last).summary(with_mcse=False)
        lines.append(f"  change of the pooled effect from {d.time_label(first)} to "
                     f"{d.time_label(last)}: {fmt(ch['median'])} ({_interval(ch)})")
    lines += ["", diagnostics_text(res.diagnostics)]
    lines.append(settings_text(res.settings))
    return "\n".join(lines)
