"""The command line: bad input exits 2 with one line; outputs are written safely."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import xarray as xr
from click.testing import CliRunner

from bayesmeta.cli import cli
from tests.conftest import ROOT, write_csv
from tests.test_data_binary import BAD_CASES

FAST = ["--chains", "2", "--draws", "300", "--tune", "300", "-q"]
# Long enough that the diagnostics pass with margin (2 × 300 draws sits at the ESS >= 100
# per chain threshold, so passing it was luck of the seed).
ENOUGH = ["--chains", "2", "--draws", "600", "--tune", "300", "-q"]


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_input_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output  # exactly one line, no traceback
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("text, fragments", [
    ("study,events_t,n_t,events_c,n_c\nA,25,20,0,18\nB,1,9,1,8\n",
     ["row 2", "column 'events_t'", "exceed"]),
    ("study,events_t,n_t,events_c,n_c\nA,1,20,0,18\n", ["only 1 study"]),
    ("", ["file is empty"]),
    ("study;events_t;n_t;events_c;n_c\nA;1;20;0;18\n", ["semicolons"]),
    ("study,events_t,n_t\nA,1,20\nB,2,20\n", ["missing column 'events_c'"]),
])
def test_bad_data_exits_2_with_one_line(tmp_path, text, fragments):
    path = write_csv(tmp_path, text)
    assert_input_error(run("fit", "binary", str(path), *FAST), str(path), *fragments)


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_every_validation_error_exits_2_through_the_cli(tmp_path, case):
    """Each malformed file of tests/test_data_binary.py: exit 2, one line, same message."""
    text, fragments = BAD_CASES[case]
    path = write_csv(tmp_path, text)
    assert_input_error(run("fit", "binary", str(path), *FAST), str(path), *fragments)


def test_excel_and_binary_files_exit_2(tmp_path):
    xlsx = tmp_path / "t.xlsx"
    xlsx.write_bytes(b"PK\x03\x04" + bytes(100))
    assert_input_error(run("fit", "binary", str(xlsx), *FAST), "Excel")
    binary = tmp_path / "t.csv"
    binary.write_bytes(bytes(range(256)))
    assert_input_error(run("fit", "binary", str(binary), *FAST), "binary file")


@pytest.mark.parametrize("args, fragment", [
    (["--tau-prior", "halfnormal:-1"], "--tau-prior: halfnormal: scale must be greater"),
    (["--tau-prior", "normal:0:1"], "needs positive values"),
    (["--tau-prior", "wibble:1"], "unknown prior 'wibble'"),
    (["--effect-prior", "normal:0"], "normal takes 2 parameter(s)"),
    (["--threshold", "0"], "--threshold"),
    (["--threshold", "-2"], "--threshold"),
    (["--baseline-risk", "1.5"], "--baseline-risk"),
    (["--target-accept", "1.2"], "--target-accept"),
    (["--draws", "0"], "--draws"),
    (["--col", "events_t"], "--col"),
    (["--subgroup", "autoimmune"], "no column 'subgroup' to select on"),
    (["--model", "no_such_model"], "--model"),
])
def test_bad_options_exit_2(args, fragment):
    assert_input_error(run("fit", "binary", "crins2014_ar", *FAST, *args), fragment)


def test_subgroup_with_too_few_studies():
    assert_input_error(run("fit", "binary", "msc_serious_ae", "--subgroup", "nope", *FAST),
                       "subgroup = 'nope' leaves 0 studies", "autoimmune")


def test_unknown_dataset_lists_the_bundled_ones():
    assert_input_error(run("fit", "binary", "crins2015", *FAST), "crins2014_ar",
                       "neither a file nor a bundled dataset")


def test_effects_dataset_refused_for_binary_fit():
    assert_input_error(run("fit", "binary", "eight_schools", *FAST),
                       "holds effects data, not binary")


def test_bad_model_file(tmp_path):
    bad = tmp_path / "m.toml"
    bad.write_text('model = "binomial_normal"\n[priors]\ntau = "halfcauchy:-1"\n')
    assert_input_error(run("fit", "binary", "crins2014_ar", "--model", str(bad), *FAST),
                       str(bad), "tau", "scale must be greater than 0")
    bad.write_text('model = "binomial_normal"\n[priors\n')
    assert_input_error(run("fit", "binary", "crins2014_ar", "--model", str(bad), *FAST),
                       "not valid TOML")
    bad.write_text('model = "binomial_normal"\n[priors]\nsigma = "halfnormal:1"\n')
    assert_input_error(run("fit", "binary", "crins2014_ar", "--model", str(bad), *FAST),
                       "unknown prior 'sigma'")


def test_existing_output_is_not_overwritten_without_force(tmp_path):
    out = tmp_path / "fit.json"
    out.write_text("precious")
    assert_input_error(run("fit", "binary", "crins2014_ar", "--json", str(out), *FAST),
                       str(out), "--force")
    assert out.read_text() == "precious"


def test_output_directory_must_exist(tmp_path):
    assert_input_error(run("fit", "binary", "crins2014_ar", "--json",
                           str(tmp_path / "no" / "x.json"), *FAST), "does not exist")


@pytest.mark.mcmc
def test_fit_writes_json_csv_netcdf(tmp_path):
    js, cs, nc = tmp_path / "f.json", tmp_path / "f.csv", tmp_path / "f.nc"
    result = run("fit", "binary", "crins2014_ar", "--threshold", "0.5", "--json", str(js),
                 "--csv", str(cs), "--save", str(nc), *ENOUGH)
    assert result.exit_code == 0, result.output
    assert "P(OR > 1)" in result.output
    # the diagnostics are always reported; on these short runs they may or may not pass
    assert "Diagnostics: OK" in result.output or "SAMPLER PROBLEMS" in result.output
    doc = json.loads(js.read_text())
    for name in ("log_or", "or", "tau", "theta_new"):
        assert set(doc[name]) >= {"mean", "sd", "median", "q025", "q975"}
        assert doc[name]["q025"] <= doc[name]["median"] <= doc[name]["q975"]
    assert doc["or"]["median"] == pytest.approx(2.718281828 ** doc["log_or"]["median"],
                                                rel=1e-2)
    assert set(doc["probabilities"]) >= {"or_gt_1", "theta_new_gt_0", "or_gt"}
    assert doc["probabilities"]["or_gt"]["0.5"] >= doc["probabilities"]["or_gt_1"]
    assert doc["settings"]["priors"]["tau"]["spec"] == "halfnormal:0.5"
    assert doc["settings"]["sampler"]["seed"] == 1 and doc["settings"]["seed"] == 1
    assert {"max_rhat", "min_ess_bulk", "min_ess_tail", "divergences", "min_ebfmi",
            "ok", "problems"} <= set(doc["diagnostics"])
    assert len(doc["studies"]) == 6 and doc["studies"][5]["observed_log_or"] is None
    csv_text = cs.read_text()
    assert "log_or" in csv_text and "P(OR>0.5)" in csv_text
    tree = xr.open_datatree(nc)
    assert tree["posterior"]["theta_study"].dims == ("chain", "draw", "study")
    assert tree["observed_data"]["events_c"].values.tolist() == [15, 19, 8, 29, 11, 3]
    assert json.loads(tree.attrs["bayesmeta_settings"])["seed"] == 1
    again = run("fit", "binary", "crins2014_ar", "--json", str(js), "--force", *FAST)
    assert again.exit_code == 0


def test_data_list_and_show():
    listing = run("data", "list")
    assert listing.exit_code == 0
    for name in ("crins2014_ar", "nissen2007_mi", "msc_serious_ae"):
        assert name in listing.output
    shown = run("data", "show", "crins2014_ar")
    assert shown.exit_code == 0 and "Pediatr Transplant" in shown.output
    assert "Gras (2008)" in shown.output
    assert_input_error(run("data", "show", "nope"), "no bundled dataset 'nope'")


def test_real_entry_point_exit_code_and_message(tmp_path):
    """The installed console script (not CliRunner): exit 2, one line on stderr."""
    path = write_csv(tmp_path, "study,events_t,n_t,events_c,n_c\nA,1,0,0,18\nB,1,9,1,8\n")
    proc = subprocess.run([sys.executable, "-c", "from bayesmeta.cli import main; main()",
                           "fit", "binary", str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "no patients" in proc.stderr
