"""The binomial–normal model's part of the report: its data table, the model in MathML, the
priors with their sources, the results, harm in plain words and the methods paragraph."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.presentation.plots.common import number
from bayesmeta.presentation.plots.densities import harm_label
from bayesmeta.presentation.report import html as h
from bayesmeta.presentation.report import shared
from bayesmeta.presentation.report.builder import (
    Reference,
    ReportContext,
    ReportModel,
    Section,
    register_report_model,
    report_model_for,
)
from bayesmeta.presentation.text import fmt, likelihood_words, prob_equals
from bayesmeta.priors import Prior
from bayesmeta.results.binary import BinaryMetaResult
from bayesmeta.results.effect_scale import prob_harm
from bayesmeta.results.versions import software_versions

REFERENCES = {
    "gunhan2020": Reference("Günhan et al. 2020",
        "Günhan BK, Röver C, Friede T. Random-effects meta-analysis of few studies "
        "involving rare events. Research Synthesis Methods 2020;11(1):74–90. "
        "doi:10.1002/jrsm.1370"),
    "friede2017": Reference("Friede et al. 2017",
        "Friede T, Röver C, Wandel S, Neuenschwander B. Meta-analysis of two studies "
        "in the presence of heterogeneity with applications in rare diseases. "
        "Biometrical Journal 2017;59(4):658–671"),
    "rover2021": Reference("Röver et al. 2021",
        "Röver C, Bender R, Dias S, et al. On weakly informative prior distributions "
        "for the heterogeneity parameter in Bayesian random-effects meta-analysis. "
        "Research Synthesis Methods 2021;12(4):448–474"),
    "altman1998": Reference("Altman 1998",
        "Altman DG. Confidence intervals for the number needed to treat. BMJ "
        "1998;317:1309–1312"),
}

#: Where the default priors come from (a prior given with its own ``source`` cites that).
DEFAULT_PRIOR_SOURCES = {
    "baseline": ("gunhan2020",),
    "effect": ("gunhan2020",),
    "tau": ("gunhan2020", "friede2017", "rover2021"),
}

PRIOR_ROLES = {
    "baseline": ("μ", "i", "baseline log-odds of study i (midway between the arms)"),
    "effect": ("θ", "", "pooled log odds ratio"),
    "tau": ("τ", "", "between-study SD of the log odds ratio"),
}


def _data_label(ctx: ReportContext) -> str:
    return ctx.label or Path(ctx.result.data.source).name


def _harm_threshold(ctx: ReportContext) -> float:
    res = ctx.result
    if ctx.threshold is not None:
        return ctx.threshold
    return res.thresholds[0] if res.thresholds else res.effect_scale.null


# -- sections ------------------------------------------------------------------------------
def summary_section(ctx: ReportContext) -> Section:
    res: BinaryMetaResult = ctx.result
    d = res.data
    or_ = res.posterior("or")
    lo, hi = or_.interval(0.95)
    new_lo, new_hi = res.posterior("or_new").interval(0.95)
    tau = res.posterior("tau")
    n = res.settings.chains * res.settings.draws
    p1 = res.prob_harm(1.0)
    p1_new = res.prob_harm(1.0, predictive=True)
    items = [
        f"{d.k} studies, {int(d.events_t.sum())}/{int(d.n_t.sum())} events under treatment "
        f"and {int(d.events_c.sum())}/{int(d.n_c.sum())} under control.",
        f"Pooled odds ratio (treatment vs control) <strong>{number(or_.median)}</strong> "
        f"(95% credible interval {number(lo)} to {number(hi)}).",
        f"<strong>{h.esc(prob_equals('P(OR > 1)', p1, n))}</strong>: it is "
        f"{likelihood_words(p1)} that the event is more frequent under treatment.",
        f"In a new study: OR {number(res.posterior('or_new').median)} (95% prediction "
        f"interval {number(new_lo)} to {number(new_hi)}); "
        f"{h.esc(prob_equals('P(OR_new > 1)', p1_new, n))}.",
        f"Heterogeneity τ: median {number(tau.median)} (95% CrI "
        f"{number(tau.interval(0.95)[0])} to {number(tau.interval(0.95)[1])}).",
    ]
    c = _harm_threshold(ctx)
    if c != 1.0:
        pc = res.prob_harm(c)
        items.insert(3, f"<strong>{h.esc(prob_equals(f'P(OR > {c:g})', pc, n))}</strong>: it is "
                        f"{likelihood_words(pc)} that treatment multiplies the odds of the "
                        f"event by more than {c:g}.")
    items.append(shared.sampler_status(res.diagnostics))
    return Section("summary", "Summary", shared.key_box(res, items))


ZEROS_NOTE = ("All studies are analysed as they are: no continuity correction is added to "
              "zero cells and studies without events in either arm stay in the analysis (the "
              "exact binomial likelihood needs neither).")


def data_section(ctx: ReportContext, zeros_note: str = ZEROS_NOTE) -> Section:
    """The 2×2 counts of every study; ``zeros_note`` says what the model does with zeros."""
    res: BinaryMetaResult = ctx.result
    d = res.data
    extra_cols = [c for c in ("subgroup", "condition") if c in d.extra.columns]
    header = ["study", "treatment events", "treatment patients", "control events",
              "control patients", *extra_cols, "note"]
    rows = []
    for i, study in enumerate(d.study):
        note = ("no events in either arm (kept)" if d.double_zero[i] else
                "zero cell: no observed OR" if d.any_zero[i] else "")
        rows.append([study, d.events_t[i], d.n_t[i], d.events_c[i], d.n_c[i],
                     *(str(d.extra[c].iloc[i]) for c in extra_cols), note])
    rows.append(["total", int(d.events_t.sum()), int(d.n_t.sum()), int(d.events_c.sum()),
                 int(d.n_c.sum()), *([""] * len(extra_cols)), ""])
    classes = [""] * (len(rows) - 1) + ["total"]
    text_cols = [0, *range(5, 5 + len(extra_cols) + 1)]
    parts = [h.table(header, rows, text_columns=text_cols, row_classes=classes)]
    parts.extend(shared.source_notes(res))
    parts.append(h.p(zeros_note))
    return Section("data", "Data", "\n".join(parts))


def _model_equations() -> str:
    i, j = h.mi("i"), h.mi("j")
    r_ij = h.msub(h.mi("r"), h.mrow(i, j))
    n_ij = h.msub(h.mi("n"), h.mrow(i, j))
    p_ij = h.msub(h.mi("p"), h.mrow(i, j))
    x_ij = h.msub(h.mi("x"), h.mrow(i, j))
    mu_i = h.msub(h.mi("μ"), i)
    th_i = h.msub(h.mi("θ"), i)
    logit = h.mi("logit")
    half = h.mfrac(h.mn("1"), h.mn("2"))
    eqs = [
        h.math_block(r_ij, h.mo("∼"), h.mi("Binomial"), h.mo("("), n_ij, h.mo(","), p_ij,
                     h.mo(")"), label="r_ij ~ Binomial(n_ij, p_ij)"),
        h.math_block(logit, h.mo("⁡"), p_ij, h.mo("="), mu_i, h.mo("+"), h.mo("("), x_ij,
                     h.mo("−"), half, h.mo(")"), th_i,
                     label="logit p_ij = mu_i + (x_ij - 1/2) theta_i"),
        *shared.random_effects_equations("θ"),
    ]
    return '<div class="equations">' + "".join(eqs) + "</div>"


def model_section(ctx: ReportContext) -> Section:
    cite = ctx.cite("gunhan2020")
    body = [
        h.p(f"Binomial–normal hierarchical model for two-arm event counts {cite}: each "
            "arm's events are binomial; on the log-odds scale, study <em>i</em> has a "
            "baseline μ<sub>i</sub> and a log odds ratio θ<sub>i</sub>, and the "
            "θ<sub>i</sub> vary around the pooled log odds ratio θ with between-study "
            "standard deviation τ. For arm <em>j</em> of study <em>i</em> "
            "(x<sub>ij</sub> = 1 treatment, 0 control), with r<sub>ij</sub> events among "
            "n<sub>ij</sub> patients:"),
        _model_equations(),
        h.p("The pooled odds ratio is OR = exp(θ); a new study's odds ratio is "
            "exp(θ<sub>new</sub>). The study baselines μ<sub>i</sub> are separate parameters "
            "(not pooled), so the comparison within each study is what informs θ. θ<sub>i</sub>"
            " is sampled as θ + τ z<sub>i</sub> with z<sub>i</sub> ∼ N(0, 1) (non-centred), "
            "which samples the same model more reliably when τ is near zero."),
    ]
    return Section("model", "Model", "\n".join(body))


def _prior_source_keys(slot: str, prior: Prior) -> tuple[str, ...] | None:
    """Reference keys behind a default prior; None for any other prior."""
    default = BinomialNormalPriors().as_dict()[slot]
    if (not prior.source and prior.family == default.family
            and tuple(prior.params) == tuple(default.params)):
        return DEFAULT_PRIOR_SOURCES[slot]
    return None


def _prior_sources(ctx: ReportContext, slot: str, prior: Prior) -> str:
    if prior.source:
        return h.esc(prior.source)
    keys = _prior_source_keys(slot, prior)
    if keys:
        return "default; " + ctx.cite(*keys)
    return "chosen by the analyst (no source recorded)"


def priors_section(ctx: ReportContext) -> Section:
    res: BinaryMetaResult = ctx.result
    rows = []
    for slot, prior in res.priors.as_dict().items():
        symbol, sub, role = PRIOR_ROLES[slot]
        name = f"{symbol}<sub>{sub}</sub>" if sub else symbol
        rows.append([name, h.esc(role), h.esc(prior.describe()),
                     f"<code>{h.esc(prior.spec)}</code>", _prior_sources(ctx, slot, prior)])
    parts = [shared.priors_table(rows)]
    tau = res.priors.tau
    dist = tau.dist()
    if dist is not None:
        parts.append(h.p(
            f"Under this prior, P(τ &gt; 0.5) = {float(dist.sf(0.5)):.2f} and P(τ &gt; 1) = "
            f"{float(dist.sf(1.0)):.2f} (τ of 0.5 means the studies' odds ratios typically "
            "differ by a factor of about e<sup>2×0.5</sup> ≈ 2.7 between the 16th and 84th "
            "percentile studies; τ of 1, by ≈ 7.4)."))
    parts.append(shared.tau_figure(ctx))
    return Section("priors", "Priors", "\n".join(parts))


def results_section(ctx: ReportContext) -> Section:
    res: BinaryMetaResult = ctx.result
    names = [("or", "odds ratio (OR)"), ("log_or", "log odds ratio θ"),
             ("tau", "heterogeneity τ"), ("or_new", "OR in a new study"),
             ("theta_new", "log OR in a new study θ<sub>new</sub>")]
    rows = shared.summary_rows(res, names)
    base = res.baseline_risk
    for predictive, label in ((False, "risk difference per 1,000"),
                              (True, "… in a new study")):
        rows.append(shared.summary_row(label, res.risk_difference(predictive=predictive)
                                       .summary()))
    parts = [shared.results_table(rows)]
    parts.append(h.p(
        f"Absolute effects are at a control-arm risk of {fmt(1000 * base.value)} per 1,000 "
        f"({h.esc(base.source)}); number needed: {h.esc(res.number_needed().text())} "
        f"{ctx.cite('altman1998')}. Intervals are equal-tailed 95% credible intervals "
        "(prediction intervals for a new study); the MCSE says how many digits to trust."))
    parts.append("<h3>Studies</h3>")
    parts.append(h.table(["study", "treatment", "control", "observed OR (95% CI)",
                          "shrunken OR (95% CrI)"], shared.study_rows(res)))
    parts.append(h.p("Observed ORs are the studies' own (Wald intervals, no continuity "
                     "correction, so none where a cell is zero); shrunken ORs are the model's "
                     "estimates of each study's OR, pulled towards the pooled OR as far as "
                     "the heterogeneity allows."))
    label = _data_label(ctx)
    parts.append(ctx.figure(
        "forest", "Forest plot: observed study ORs (squares, 95% CI), the model's shrunken "
        "study ORs (circles, 95% CrI), the pooled OR (diamond, 95% CrI) and the OR expected "
        "in a new study (bar, 95% prediction interval), on a log axis. "
        "Studies marked † have a zero cell and no observed OR.",
        alt="Forest plot", title=f"{label}: {report_model_for(res).short_name}"))
    return Section("results", "Results", "\n".join(parts))


def harm_section(ctx: ReportContext) -> Section:
    res: BinaryMetaResult = ctx.result
    n = res.settings.chains * res.settings.draws
    thresholds = sorted({1.0, *res.thresholds, _harm_threshold(ctx)})
    rows = []
    for c in thresholds:
        for predictive in (False, True):
            p = prob_harm(res, c, predictive=predictive)
            if predictive:
                words = (f"that in a new study like these, treatment raises the odds of the "
                         f"event {'at all' if c == 1 else f'more than {c:g}-fold'}")
            else:
                words = ("that the event is more frequent under treatment than under control"
                         if c == 1 else f"that treatment multiplies the odds of the event by "
                         f"more than {c:g}")
            sym = "OR<sub>new</sub>" if predictive else "OR"
            rows.append(shared.harm_row(sym, c, p, n, words))
    cite = ctx.cite("words")
    parts = [shared.harm_table(rows),
             h.p(shared.words_note(cite, n) + " The predictive probabilities are about a "
                 "new study drawn from the same population of studies; they include the "
                 "between-study heterogeneity.")]
    rd = res.risk_difference().summary(with_mcse=False)
    base = res.baseline_risk
    parts.append(h.p(
        f"In absolute terms, at a control-arm risk of {fmt(1000 * base.value)} per 1,000, "
        f"treatment changes the risk by {fmt(rd['median'])} per 1,000 patients (95% CrI "
        f"{fmt(rd['q025'])} to {fmt(rd['q975'])})."))
    c = _harm_threshold(ctx)
    parts.append(ctx.figure(
        "posterior", f"Posterior density of the pooled OR; the shaded area is the "
        f"probability of harm, {h.esc(harm_label(res, c))}; the bar below the curve is the "
        "median and 95% credible interval.", alt="Posterior density of the odds ratio",
        threshold=c))
    return Section("harm", "Probability of harm", "\n".join(parts))


Cite = Callable[..., str]


def mcmc_methods_section(ctx: ReportContext, model_text: Callable[[Cite, Cite], str], *,
                         measure: str = "odds ratio",
                         source_keys: Callable[[str, Prior], tuple[str, ...] | None]
                         = _prior_source_keys) -> Section:
    """The methods paragraph of a model sampled by NUTS: ``model_text(cite, prior_text)``
    describes the model and its priors (ending with a full stop); the sampler, the
    convergence checks, what is reported (``measure`` above 1 is harm), influence and the
    software follow. Citations are author–year, with the paragraph's own reference list."""
    res = ctx.result
    v = software_versions()
    s = res.settings
    citations = shared.MethodsCitations(ctx, source_keys)
    cite, prior_text = citations.cite, citations.prior_text
    sampler = s.resolved_sampler
    if sampler == "nutpie":
        ctx.cite("nutpie")
        citations.used.append("nutpie")
        sampler_text = f"nutpie {v.get('nutpie', '')}"
    else:
        sampler_text = "PyMC" if sampler == "pymc" else sampler
    influence_text = ""
    if ctx.influence is not None:
        influence_text = (" The influence of single studies was assessed by "
                          + ("refitting the model without each study (same priors, settings "
                             "and seed) and by " if ctx.influence.refits else "")
                          + f"Pareto-smoothed importance-sampling leave-one-out "
                          f"cross-validation {cite('loo', 'psis')}.")
    text = (
        model_text(cite, prior_text) + " The model "
        f"was written in PyMC {v.get('pymc', '')} {cite('pymc')} and the posterior sampled "
        f"with the No-U-Turn sampler {cite('nuts')} of {sampler_text} ({s.chains} chains of "
        f"{s.draws:,} draws after {s.tune:,} warm-up iterations, target acceptance "
        f"{s.target_accept}, random seed {s.seed}). Convergence was checked with ArviZ "
        f"{v.get('arviz', '')} {cite('arviz')}: rank-normalised R̂ ≤ 1.01, bulk and tail "
        f"effective sample sizes ≥ 100 per chain and no divergent transitions "
        f"{cite('rhat')}. We report posterior medians with equal-tailed 95% credible "
        f"intervals, the posterior probability that the {measure} exceeds 1 (harm), and the "
        f"predictive distribution of the {measure} in a new study." + influence_text
        + f" Analyses used bayesmeta {v.get('bayesmeta', '')} (Python {v['python']}).")
    return citations.section(text)


