"""Prior sensitivity sweeps: rows equal single fits; prior sets; the command line.

The sweep compiles one model and gives each configuration's priors as data; a single
``fit_binary`` compiles its own. Equality is exact (same draws, same JSON document), not
within a tolerance: the same compiled computation with the same seed must give the same
numbers, whichever configuration the model was built for.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import bayesmeta as bm
from bayesmeta.cli import cli
from bayesmeta.errors import InputError
from bayesmeta.models.prior_sets import load_prior_set
from tests.conftest import write_csv

SMALL = dict(chains=2, draws=300, tune=300, seed=7)
THREE = {
    "HN(0.5)": {},
    "U(0,5) + vague effect": {"tau": "uniform:0:5", "effect": "normal:0:10"},
    "HC(0.5), t baselines": {"tau": "halfcauchy:0.5", "baseline": "student_t:4:0:10"},
}


@pytest.fixture(scope="module")
def sweep():
    return bm.sensitivity("crins2014_ar", priors=THREE, thresholds=[0.5], **SMALL)


@pytest.mark.mcmc
def test_each_row_equals_a_separate_single_fit(sweep):
    for row in sweep.rows:
        single = bm.fit_binary("crins2014_ar", priors=row.priors, thresholds=[0.5], **SMALL)
        for var in ("theta", "tau", "theta_study", "mu", "theta_new"):
            np.testing.assert_array_equal(row.fit.idata["posterior"][var].values,
                                          single.idata["posterior"][var].values)
        assert (json.dumps(row.fit.to_dict(), sort_keys=True)
                == json.dumps(single.to_dict(), sort_keys=True))


@pytest.mark.mcmc
def test_table_verdict_and_json(sweep):
    table = sweep.table()
    assert list(table.index) == list(THREE)
    assert {"or_median", "or_q025", "or_q975", "tau_median", "p_or_gt_1",
            "p_theta_new_gt_0", "p_or_gt_0.5", "diagnostics", "power_scaling"} <= set(table)
    ref = sweep.reference_row.fit
    assert table.loc["HN(0.5)", "or_median"] == pytest.approx(ref.posterior("or").median)
    assert table.loc["HN(0.5)", "p_or_gt_1"] == ref.prob_harm(1.0)
    verdicts = {v.threshold: v for v in sweep.verdicts}
    assert set(verdicts) == {1.0, 0.5}
    for v in verdicts.values():
        _, lo = v.extreme(largest=False)
        _, hi = v.extreme(largest=True)
        assert lo <= v.probabilities["HN(0.5)"] <= hi
        mover, change = v.moved_most
        assert change == v.probabilities[mover] - v.probabilities["HN(0.5)"]
        assert abs(change) == max(abs(p - v.probabilities["HN(0.5)"])
                                  for n, p in v.probabilities.items() if n != "HN(0.5)")
        assert v.robust == (len(set(v.classes.values())) == 1)
    text = sweep.verdict_text()
    assert text[0].startswith("OR threshold 1:") and text[1].startswith("OR threshold 0.5:")
    doc = sweep.to_dict()
    assert doc["schema"] == "bayesmeta.sensitivity.binary/1"
    assert [r["name"] for r in doc["rows"]] == list(THREE)
    assert doc["rows"][1]["changed"] == ["effect", "tau"]
    assert set(doc["rows"][0]["or"]) >= {"mean", "sd", "median", "q025", "q975", "mcse"}
    assert doc["rows"][0]["probabilities"]["or_gt"]["0.5"] == table.loc["HN(0.5)",
                                                                         "p_or_gt_0.5"]
    assert doc["verdict"]["text"] == text
    json.dumps(doc, allow_nan=False)


def test_bundled_prior_sets_load_and_cite():
    rare = load_prior_set("sensitivity_rare_events", model="binomial_normal")
    assert len(rare.configurations) == 10 and rare.reference == "HN(0.5) reference"
    specs = {c.name: {k: p.spec for k, p in c.priors.items()} for c in rare.configurations}
    assert specs["Turner AE"]["tau"] == "turner:adverse-events:pharma-vs-placebo"
    assert specs["U(0,5)"]["tau"] == "uniform:0:5"
    assert specs["effect N(0,10^2)"]["effect"] == "normal:0:10"
    assert all(c.source for c in rare.configurations)
    assert {"halfnormal:0.25", "halfnormal:0.5", "halfnormal:1", "halfcauchy:0.5"} <= {
        s["tau"] for s in specs.values()}
    tau_only = load_prior_set("sensitivity_tau", model="binomial_normal")
    assert len(tau_only.configurations) == 6


@pytest.mark.parametrize("set_name", ["sensitivity_rare_events", "sensitivity_tau"])
def test_named_turner_prior_is_the_explicit_lognormal_of_before(set_name):
    """The bundled sets name the Turner et al. 2015 prior instead of writing out
    lognormal_tau2:-1.87:1.52; the distribution — and so every number of the sweep — must be
    the same: same family and parameters, same coefficients given to the compiled model
    (the only way a prior enters a sweep), same log density under scipy and the numpy mirror
    of the graph."""
    from bayesmeta.models import binomial_normal_prior_data as prior_data
    from bayesmeta.models.binomial_normal import BinomialNormalPriors
    from bayesmeta.priors import parse_prior

    named = load_prior_set(set_name, model="binomial_normal").get("Turner AE")
    explicit = parse_prior("lognormal_tau2:-1.87:1.52")
    tau = named.priors["tau"]
    assert (tau.family, tau.params) == (explicit.family, explicit.params)
    assert "Turner" in tau.source and tau.spec == "turner:adverse-events:pharma-vs-placebo"
    other = {k: v for k, v in named.priors.items() if k != "tau"}
    np.testing.assert_array_equal(
        prior_data.encode_priors(BinomialNormalPriors(**named.priors)),
        prior_data.encode_priors(BinomialNormalPriors(**other, tau=explicit)))
    x = np.geomspace(1e-4, 20, 200)
    np.testing.assert_array_equal(tau.logpdf(x), explicit.logpdf(x))
    np.testing.assert_array_equal(prior_data.log_density(tau, x),
                                  prior_data.log_density(explicit, x))


@pytest.mark.parametrize("text, fragments", [
    ("[[configuration]]\nname='a'\ntau='halfnormal:-1'\n", ["[[configuration]] 'a' tau",
                                                           "scale must be greater"]),
    ("[[configuration]]\nname='a'\nsigma='halfnormal:1'\n", ["'a'", "unknown key 'sigma'"]),
    ("[[configuration]]\nname='a'\n[[configuration]]\nname='a'\n", ["'a'", "used twice"]),
    ("model='something'\n[[configuration]]\nname='a'\n", ["key 'model'"]),
    ("title='x'\n", ["needs [[configuration]]"]),
    ("reference='b'\n[[configuration]]\nname='a'\n", ["reference 'b'"]),
    ("[[configuration]]\ntau='halfnormal:1'\n", ["[[configuration]] 1", "'name'"]),
    ("[defaults]\ntau='normal:0:1'\n[[configuration]]\nname='a'\n",
     ["[defaults] tau", "positive values"]),
    ("[[configuration]\nname='a'\n", ["not valid TOML"]),
])
def test_prior_set_errors_name_file_and_key(tmp_path, text, fragments):
    path = write_csv(tmp_path, text, "set.toml")
    with pytest.raises(InputError) as info:
        load_prior_set(path, model="binomial_normal")
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_improper_prior_in_a_set_is_refused_before_fitting(tmp_path):
    path = write_csv(tmp_path, "[[configuration]]\nname='flat tau'\n"
                               "tau='uniform_improper'\n", "set.toml")
    with pytest.raises(InputError, match=r"set.toml.*'flat tau'.*improper"):
        bm.sensitivity("crins2014_ar", priors=path)


def test_model_file_loader_refuses_a_prior_set():
    with pytest.raises(InputError, match="prior set"):
        bm.fit_binary("crins2014_ar", model="sensitivity_tau")


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.mcmc
def test_cli_writes_json_csv_plot_and_refuses_overwrite(tmp_path):
    js, cs, png = tmp_path / "s.json", tmp_path / "s.csv", tmp_path / "s.png"
    args = ["sensitivity", "crins2014_ar", "--priors", "sensitivity_tau", "--threshold",
            "0.5", "--chains", "2", "--draws", "200", "--tune", "200", "-q"]
    result = run(*args, "--json", str(js), "--csv", str(cs), "--plot", str(png))
    assert result.exit_code == 0, result.output
    assert "Verdict" in result.output and "OR threshold 0.5" in result.output
    doc = json.loads(js.read_text())
    assert len(doc["rows"]) == 6 and doc["prior_set"]["reference"] == "HN(0.5)"
    assert "p_or_gt_0.5" in cs.read_text().splitlines()[0]
    assert png.read_bytes()[:4] == b"\x89PNG"
    again = run(*args, "--json", str(js))
    assert again.exit_code == 2 and "--force" in again.output


def test_cli_refuses_unknown_plot_format_before_fitting(tmp_path):
    result = run("sensitivity", "crins2014_ar", "--plot", str(tmp_path / "p.gif"))
    assert result.exit_code == 2 and "p.gif" in result.output
