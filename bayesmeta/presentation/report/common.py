"""Report sections every model shares: prior sensitivity, influence, sampler diagnostics,
software and seed, references — and the references they cite."""

from __future__ import annotations

from typing import Any

from bayesmeta.presentation.plots.common import interval_text, number
from bayesmeta.presentation.report import html as h
from bayesmeta.presentation.report.builder import (
    COMMON_REFERENCES,
    COMMON_SECTIONS,
    SENSITIVITY_RENDERERS,
    Reference,
    ReportContext,
    Section,
)
from bayesmeta.presentation.text import fmt_prob
from bayesmeta.results.versions import software_versions

COMMON_REFERENCES.update({
    "pymc": Reference("Abril-Pla et al. 2023",
        "Abril-Pla O, Andreani V, Carroll C, et al. PyMC: a modern, and comprehensive "
        "probabilistic programming framework in Python. PeerJ Computer Science "
        "2023;9:e1516. doi:10.7717/peerj-cs.1516"),
    "nutpie": Reference("nutpie",
        "Seyboldt A and the PyMC developers. nutpie: a fast sampler for Bayesian "
        "posteriors (software), https://github.com/pymc-devs/nutpie"),
    "nuts": Reference("Hoffman & Gelman 2014",
        "Hoffman MD, Gelman A. The No-U-Turn sampler: adaptively setting path lengths in "
        "Hamiltonian Monte Carlo. Journal of Machine Learning Research 2014;15:1593–1623"),
    "arviz": Reference("Kumar et al. 2019",
        "Kumar R, Carroll C, Hartikainen A, Martin O. ArviZ a unified library for "
        "exploratory analysis of Bayesian models in Python. Journal of Open Source "
        "Software 2019;4(33):1143. doi:10.21105/joss.01143"),
    "rhat": Reference("Vehtari et al. 2021",
        "Vehtari A, Gelman A, Simpson D, Carpenter B, Bürkner PC. Rank-normalization, "
        "folding, and localization: an improved R̂ for assessing convergence of MCMC. "
        "Bayesian Analysis 2021;16(2):667–718"),
    "loo": Reference("Vehtari et al. 2017",
        "Vehtari A, Gelman A, Gabry J. Practical Bayesian model evaluation using "
        "leave-one-out cross-validation and WAIC. Statistics and Computing "
        "2017;27:1413–1432"),
    "psis": Reference("Vehtari et al. 2024",
        "Vehtari A, Simpson D, Gelman A, Yao Y, Gabry J. Pareto smoothed importance "
        "sampling. Journal of Machine Learning Research 2024;25(72):1–58"),
    "words": Reference("Mastrandrea et al. 2010",
        "Mastrandrea MD, Field CB, Stocker TF, et al. Guidance note for lead authors of "
        "the IPCC Fifth Assessment Report on consistent treatment of uncertainties. "
        "Intergovernmental Panel on Climate Change, 2010"),
})


def sensitivity_section(ctx: ReportContext) -> Section:
    """Prior sensitivity: rendered by a registered renderer; otherwise a plain statement
    that none is part of this report (never invented content)."""
    sens = ctx.sensitivity
    if sens is None:
        body = h.p("No prior-sensitivity analysis is part of this report: the results above "
                   "hold for the priors stated in the Priors section only. To see how they "
                   "depend on the priors, refit with other priors (for example "
                   "<code>--tau-prior halfnormal:1</code> or <code>--tau-prior "
                   "halfcauchy:0.5</code>) and compare.", "note")
        return Section("sensitivity", "Prior sensitivity", body)
    for cls in type(sens).__mro__:
        if cls in SENSITIVITY_RENDERERS:
            return Section("sensitivity", "Prior sensitivity",
                           SENSITIVITY_RENDERERS[cls](ctx, sens))
    if hasattr(sens, "to_frame"):
        frame = sens.to_frame().reset_index()
        rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
        return Section("sensitivity", "Prior sensitivity",
                       h.table([str(c) for c in frame.columns], rows))
    raise TypeError(f"no renderer for sensitivity results of type {type(sens).__name__}")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return number(value)
    return str(value)


