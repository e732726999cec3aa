"""The normal–normal model in plots, influence and the report.

Exact fits are drawn from their exact densities and refitted exactly without each study (a
refit equals a separate exact fit, to rounding); MCMC fits get PSIS-LOO, trace and rank plots.
Plots are checked for what they show against the numbers the result computes, not pixels.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import integrate, stats

import bayesmeta as bm
from bayesmeta.data.datasets import get_dataset
from bayesmeta.errors import InputError
from bayesmeta.presentation.plots import plot
from bayesmeta.presentation.text import prob_equals
from tests.browser import rendered
from tests.test_cli import assert_input_error, run

SMALL = dict(chains=2, draws=300, tune=300, seed=3)


def texts(fig: Figure, gid: str) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == gid]


def lines(fig: Figure, gid: str):
    return [ln for ax in fig.axes for ln in ax.lines if ln.get_gid() == gid]


def plot_axes(fig: Figure):
    return next(ax for ax in fig.axes if ax.axison)


@pytest.fixture(scope="module")
def schools():
    """Eight schools, exact, half-Cauchy(25) on τ (flat μ): milliseconds."""
    return bm.fit_effects("eight_schools", tau_prior="halfcauchy:25")


@pytest.fixture(scope="module")
def crins_logor():
    """Crins 2014 as log ORs (0.5 added to the one table with a zero), default priors."""
    return bm.fit_effects("crins2014_ar", measure="logOR", cc=0.5, thresholds=[0.5])


def _schools_frame() -> pd.DataFrame:
    return pd.read_csv(get_dataset("eight_schools").path)


def _crins_frame() -> pd.DataFrame:
    return pd.read_csv(get_dataset("crins2014_ar").path)


# -- plots --------------------------------------------------------------------------------
def test_forest_plot_of_log_ors_on_a_ratio_axis(crins_logor):
    res = crins_logor
    fig = bm.forest_plot(res)
    assert [lb for lb in texts(fig, "study-label")] == list(res.data.study)
    assert texts(fig, "pooled-label") == ["Pooled OR"]
    assert texts(fig, "predictive-label") == ["OR in a new study"]
    ax = plot_axes(fig)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "Odds ratio (log scale)"
    assert "1" in [t.get_text() for t in ax.get_xticklabels()]
    # Observed: y_i ± 1.96 SE, exponentiated; Heffron (2003) 14/61 vs 15/20 by hand.
    observed = [float(ln.get_xdata()[0]) for ln in lines(fig, "observed-point")]
    np.testing.assert_allclose(observed, np.exp(res.data.yi), rtol=1e-12)
    assert observed[0] == pytest.approx((14 * 5) / (47 * 15), rel=1e-12)
    ends = lines(fig, "observed")[0].get_xdata()
    se = math.sqrt(1 / 14 + 1 / 47 + 1 / 15 + 1 / 5)
    np.testing.assert_allclose(ends, np.exp(math.log(70 / 705) + np.array([-1, 1]) * 1.96 * se),
                               rtol=1e-4)
    shrunk = [float(ln.get_xdata()[0]) for ln in lines(fig, "model-point")]
    np.testing.assert_allclose(shrunk, np.exp(res.study_effects()["median"]), rtol=1e-12)
    diamond = next(p for p in ax.patches if p.get_gid() == "pooled")
    mu = res.posterior("mu")
    np.testing.assert_allclose(sorted(set(np.round(diamond.get_xy()[:, 0], 12))),
                               np.exp([mu.interval()[0], mu.median, mu.interval()[1]]),
                               rtol=1e-9)
    notes = texts(fig, "notes") or [t.get_text() for t in fig.texts if t.get_gid() == "notes"]
    assert "0.5 added to the cells of 1 table(s)" in notes[0]


def test_forest_plot_of_mean_differences_on_a_linear_axis():
    res = bm.fit_effects("normand1999_md", measure="MD", tau_prior="halfnormal:20")
    fig = bm.forest_plot(res)
    ax = plot_axes(fig)
    assert ax.get_xscale() == "linear" and ax.get_xlabel() == "Mean difference"
    assert len(texts(fig, "study-label")) == res.data.k == 9
    assert texts(fig, "pooled-label") == ["Pooled MD"]
    assert texts(fig, "favours-left")[0].strip() == "← lower under treatment"
    observed = [float(ln.get_xdata()[0]) for ln in lines(fig, "observed-point")]
    np.testing.assert_allclose(observed, res.data.yi, rtol=1e-12)
    null = lines(fig, "null-line")[0]
    assert float(null.get_xdata()[0]) == 0.0


def test_posterior_plot_draws_the_exact_density(crins_logor):
    """The curve is the exact density (not a KDE), the printed probability the exact one,
    and the shaded area integrates to it (trapezoid rule on the plotted grid)."""
    res = crins_logor
    fig = bm.posterior_plot(res, threshold=0.5)
    curve = lines(fig, "density")[0]
    x, y = curve.get_xdata(), curve.get_ydata()
    np.testing.assert_allclose(y, res.posterior("mu").pdf(np.log(x)), rtol=1e-12)
    p = res.posterior("mu").sf(math.log(0.5))
    assert texts(fig, "p-harm") == [prob_equals("P(OR > 0.5)", p, None)]
    assert texts(fig, "p-harm-words")[0].startswith("harm is ")
    assert fig.axes[0].get_xscale() == "log"
    beyond = np.log(x) > math.log(0.5)
    area = integrate.trapezoid(y[beyond], np.log(x)[beyond])
    assert area == pytest.approx(p, abs=2e-3)  # grid starts between two plotted points


def test_posterior_plot_of_an_effect_without_a_harmful_side(schools):
    fig = bm.posterior_plot(schools)
    p = schools.posterior("mu").sf(0.0)
    assert texts(fig, "p-harm") == [prob_equals("P(effect > 0)", p, None)]
    assert texts(fig, "p-harm-words") == [f"it is {bm.likelihood_words(p)} that effect > 0"]
    assert fig.axes[0].get_xscale() == "linear"


def test_tau_plot_draws_exact_posterior_and_prior(schools):
    fig = bm.tau_plot(schools)
    post = lines(fig, "posterior")[0]
    x = post.get_xdata()
    assert x[0] == 0.0  # the exact density is drawn from τ = 0
    np.testing.assert_allclose(post.get_ydata(), schools.posterior("tau").pdf(x), rtol=1e-12)
    prior = lines(fig, "prior")[0]
    px = prior.get_xdata()
    np.testing.assert_allclose(prior.get_ydata(), 2 / (math.pi * 25 * (1 + (px / 25) ** 2)),
                               rtol=1e-12)
    assert fig.axes[0].get_xlabel() == "τ, between-study SD of the effect"


def test_tau_plot_with_an_improper_prior_says_so():
    res = bm.fit_effects("eight_schools", tau_prior="uniform_improper")
    fig = bm.tau_plot(res)
    assert lines(fig, "prior") == []
    assert "improper" in texts(fig, "prior-improper")[0]


@pytest.mark.parametrize("kind", ["trace", "rank"])
def test_diagnostic_plots_refuse_an_exact_fit(schools, kind):
    with pytest.raises(InputError, match="computed exactly, without MCMC draws"):
        plot(kind, schools)


# -- influence: exact leave-one-out ------------------------------------------------------------
def _separate_exact_fit_checks(inf, fit_without, threshold):
    """Every leave-one-out row equals a separate exact fit without that study."""
    assert len(inf.refits) > 0
    for row in inf.refits:
        other = fit_without(row.study)
        scale = other.effect_scale
        pooled = other.posterior("mu")
        lo, hi = pooled.interval(0.95)
        c = scale.to_internal(threshold)
        assert row.median == pytest.approx(scale.to_display(pooled.median), rel=1e-12, abs=1e-12)
        assert row.lower == pytest.approx(scale.to_display(lo), rel=1e-12, abs=1e-12)
        assert row.upper == pytest.approx(scale.to_display(hi), rel=1e-12, abs=1e-12)
        assert row.tau_median == pytest.approx(other.posterior("tau").median, rel=1e-12)
        assert row.p_harm == pytest.approx(pooled.sf(c), rel=1e-12, abs=1e-15)
        assert row.p_harm_new == pytest.approx(other.posterior("theta_new").sf(c), rel=1e-12,
                                               abs=1e-15)


def test_leave_one_out_equals_separate_exact_fits(schools):
    """Done-when of issue 6: each row equals `fit_effects` on the data without that study
    (read from the CSV without its row); the exact method has no Monte Carlo error, so the
    tolerance is rounding (1e-12)."""
    inf = bm.influence(schools)
    assert [r.study for r in inf.refits] == list("ABCDEFGH")
    assert inf.loo is None and inf.n_draws is None  # no draws: no PSIS-LOO

    def fit_without(study):
        frame = _schools_frame()
        return bm.fit_effects(frame[frame["study"] != study], tau_prior="halfcauchy:25")

    _separate_exact_fit_checks(inf, fit_without, 0.0)
    doc = inf.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["psis_loo"] is None and len(doc["leave_one_out"]) == 8
    assert doc["settings"]["sampler"] is None and doc["settings"]["seed"] is None


def test_leave_one_out_of_corrected_log_ors_equals_separate_fits(crins_logor):
    """Log ORs from 2×2 tables with 0.5 added to tables with a zero: leaving a study out of
    the derived effects equals deriving them from the counts without it (the correction is
    per table) and fitting again."""
    inf = bm.influence(crins_logor, threshold=0.5)
    assert inf.threshold == 0.5 and inf.harm_text == "OR > 0.5"

    def fit_without(study):
        frame = _crins_frame()
        return bm.fit_effects(frame[frame["study"] != study], measure="logOR", cc=0.5)

    _separate_exact_fit_checks(inf, fit_without, 0.5)


def test_an_exact_refit_by_independent_quadrature(schools):
    """One refit against scipy's adaptive quadrature of the model written out here: without
    school A, with a flat μ prior, P(μ > 0 | y) = ∫ p(τ | y) Φ(μ̂(τ) / √V(τ)) dτ with
    p(τ | y) ∝ p(τ) √V Π w_i^½ exp(−Q/2) (Röver 2020, Sec. 2); quad's error is < 1e-8."""
    frame = _schools_frame()
    frame = frame[frame["study"] != "A"]
    y, s = frame["y"].to_numpy(float), frame["sigma"].to_numpy(float)

    def parts(tau):
        w = 1 / (s**2 + tau**2)
        v = 1 / w.sum()
        mhat = v * (w * y).sum()
        q = (w * (y - mhat) ** 2).sum()
        dens = stats.halfcauchy.pdf(tau, scale=25) * math.sqrt(v) * np.prod(np.sqrt(w)) \
            * math.exp(-q / 2)
        return dens, mhat, v

    norm = integrate.quad(lambda t: parts(t)[0], 0, np.inf, epsabs=0, epsrel=1e-11,
                          limit=500)[0]
    p = integrate.quad(lambda t: parts(t)[0] * stats.norm.cdf(parts(t)[1] / math.sqrt(
        parts(t)[2])), 0, np.inf, epsabs=0, epsrel=1e-11, limit=500)[0] / norm
    row = next(r for r in bm.influence(schools, studies=["A"]).refits)
    assert row.p_harm == pytest.approx(p, rel=1e-8)


