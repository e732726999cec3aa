"""Prior sweeps of the normal–normal model: prior sets, the τ-scale curve, the command line.

Each configuration of an exact sweep is computed by the same code as ``fit_effects`` with
that prior, and each point of the τ-scale curve by ``fit_effects`` with the τ prior at that
scale: equality is exact (identical numbers, identical JSON), not within a tolerance — the
quadrature is deterministic. The reference rows are also checked against R bayesmeta
(tests/reference/bayesmeta_nnhm_*), with the tolerances of tests/test_nnhm_exact.py:
τ's quantiles to 1e-6 relative (both programs integrate p(τ | y) numerically), μ's median to
3 significant digits (R approximates μ's marginal by a finite mixture over a τ grid, whose
error reaches ~1e-3 on the probability scale; see that file's docstring).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import bayesmeta as bm
from bayesmeta.cli import cli
from bayesmeta.errors import InputError
from bayesmeta.models.prior_sets import load_prior_set
from tests.conftest import REFERENCE, write_csv

NORMAND = {"read_options": {"columns": {"study": "source"}}}


@pytest.fixture(scope="module")
def crins_sweep():
    return bm.sensitivity("crins2014_ar", model="effects", cc=0.5, thresholds=[0.5])


@pytest.fixture(scope="module")
def smd_sweep():
    return bm.sensitivity("normand1999_arms", model="continuous", measure="SMD",
                          thresholds=[-0.2], **NORMAND)


def _same_document(a, b) -> None:
    assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)


def test_each_row_equals_a_separate_exact_fit(crins_sweep):
    """Every row — every number of its fit, its table row and its probabilities — is
    fit_effects with that configuration's priors given as strings (so the specs round-trip)."""
    assert crins_sweep.method == "exact" and len(crins_sweep.rows) == 12
    table = crins_sweep.table()
    log_half = math.log(0.5)
    for row in crins_sweep.rows:
        single = bm.fit_effects("crins2014_ar", cc=0.5, tau_prior=row.priors.tau.spec,
                                mu_prior=row.priors.mu.spec, thresholds=[0.5])
        _same_document(row.fit, single)
        t = table.loc[row.name]
        orr = single.posterior("or")
        assert (t["or_median"], t["or_q025"], t["or_q975"]) == (orr.median, *orr.interval())
        assert t["tau_median"] == single.posterior("tau").median
        assert (t["or_new_q025"], t["or_new_q975"]) == single.posterior("or_new").interval()
        probs = single.probabilities()
        assert t["p_or_gt_1"] == probs["mu_gt_0"]
        assert t["p_theta_new_gt_0"] == probs["theta_new_gt_0"]
        assert t["p_or_gt_0.5"] == probs["mu_gt"][f"{log_half:g}"]
        assert row.prob(0.5, predictive=True) == probs["theta_new_gt"][f"{log_half:g}"]


def test_continuous_rows_equal_fit_continuous(smd_sweep):
    assert smd_sweep.data.measure == "SMD" and len(smd_sweep.rows) == 10
    for row in smd_sweep.rows:
        single = bm.fit_continuous("normand1999_arms", measure="SMD", priors=row.priors,
                                   thresholds=[-0.2], **NORMAND)
        _same_document(row.fit, single)
        assert row.prob(-0.2) == single.probabilities()["mu_gt"]["-0.2"]


