"""The normal–normal model's part of the report (``fit effects`` / ``fit continuous``, exact or
MCMC): its data table, the model in MathML, the priors with their sources, the results with
Bayes factors, the probabilities in words, how the posterior was computed, and the methods
paragraph. Exact fits say so: numerical integration, no Monte Carlo error (Röver 2020)."""

from __future__ import annotations

from pathlib import Path

from bayesmeta.presentation.plots.common import interval_text, number
from bayesmeta.presentation.plots.densities import harm_label, region_words
from bayesmeta.presentation.report import html as h
from bayesmeta.presentation.report import shared
from bayesmeta.presentation.report.builder import (
    Reference,
    ReportContext,
    ReportModel,
    Section,
    register_report_model,
)
from bayesmeta.presentation.report.common import diagnostics_section as sampler_diagnostics
from bayesmeta.presentation.text import fmt_prob, prob_equals
from bayesmeta.priors import Prior
from bayesmeta.results.effect_scale import prob_harm
from bayesmeta.results.effects import EffectsMetaResult, software_versions

REFERENCES = {
    "roever2020": Reference("Röver 2020",
        "Röver C. Bayesian random-effects meta-analysis using the bayesmeta R package. "
        "Journal of Statistical Software 2020;93(6):1–51. doi:10.18637/jss.v093.i06"),
    "roever2021": Reference("Röver et al. 2021",
        "Röver C, Bender R, Dias S, et al. On weakly informative prior distributions "
        "for the heterogeneity parameter in Bayesian random-effects meta-analysis. "
        "Research Synthesis Methods 2021;12(4):448–474"),
    "friede2017": Reference("Friede et al. 2017",
        "Friede T, Röver C, Wandel S, Neuenschwander B. Meta-analysis of two studies "
        "in the presence of heterogeneity with applications in rare diseases. "
        "Biometrical Journal 2017;59(4):658–671"),
    "chinn2000": Reference("Chinn 2000",
        "Chinn S. A simple method for converting an odds ratio to effect size for use in "
        "meta-analysis. Statistics in Medicine 2000;19(22):3127–3131"),
    "kass1995": Reference("Kass & Raftery 1995",
        "Kass RE, Raftery AE. Bayes factors. Journal of the American Statistical "
        "Association 1995;90(430):773–795"),
}

#: Where the default priors of each measure come from (``models/nnhm_*.toml``).
DEFAULT_PRIOR_SOURCES = {
    "logOR": {"mu": ("roever2021",), "tau": ("friede2017", "roever2021")},
    "SMD": {"mu": ("roever2021",), "tau": ("friede2017", "roever2021", "chinn2000")},
}
for _m in ("logRR", "logHR"):
    DEFAULT_PRIOR_SOURCES[_m] = DEFAULT_PRIOR_SOURCES["logOR"]


def _res(ctx: ReportContext) -> EffectsMetaResult:
    return ctx.result


def _exact(ctx: ReportContext) -> bool:
    return _res(ctx).method == "exact"


def _n_draws(res: EffectsMetaResult) -> int | None:
    """Draws behind a probability (None: exact, shown to 3 decimals without a bound)."""
    if res.method == "exact" or res.settings is None:
        return None
    return res.settings.chains * res.settings.draws


def _threshold(ctx: ReportContext) -> float:
    """The harm threshold on the displayed scale (OR for log ORs)."""
    res = _res(ctx)
    if ctx.threshold is not None:
        return ctx.threshold
    shown = res.display_thresholds
    return shown[0] if shown else res.effect_scale.null


def _event(ctx: ReportContext, c: float, *, predictive: bool = False,
           html: bool = True) -> str:
    """``P(OR > 1)`` (or ``P(OR<sub>new</sub> > 1)``) for the result's scale."""
    scale = _res(ctx).effect_scale
    sym = scale.symbol
    if predictive:
        sym = f"{sym}<sub>new</sub>" if html else f"{sym}_new"
    sign = ("&gt;" if html else ">") if scale.harm_above else ("&lt;" if html else "<")
    return f"P({sym} {sign} {c:g})"


