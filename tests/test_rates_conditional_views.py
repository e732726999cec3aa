"""The Poisson–normal (event rates) and conditional (hypergeometric)–normal models in plots,
influence and the report: forest rows and probabilities against the results' own numbers,
per-study log-likelihoods against PyMC's, leave-one-out refits against separate fits, and the
reports' sections."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure
from scipy import stats

import bayesmeta as bm
from bayesmeta.data.datasets import get_dataset
from bayesmeta.models.conditional_hypergeometric import ConditionalPriors
from bayesmeta.presentation.text import prob_equals
from bayesmeta.results.conditional import ConditionalMetaResult
from tests.browser import rendered
from tests.test_cli import FAST, run

pytestmark = pytest.mark.mcmc

SMALL = dict(chains=2, draws=300, tune=300, seed=5)


def texts(fig: Figure, gid: str) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts if t.get_gid() == gid]


def lines(fig: Figure, gid: str):
    return [ln for ax in fig.axes for ln in ax.lines if ln.get_gid() == gid]


def _pymc_log_lik(result, model) -> xr.Dataset:
    import pymc as pm

    tree = xr.DataTree.from_dict({"posterior": xr.DataTree(
        result.idata["posterior"].to_dataset())})
    return pm.compute_log_likelihood(tree, model=model, progressbar=False,
                                     extend_inferencedata=False)


@pytest.fixture(scope="module")
def rates_fit():
    return bm.fit_rates("hart1999_warfarin", **SMALL)


@pytest.fixture(scope="module")
def conditional_fit():
    return bm.fit_binary("crins2014_ar", likelihood="conditional", **SMALL)


# -- rates -----------------------------------------------------------------------------------
def test_rates_pointwise_log_likelihood_equals_pymc(rates_fit):
    from bayesmeta.models.poisson_exposure import build_poisson_exposure

    ours = rates_fit.pointwise_log_likelihood()
    theirs = _pymc_log_lik(rates_fit, build_poisson_exposure(rates_fit.data, rates_fit.priors))
    total = (theirs["events_t"] + theirs["events_c"]).transpose("chain", "draw", "study")
    np.testing.assert_allclose(ours.values, total.values, rtol=1e-10, atol=1e-10)


def test_rates_forest_and_posterior_plots(rates_fit):
    d = rates_fit.data
    fig = bm.forest_plot(rates_fit)
    assert [t for t in texts(fig, "study-label")] == list(d.study)
    assert texts(fig, "pooled-label") == ["Pooled RR"]
    ax = next(a for a in fig.axes if a.axison)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "Rate ratio (log scale)"
    observed = [float(ln.get_xdata()[0]) for ln in lines(fig, "observed-point")]
    # AFASAK: 9 strokes in 413 person-years vs 19 in 398, by hand
    assert observed[0] == pytest.approx((9 / 413) / (19 / 398), rel=1e-12)
    np.testing.assert_allclose(observed, (d.events_t / d.exposure_t)
                               / (d.events_c / d.exposure_c), rtol=1e-12)
    shrunk = [float(ln.get_xdata()[0]) for ln in lines(fig, "model-point")]
    np.testing.assert_allclose(shrunk, rates_fit.study_effects()["rr_median"], rtol=1e-12)
    post = bm.posterior_plot(rates_fit, threshold=0.5)
    assert texts(post, "p-harm") == [prob_equals("P(RR > 0.5)", rates_fit.prob_harm(0.5), 600)]


def test_rates_leave_one_out_refit_equals_a_separate_fit(rates_fit):
    """Same priors, settings and seed: the refit without EAFT draws exactly what a separate
    fit of the other five studies draws."""
    inf = bm.influence(rates_fit, studies=["EAFT"])
    assert inf.loo is not None and len(inf.loo.studies) == 6
    (row,) = inf.refits
    frame = pd.read_csv(get_dataset("hart1999_warfarin").path)
    separate = bm.fit_rates(frame[frame["study"] != "EAFT"], **SMALL)
    # influence shows exp(median log RR); the median of 600 draws averages the middle two
    assert row.median == pytest.approx(math.exp(separate.posterior("log_rr").median),
                                       rel=1e-12)
    assert row.p_harm == separate.prob_harm(1.0)
    assert rates_fit.data.without("EAFT").k == 5


def test_rates_report(rates_fit, tmp_path):
    html = bm.build_report(rates_fit, label="hart1999_warfarin")
    for words in ("Poisson–normal hierarchical model", "Cai T, Parast L, Ryan L",
                  "extra events per 1,000 person-time", "P(RR &gt; 1)"):
        assert words in html, words
    median = rates_fit.posterior("rr").median
    assert f"<strong>{median:.2f}</strong>" in html
    path = tmp_path / "rates.html"
    bm.write_report(html, path)
    out = rendered(path)
    assert [s["id"] for s in out["sections"]] == [
        "summary", "data", "model", "priors", "results", "harm", "sensitivity", "influence",
        "diagnostics", "methods", "software", "references"]
    assert {img["figure"] for img in out["images"]} == {
        "figure-tau", "figure-forest", "figure-posterior", "figure-trace", "figure-rank"}
    assert len(out["math"]) >= 4


# -- conditional likelihood ------------------------------------------------------------------
def test_conditional_result_type_and_log_likelihood(conditional_fit):
    """The conditional fit has its own result type; its per-study log-likelihood equals
    PyMC's for the model, and scipy's Fisher non-central hypergeometric pmf for one draw."""
    from bayesmeta.models.conditional_hypergeometric import build_conditional_hypergeometric

    res = conditional_fit
    assert type(res) is ConditionalMetaResult and isinstance(res.priors, ConditionalPriors)
    ours = res.pointwise_log_likelihood()
    theirs = _pymc_log_lik(res, build_conditional_hypergeometric(res.data, res.priors))
    np.testing.assert_allclose(ours.values,
                               theirs["events_t"].transpose("chain", "draw", "study").values,
                               rtol=1e-9, atol=1e-9)
    d = res.data
    theta = res.posterior_tree["theta_study"].values[0, 0]
    by_scipy = stats.nchypergeom_fisher.logpmf(
        d.events_t, d.n_t + d.n_c, d.n_t, d.events_t + d.events_c, np.exp(theta))
    np.testing.assert_allclose(ours.values[0, 0], by_scipy, rtol=1e-8)


def test_conditional_refit_keeps_the_conditional_likelihood(conditional_fit, tmp_path):
    inf = bm.influence(conditional_fit, studies=["Gras (2008)"])
    (row,) = inf.refits
    separate = bm.fit_binary(conditional_fit.data.without("Gras (2008)"),
                             likelihood="conditional", **SMALL)
    assert row.median == pytest.approx(math.exp(separate.posterior("log_or").median),
                                       rel=1e-12)
    saved = conditional_fit.to_netcdf(tmp_path / "cond.nc")
    back = bm.load_result(saved)
    assert type(back) is ConditionalMetaResult and isinstance(back.priors, ConditionalPriors)
    assert back.posterior("or").median == conditional_fit.posterior("or").median


def test_conditional_report(conditional_fit):
    html = bm.build_report(conditional_fit, label="crins2014_ar")
    assert "Conditional (non-central hypergeometric)–normal hierarchical model" in html
    assert "Stijnen T, Hamza TH, Özdemir P" in html
    priors = re.search(r'<section id="priors">(.*?)</section>', html, re.S)[1]
    assert "baseline" not in priors  # no study baselines in this model
    methods = re.search(r'<div class="methods" id="methods-text">(.*?)</div>', html, re.S)[1]
    assert "conditional (non-central hypergeometric)–normal" in methods
    assert "binomial–normal" not in methods
    p = conditional_fit.prob_harm(1.0)
    assert math.isfinite(p)


def test_cli_rates_and_conditional(tmp_path):
    out = tmp_path / "f.svg"
    result = run("plot", "forest", "hart1999_warfarin", "--model", "rates", "-o", str(out),
                 *FAST)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"<?xml")
    result = run("influence", "crins2014_ar", "--likelihood", "conditional", "--no-refits",
                 *FAST)
    assert result.exit_code == 0, result.output
    assert "Pareto k" in result.output and "Gras (2008)" in result.output