def test_reference_rows_agree_with_r_bayesmeta():
    """Independent anchor: the same priors in R bayesmeta (tests/reference)."""
    ref = json.loads((REFERENCE / "bayesmeta_nnhm.json").read_text())
    summary = pd.read_csv(REFERENCE / "bayesmeta_nnhm_summary.csv")
    cases = {"crinsAR_logOR_tauHN0.5_muN0sd4": ("logOR", "HN(0.5) reference", None),
             "eightschools_tauUniform_muFlat": ("generic", "R defaults",
                                                {"mu": "flat", "tau": "uniform_improper"}),
             "eightschools_tauHalfCauchy25_muFlat": ("generic", "HC(25)",
                                                     {"mu": "flat", "tau": "halfcauchy:25"})}
    for name, (measure, config, priors) in cases.items():
        frame = pd.DataFrame(ref[name]["data"]).rename(columns={"y": "yi", "sigma": "sei"})
        sweep = bm.sensitivity(frame, model="effects", measure=measure,
                               priors=None if priors is None else {config: priors})
        row = sweep.row(config)
        r = summary[summary.analysis == name].set_index("param")
        tau = row.fit.posterior("tau")
        assert tau.median == pytest.approx(r.loc["tau", "median"], rel=1e-6)
        assert tau.interval() == pytest.approx((r.loc["tau", "q025"], r.loc["tau", "q975"]),
                                               rel=1e-6)
        assert row.summary("mu")["median"] == pytest.approx(r.loc["mu", "median"], rel=1e-3)


def test_verdict_and_json(crins_sweep, smd_sweep):
    doc = crins_sweep.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["schema"] == "bayesmeta.sensitivity.effects/1" and doc["method"] == "exact"
    assert doc["effect"] == {"name": "odds ratio", "symbol": "OR", "log": True, "null": 1.0}
    row = doc["rows"][0]
    assert set(row) >= {"mu", "tau", "theta_new", "or", "or_new", "probabilities",
                        "bayes_factors", "diagnostics", "priors", "changed"}
    assert set(row["probabilities"]) == {"or_gt_1", "theta_new_gt_0", "or_gt", "or_new_gt"}
    assert row["probabilities"]["or_gt"]["0.5"] == crins_sweep.table().iloc[0]["p_or_gt_0.5"]
    assert doc["rows"][-1]["changed"] == ["mu", "tau"]
    verdicts = {v["threshold"]: v for v in doc["verdict"]["thresholds"]}
    assert set(verdicts) == {1.0, 0.5}
    # Crins: the CrI of the OR lies below 1 under every prior; 0.5 is crossed by the vague
    # ones (U(0,5), improper uniform) — read from the table, not assumed.
    table = crins_sweep.table()
    below_half = table["or_q975"] < 0.5
    assert verdicts[1.0]["robust"] == bool((table["or_q975"] < 1).all())
    assert verdicts[0.5]["crossed_by"] == [n for n in table.index if not below_half[n]]
    assert verdicts[0.5]["p_or_gt"] == {n: table.loc[n, "p_or_gt_0.5"] for n in table.index}
    text = crins_sweep.verdict_text()
    assert text[0].startswith("OR threshold 1:") and text[1].startswith("OR threshold 0.5:")
    from bayesmeta.presentation.effects_sensitivity_text import render_effects_sensitivity

    again = bm.sensitivity("crins2014_ar", model="effects", cc=0.5, thresholds=[1, 0.5])
    header = next(line for line in render_effects_sensitivity(again).splitlines()
                  if line.strip().startswith("prior "))
    assert header.count("P(OR>1)") == 1 and header.count("P(OR>0.5)") == 1, header
    smd = smd_sweep.to_dict()
    assert set(smd["rows"][0]["probabilities"]) == {"mu_gt_0", "theta_new_gt_0", "mu_gt",
                                                     "theta_new_gt"}
    assert "p_mu_gt" in smd["verdict"]["thresholds"][0]
    assert smd_sweep.verdict_text()[0].startswith("SMD threshold 0:")