def _display(res: EffectsMetaResult, name: str) -> tuple[float, float, float]:
    """Median and 95% equal-tailed interval of a quantity on the displayed scale."""
    m = res.posterior(name)
    lo, hi = m.interval(0.95)
    scale = res.effect_scale
    return (float(scale.to_display(m.median)), float(scale.to_display(lo)),
            float(scale.to_display(hi)))


def _method_words(res: EffectsMetaResult) -> str:
    if res.method == "exact":
        return "exact numerical integration — no Monte Carlo error"
    s = res.settings
    return f"MCMC ({s.resolved_sampler} NUTS, {s.chains} × {s.draws:,} draws)" if s else "MCMC"


# -- sections ------------------------------------------------------------------------------
def summary_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    d = res.data
    scale = res.effect_scale
    sym = scale.symbol
    n = _n_draws(res)
    med, lo, hi = _display(res, scale.pooled)
    nmed, nlo, nhi = _display(res, scale.predictive)
    tau = res.posterior("tau")
    tlo, thi = tau.interval(0.95)
    c = _threshold(ctx)
    p = prob_harm(res, c)
    p_new = prob_harm(res, c, predictive=True)
    items = [
        f"{d.k} studies; effects: {h.esc(d.measure_text)} ({h.esc(d.measure)})"
        + (f", {h.esc(d.derivation)}" if d.derivation and d.derivation != "as given" else "")
        + ".",
        f"Pooled {h.esc(scale.name)} <strong>{number(med)}</strong> (95% credible interval "
        f"{number(lo)} to {number(hi)}).",
        f"<strong>{prob_equals(_event(ctx, c), p, n)}</strong>: "
        f"{h.esc(region_words(scale, c, p))}.",
        f"In a new study: {h.esc(sym)} {number(nmed)} (95% prediction interval {number(nlo)} "
        f"to {number(nhi)}); {prob_equals(_event(ctx, c, predictive=True), p_new, n)}.",
        f"Heterogeneity τ: median {number(tau.median)} (95% CrI {number(tlo)} to "
        f"{number(thi)}).",
    ]
    if res.method == "exact":
        bf = res.bayes_factors()
        if bf["tau_0"] is not None:
            items.append(f"Bayes factor for no heterogeneity (τ = 0): BF₀₁ = "
                         f"{_bf(bf['tau_0'])}.")
        items.append("Computed by exact numerical integration — no Monte Carlo error.")
    else:
        assert res.diagnostics is not None
        items.append(shared.sampler_status(res.diagnostics))
    return Section("summary", "Summary", shared.key_box(res, items))


def _bf(value: float) -> str:
    text = f"{value:.3g}"
    if value >= 1:
        return f"{text} (the data favour the null {value:.3g} : 1)"
    return f"{text} (the data favour the alternative {1 / value:.3g} : 1)"


def data_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    d = res.data
    z = 1.959963984540054
    extra_cols = [c for c in ("subgroup", "condition", "outcome_type") if c in d.extra.columns]
    header = ["study", f"estimate y ({d.measure})", "standard error", "95% CI",
              *(["n"] if d.n is not None else []), *extra_cols]
    rows = []
    for i, study in enumerate(d.study):
        y, s = float(d.yi[i]), float(d.sei[i])
        row = [study, f"{y:.4g}", f"{s:.4g}", f"{y - z * s:.3g} to {y + z * s:.3g}"]
        if d.n is not None:
            row.append(f"{d.n[i]:.0f}")
        row += [str(d.extra[c].iloc[i]) for c in extra_cols]
        rows.append(row)
    text_cols = [0, *range(len(header) - len(extra_cols), len(header))]
    parts = [h.table(header, rows, text_columns=text_cols)]
    parts.append(h.p(f"Effects: {h.esc(d.measure_text)}"
                     + (f" — {h.esc(d.derivation)}" if d.derivation else "") + "."))
    parts.extend(shared.source_notes(res))
    parts.append(h.p("Each study enters as its estimate and standard error, treated as known "
                     "(the normal–normal model); 95% CIs are estimate ± 1.96 SE."))
    return Section("data", "Data", "\n".join(parts))


