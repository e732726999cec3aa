"""The conditional (non-central hypergeometric)–normal model's part of the report
(``fit binary --likelihood conditional``): its own model in MathML, zero-cell note and methods
paragraph; the summary, priors, results and harm sections are the binomial–normal model's
(both estimate odds ratios from 2×2 tables)."""

from __future__ import annotations

from bayesmeta.presentation.report import binary, shared
from bayesmeta.presentation.report import html as h
from bayesmeta.presentation.report.builder import (
    Reference,
    ReportContext,
    ReportModel,
    Section,
    register_report_model,
)
from bayesmeta.results.conditional import ConditionalMetaResult

REFERENCES = {
    **binary.REFERENCES,
    "stijnen2010": Reference("Stijnen et al. 2010",
        "Stijnen T, Hamza TH, Özdemir P. Random effects meta-analysis of event outcome in "
        "the framework of the generalized linear mixed model with applications in sparse "
        "data. Statistics in Medicine 2010;29(29):3046–3067"),
    "vanhouwelingen1993": Reference("Van Houwelingen et al. 1993",
        "Van Houwelingen HC, Zwinderman KH, Stijnen T. A bivariate approach to "
        "meta-analysis. Statistics in Medicine 1993;12(24):2273–2284"),
}

ZEROS_NOTE = ("All studies are analysed as they are: no continuity correction is added. The "
              "conditional likelihood needs none; a study without events in either arm (or "
              "with events only) has a single possible table given its total, so it carries "
              "no information on the odds ratio and leaves the estimate unchanged.")


def _uninformative(res: ConditionalMetaResult) -> int:
    d = res.data
    total = d.events_t + d.events_c
    return int(((total == 0) | (total == d.n_t + d.n_c)).sum())


def data_section(ctx: ReportContext) -> Section:
    return binary.data_section(ctx, zeros_note=ZEROS_NOTE)


def _model_equations() -> str:
    i = h.mi("i")
    a_i, m_i, th_i = (h.msub(h.mi(x), i) for x in ("a", "m", "θ"))
    n1, n2 = h.msub(h.mi("n"), h.mrow(h.mn("1"), i)), h.msub(h.mi("n"), h.mrow(h.mn("2"), i))
    u = h.mi("u")

    def binom(top: str, bottom: str) -> str:
        return (h.mo("(") + f'<mfrac linethickness="0">{top}{bottom}</mfrac>' + h.mo(")"))

    numerator = h.mrow(binom(n1, a_i), binom(n2, h.mrow(m_i, h.mo("−"), a_i)),
                       h.msup(h.mi("e"), h.mrow(th_i, a_i)))
    denominator = h.mrow(h.munder(h.mo("∑"), u), binom(n1, u),
                         binom(n2, h.mrow(m_i, h.mo("−"), u)),
                         h.msup(h.mi("e"), h.mrow(th_i, u)))
    eqs = [
        h.math_block(h.mi("P"), h.mo("("), a_i, h.mo("|"), m_i, h.mo(","), th_i, h.mo(")"),
                     h.mo("="), h.mfrac(numerator, denominator),
                     label="P(a_i | m_i, theta_i) = C(n1i, a_i) C(n2i, m_i - a_i) exp(theta_i "
                           "a_i) / sum_u C(n1i, u) C(n2i, m_i - u) exp(theta_i u)"),
        *shared.random_effects_equations("θ"),
    ]
    return '<div class="equations">' + "".join(eqs) + "</div>"


def model_section(ctx: ReportContext) -> Section:
    cite = ctx.cite("stijnen2010", "vanhouwelingen1993")
    body = [
        h.p(f"Conditional (non-central hypergeometric)–normal hierarchical model {cite}: "
            "given study <em>i</em>'s total number of events m<sub>i</sub> = a<sub>i</sub> + "
            "c<sub>i</sub>, the a<sub>i</sub> events under treatment (of n<sub>1i</sub> "
            "patients; c<sub>i</sub> of n<sub>2i</sub> under control) follow Fisher's "
            "non-central hypergeometric distribution with log odds ratio θ<sub>i</sub>, "
            "whatever the baseline risk; the θ<sub>i</sub> vary around the pooled log odds "
            "ratio θ with between-study standard deviation τ (u runs over the tables "
            "possible given the margins):"),
        _model_equations(),
        h.p("The pooled odds ratio is OR = exp(θ); a new study's odds ratio is "
            "exp(θ<sub>new</sub>). Conditioning removes the study baselines exactly: no prior "
            "is needed for them. It is the likelihood behind Fisher's exact test and "
            "conditional logistic regression, and the Bayesian counterpart of metafor's "
            "<code>rma.glmm(model = \"CM.EL\")</code>. θ<sub>i</sub> is sampled as θ + τ "
            "z<sub>i</sub> with z<sub>i</sub> ∼ N(0, 1) (non-centred)."),
    ]
    return Section("model", "Model", "\n".join(body))


def methods_section(ctx: ReportContext) -> Section:
    res: ConditionalMetaResult = ctx.result
    d = res.data
    p = res.priors
    n_none = _uninformative(res)

    def model_text(cite, prior_text) -> str:
        return (
            f"We pooled {d.k} studies in a Bayesian random-effects meta-analysis of odds "
            "ratios with the conditional (non-central hypergeometric)–normal hierarchical "
            f"model {cite('stijnen2010')}, which uses the exact likelihood of the "
            "treatment-arm events given each study's total number of events, so that no "
            "baseline risks are modelled and no continuity correction was applied"
            + (f"; the {n_none} studies without information on the odds ratio (no events, or "
               "only events, in both arms) were kept and do not change the estimate"
               if n_none else "")
            + ". The studies' log odds ratios were assumed normally distributed around the "
            "pooled log odds ratio θ with between-study standard deviation τ. Priors: θ ~ "
            f"{prior_text('effect', p.effect)}; τ ~ {prior_text('tau', p.tau)}.")

    return binary.mcmc_methods_section(ctx, model_text)


CONDITIONAL_REPORT = ReportModel(
    name="Conditional (hypergeometric)–normal random-effects meta-analysis (exact conditional "
         "likelihood)",
    short_name="conditional (hypergeometric)–normal model",
    sections={"summary": binary.summary_section, "data": data_section,
              "model": model_section, "priors": binary.priors_section,
              "results": binary.results_section, "harm": binary.harm_section,
              "methods": methods_section},
    references=REFERENCES,
)

register_report_model(ConditionalMetaResult, CONDITIONAL_REPORT)