def test_effects_data_without_a_study(crins_logor):
    five = crins_logor.data.without("Gras (2008)")
    assert five.k == 5 and five.details["corrected_studies"] == []
    assert five.n.tolist() == [81, 56, 30, 108, 72]
    with pytest.raises(InputError, match="no study 'Nobody'"):
        five.without("Nobody")


# -- report (exact) --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def crins_exact_report(crins_logor, tmp_path_factory):
    html = bm.build_report(crins_logor, influence=bm.influence(crins_logor, threshold=0.5),
                           label="crins2014_ar", threshold=0.5)
    path = tmp_path_factory.mktemp("nnhm") / "crins_exact.html"
    bm.write_report(html, path)
    return path


def test_exact_report_says_how_it_was_computed(crins_exact_report, crins_logor):
    html = crins_exact_report.read_text(encoding="utf-8")
    diag = re.search(r'<section id="diagnostics">(.*?)</section>', html, re.S)[1]
    assert "Exact numerical integration — no Monte Carlo error" in diag
    assert "R̂" in diag and "trace" not in diag.lower()
    methods = re.search(r'<div class="methods" id="methods-text">(.*?)</div>', html, re.S)[1]
    assert "exact numerical integration (no Monte Carlo error)" in methods
    assert "(Röver 2020)" in methods
    assert ("Röver C. Bayesian random-effects meta-analysis using the bayesmeta R package. "
            "Journal of Statistical Software 2020;93(6)") in html
    assert f"<strong>{crins_logor.posterior('or').median:.2f}</strong>" in html
    p = crins_logor.posterior("mu").sf(math.log(0.5))
    assert f"P(OR &gt; 0.5) = {p:.3f}" in html
    bf = crins_logor.bayes_factors()["tau_0"]
    assert f"BF₀₁ = {bf:.3g}" in html
    influence = re.search(r'<section id="influence">(.*?)</section>', html, re.S)[1]
    assert "computed again, exactly" in influence and "Pareto" not in influence


