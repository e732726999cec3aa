"""Power-scaling sensitivity: our log densities and numbers against PyMC and arviz-stats.

The log-prior and log-likelihood groups are computed in numpy/scipy from the draws; here
they are compared with PyMC's ``compute_log_prior`` / ``compute_log_likelihood`` on the
fixed-prior model (PyMC's own distributions), and our power-scaling numbers with
``arviz_stats.psense`` / ``psense_summary`` called directly on a DataTree carrying PyMC's
groups — two independent routes to the same numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import bayesmeta as bm
from bayesmeta.models.binomial_normal import build_binomial_normal
from bayesmeta.results.prior_sensitivity import (
    CONFLICT,
    NO_CONCERN,
    STRONG_PRIOR,
    diagnosis,
    log_likelihood_dataset,
    log_prior_dataset,
    power_scaling,
)

QUANTITIES = {"log_or": "theta", "tau": "tau", "theta_new": "theta_new"}


@pytest.fixture(scope="module")
def pymc_groups(crins_fit):
    """The crins fit's draws with log_prior and log_likelihood computed by PyMC."""
    import pymc as pm

    model = build_binomial_normal(crins_fit.data, crins_fit.priors)
    lp = pm.stats.compute_log_prior(crins_fit.idata, var_names=["mu", "theta", "tau"], model=model,
                              extend_inferencedata=False, progressbar=False)
    ll = pm.stats.compute_log_likelihood(crins_fit.idata, model=model,
                                   extend_inferencedata=False, progressbar=False)
    tree = crins_fit.idata.copy()
    tree["log_prior"] = xr.DataTree(lp)
    tree["log_likelihood"] = xr.DataTree(ll)
    return tree


@pytest.mark.mcmc
def test_log_densities_equal_pymc(crins_fit, pymc_groups):
    post = crins_fit.idata["posterior"].to_dataset()
    ours_prior = log_prior_dataset(post, crins_fit.priors)
    ours_lik = log_likelihood_dataset(post, crins_fit.data)
    for var in ("mu", "theta", "tau"):
        theirs = pymc_groups["log_prior"][var]
        # abs 1e-7: PyMC rounds the normal's log √(2π) at single precision (1.6e-8 per
        # term; see test_prior_data_model.py); a wrong prior is off by orders more.
        np.testing.assert_allclose(ours_prior[var].transpose(*theirs.dims).values,
                                   theirs.values, rtol=0, atol=1e-7)
    for var in ("events_t", "events_c"):
        theirs = pymc_groups["log_likelihood"][var]
        np.testing.assert_allclose(ours_lik[var].transpose(*theirs.dims).values,
                                   theirs.values, rtol=1e-12, atol=1e-12)


@pytest.mark.mcmc
def test_psense_equals_arviz_stats_called_directly(crins_fit, pymc_groups):
    from arviz_stats import psense, psense_summary

    ours = crins_fit.prior_sensitivity()
    var_names = list(QUANTITIES.values())
    prior = psense(pymc_groups, var_names=var_names, group="prior")
    likelihood = psense(pymc_groups, var_names=var_names, group="likelihood")
    summary = psense_summary(pymc_groups, var_names=var_names, round_to=12)
    for quantity, var in QUANTITIES.items():
        # rel 1e-6: the inputs differ by PyMC's ~1e-8 constant rounding (above); the
        # computation is the same arviz-stats code, so anything else is a wiring error.
        assert ours.prior[quantity] == pytest.approx(float(prior[var]), rel=1e-6)
        assert ours.likelihood[quantity] == pytest.approx(float(likelihood[var]), rel=1e-6)
        assert ours.diagnosis(quantity) == summary.loc[var, "diagnosis"]
    for slot, var in (("baseline", "mu"), ("effect", "theta"), ("tau", "tau")):
        alone = psense(pymc_groups, var_names=var_names, group="prior", group_var_names=[var])
        for quantity, post_var in QUANTITIES.items():
            assert ours.by_prior[slot][quantity] == pytest.approx(float(alone[post_var]),
                                                                  rel=1e-6)


def test_diagnosis_rule_matches_psense_summary():
    assert diagnosis(0.06, 0.07) == CONFLICT
    assert diagnosis(0.06, 0.01) == STRONG_PRIOR
    assert diagnosis(0.01, 0.2) == NO_CONCERN
    assert diagnosis(0.05, 0.05) == CONFLICT  # psense_summary: both >= threshold


@pytest.mark.mcmc
def test_uniform_prior_has_zero_power_scaling_sensitivity():
    """π(τ)^α ∝ π(τ) on its support: scaling a uniform prior changes nothing."""
    res = bm.fit_binary("crins2014_ar", tau_prior="uniform:0:5", chains=2, draws=300,
                        tune=300, seed=3)
    ps = power_scaling(res.idata, res.data, res.priors)
    assert all(v == 0.0 for v in ps.by_prior["tau"].values())
    assert ps.prior["log_or"] > 0  # the effect and baseline priors still count


@pytest.mark.mcmc
def test_fit_json_and_summary_report_power_scaling(crins_fit):
    from bayesmeta.presentation.binary_text import render_binary

    doc = crins_fit.to_dict()["prior_sensitivity"]
    assert set(doc["quantities"]) == set(QUANTITIES)
    assert set(doc["by_prior"]) == {"baseline", "effect", "tau"}
    assert doc["threshold"] == 0.05 and doc["alphas"] == [0.99, 1.01]
    text = render_binary(crins_fit)
    assert "Prior sensitivity (power-scaling" in text
    assert "heterogeneity (tau)" in text