def _model_equations() -> str:
    i = h.mi("i")
    y_i, s_i, th_i = h.msub(h.mi("y"), i), h.msub(h.mi("s"), i), h.msub(h.mi("θ"), i)
    normal = h.mi("N")
    eqs = [
        h.math_block(y_i, h.mo("∼"), normal, h.mo("("), th_i, h.mo(","),
                     h.msup(s_i, h.mn("2")), h.mo(")"), label="y_i ~ N(theta_i, s_i^2)"),
        *shared.random_effects_equations("μ"),
    ]
    return '<div class="equations">' + "".join(eqs) + "</div>"


def model_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    scale = res.effect_scale
    cite = ctx.cite("roever2020")
    body = [
        h.p(f"Normal–normal hierarchical model (random-effects meta-analysis) {cite}: study "
            "<em>i</em> reports an estimate y<sub>i</sub> with standard error s<sub>i</sub> "
            "(taken as known); its true effect θ<sub>i</sub> varies around the pooled effect "
            "μ with between-study standard deviation τ:"),
        _model_equations(),
    ]
    if scale.log:
        body.append(h.p(f"The effects are {h.esc(res.data.measure_text)}s; the pooled "
                        f"{h.esc(scale.name)} is {h.esc(scale.symbol)} = exp(μ) and a new "
                        f"study's is exp(θ<sub>new</sub>)."))
    if res.method == "exact":
        body.append(h.p(
            "<strong>Computation: exact numerical integration — no Monte Carlo error.</strong> "
            "Given τ, μ and the θ<sub>i</sub> have normal conditional posteriors in closed "
            "form, so the posterior reduces to the one-dimensional p(τ | y), integrated by "
            "adaptive Gauss–Legendre quadrature to a relative error below 10<sup>−10</sup>; "
            "μ, θ<sub>new</sub> and each θ<sub>i</sub> are then exact normal mixtures over "
            f"the quadrature nodes, as in the R package bayesmeta {cite}."))
    else:
        body.append(h.p(
            "Computation: the same model in PyMC, sampled by NUTS, with the θ<sub>i</sub> "
            "integrated out of the likelihood (y<sub>i</sub> ∼ N(μ, s<sub>i</sub><sup>2</sup> "
            "+ τ<sup>2</sup>)) and recovered from their exact conditional posterior, which "
            "samples well both for small and for large τ."))
    return Section("model", "Model", "\n".join(body))


def _default_keys(res: EffectsMetaResult, slot: str, prior: Prior) -> tuple[str, ...] | None:
    """Reference keys behind a measure's default prior; None for any other prior."""
    from bayesmeta.api import nnhm_priors

    sources = DEFAULT_PRIOR_SOURCES.get(res.data.measure)
    if sources is None or prior.source:
        return None
    default = nnhm_priors(res.data.measure).as_dict().get(slot)
    if (default is not None and prior.family == default.family
            and tuple(prior.params) == tuple(default.params)):
        return sources[slot]
    return None


PRIOR_ROLES = {"mu": ("μ", "pooled effect"), "tau": ("τ", "between-study SD")}