def test_exact_report_renders_in_chromium(crins_exact_report):
    out = rendered(crins_exact_report)
    assert [s["id"] for s in out["sections"]] == [
        "summary", "data", "model", "priors", "results", "harm", "sensitivity", "influence",
        "diagnostics", "methods", "software", "references"]
    assert {img["figure"] for img in out["images"]} == {"figure-tau", "figure-forest",
                                                        "figure-posterior"}
    for img in out["images"]:
        assert img["complete"] and img["width"] > 300 and img["colours"] >= 2, img
    assert len(out["math"]) >= 3
    assert [r for r in out["resources"] if not r.startswith("data:")] == []


# -- command line -----------------------------------------------------------------------------
def test_cli_report_of_effects_with_influence(tmp_path):
    out, js = tmp_path / "es.html", tmp_path / "es.json"
    result = run("report", "eight_schools", "--model", "effects", "--tau-prior",
                 "halfcauchy:25", "-o", str(out), "--json", str(js), "-q")
    assert result.exit_code == 0, result.output
    doc = json.loads(js.read_text())
    assert doc["schema"] == "bayesmeta.fit.effects/1" and doc["method"] == "exact"
    assert len(doc["influence"]["leave_one_out"]) == 8
    assert doc["influence"]["psis_loo"] is None
    html = out.read_text(encoding="utf-8")
    assert "Normal–normal random-effects meta-analysis of effect estimates" in html
    assert "--model effects --tau-prior halfcauchy:25" in html
    assert "Exact numerical integration — no Monte Carlo error" in html