def methods_section(ctx: ReportContext) -> Section:
    """A paragraph to paste into a paper, citing author–year, with its own reference list."""
    res: BinaryMetaResult = ctx.result
    d = res.data
    p = res.priors
    n_dz = int(d.double_zero.sum())

    def model_text(cite: Cite, prior_text: Cite) -> str:
        return (
            f"We pooled {d.k} studies in a Bayesian random-effects meta-analysis of odds "
            f"ratios with the binomial–normal hierarchical model {cite('gunhan2020')}, which "
            "uses the exact binomial likelihood of each arm's event count; no continuity "
            "correction was applied"
            + (f" and the {n_dz} studies without events in either arm were kept" if n_dz
               else "")
            + ". Each study had its own baseline log-odds, and the studies' log odds ratios "
            "were assumed normally distributed around the pooled log odds ratio θ with "
            "between-study standard deviation τ. Priors: study baselines ~ "
            f"{prior_text('baseline', p.baseline)}; θ ~ {prior_text('effect', p.effect)}; "
            f"τ ~ {prior_text('tau', p.tau)}.")

    return mcmc_methods_section(ctx, model_text)


BINOMIAL_NORMAL_REPORT = ReportModel(
    name="Binomial–normal random-effects meta-analysis (exact binomial likelihood)",
    short_name="binomial–normal model",
    sections={"summary": summary_section, "data": data_section, "model": model_section,
              "priors": priors_section, "results": results_section, "harm": harm_section,
              "methods": methods_section},
    references=REFERENCES,
)

register_report_model(BinaryMetaResult, BINOMIAL_NORMAL_REPORT)
