"""`bayesmeta fit effects` / `fit continuous`: outputs, JSON names, errors (exit 2, one line).

Exact fits take milliseconds, so these run the real commands. Numbers in the JSON are
checked against R bayesmeta where the reference has them (τ: 1e-6 relative; μ: within
bayesmeta's own mixture error of 1e-3 on the probability scale, see test_nnhm_exact.py).
"""

from __future__ import annotations

import json
import math

import pytest
import xarray as xr
from click.testing import CliRunner

import bayesmeta as bm
from bayesmeta.cli import cli
from tests.conftest import read_reference, write_csv


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_input_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _ref(analysis: str, param: str):
    table = read_reference("bayesmeta_nnhm_summary.csv")
    return table[(table.analysis == analysis) & (table.param == param)].iloc[0]


def test_fit_effects_json_matches_bayesmeta(tmp_path):
    out = tmp_path / "fit.json"
    result = run("fit", "effects", "eight_schools", "--tau-prior", "halfcauchy:25",
                 "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "P(mu > 0)" in result.output and "no Monte Carlo error" in result.output
    doc = json.loads(out.read_text())
    assert doc["schema"] == "bayesmeta.fit.effects/1" and doc["method"] == "exact"
    for name in ("mu", "tau", "theta_new"):
        assert set(doc[name]) == {"mean", "sd", "median", "q025", "q975", "shortest95_lo",
                                  "shortest95_hi"}
    tau = _ref("eightschools_tauHalfCauchy25_muFlat", "tau")
    assert doc["tau"]["median"] == pytest.approx(tau.q50, rel=1e-6)
    assert doc["tau"]["q975"] == pytest.approx(tau.q975, rel=1e-6)
    mu = _ref("eightschools_tauHalfCauchy25_muFlat", "mu")
    assert doc["probabilities"]["mu_gt_0"] == pytest.approx(mu.P_gt0, abs=1e-3)
    assert doc["bayes_factors"]["tau_0"] > 0 and doc["bayes_factors"]["mu_0"] is None
    assert len(doc["studies"]) == 8 and doc["studies"][0]["yi"] == 28.39
    assert doc["settings"]["priors"]["tau"]["spec"] == "halfcauchy:25"
    assert doc["data"]["column_map"] == {"yi": "y", "sei": "sigma"}
    again = run("fit", "effects", "eight_schools", "--tau-prior", "halfcauchy:25", "--json",
                str(tmp_path / "again.json"))
    assert again.exit_code == 0
    assert (tmp_path / "again.json").read_text() == out.read_text()  # same inputs, same bytes


def test_fit_effects_from_counts_with_turner_prior_and_csv(tmp_path):
    out, table = tmp_path / "crins.json", tmp_path / "crins.csv"
    result = run("fit", "effects", "crins2014_ar", "--cc", "0.5", "--tau-prior",
                 "turner:adverse-events:pharma-vs-placebo", "--threshold", "0.5",
                 "--json", str(out), "--csv", str(table))
    assert result.exit_code == 0, result.output
    assert "0.5 added to every cell of 1 table(s)" in result.output
    doc = json.loads(out.read_text())
    assert doc["data"]["measure"] == "logOR" and "or" in doc and "or_new" in doc
    assert doc["or"]["median"] == pytest.approx(2.718281828459045 ** doc["mu"]["median"])
    assert doc["settings"]["priors"]["tau"]["params"] == [-1.87, 1.52]
    assert doc["settings"]["priors"]["mu"]["spec"] == "normal:0:4"  # log-ratio default
    # --threshold 0.5 is an OR of 0.5 (as for plot, report and sensitivity): P(OR > 0.5) =
    # P(mu > log 0.5), keyed both ways; the exact posterior of the same fit in the API
    prob = doc["probabilities"]
    api_fit = bm.fit_effects("crins2014_ar", cc=0.5,
                             tau_prior="turner:adverse-events:pharma-vs-placebo")
    assert prob["or_gt"]["0.5"] == prob["mu_gt"][f"{math.log(0.5):g}"] == pytest.approx(
        api_fit.posterior("mu").sf(math.log(0.5)), rel=1e-12)
    assert prob["or_new_gt"]["0.5"] == pytest.approx(
        api_fit.posterior("theta_new").sf(math.log(0.5)), rel=1e-12)
    assert doc["settings"]["display_thresholds"] == [0.5]
    assert "P(OR>0.5)" in table.read_text() and "P(OR > 0.5)" in result.output


def test_fit_effects_threshold_means_what_sensitivity_means(tmp_path):
    """One threshold, one meaning: `fit effects --threshold 2` and `sensitivity --model
    effects --threshold 2` report the same P(OR > 2) for the same (default) priors, and a
    log-scale value is refused with a one-line error."""
    fit_js, sweep_js = tmp_path / "fit.json", tmp_path / "sweep.json"
    assert run("fit", "effects", "crins2014_ar", "--cc", "0.5", "--threshold", "2",
               "--json", str(fit_js)).exit_code == 0
    assert run("sensitivity", "crins2014_ar", "--model", "effects", "--cc", "0.5",
               "--threshold", "2", "--json", str(sweep_js)).exit_code == 0
    fit_doc, sweep = json.loads(fit_js.read_text()), json.loads(sweep_js.read_text())
    default = next(r for r in sweep["rows"]
                   if r["priors"]["tau"]["spec"] == fit_doc["settings"]["priors"]["tau"]["spec"]
                   and r["priors"]["mu"]["spec"] == fit_doc["settings"]["priors"]["mu"]["spec"])
    assert fit_doc["probabilities"]["or_gt"]["2"] == pytest.approx(
        default["probabilities"]["or_gt"]["2"], rel=1e-12)
    bad = run("fit", "effects", "crins2014_ar", "--cc", "0.5", "--threshold", "-0.5")
    assert bad.exit_code == 2 and bad.output.count("\n") == 1
    assert "positive ratio" in bad.output and "not the log scale" in bad.output


def test_fit_continuous_md_reproduces_bayesmeta(tmp_path):
    out = tmp_path / "normand.json"
    result = run("fit", "continuous", "normand1999_arms", "--measure", "MD", "--col",
                 "study=source", "--tau-prior", "uniform_improper", "--json", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    tau = _ref("normand1999_MD_tauUniform_muFlat", "tau")
    assert doc["tau"]["median"] == pytest.approx(tau.q50, rel=1e-6)
    assert doc["tau"]["shortest95_lo"] == pytest.approx(tau.shortest95_lo, rel=1e-6)
    assert doc["data"]["measure"] == "MD" and doc["studies"][0]["study"] == "Edinburgh"


def test_fit_continuous_smd_uses_its_defaults():
    result = run("fit", "continuous", "normand1999_arms", "--measure", "smd",
                 "--outcome-type", "final")
    assert result.exit_code == 0, result.output
    assert "half-normal(scale=0.25)" in result.output and "normal(mean=0, sd=2)" in result.output
    assert "final values" in result.output


def test_exact_save_writes_the_tau_grid(tmp_path):
    nc = tmp_path / "fit.nc"
    result = run("fit", "effects", "normand1999_md", "--measure", "MD", "--tau-prior",
                 "halfnormal:50", "--save", str(nc))
    assert result.exit_code == 0, result.output
    tree = xr.open_datatree(nc)
    grid = tree["exact_tau_grid"]
    assert float(grid["weight"].sum()) == pytest.approx(1.0, abs=1e-10)
    assert tree["observed_data"]["yi"].values[0] == -20


@pytest.mark.parametrize("args, fragments", [
    (["eight_schools"], ["--tau-prior", "no default prior for tau", "uniform_improper"]),
    (["normand1999_md", "--measure", "MD"], ["--tau-prior", "MD scale"]),
    (["eight_schools", "--tau-prior", "normal:0:1"], ["--tau-prior", "needs positive"]),
    (["eight_schools", "--tau-prior", "turner:nope:pharma-vs-placebo"],
     ["--tau-prior", "unknown outcome type"]),
    (["eight_schools", "--tau-prior", "halfnormal:5", "--mu-prior", "halfnormal:1"],
     ["--mu-prior", "needs real values"]),
    (["eight_schools", "--tau-prior", "uniform_improper", "--mu-prior", "normal:0:50",
      "--method", "mcmc"], ["--tau-prior", "improper", "--method exact"]),
    (["eight_schools", "--tau-prior", "halfnormal:5", "--method", "mcmc"],
     ["--mu-prior", "improper"]),
    (["eight_schools", "--tau-prior", "halfnormal:5", "--mu-prior", "student_t:3:0:1"],
     ["--mu-prior", "normal or flat"]),
    (["eight_schools", "--measure", "ratio"], ["--measure", "unknown measure"]),
    (["crins2014_ar"], ["Gras (2008)", "--cc 0.5"]),
    (["crins2014_ar", "--cc", "-1"], ["--cc", "positive"]),
    (["normand1999_arms"], ["fit continuous"]),
    (["nope_data"], ["neither a file nor a bundled dataset"]),
    (["eight_schools", "--tau-prior", "halfnormal:5", "--model", "binomial_normal"],
     ["not nnhm"]),
    (["eight_schools", "--tau-prior", "halfnormal:5", "--subgroup", "x"],
     ["no column 'subgroup'"]),
])
def test_bad_input_exits_2_with_one_line(args, fragments):
    assert_input_error(run("fit", "effects", *args), *fragments)


def test_improper_posterior_exits_2(tmp_path):
    path = write_csv(tmp_path, "study,yi,sei\nA,0.1,0.2\nB,0.5,0.3\n")
    assert_input_error(run("fit", "effects", str(path), "--tau-prior", "uniform_improper"),
                       "improper for 2 studies")


def test_bad_continuous_file_exits_2(tmp_path):
    path = write_csv(tmp_path, "study,mean_t,sd_t,n_t,mean_c,sd_c,n_c\nA,1,-1,10,2,1,10\n"
                               "B,1,1,10,2,1,10\n")
    assert_input_error(run("fit", "continuous", str(path), "--measure", "SMD"),
                       str(path), "row 2", "column 'sd_t'")


def test_existing_output_is_kept_without_force(tmp_path):
    out = tmp_path / "fit.json"
    out.write_text("precious")
    assert_input_error(run("fit", "effects", "eight_schools", "--tau-prior", "halfcauchy:25",
                           "--json", str(out)), "--force")
    assert out.read_text() == "precious"
    assert run("fit", "effects", "eight_schools", "--tau-prior", "halfcauchy:25", "--json",
               str(out), "--force").exit_code == 0


def test_model_file_priors(tmp_path):
    model = tmp_path / "m.toml"
    model.write_text('model = "nnhm"\n[priors]\ntau = "rhodes:general"\nmu = "normal:0:1"\n')
    result = run("fit", "effects", "eight_schools", "--model", str(model))
    assert result.exit_code == 0, result.output
    assert "rhodes:general" in result.output
    assert run("fit", "effects", "eight_schools", "--model", "nnhm_reference").exit_code == 0


def test_exact_path_does_not_load_pymc():
    """An exact fit is milliseconds; importing PyMC would cost ~1 s per process."""
    import subprocess
    import sys

    code = ("import sys, bayesmeta as bm; bm.fit_effects('eight_schools', "
            "tau_prior='halfcauchy:25').to_dict(); import bayesmeta.cli; "
            "print('pymc' in sys.modules, 'pytensor' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