def test_cli_threshold_is_on_the_ratio_scale(tmp_path):
    """`--threshold 0.5` with log ORs means OR 0.5: the fit's probability and the influence
    table use log(0.5)."""
    js = tmp_path / "i.json"
    result = run("influence", "crins2014_ar", "--model", "effects", "--cc", "0.5",
                 "--threshold", "0.5", "--study", "Gras (2008)", "--json", str(js), "-q")
    assert result.exit_code == 0, result.output
    assert "Exact posterior" in result.output
    doc = json.loads(js.read_text())
    full = bm.fit_effects("crins2014_ar", measure="logOR", cc=0.5)
    assert doc["threshold"] == 0.5
    assert doc["full"]["p_harm"] == pytest.approx(full.posterior("mu").sf(math.log(0.5)),
                                                  rel=1e-12)


def test_cli_plot_continuous_and_model_files(tmp_path):
    for args, name in (
            (["forest", "normand1999_arms", "--model", "continuous", "--measure", "SMD",
              "--col", "study=source"], "smd.svg"),
            (["posterior", "crins2014_ar", "--model", "nnhm_reference", "--cc", "0.5"],
             "ref.png"),
            (["tau", "crins2014_ar", "--model", "effects", "--cc", "0.5"], "tau.pdf")):
        result = run("plot", *args, "-o", str(tmp_path / name), "-q")
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size > 1000