def test_bundled_effect_prior_sets_load_and_cite():
    log_ratio = load_prior_set("sensitivity_log_ratio", model="nnhm")
    assert log_ratio.measures == ("logOR", "logRR", "logHR")
    specs = {c.name: {k: p.spec for k, p in c.priors.items()} for c in log_ratio.configurations}
    assert specs["HN(0.5) reference"] == {"mu": "normal:0:4", "tau": "halfnormal:0.5"}
    assert specs["Turner AE"]["tau"] == "turner:adverse-events:pharma-vs-placebo"
    assert {"halfnormal:0.25", "halfnormal:1", "halfcauchy:0.5", "uniform:0:5",
            "uniform_improper", "jeffreys"} <= {s["tau"] for s in specs.values()}
    assert {"flat", "normal:0:4"} <= {s["mu"] for s in specs.values()}
    smd = load_prior_set("sensitivity_smd", model="nnhm")
    assert smd.measures == ("SMD",)
    assert any(c.priors["tau"].family == "logt_tau2" for c in smd.configurations)  # Rhodes
    for prior_set in (log_ratio, smd):
        assert all(c.source for c in prior_set.configurations)


def test_measure_defaults_fill_slots_and_mismatched_sets_are_refused(tmp_path):
    data = pd.DataFrame({"study": list("ABCD"), "yi": [1.0, 3.0, -2.0, 4.0],
                         "sei": [2.0, 1.5, 2.5, 3.0]})
    sweep = bm.sensitivity(data, model="effects", measure="MD",
                           priors={"HN(5)": {"tau": "halfnormal:5"}})
    assert sweep.rows[0].priors.mu.family == "flat"  # MD's default mu prior
    with pytest.raises(InputError, match="no prior for tau"):
        bm.sensitivity(data, model="effects", measure="MD", priors={"a": {}})
    with pytest.raises(InputError, match=r"--priors.*no bundled prior set"):
        bm.sensitivity(data, model="effects", measure="MD")
    with pytest.raises(InputError, match=r"written for SMD.*data are logOR"):
        bm.sensitivity("crins2014_ar", model="effects", cc=0.5, priors="sensitivity_smd")
    with pytest.raises(InputError, match="key 'model'"):
        bm.sensitivity("crins2014_ar", model="effects", cc=0.5,
                       priors="sensitivity_rare_events")
    with pytest.raises(InputError, match=r"--threshold.*OR scale"):
        bm.sensitivity("crins2014_ar", model="effects", cc=0.5, thresholds=[-0.5])
    with pytest.raises(InputError, match="--method"):
        bm.sensitivity("crins2014_ar", model="effects", cc=0.5, method="reweight")
    with pytest.raises(InputError, match="--method"):
        bm.sensitivity("crins2014_ar", model="binary", method="exact")
    path = write_csv(tmp_path, "model='nnhm'\n[[configuration]]\nname='t'\n"
                               "mu='student_t:3:0:1'\n", "set.toml")
    with pytest.raises(InputError, match=r"set.toml.*'t'.*normal or flat"):
        bm.sensitivity("crins2014_ar", model="effects", cc=0.5, priors=path)


def test_improper_posterior_rows_are_skipped_with_the_reason():
    two = pd.DataFrame({"study": ["A", "B"], "yi": [-1.0, -0.2], "sei": [0.4, 0.5]})
    sweep = bm.sensitivity(two, model="effects", measure="logOR")
    assert [n for n, _ in sweep.skipped] == ["R bayesmeta defaults"]  # flat mu + U(0, inf)
    assert "improper posterior with 2 studies" in sweep.skipped[0][1]
    assert "Not fitted: R bayesmeta defaults" in sweep.verdict_text()[-1]
    assert sweep.to_dict()["skipped"][0]["name"] == "R bayesmeta defaults"
    with pytest.raises(InputError, match="reference configuration cannot be fitted"):
        bm.sensitivity(two, model="effects", measure="logOR",
                       priors={"ref": {"mu": "flat", "tau": "uniform_improper"}})


