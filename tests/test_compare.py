"""`bayesmeta compare`: every method in one table, with JSON/CSV/plot outputs; the registry;
and the `fit rates` / `fit binary --likelihood conditional` commands."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import bayesmeta as bm
from bayesmeta.api.comparison import METHODS, ComparisonMethod, methods_for, register
from bayesmeta.results.comparison import ComparisonRow
from tests.test_cli import FAST, assert_input_error, run


@pytest.fixture(scope="module")
def crins_compare(tmp_path_factory):
    """`bayesmeta compare crins2014_ar` with every output, small MCMC settings."""
    out = tmp_path_factory.mktemp("compare")
    paths = {k: out / f"crins.{k}" for k in ("json", "csv", "png")}
    result = run("compare", "crins2014_ar", *FAST, "--json", str(paths["json"]),
                 "--csv", str(paths["csv"]), "--plot", str(paths["png"]))
    return result, paths


@pytest.mark.mcmc
def test_compare_crins_prints_every_method(crins_compare):
    result, _ = crins_compare
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for method in methods_for("binary", measure="OR"):
        assert any(line.strip().startswith(method.label) for line in lines), method.label
    mh = next(line for line in lines if line.strip().startswith("Mantel–Haenszel"))
    # metafor rma.mh: OR 0.2057 (0.1247 to 0.3391)
    assert "0.206" in mh and "0.125 to 0.339" in mh
    assert "Zero cells — what each method did" in result.output


@pytest.mark.mcmc
def test_compare_writes_json_csv_and_plot(crins_compare):
    result, paths = crins_compare
    assert result.exit_code == 0, result.output
    doc = json.loads(paths["json"].read_text())
    assert doc["schema"] == "bayesmeta.compare/1"
    names = [m["name"] for m in doc["methods"]]
    assert names == [m.name for m in methods_for("binary", measure="OR")]
    reml = next(m for m in doc["methods"] if m["name"] == "reml")
    # metafor rma(measure = "OR", method = "REML"): OR exp(−1.59151) = 0.20362
    assert reml["estimate"] == pytest.approx(0.203617321705927, rel=1e-5)
    bnhm = next(m for m in doc["methods"] if m["name"] == "binomial-normal")
    assert bnhm["kind"] == "bayesian" and bnhm["lower"] < bnhm["estimate"] < bnhm["upper"]
    table = pd.read_csv(paths["csv"], index_col="name")
    assert set(table.index) == set(names)
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.mcmc
def test_compare_lists_the_exact_normal_normal_model(crins_compare):
    """`bayesmeta compare crins2014_ar` has the normal-normal row, and its numbers are those
    of `fit_effects` on the same corrected log ORs (0.5 added to every cell of the one
    table with a zero, as the inverse-variance methods do): exact, so equal to rounding."""
    result, paths = crins_compare
    line = next(ln for ln in result.output.splitlines()
                if ln.strip().startswith("normal-normal model, exact (log OR)"))
    ref = bm.fit_effects("crins2014_ar", measure="logOR", cc=0.5)
    assert f"{ref.posterior('or').median:.3f}" in line and "6/6" in line
    row = next(m for m in json.loads(paths["json"].read_text())["methods"]
               if m["name"] == "nnhm")
    assert row["kind"] == "bayesian" and row["measure"] == "OR"
    for key, quantity, which in (("estimate", "or", 0), ("lower", "or", 1), ("upper", "or", 2),
                                 ("pred_lower", "or_new", 1), ("pred_upper", "or_new", 2),
                                 ("tau", "tau", 0)):
        m = ref.posterior(quantity)
        expected = (m.median, *m.interval(0.95))[which]
        assert row[key] == pytest.approx(expected, rel=1e-12), key
    assert row["prob_above_null"] == pytest.approx(ref.posterior("mu").sf(0.0), rel=1e-12)
    assert row["zeros"] == "0.5 added to every cell of 1 table(s) (with a zero cell)"
    assert row["detail"]["corrected_studies"] == ["Gras (2008)"]
    assert row["detail"]["n_draws"] is None and row["note"] == ""


def test_compare_normal_normal_row_shares_the_classical_zero_rule():
    """Nissen 2007: 26 tables corrected, 4 double-zero trials dropped, as for DerSimonian–
    Laird — the same words, so the printed table gives both the same zero rule."""
    comparison = bm.compare("nissen2007_mi", methods=["nnhm", "dl"])
    nnhm, dl = comparison.row("nnhm"), comparison.row("dl")
    assert nnhm.zeros == dl.zeros and nnhm.studies_used == dl.studies_used == 38
    ref = bm.fit_effects("nissen2007_mi", measure="logOR", cc=0.5)
    assert nnhm.estimate == pytest.approx(ref.posterior("or").median, rel=1e-12)
    assert "[1]" in bm.render_comparison(comparison).split("DerSimonian")[1].splitlines()[0]


def test_compare_classical_only_is_fast_and_covers_all_measures():
    comparison = bm.compare("nissen2007_mi", measure="all", bayesian=False)
    measures = {r.measure for r in comparison.rows}
    assert measures == {"OR", "RR", "RD"}
    assert comparison.row("mh").studies_used == 38          # double zeros carry no weight
    assert comparison.row("mh-rd").studies_used == 42       # ... except for the RD
    assert comparison.row("reml").studies_used == 42        # metafor default keeps them
    assert comparison.row("glmm").estimate == pytest.approx(1.42668, rel=1e-4)


def test_compare_rates_without_mcmc():
    result = run("compare", "hart1999_warfarin", "--no-bayes")
    assert result.exit_code == 0, result.output
    assert "Mantel–Haenszel rate ratio" in result.output
    assert "Poisson-normal GLMM (ML)" in result.output


@pytest.mark.parametrize("args, fragment", [
    (["--methods", "mh,nonesuch"], "--methods: unknown method 'nonesuch'"),
    (["--methods", "poisson-normal"], "is for rates data, not binary"),
    (["--measure", "IRR"], "--measure"),
    (["--plot", "out.docx"], "cannot draw a plot as '.docx'"),
])
def test_compare_bad_options_exit_2(args, fragment):
    assert_input_error(run("compare", "crins2014_ar", "--no-bayes", *args), fragment)


def test_compare_never_overwrites_without_force(tmp_path):
    existing = tmp_path / "out.json"
    existing.write_text("{}")
    assert_input_error(run("compare", "crins2014_ar", "--no-bayes", "--json", str(existing)),
                       "--force")
    assert run("compare", "crins2014_ar", "--no-bayes", "--json", str(existing),
               "--force").exit_code == 0
    assert json.loads(existing.read_text())["schema"] == "bayesmeta.compare/1"


def test_a_registered_method_joins_the_comparison():
    """The pattern for adding a model (e.g. the normal–normal model) with one entry."""
    def run_fixed(data, ctx):
        fit = bm.fit_classical(data, "FE", cc_method="tacc", level=ctx.level)
        return ComparisonRow.from_classical("fe-tacc", fit, label="fixed effect, TACC")

    register(ComparisonMethod("fe-tacc", "fixed effect, TACC", "classical", "binary", "OR",
                              "treatment-arm correction", run_fixed, default=False))
    try:
        comparison = bm.compare("crins2014_ar", methods=["mh", "fe-tacc"])
        assert [r.name for r in comparison.rows] == ["mh", "fe-tacc"]
        assert comparison.row("fe-tacc").rule == "treatment-arm correction"
    finally:
        METHODS.pop("fe-tacc")


def test_list_methods():
    result = run("compare", "--list")
    assert result.exit_code == 0
    for name in ("mh", "peto", "reml-tacc", "glmm", "binomial-normal", "conditional",
                 "poisson-normal", "mh-irr", "nnhm"):
        assert name in result.output


@pytest.mark.mcmc
def test_fit_rates_command_writes_its_json(tmp_path):
    out = tmp_path / "rates.json"
    result = run("fit", "rates", "hart1999_warfarin", *FAST, "--threshold", "0.5",
                 "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "Poisson-normal" in result.output and "P(RR > 1)" in result.output
    doc = json.loads(out.read_text())
    assert doc["schema"] == "bayesmeta.fit.rates/1"
    # warfarin roughly halves the stroke rate or better (MH rate ratio 0.36)
    assert 0.2 < doc["rr"]["median"] < 0.6 and doc["probabilities"]["rr_gt_1"] < 0.01
    assert set(doc["probabilities"]["rr_gt"]) == {"0.5"}


@pytest.mark.mcmc
def test_fit_binary_conditional_likelihood(tmp_path):
    out = tmp_path / "cond.json"
    result = run("fit", "binary", "crins2014_ar", *FAST, "--likelihood", "conditional",
                 "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "non-central hypergeometric" in result.output
    doc = json.loads(out.read_text())
    assert doc["model"] == "conditional_hypergeometric"
    assert set(doc["settings"]["priors"]) == {"effect", "tau"}


def test_conditional_likelihood_refuses_a_baseline_prior():
    assert_input_error(run("fit", "binary", "crins2014_ar", *FAST, "--likelihood",
                           "conditional", "--baseline-prior", "normal:0:5"),
                       "--baseline-prior", "has no baseline prior")