@pytest.mark.parametrize("args, fragments", [
    (["forest", "eight_schools", "--model", "effects", "--baseline-risk", "0.1"],
     ["--baseline-risk", "does not apply to --model effects"]),
    (["forest", "crins2014_ar", "--model", "binary", "--cc", "0.5"],
     ["--cc", "does not apply to --model binary"]),
    (["forest", "normand1999_arms", "--model", "continuous"], ["--measure", "MD or"]),
    (["trace", "eight_schools", "--model", "effects", "--tau-prior", "halfcauchy:25"],
     ["computed exactly"]),
    (["forest", "crins2014_ar", "--model", "effects", "--cc", "0.5", "--threshold", "-1"],
     ["--threshold", "positive ratio"]),
])
def test_cli_refuses_options_of_other_models(tmp_path, args, fragments):
    result = run("plot", *args, "-o", str(tmp_path / "x.png"), "-q")
    assert_input_error(result, *fragments)


# -- MCMC fits ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def schools_mcmc():
    return bm.fit_effects("eight_schools", tau_prior="halfcauchy:5", mu_prior="normal:0:20",
                          method="mcmc", **SMALL)


@pytest.mark.mcmc
def test_pointwise_log_likelihood_equals_pymc(schools_mcmc):
    """log N(y_i; μ, s_i² + τ²) from the draws equals PyMC's log-likelihood of the model's
    observed variable, to rounding."""
    import pymc as pm
    import xarray as xr

    from bayesmeta.models.nnhm import build_nnhm

    ours = schools_mcmc.pointwise_log_likelihood()
    model = build_nnhm(schools_mcmc.data, schools_mcmc.priors)
    tree = xr.DataTree.from_dict({"posterior": xr.DataTree(
        schools_mcmc.idata["posterior"].to_dataset())})
    theirs = pm.compute_log_likelihood(tree, model=model, progressbar=False,
                                       extend_inferencedata=False)
    np.testing.assert_allclose(ours.values,
                               theirs["y_obs"].transpose("chain", "draw", "study").values,
                               rtol=1e-10, atol=1e-10)


@pytest.mark.mcmc
def test_mcmc_influence_psis_loo_and_a_refit_equal_to_a_separate_fit(schools_mcmc):
    """PSIS-LOO from the draws; the refit without school C is the same computation as a
    separate MCMC fit without it (same priors, settings and seed): equal draws, equal
    numbers."""
    inf = bm.influence(schools_mcmc, studies=["C"])
    assert inf.loo is not None and inf.loo.studies == tuple("ABCDEFGH")
    assert np.all(np.isfinite(inf.loo.pareto_k))
    assert inf.n_draws == 600
    (row,) = inf.refits
    frame = _schools_frame()
    separate = bm.fit_effects(frame[frame["study"] != "C"], tau_prior="halfcauchy:5",
                              mu_prior="normal:0:20", method="mcmc", **SMALL)
    assert row.median == separate.posterior("mu").median
    assert row.p_harm == separate.posterior("mu").sf(0.0)


@pytest.mark.mcmc
def test_mcmc_plots_and_report(schools_mcmc, tmp_path):
    fig = bm.posterior_plot(schools_mcmc)
    assert texts(fig, "p-harm") == [prob_equals("P(effect > 0)",
                                                schools_mcmc.posterior("mu").sf(0.0), 600)]
    for kind in ("trace", "rank"):
        plot(kind, schools_mcmc, tmp_path / f"{kind}.png")
    html = bm.build_report(schools_mcmc, label="eight_schools")
    assert 'id="figure-trace"' in html and 'id="figure-rank"' in html
    assert "Sampler diagnostics" in html and "MCSE of median" in html
    methods = re.search(r'<div class="methods" id="methods-text">(.*?)</div>', html, re.S)[1]
    assert "No-U-Turn sampler" in methods and "random seed 3" in methods
    assert "Bayes factor" not in html


def test_refits_that_an_improper_prior_cannot_make_are_said_not_faked():
    """Three studies with an improper uniform τ prior: the full posterior is proper, one
    with two studies is not — the refits are reported as impossible, with the reason."""
    frame = pd.DataFrame({"study": ["a", "b", "c"], "yi": [0.1, 0.5, 0.9],
                          "sei": [0.2, 0.3, 0.25]})
    res = bm.fit_effects(frame, tau_prior="uniform_improper")
    inf = bm.influence(res)
    assert inf.refits == () and "could not be run" in inf.refits_skipped
    assert "improper for 2 studies" in inf.refits_skipped
    html = bm.build_report(res, influence=inf)
    assert "Leave-one-study-out refits could not be run" in html
