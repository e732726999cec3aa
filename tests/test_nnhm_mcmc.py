"""MCMC (PyMC model of bayesmeta.models.nnhm) and the exact posterior agree within Monte Carlo
error, in the two regimes a one-parameterisation sampler struggles with: few imprecise
studies with small τ (Crins log ORs) and precise studies with large τ (Normand MD).

Tolerance: each MCMC summary is compared with the exact value within 4 Monte Carlo standard
errors (ArviZ MCSE of the mean, median and 2.5%/97.5% quantiles; probabilities: binomial
MCSE sqrt(p(1−p)/ESS) with the bulk ESS of μ). With ~15 comparisons per fit, 4 MCSE keeps the
chance of a false alarm below 0.1% while a wrong model (a missing term, a wrong scale) would
be off by many MCSE.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import bayesmeta as bm

pytestmark = pytest.mark.mcmc

CASES = {
    "crins": dict(data="crins2014_ar", cc=0.5, tau_prior="halfnormal:0.5",
                  mu_prior="normal:0:4"),
    "normand": dict(data="normand1999_md", measure="MD", tau_prior="halfnormal:50",
                    mu_prior="normal:0:100"),
}


@pytest.fixture(scope="module", params=list(CASES))
def pair(request):
    case = dict(CASES[request.param])
    data = case.pop("data")
    exact = bm.fit_effects(data, **case)
    mcmc = bm.fit_effects(data, method="mcmc", draws=2000, tune=1000, seed=21, **case)
    return exact, mcmc


def test_sampler_is_healthy(pair):
    _, mcmc = pair
    assert mcmc.diagnostics.ok, mcmc.diagnostics.problems
    assert mcmc.diagnostics.divergences == 0


@pytest.mark.parametrize("name", ["mu", "tau", "theta_new"])
def test_pooled_quantities_agree(pair, name):
    exact, mcmc = pair
    e, m = exact.posterior(name), mcmc.posterior(name)
    mcse = m.mcse()
    s = m.summary(with_mcse=False)
    assert abs(s["mean"] - e.mean) <= 4 * mcse["mean"]
    assert abs(s["median"] - e.median) <= 4 * mcse["median"]
    lo, hi = e.interval(0.95)
    assert abs(s["q025"] - lo) <= 4 * mcse["q025"]
    assert abs(s["q975"] - hi) <= 4 * mcse["q975"]


def test_probabilities_agree(pair):
    exact, mcmc = pair
    ess = mcmc.diagnostics.min_ess_bulk
    for key in ("mu_gt_0", "theta_new_gt_0"):
        p = exact.probabilities()[key]
        se = math.sqrt(max(p * (1 - p), 1 / ess) / ess)
        assert abs(mcmc.probabilities()[key] - p) <= 4 * se


def test_shrunken_effects_agree(pair):
    exact, mcmc = pair
    e, m = exact.study_effects(), mcmc.study_effects()
    for i in range(len(e)):
        draws = mcmc.study(i)
        mcse = draws.mcse()
        assert abs(m["median"][i] - e["median"][i]) <= 4 * mcse["median"]
        assert abs(m["q975"][i] - e["q975"][i]) <= 4 * mcse["q975"]
    assert list(mcmc.idata["posterior"]["theta"].coords["study"].values) == \
        list(exact.data.study)
    assert np.all(np.isfinite(m["shortest95_lo"]))


def test_fit_binary_takes_a_turner_prior(tmp_path):
    """The binomial–normal model parses priors through the same library."""
    from click.testing import CliRunner

    from bayesmeta.cli import cli

    out = tmp_path / "fit.json"
    result = CliRunner().invoke(cli, [
        "fit", "binary", "crins2014_ar", "--tau-prior", "turner:adverse-events:pharma-vs-placebo",
        "--chains", "2", "--draws", "300", "--tune", "300", "-q", "--json", str(out)],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "turner:adverse-events:pharma-vs-placebo" in result.output
    tau = json.loads(out.read_text())["settings"]["priors"]["tau"]
    assert tau["spec"] == "turner:adverse-events:pharma-vs-placebo"
    assert tau["family"] == "lognormal_tau2" and tau["params"] == [-1.87, 1.52]


def test_mcmc_result_prints_and_writes_the_same_document(pair):
    from bayesmeta.presentation.effects_text import render_effects

    exact, mcmc = pair
    text = render_effects(mcmc)
    assert "Diagnostics: OK" in text and "95% shortest" in text
    doc, ref = mcmc.to_dict(), exact.to_dict()
    assert doc["method"] == "mcmc" and doc["bayes_factors"]["tau_0"] is None
    for name in ("mu", "tau", "theta_new"):
        assert set(ref[name]) <= set(doc[name]) and "mcse" in doc[name]
    assert set(doc) == set(ref)
    assert doc["settings"]["sampler"]["seed"] == 21
