"""The Poisson–normal model's part of the report (``fit rates``: events over person-time): its
data table, the model in MathML, the priors with their sources, the results with extra events
per 1,000 person-time, harm in plain words and the methods paragraph."""

from __future__ import annotations

from pathlib import Path

from bayesmeta.presentation.plots.common import number
from bayesmeta.presentation.plots.densities import harm_label
from bayesmeta.presentation.report import binary, shared
from bayesmeta.presentation.report import html as h
from bayesmeta.presentation.report.builder import (
    Reference,
    ReportContext,
    ReportModel,
    Section,
    register_report_model,
)
from bayesmeta.presentation.text import fmt, likelihood_words, prob_equals
from bayesmeta.priors import Prior
from bayesmeta.results.effect_scale import prob_harm
from bayesmeta.results.rates import RateMetaResult

REFERENCES = {
    **binary.REFERENCES,
    "cai2010": Reference("Cai et al. 2010",
        "Cai T, Parast L, Ryan L. Meta-analysis for rare events. Statistics in Medicine "
        "2010;29(20):2078–2089"),
    "stijnen2010": Reference("Stijnen et al. 2010",
        "Stijnen T, Hamza TH, Özdemir P. Random effects meta-analysis of event outcome in "
        "the framework of the generalized linear mixed model with applications in sparse "
        "data. Statistics in Medicine 2010;29(29):3046–3067"),
}

PRIOR_ROLES = {
    "baseline": ("μ", "i", "log event rate of study i (midway between the arms)"),
    "effect": ("θ", "", "pooled log rate ratio"),
    "tau": ("τ", "", "between-study SD of the log rate ratio"),
}


def _res(ctx: ReportContext) -> RateMetaResult:
    return ctx.result


def _n(res: RateMetaResult) -> int:
    return res.settings.chains * res.settings.draws


def _threshold(ctx: ReportContext) -> float:
    res = _res(ctx)
    if ctx.threshold is not None:
        return ctx.threshold
    return res.thresholds[0] if res.thresholds else 1.0


def _source_keys(slot: str, prior: Prior) -> tuple[str, ...] | None:
    """The Poisson–normal defaults are the binomial–normal model's, on log rates."""
    from bayesmeta.models.poisson_exposure import PoissonNormalPriors

    default = PoissonNormalPriors().as_dict()[slot]
    if (not prior.source and prior.family == default.family
            and tuple(prior.params) == tuple(default.params)):
        return binary.DEFAULT_PRIOR_SOURCES[slot]
    return None


def summary_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    d = res.data
    n = _n(res)
    rr = res.posterior("rr")
    lo, hi = rr.interval(0.95)
    new = res.posterior("rr_new")
    new_lo, new_hi = new.interval(0.95)
    tau = res.posterior("tau")
    tlo, thi = tau.interval(0.95)
    p1, p1_new = res.prob_harm(1.0), res.prob_harm(1.0, predictive=True)
    items = [
        f"{d.k} studies, {int(d.events_t.sum())} events in {fmt(float(d.exposure_t.sum()))} "
        f"person-time under treatment and {int(d.events_c.sum())} in "
        f"{fmt(float(d.exposure_c.sum()))} under control.",
        f"Pooled rate ratio (treatment vs control) <strong>{number(rr.median)}</strong> (95% "
        f"credible interval {number(lo)} to {number(hi)}).",
        f"<strong>{h.esc(prob_equals('P(RR > 1)', p1, n))}</strong>: it is "
        f"{likelihood_words(p1)} that the event rate is higher under treatment.",
        f"In a new study: RR {number(new.median)} (95% prediction interval {number(new_lo)} "
        f"to {number(new_hi)}); {h.esc(prob_equals('P(RR_new > 1)', p1_new, n))}.",
        f"Heterogeneity τ: median {number(tau.median)} (95% CrI {number(tlo)} to "
        f"{number(thi)}).",
    ]
    c = _threshold(ctx)
    if c != 1.0:
        pc = res.prob_harm(c)
        items.insert(3, f"<strong>{h.esc(prob_equals(f'P(RR > {c:g})', pc, n))}</strong>: it "
                        f"is {likelihood_words(pc)} that treatment multiplies the event rate "
                        f"by more than {c:g}.")
    items.append(shared.sampler_status(res.diagnostics))
    return Section("summary", "Summary", shared.key_box(res, items))