def priors_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    scale = res.effect_scale
    rows = []
    for slot, prior in res.priors.as_dict().items():
        symbol, role = PRIOR_ROLES[slot]
        role += f" (on the {res.data.measure} scale)"
        keys = _default_keys(res, slot, prior)
        if prior.source:
            source = h.esc(prior.source)
        elif keys:
            source = "default for this measure; " + ctx.cite(*keys)
        else:
            source = "chosen by the analyst (no source recorded)"
        if not prior.proper:
            source += " — improper (allowed by the exact method when the posterior is proper)"
        rows.append([symbol, h.esc(role), h.esc(prior.describe()),
                     f"<code>{h.esc(prior.spec)}</code>", source])
    parts = [shared.priors_table(rows)]
    tau = res.priors.tau
    dist = tau.dist() if tau is not None else None
    if dist is not None and scale.log:
        parts.append(h.p(
            f"Under this prior, P(τ &gt; 0.5) = {float(dist.sf(0.5)):.2f} and P(τ &gt; 1) = "
            f"{float(dist.sf(1.0)):.2f} (τ of 0.5 means the studies' {h.esc(scale.symbol)}s "
            "typically differ by a factor of about e<sup>2×0.5</sup> ≈ 2.7 between the 16th "
            "and 84th percentile studies; τ of 1, by ≈ 7.4)."))
    how = ("its exact density, by numerical integration" if _exact(ctx) else
           "a boundary-corrected kernel density estimate of the draws")
    parts.append(ctx.figure(
        "tau", f"Heterogeneity τ: the prior (dashed) against the posterior ({how}). Where "
        "they coincide, the data say little about τ.",
        alt="Prior and posterior density of tau"))
    return Section("priors", "Priors", "\n".join(parts))


LABELS = {"mu": "pooled effect μ", "tau": "heterogeneity τ",
          "theta_new": "effect in a new study θ<sub>new</sub>"}


def results_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    scale = res.effect_scale
    exact = _exact(ctx)
    names = list(res.quantities)
    if res.ratio_name:  # the ratios first: they are what readers read
        names = [res.ratio_name, "mu", "tau", f"{res.ratio_name}_new", "theta_new"]
    rows = []
    for key in names:
        s = res.quantity_summary(key, mcse=not exact)
        if key == res.ratio_name:
            label = f"{h.esc(scale.name)} ({h.esc(scale.symbol)} = exp μ)"
        elif res.ratio_name and key == f"{res.ratio_name}_new":
            label = f"{h.esc(scale.symbol)} in a new study"
        else:
            label = LABELS.get(key, h.esc(key))
            if scale.log and key in ("mu", "theta_new"):
                label += f" (log {h.esc(scale.symbol)})"
        row = [label, number(s["median"]), f"{number(s['q025'])} to {number(s['q975'])}",
               f"{number(s['shortest95_lo'])} to {number(s['shortest95_hi'])}",
               number(s["mean"]), number(s["sd"])]
        if not exact:
            row.append(f"{s['mcse']['median']:.2g}")
        rows.append(row)
    header = ["quantity", "median", "95% interval", "shortest 95%", "mean", "sd"]
    if not exact:
        header.append("MCSE of median")
    parts = [h.table(header, rows, escape_cells=False)]
    words = ("Exact: no Monte Carlo error, every digit shown is computed." if exact else
             "The MCSE says how many digits to trust.")
    parts.append(h.p("Intervals are equal-tailed 95% credible intervals (prediction "
                     "intervals for a new study) and the shortest intervals holding 95%; a "
                     f"mean or SD shown as — does not exist or is not computed. {words}"))
    if exact:
        parts.append(_bayes_factor_text(ctx))
    study_rows = []
    for row in res.forest_table().studies:
        o, m = row.observed, row.model
        shown = [scale.to_display(v) for v in (o.estimate, o.lower, o.upper)]
        model = [scale.to_display(v) for v in (m.estimate, m.lower, m.upper)]
        study_rows.append([row.label, interval_text(*shown), interval_text(*model)])
    parts.append("<h3>Studies</h3>")
    parts.append(h.table(["study", f"observed {scale.symbol} (95% CI)",
                          f"shrunken {scale.symbol} (95% CrI)"], study_rows))
    parts.append(h.p("Shrunken estimates are the model's estimates of each study's effect "
                     "θ<sub>i</sub>, pulled towards the pooled effect as far as the "
                     "heterogeneity allows."))
    label = ctx.label or Path(res.data.source).name
    axis = "on a log axis" if scale.log else "on a linear axis"
    parts.append(ctx.figure(
        "forest", f"Forest plot: observed study estimates (squares, 95% CI), the model's "
        "shrunken study estimates (circles, 95% CrI), the pooled effect (diamond, 95% CrI) "
        f"and the effect expected in a new study (bar, 95% prediction interval), {axis}.",
        alt="Forest plot", title=f"{label}: normal–normal model"))
    return Section("results", "Results", "\n".join(parts))