@pytest.mark.mcmc
def test_mcmc_rows_equal_fit_effects_mcmc_and_improper_priors_are_skipped():
    small = dict(chains=2, draws=200, tune=200, seed=5)
    priors = {"HC(5)": {"tau": "halfcauchy:5", "mu": "normal:0:20"},
              "improper": {"tau": "uniform_improper", "mu": "normal:0:20"}}
    sweep = bm.sensitivity("eight_schools", model="effects", method="mcmc", priors=priors,
                           **small)
    assert sweep.names == ["HC(5)"] and sweep.skipped[0][0] == "improper"
    assert "exact method only" in sweep.skipped[0][1]
    single = bm.fit_effects("eight_schools", tau_prior="halfcauchy:5", mu_prior="normal:0:20",
                            method="mcmc", **small)
    for var in ("mu", "tau", "theta", "theta_new"):
        np.testing.assert_array_equal(sweep.rows[0].fit.idata["posterior"][var].values,
                                      single.idata["posterior"][var].values)
    _same_document(sweep.rows[0].fit, single)


# -- the τ-scale curve ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def smd_curve():
    return bm.tau_scale_curve("normand1999_arms", "halfnormal:0.05:2", model="continuous",
                              measure="SMD", points=40, thresholds=[-0.25], **NORMAND)


def test_curve_points_equal_separate_exact_fits(smd_curve):
    grid = smd_curve.grid
    assert smd_curve.reference_scale == 0.25 and 0.25 in set(grid["scale"])  # the default
    for i in (0, 7, int(np.flatnonzero(grid["scale"] == 0.25)[0]), len(grid) - 1):
        point = grid.iloc[i]
        single = bm.fit_continuous("normand1999_arms", measure="SMD",
                                   tau_prior=f"halfnormal:{float(point['scale'])!r}",
                                   thresholds=[-0.25], **NORMAND)
        for name, col in (("mu", "mu"), ("theta_new", "theta_new"), ("tau", "tau")):
            m = single.posterior(name)
            assert point[f"{col}_median"] == m.median
            assert (point[f"{col}_q025"], point[f"{col}_q975"]) == m.interval()
        probs = single.probabilities()
        assert point["p_mu_gt_0"] == probs["mu_gt_0"]
        assert point["p_mu_gt_-0.25"] == probs["mu_gt"]["-0.25"]
        assert point["p_theta_new_gt_0"] == probs["theta_new_gt_0"]
        assert point["p_theta_new_gt_-0.25"] == probs["theta_new_gt"]["-0.25"]


def test_curve_crossings_are_where_the_interval_changes(smd_curve):
    """Each crossing is a root: just below its scale the CrI sits on one side of c, just
    above on the other (Brent's tolerance is 1e-6 relative; we step 1e-4)."""
    assert smd_curve.crossings, "Normand's SMD CrI reaches 0 as the tau prior widens"
    for x in smd_curve.crossings:
        lo = bm.fit_continuous("normand1999_arms", measure="SMD",
                               tau_prior=f"halfnormal:{float(x.scale) * (1 - 1e-4)!r}", **NORMAND)
        hi = bm.fit_continuous("normand1999_arms", measure="SMD",
                               tau_prior=f"halfnormal:{float(x.scale) * (1 + 1e-4)!r}", **NORMAND)
        k = 0 if x.limit == "q025" else 1
        assert (lo.posterior("mu").interval()[k] - x.threshold) * (
            hi.posterior("mu").interval()[k] - x.threshold) < 0
    text = smd_curve.verdict_text()
    assert text[0].startswith("SMD threshold 0: NOT robust")
    doc = smd_curve.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["schema"] == "bayesmeta.sensitivity.tau_scale/1"
    assert len(doc["grid"]) == len(smd_curve.grid) and doc["crossings"][0]["scale"] > 0


def test_curve_on_log_odds_ratios_uses_ratio_thresholds():
    curve = bm.tau_scale_curve("crins2014_ar", "halfcauchy:0.1:1", cc=0.5, points=5,
                               thresholds=[0.5])
    single = bm.fit_effects("crins2014_ar", cc=0.5, tau_prior="halfcauchy:1")
    last = curve.grid.iloc[-1]
    assert last["or_median"] == single.posterior("or").median
    assert last["p_or_gt_0.5"] == single.posterior("mu").sf(math.log(0.5))
    assert last["p_or_gt_1"] == single.probabilities()["mu_gt_0"]


