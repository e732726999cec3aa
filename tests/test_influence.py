"""Influence: the per-study log-likelihood, PSIS-LOO, and leave-one-study-out refits that
equal separate fits without the study."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

import bayesmeta as bm
from bayesmeta.cli import cli
from bayesmeta.errors import InputError
from tests.conftest import write_csv

SMALL = dict(chains=2, draws=300, tune=300, seed=7)
pytestmark = pytest.mark.mcmc


@pytest.fixture(scope="module")
def small_fit():
    return bm.fit_binary("crins2014_ar", **SMALL)


def test_pointwise_log_likelihood_equals_pymc(small_fit):
    """Our scipy log-likelihood (both arms' binomial log pmf per study and draw) equals the
    one PyMC computes from the model graph, to rounding."""
    import pymc as pm

    from bayesmeta.models.binomial_normal import build_binomial_normal

    ours = small_fit.pointwise_log_likelihood()
    model = build_binomial_normal(small_fit.data, small_fit.priors)
    tree = xr.DataTree.from_dict({"posterior": xr.DataTree(
        small_fit.idata["posterior"].to_dataset())})
    theirs = pm.compute_log_likelihood(tree, model=model, progressbar=False,
                                       extend_inferencedata=False)
    total = (theirs["events_t"] + theirs["events_c"]).transpose("chain", "draw", "study")
    assert ours.dims == ("chain", "draw", "study")
    np.testing.assert_allclose(ours.values, total.values, rtol=1e-10, atol=1e-10)


def test_psis_loo_per_study(small_fit):
    inf = bm.influence(small_fit, refits=False)
    loo = inf.loo
    assert loo.studies == small_fit.data.study
    assert loo.pareto_k.shape == (6,) and np.all(np.isfinite(loo.pareto_k))
    assert loo.elpd == pytest.approx(loo.elpd_i.sum())
    assert 0.5 < loo.good_k <= 0.7
    # The verdict counts the high k̂ and says what to do about them.
    assert f"{loo.n_high} of 6 studies" in loo.verdict() or loo.n_high == 0
    assert inf.refits == () and "not run" in inf.refits_skipped
    assert inf.to_frame().index.tolist() == list(small_fit.data.study)


def test_leave_one_out_refit_equals_a_separate_fit(small_fit, tmp_path):
    """The refit without Gras (2008) is the same computation as fitting the other five
    studies from their own CSV file with the same priors, settings and seed: the draws are
    identical, so every number is equal (no tolerance)."""
    inf = bm.influence(small_fit, studies=["Gras (2008)"])
    (refit,) = inf.refits
    assert refit.study == "Gras (2008)"
    path = write_csv(tmp_path, "study,events_t,n_t,events_c,n_c\n"
                     "Heffron (2003),14,61,15,20\nGibelli (2004),16,28,19,28\n"
                     "Schuller (2005),3,18,8,12\nGanschow (2005),9,54,29,54\n"
                     "Spada (2006),4,36,11,36\n")
    separate = bm.fit_binary(path, **SMALL)
    lo, hi = separate.posterior("or").interval(0.95)
    log_or = separate.posterior("log_or")
    assert refit.median == pytest.approx(np.exp(log_or.median), rel=1e-12)
    assert (refit.lower, refit.upper) == pytest.approx(tuple(np.exp(log_or.interval(0.95))),
                                                       rel=1e-12)
    assert refit.p_harm == separate.prob_harm(1.0)
    assert refit.p_harm_new == separate.prob_harm(1.0, predictive=True)
    assert refit.tau_median == separate.posterior("tau").median
    assert lo <= refit.median <= hi
    doc = inf.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["schema"] == "bayesmeta.influence/1"
    assert doc["leave_one_out"][0]["study"] == "Gras (2008)"
    assert doc["leave_one_out"][0]["ratio_to_full"] == pytest.approx(
        refit.median / inf.full.median)
    assert len(doc["psis_loo"]["studies"]) == 6


def test_without_a_study():
    data = bm.load_binary("crins2014_ar")
    five = data.without("Spada (2006)")
    assert five.k == 5 and "Spada (2006)" not in five.study
    assert five.events_c.tolist() == [15, 19, 8, 29, 3]
    with pytest.raises(InputError, match="no study 'Nobody'"):
        data.without("Nobody")
    two = five.without("Gras (2008)").without("Heffron (2003)").without("Gibelli (2004)")
    assert two.study == ("Schuller (2005)", "Ganschow (2005)")
    with pytest.raises(InputError, match="at least two"):
        two.without("Schuller (2005)")


def test_cli_influence_json_csv(tmp_path):
    from click.testing import CliRunner

    js, cs = tmp_path / "i.json", tmp_path / "i.csv"
    result = CliRunner().invoke(cli, [
        "influence", "crins2014_ar", "--chains", "2", "--draws", "300", "--tune", "300",
        "--study", "Heffron (2003)", "--json", str(js), "--csv", str(cs), "-q"],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Pareto k" in result.output and "Heffron (2003)" in result.output
    doc = json.loads(js.read_text())
    assert [r["study"] for r in doc["leave_one_out"]] == ["Heffron (2003)"]
    assert {"median", "q025", "q975", "p_harm", "p_harm_new", "median_without",
            "p_harm_without", "ratio_to_full"} <= set(doc["leave_one_out"][0])
    assert doc["psis_loo"]["studies"][0]["study"] == "Heffron (2003)"
    assert "pareto_k" in cs.read_text() and "median_without" in cs.read_text()