def data_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    d = res.data
    extra_cols = [c for c in ("subgroup", "condition") if c in d.extra.columns]
    header = ["study", "treatment events", "treatment person-time", "control events",
              "control person-time", *extra_cols, "note"]
    rows = []
    for i, study in enumerate(d.study):
        note = ("no events in either arm (kept)" if d.double_zero[i] else
                "no events in an arm: no observed RR" if d.any_zero[i] else "")
        rows.append([study, d.events_t[i], fmt(float(d.exposure_t[i])), d.events_c[i],
                     fmt(float(d.exposure_c[i])),
                     *(str(d.extra[c].iloc[i]) for c in extra_cols), note])
    rows.append(["total", int(d.events_t.sum()), fmt(float(d.exposure_t.sum())),
                 int(d.events_c.sum()), fmt(float(d.exposure_c.sum())),
                 *([""] * len(extra_cols)), ""])
    classes = [""] * (len(rows) - 1) + ["total"]
    text_cols = [0, *range(5, 5 + len(extra_cols) + 1)]
    parts = [h.table(header, rows, text_columns=text_cols, row_classes=classes)]
    parts.extend(shared.source_notes(res))
    parts.append(h.p("All studies are analysed as they are: no continuity correction is added "
                     "to arms without events and studies without events in either arm stay "
                     "in the analysis (the exact Poisson likelihood needs neither)."))
    return Section("data", "Data", "\n".join(parts))


def _model_equations() -> str:
    i, j = h.mi("i"), h.mi("j")
    ij = h.mrow(i, j)
    y_ij, t_ij, l_ij, x_ij = (h.msub(h.mi(s), ij) for s in ("y", "T", "λ", "x"))
    mu_i, th_i = h.msub(h.mi("μ"), i), h.msub(h.mi("θ"), i)
    half = h.mfrac(h.mn("1"), h.mn("2"))
    eqs = [
        h.math_block(y_ij, h.mo("∼"), h.mi("Poisson"), h.mo("("), t_ij, l_ij, h.mo(")"),
                     label="y_ij ~ Poisson(T_ij lambda_ij)"),
        h.math_block(h.mi("log"), h.mo("⁡"), l_ij, h.mo("="), mu_i, h.mo("+"), h.mo("("),
                     x_ij, h.mo("−"), half, h.mo(")"), th_i,
                     label="log lambda_ij = mu_i + (x_ij - 1/2) theta_i"),
        *shared.random_effects_equations("θ"),
    ]
    return '<div class="equations">' + "".join(eqs) + "</div>"


def model_section(ctx: ReportContext) -> Section:
    cite = ctx.cite("cai2010", "stijnen2010")
    body = [
        h.p(f"Poisson–normal hierarchical model for events over person-time {cite}: arm "
            "<em>j</em> of study <em>i</em> (x<sub>ij</sub> = 1 treatment, 0 control) has "
            "y<sub>ij</sub> events over person-time T<sub>ij</sub>; on the log-rate scale "
            "the study has a baseline μ<sub>i</sub> and a log rate ratio θ<sub>i</sub>, and "
            "the θ<sub>i</sub> vary around the pooled log rate ratio θ with between-study "
            "standard deviation τ:"),
        _model_equations(),
        h.p("The pooled rate ratio is RR = exp(θ); a new study's is exp(θ<sub>new</sub>). "
            "The study baselines μ<sub>i</sub> are separate parameters (not pooled). "
            "θ<sub>i</sub> is sampled as θ + τ z<sub>i</sub> with z<sub>i</sub> ∼ N(0, 1) "
            "(non-centred)."),
    ]
    return Section("model", "Model", "\n".join(body))


def priors_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    rows = []
    for slot, prior in res.priors.as_dict().items():
        symbol, sub, role = PRIOR_ROLES[slot]
        name = f"{symbol}<sub>{sub}</sub>" if sub else symbol
        keys = _source_keys(slot, prior)
        if prior.source:
            source = h.esc(prior.source)
        elif keys:
            source = ("default (the binomial–normal model's, on log rates); "
                      + ctx.cite(*keys))
        else:
            source = "chosen by the analyst (no source recorded)"
        rows.append([name, h.esc(role), h.esc(prior.describe()),
                     f"<code>{h.esc(prior.spec)}</code>", source])
    parts = [shared.priors_table(rows)]
    parts.append(shared.tau_figure(ctx))
    return Section("priors", "Priors", "\n".join(parts))