@pytest.mark.parametrize("spec, fragment", [
    ("halfnormal:2:0.1", "0 < FROM < TO"), ("normal:0.1:2", "not a τ prior family"),
    ("halfnormal:0.1", "halfnormal:FROM:TO"), ("halft:0.1:2", "halft:NU:FROM:TO"),
    ("halfnormal:a:2", "must be numbers"),
])
def test_curve_spec_errors(spec, fragment):
    with pytest.raises(InputError, match="--tau-scale-curve") as info:
        bm.tau_scale_curve("eight_schools", spec)
    assert fragment in str(info.value)


def test_curve_families_sweep_their_scale():
    from bayesmeta.results.tau_scale_curve import parse_curve_spec

    for spec, at_2 in (("exponential:1:4", "exponential:0.5"), ("uniform:1:4", "uniform:0:2"),
                       ("halft:3:1:4", "halft:3:2"), ("halfcauchy:1:4", "halfcauchy:2")):
        family, lo, hi = parse_curve_spec(spec)
        assert (lo, hi) == (1.0, 4.0) and family.prior(2.0).spec == at_2
        assert family.scale_of(family.prior(2.0)) == pytest.approx(2.0)


# -- command line ---------------------------------------------------------------------------
def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_effects_sweep_writes_json_csv_plot(tmp_path):
    js, cs, png = tmp_path / "s.json", tmp_path / "s.csv", tmp_path / "s.png"
    args = ["sensitivity", "crins2014_ar", "--model", "effects", "--cc", "0.5",
            "--threshold", "0.5", "-q"]
    result = run(*args, "--json", str(js), "--csv", str(cs), "--plot", str(png))
    assert result.exit_code == 0, result.output
    assert "OR threshold 0.5" in result.output and "Turner AE" in result.output
    doc = json.loads(js.read_text())
    assert doc["schema"] == "bayesmeta.sensitivity.effects/1" and len(doc["rows"]) == 12
    table = pd.read_csv(cs)
    assert list(table["prior"]) == doc["prior_set"]["names"]
    assert png.read_bytes()[:4] == b"\x89PNG"
    again = run(*args, "--json", str(js))
    assert again.exit_code == 2 and "--force" in again.output


def test_cli_curve_writes_json_csv_plot(tmp_path):
    js, cs, svg = tmp_path / "c.json", tmp_path / "c.csv", tmp_path / "c.svg"
    result = run("sensitivity", "normand1999_arms", "--model", "continuous", "--measure",
                 "SMD", "--col", "study=source", "--tau-scale-curve", "halfnormal:0.05:2",
                 "--grid", "30", "-q", "--json", str(js), "--csv", str(cs), "--plot",
                 str(svg))
    assert result.exit_code == 0, result.output
    assert "NOT robust" in result.output and "(default)" in result.output
    assert len(json.loads(js.read_text())["grid"]) == len(pd.read_csv(cs)) == 31
    assert svg.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize("args, option", [
    (["crins2014_ar", "--tau-scale-curve", "halfnormal:0.1:2"], "--tau-scale-curve"),
    (["eight_schools", "--model", "effects", "--tau-scale-curve", "halfnormal:1:9",
      "--priors", "sensitivity_log_ratio"], "--priors"),
    (["eight_schools", "--model", "effects", "--tau-scale-curve", "halfnormal:1:9",
      "--method", "mcmc"], "--method"),
    (["eight_schools", "--model", "effects", "--mu-prior", "flat", "--priors", "x"],
     "--mu-prior"),
    (["crins2014_ar", "--measure", "logOR"], "--measure"),
    (["crins2014_ar", "--model", "effects"], "--cc"),  # a zero cell: needs --cc
    (["eight_schools", "--model", "effects"], "--priors"),  # no set for generic effects
    (["normand1999_arms", "--model", "continuous", "--col", "study=source"], "--measure"),
])
def test_cli_refuses_with_one_line(args, option):
    result = run("sensitivity", *args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and option in lines[0], result.output