def influence_section(ctx: ReportContext) -> Section:
    inf = ctx.influence
    if inf is None:
        return Section("influence", "Influence of single studies", h.p(
            "Influence was not computed for this report (run <code>bayesmeta report</code> "
            "without <code>--no-influence</code>, or <code>bayesmeta influence</code>).",
            "note"))
    sym = inf.symbol
    n = inf.n_draws
    parts = []
    full = inf.full
    exact = n is None  # no draws: an exact posterior, refitted exactly
    refit_words = ("the model computed again, exactly, without the study, with the same "
                   "priors (numerical integration: each refit equals a separate fit without "
                   "the study, with no Monte Carlo error)" if exact else
                   "the model fitted again without the study, with the same priors, sampler "
                   "settings and seed")
    intro = (f"<strong>Leave-one-study-out refits</strong>: {refit_words}; the table shows "
             f"the pooled {h.esc(sym)} and P({h.esc(inf.harm_text)}) without it.")
    if inf.loo is not None:
        cites_loo = ctx.cite("loo", "psis")
        intro = (f"Two views of each study's weight in the result. {intro} "
                 f"<strong>PSIS-LOO</strong> {cites_loo}: a cheap approximation of the same "
                 "leave-one-out posteriors from the full fit; its Pareto k̂ says where the "
                 f"approximation can be trusted (k̂ at most {number(inf.loo.good_k)}) and "
                 "flags studies the posterior leans on.")
    elif exact:
        intro += (" PSIS-LOO, an approximation from posterior draws, is not needed: the exact "
                  "refits are the leave-one-out posteriors themselves.")
    parts.append(h.p(intro))
    if inf.loo is not None:
        cls = "note" if inf.loo.n_high else ""
        parts.append(h.p(h.esc(inf.loo.verdict()), cls or None))
    header = ["study"]
    if inf.loo is not None:
        header += ["Pareto k̂"]
    if inf.refits:
        header += [f"pooled {sym} without (95% CrI)",
                   f"ratio to all-studies {sym}" if inf.log_scale else "change",
                   f"P({inf.harm_text}) without", "change",
                   f"P({inf.harm_text.replace(sym, sym + '_new', 1)}) without"]
    rows = []
    if inf.refits:
        first = ["all studies"] + (["—"] if inf.loo is not None else [])
        first += [interval_text(full.median, full.lower, full.upper), "—",
                  fmt_prob(full.p_harm, n), "—", fmt_prob(full.p_harm_new, n)]
        rows.append(first)
    by_study = {r.study: r for r in inf.refits}
    studies = inf.loo.studies if inf.loo is not None else tuple(by_study)
    for i, study in enumerate(studies):
        row = [h.esc(study)]
        if inf.loo is not None:
            k = float(inf.loo.pareto_k[i])
            text = number(k)
            row.append(f'<span class="flag">{text}</span>' if k > inf.loo.good_k else text)
        r = by_study.get(study)
        if r is not None:
            warn = "" if r.diagnostics_ok else (' <span class="flag" title="sampler '
                                                 f'problems: {h.esc(", ".join(r.problems))}">'
                                                 "!</span>")
            row += [f"{interval_text(r.median, r.lower, r.upper)}{warn}",
                    number(inf.shift(r)), fmt_prob(r.p_harm, n),
                    f"{r.p_harm - full.p_harm:+.3f}", fmt_prob(r.p_harm_new, n)]
        elif inf.refits:
            row += ["not refitted"] + [""] * 4
        rows.append(row)
    if rows:
        parts.append(h.table(header, rows, escape_cells=False))
    top = inf.most_influential()
    if top is not None:
        lead = h.esc(inf.most_influential_words()).format(
            study=f"<strong>{h.esc(top.study)}</strong>", symbol=h.esc(sym))
        parts.append(h.p(
            f"{lead}: from {number(full.median)} to {number(top.median)}, and "
            f"P({h.esc(inf.harm_text)}) from {fmt_prob(full.p_harm, n)} to "
            f"{fmt_prob(top.p_harm, n)}."))
        flagged = [r.study for r in inf.refits if not r.diagnostics_ok]
        if flagged:
            parts.append(h.p(
                "Refits marked ! had sampler warnings (" + h.esc(", ".join(flagged)) + "); "
                "their numbers are less precise.", "note"))
    if inf.refits_skipped:
        parts.append(h.p(h.esc(inf.refits_skipped[0].upper() + inf.refits_skipped[1:]) + ".",
                         "note"))
    return Section("influence", "Influence of single studies", "\n".join(parts))