def _bayes_factor_text(ctx: ReportContext) -> str:
    bf = _res(ctx).bayes_factors()
    cite = ctx.cite("kass1995")
    items = []
    for key, what in (("tau_0", "no heterogeneity (τ = 0)"), ("mu_0", "no effect (μ = 0)")):
        value = bf[key]
        items.append(f"{what}: BF₀₁ = {_bf(value)}" if value is not None
                     else f"{what}: not defined (an improper prior)")
    return h.p(f"Bayes factors {cite} from the exact marginal likelihoods, BF₀₁ = "
               "p(data | null) / p(data | model), above 1 favouring the null: "
               + "; ".join(items) + ".")


def harm_section(ctx: ReportContext) -> Section:
    res = _res(ctx)
    scale = res.effect_scale
    n = _n_draws(res)
    c0 = _threshold(ctx)
    thresholds = sorted({scale.null, *res.display_thresholds, c0})
    rows = []
    for c in thresholds:
        for predictive in (False, True):
            p = prob_harm(res, c, predictive=predictive)
            where = "in a new study" if predictive else "for the pooled effect"
            rows.append([_event(ctx, c, predictive=predictive), fmt_prob(p, n),
                         f"{h.esc(region_words(scale, c, p, predictive=predictive))} "
                         f"{where}."])
    cite = ctx.cite("words")
    bound = (f" A probability of 0 or 1 from {n:,} draws is shown as a bound." if n else
             " Probabilities are exact (no Monte Carlo error).")
    parts = [shared.harm_table(rows),
             h.p(shared.words_note(cite, None) + bound + " The predictive probabilities "
                 "are about a new study drawn from the same population of studies; they "
                 "include the between-study heterogeneity.")]
    if scale.harm_word is None:
        parts.append(h.p(f"Whether a value of the {h.esc(scale.name)} above {c0:g} is good or "
                         "bad depends on the outcome: read the probabilities in its direction.",
                         "note"))
    how = "exact density" if _exact(ctx) else "kernel density estimate of the draws"
    parts.append(ctx.figure(
        "posterior", f"Posterior density of the pooled {h.esc(scale.name)} ({how}); the "
        f"shaded area is {h.esc(harm_label(res, c0))}; the bar below the curve is the median "
        "and 95% credible interval.", alt=f"Posterior density of the {scale.name}",
        threshold=c0))
    title = "Probability of harm" if scale.harm_word == "harm" else "Probabilities"
    return Section("harm", title, "\n".join(parts))


def diagnostics_section(ctx: ReportContext) -> Section:
    """Exact fits: how accurate the numerical integration is (no sampler, no Monte Carlo
    error); MCMC fits: the shared sampler diagnostics."""
    res = _res(ctx)
    if res.method != "exact":
        return sampler_diagnostics(ctx)
    det = res.method_details()
    status = ('<span class="ok">reached</span>' if det["ok"] else
              '<span class="bad">NOT reached — check with --method mcmc</span>')
    parts = [h.p(
        f"Exact numerical integration — no Monte Carlo error {ctx.cite('roever2020')}. "
        "There is no sampler, so no R̂, effective sample size or divergences apply, and no "
        "random seed is involved: the same data and priors give the same numbers to the "
        "last digit."),
        h.table(["quantity", "value"], [
            ["quadrature nodes", det["quadrature_nodes"]],
            ["Gauss–Legendre panels", det["panels"]],
            ["estimated relative error", f"{det['estimated_relative_error']:.1e}"],
            ["accuracy goal (relative error below 1e-7)", status],
            ["tail of p(τ | y) decays like τ^−a, a =",
             f"{det['posterior_tail_power_tau']:g}"],
        ], escape_cells=False)]
    return Section("diagnostics", "Computation", "\n".join(parts))