def results_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    names = [("rr", "rate ratio (RR)"), ("log_rr", "log rate ratio θ"),
             ("tau", "heterogeneity τ"), ("rr_new", "RR in a new study"),
             ("theta_new", "log RR in a new study θ<sub>new</sub>")]
    rows = shared.summary_rows(res, names)
    base = res.baseline_rate
    for predictive, label in ((False, "extra events per 1,000 person-time"),
                              (True, "… in a new study")):
        rows.append(shared.summary_row(label, res.rate_difference(predictive=predictive)
                                       .summary()))
    parts = [shared.results_table(rows)]
    parts.append(h.p(
        f"Absolute effects are at a control-arm rate of {fmt(1000 * base.value)} events per "
        f"1,000 person-time ({h.esc(base.source)}). Intervals are equal-tailed 95% credible "
        "intervals (prediction intervals for a new study); the MCSE says how many digits to "
        "trust."))
    parts.append("<h3>Studies</h3>")
    parts.append(h.table(["study", "treatment events / person-time",
                          "control events / person-time", "observed RR (95% CI)",
                          "shrunken RR (95% CrI)"], shared.study_rows(res)))
    label = ctx.label or Path(res.data.source).name
    parts.append(ctx.figure(
        "forest", "Forest plot: observed study rate ratios (squares, 95% CI), the model's "
        "shrunken study rate ratios (circles, 95% CrI), the pooled RR (diamond, 95% CrI) and "
        "the RR expected in a new study (bar, 95% prediction interval), on a log axis. "
        "Studies marked † have an arm without events and no observed RR.",
        alt="Forest plot", title=f"{label}: Poisson–normal model"))
    return Section("results", "Results", "\n".join(parts))


def harm_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    n = _n(res)
    c0 = _threshold(ctx)
    rows = []
    for c in sorted({1.0, *res.thresholds, c0}):
        for predictive in (False, True):
            p = prob_harm(res, c, predictive=predictive)
            if predictive:
                words = ("that in a new study like these, treatment raises the event rate "
                         + ("at all" if c == 1 else f"more than {c:g}-fold"))
            else:
                words = ("that the event rate is higher under treatment than under control"
                         if c == 1 else f"that treatment multiplies the event rate by more "
                         f"than {c:g}")
            sym = "RR<sub>new</sub>" if predictive else "RR"
            rows.append(shared.harm_row(sym, c, p, n, words))
    cite = ctx.cite("words")
    parts = [shared.harm_table(rows),
             h.p(shared.words_note(cite, n))]
    rd = res.rate_difference().summary(with_mcse=False)
    base = res.baseline_rate
    parts.append(h.p(
        f"In absolute terms, at a control-arm rate of {fmt(1000 * base.value)} per 1,000 "
        f"person-time, treatment changes the number of events by {fmt(rd['median'])} per "
        f"1,000 person-time (95% CrI {fmt(rd['q025'])} to {fmt(rd['q975'])})."))
    parts.append(ctx.figure(
        "posterior", "Posterior density of the pooled rate ratio; the shaded area is the "
        f"probability of harm, {h.esc(harm_label(res, c0))}; the bar below the curve is the "
        "median and 95% credible interval.", alt="Posterior density of the rate ratio",
        threshold=c0))
    return Section("harm", "Probability of harm", "\n".join(parts))


def methods_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    d = res.data
    p = res.priors
    n_dz = int(d.double_zero.sum())

    def model_text(cite, prior_text) -> str:
        return (
            f"We pooled {d.k} studies in a Bayesian random-effects meta-analysis of incidence "
            f"rate ratios with the Poisson–normal hierarchical model {cite('cai2010')}, which "
            "uses the exact Poisson likelihood of each arm's events over its person-time; no "
            "continuity correction was applied"
            + (f" and the {n_dz} studies without events in either arm were kept" if n_dz
               else "")
            + ". Each study had its own baseline log event rate, and the studies' log rate "
            "ratios were assumed normally distributed around the pooled log rate ratio θ with "
            "between-study standard deviation τ. Priors: study baselines ~ "
            f"{prior_text('baseline', p.baseline)}; θ ~ {prior_text('effect', p.effect)}; "
            f"τ ~ {prior_text('tau', p.tau)}.")

    return binary.mcmc_methods_section(ctx, model_text, measure="rate ratio",
                                       source_keys=_source_keys)


POISSON_NORMAL_REPORT = ReportModel(
    name="Poisson–normal random-effects meta-analysis of event rates (exact Poisson "
         "likelihood)",
    short_name="Poisson–normal model",
    sections={"summary": summary_section, "data": data_section, "model": model_section,
              "priors": priors_section, "results": results_section, "harm": harm_section,
              "methods": methods_section},
    references=REFERENCES,
)

register_report_model(RateMetaResult, POISSON_NORMAL_REPORT)