def diagnostics_section(ctx: ReportContext) -> Section:
    res = ctx.result
    diag = getattr(res, "diagnostics", None)
    if diag is None:
        return Section("diagnostics", "Computation", h.p(
            "This result was computed exactly (numerical integration), not by sampling: no "
            "sampler diagnostics apply."))
    cites = ctx.cite("rhat", "arviz")
    parts = [h.p(
        f"Convergence checks {cites}: rank-normalised split R̂ at most "
        f"{diag.to_dict()['thresholds']['rhat_max']}, bulk and tail effective sample sizes "
        f"of at least {diag.to_dict()['thresholds']['ess_min']} (100 per chain), no divergent "
        f"transitions, E-BFMI at least {diag.to_dict()['thresholds']['ebfmi_min']}.")]
    status = ('<span class="ok">all checks passed</span>' if diag.ok else
              f'<span class="bad">{len(diag.problems)} check(s) failed</span>')
    parts.append(h.p(f"Result: {status}."))
    t = diag.to_dict()["thresholds"]
    rows = [
        ["largest R̂", f"{diag.max_rhat:.3f} ({diag.max_rhat_variable})", f"≤ {t['rhat_max']}",
         _pass(diag.chains == 1 or diag.max_rhat <= t["rhat_max"])],
        ["smallest bulk ESS", f"{diag.min_ess_bulk:.0f} ({diag.min_ess_bulk_variable})",
         f"≥ {t['ess_min']}", _pass(diag.min_ess_bulk >= t["ess_min"])],
        ["smallest tail ESS", f"{diag.min_ess_tail:.0f} ({diag.min_ess_tail_variable})",
         f"≥ {t['ess_min']}", _pass(diag.min_ess_tail >= t["ess_min"])],
        ["divergent transitions", str(diag.divergences), "0", _pass(diag.divergences == 0)],
        ["smallest E-BFMI", f"{diag.min_ebfmi:.2f}", f"≥ {t['ebfmi_min']}",
         _pass(not diag.min_ebfmi < t["ebfmi_min"])],
        ["draws at maximum tree depth", str(diag.max_treedepth_hits), "0",
         _pass(diag.max_treedepth_hits == 0)],
    ]
    parts.append(h.table(["check", "value", "needed", ""], rows, escape_cells=False))
    for problem in diag.problems:
        parts.append(h.p(f"<strong>{h.esc(problem.message)}.</strong> Remedy: "
                         f"{h.esc(problem.remedy)}.", "problem"))
    if getattr(res, "idata", None) is not None:
        names = ", ".join(getattr(res, "main_parameters", ()))
        parts.append(ctx.figure(
            "trace", f"Trace plots of {h.esc(names)}: per-chain densities (left) should "
            "agree and traces (right) should look like stationary noise; divergent "
            "transitions would be marked.", alt="Trace plots"))
        parts.append(ctx.figure(
            "rank", f"Rank plots of {h.esc(names)} (ArviZ): the difference between each "
            "chain's fractional-rank ECDF and the uniform one stays inside the simultaneous "
            "envelope when the chains sample the same distribution.", alt="Rank plots"))
    return Section("diagnostics", "Sampler diagnostics", "\n".join(parts))


def _pass(ok: bool) -> str:
    return '<span class="ok">pass</span>' if ok else '<span class="bad">fail</span>'


def software_section(ctx: ReportContext) -> Section:
    res = ctx.result
    versions = software_versions()
    parts = []
    settings = getattr(res, "settings", None)
    if settings is not None:
        s = settings.to_dict()
        parts.append(h.table(["setting", "value"], [
            ["sampler", f"{s['sampler']} (NUTS)"], ["chains", s["chains"]],
            ["warm-up draws per chain", s["tune"]], ["draws per chain", s["draws"]],
            ["target acceptance", s["target_accept"]],
            ["random seed", s["seed"]]]))
        parts.append(h.p(f"Same data, priors, settings and seed ({s['seed']}) give the same "
                         "numbers."))
    if ctx.command:
        parts.append(h.p(f"Produced by: <code>{h.esc(ctx.command)}</code>"))
    parts.append(h.table(["software", "version"], [[k, v] for k, v in versions.items()]))
    return Section("software", "Software, settings and seed", "\n".join(parts))


def references_section(ctx: ReportContext) -> Section | None:
    if not ctx.cited:
        return None
    items = "".join(f"<li>{h.esc(ctx.references[k].full)}</li>" for k in ctx.cited)
    return Section("references", "References", f'<ol class="refs">{items}</ol>')


COMMON_SECTIONS.update({
    "sensitivity": sensitivity_section,
    "influence": influence_section,
    "diagnostics": diagnostics_section,
    "software": software_section,
    "references": references_section,
})