def methods_section(ctx: ReportContext) -> Section:
    """A paragraph to paste into a paper, citing author–year, with its own reference list."""
    res = _res(ctx)
    d = res.data
    v = software_versions()
    scale = res.effect_scale
    citations = shared.MethodsCitations(
        ctx, lambda slot, prior: _default_keys(res, slot, prior))
    cite, prior_text = citations.cite, citations.prior_text

    p = res.priors
    derivation = (f" ({h.esc(d.derivation)})" if d.derivation and d.derivation != "as given"
                  else "")
    text = (f"We pooled {d.k} studies' estimates ({h.esc(d.measure_text)}){derivation} in "
            "a Bayesian "
            "random-effects meta-analysis with the normal–normal hierarchical model: each "
            "study's estimate was taken as normally distributed around its true effect with "
            "its reported standard error, and the true effects as normally distributed "
            "around the pooled effect μ with between-study standard deviation τ. Priors: "
            f"μ ~ {prior_text('mu', p.mu)}")
    if p.tau is not None:
        text += f"; τ ~ {prior_text('tau', p.tau)}"
    text += ". "
    if res.method == "exact":
        text += ("The posterior was computed by exact numerical integration (no Monte Carlo "
                 f"error), following the method of the R package bayesmeta {cite('roever2020')}"
                 "; we report Bayes factors for τ = 0 and μ = 0 from the exact marginal "
                 f"likelihoods {cite('kass1995')}.")
    else:
        s = res.settings
        assert s is not None
        text += (f"The model was written in PyMC {v.get('pymc', '')} {cite('pymc')} and the "
                 f"posterior sampled with the No-U-Turn sampler {cite('nuts')} ({s.chains} "
                 f"chains of {s.draws:,} draws after {s.tune:,} warm-up iterations, target "
                 f"acceptance {s.target_accept}, random seed {s.seed}); convergence was "
                 f"checked with ArviZ {v.get('arviz', '')} {cite('arviz')} (rank-normalised "
                 f"R̂ ≤ 1.01, bulk and tail effective sample sizes ≥ 100 per chain, no "
                 f"divergent transitions {cite('rhat')}).")
    shown = (f" the pooled {h.esc(scale.name)} exp(μ)," if scale.log else "")
    text += (f" We report posterior medians with equal-tailed 95% credible intervals for"
             f"{shown} μ, τ and the effect in a new study (95% prediction interval), and the "
             f"posterior probability that the {h.esc(scale.name)} exceeds "
             f"{scale.null:g}.")
    if ctx.influence is not None and ctx.influence.refits:
        how = ("exactly recomputing" if res.method == "exact" else "refitting")
        text += (f" The influence of single studies was assessed by {how} the posterior "
                 "without each study" + ("" if ctx.influence.loo is None else
                                          " and by Pareto-smoothed importance-sampling "
                                          f"leave-one-out cross-validation "
                                          f"{cite('loo', 'psis')}") + ".")
    text += f" Analyses used bayesmeta {v.get('bayesmeta', '')} (Python {v['python']})."
    return citations.section(text)


NNHM_REPORT = ReportModel(
    name="Normal–normal random-effects meta-analysis of effect estimates",
    short_name="normal–normal model",
    sections={"summary": summary_section, "data": data_section, "model": model_section,
              "priors": priors_section, "results": results_section, "harm": harm_section,
              "diagnostics": diagnostics_section, "methods": methods_section},
    references=REFERENCES,
)

register_report_model(EffectsMetaResult, NNHM_REPORT)
