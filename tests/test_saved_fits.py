"""Saved fits of every model (``--save FILE.nc``) reload and reprint without refitting:
``bayesmeta show`` prints the same summary and writes the same ``--json``/``--csv``, byte
for byte; the file carries the data, priors, seed or method, model name and versions.

The binomial–normal model's own checks are in ``test_outputs_safety.py``; here: the
normal–normal model (exact and MCMC; effects, 2×2 tables and continuous arms), the
Poisson–normal model and the conditional likelihood of ``fit binary``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import bayesmeta as bm
from bayesmeta.cli import cli
from bayesmeta.errors import InputError
from bayesmeta.results.load import load_result

FAST = ["--chains", "2", "--draws", "300", "--tune", "300", "-q"]


def fit_save_show(tmp_path, *args: str) -> tuple[str, str, xr.DataTree]:
    """Fit with --save/--json/--csv, then `show` the file; return both printed summaries
    (without the 'Wrote' lines) after checking that JSON and CSV are byte-identical."""
    runner = CliRunner()
    fitted = runner.invoke(cli, [*args, "--save", str(tmp_path / "fit.nc"), "--json",
                                 str(tmp_path / "fit.json"), "--csv",
                                 str(tmp_path / "fit.csv")])
    assert fitted.exit_code == 0, fitted.output
    shown = runner.invoke(cli, ["show", str(tmp_path / "fit.nc"), "--json",
                                str(tmp_path / "shown.json"), "--csv",
                                str(tmp_path / "shown.csv")])
    assert shown.exit_code == 0, shown.output
    assert (tmp_path / "shown.json").read_bytes() == (tmp_path / "fit.json").read_bytes()
    assert (tmp_path / "shown.csv").read_bytes() == (tmp_path / "fit.csv").read_bytes()

    def summary(text: str) -> str:
        return "\n".join(ln for ln in text.splitlines() if not ln.startswith("Wrote "))

    tree = xr.open_datatree(tmp_path / "fit.nc")
    tree.load()
    tree.close()
    return summary(fitted.output), summary(shown.output), tree


def settings_of(tree: xr.DataTree) -> dict:
    return json.loads(tree.attrs["bayesmeta_settings"])


def test_exact_effects_fit_reprints_identically_and_carries_its_inputs(tmp_path):
    fitted, shown, tree = fit_save_show(
        tmp_path, "fit", "effects", "eight_schools", "--tau-prior", "halfcauchy:25",
        "--threshold", "5")
    assert shown == fitted and "Data: eight_schools" in shown
    attrs = tree.attrs
    assert attrs["bayesmeta_schema"] == "bayesmeta.fit.effects/1"
    assert attrs["bayesmeta_model"] == "nnhm" and attrs["bayesmeta_method"] == "exact"
    assert "bayesmeta_seed" not in attrs  # an exact fit has no random numbers
    assert settings_of(tree)["priors"]["tau"]["spec"] == "halfcauchy:25"
    assert json.loads(attrs["bayesmeta_priors"])["mu"]["family"] == "flat"
    assert {"bayesmeta", "numpy", "scipy", "python"} <= set(
        json.loads(attrs["bayesmeta_versions"]))
    obs = tree["observed_data"]
    assert obs["yi"].values.tolist() == [28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16]
    exact = tree["exact_posterior"]
    assert exact["theta_means"].shape[0] == 8
    assert exact["component_weights"].values.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("args", [
    ("fit", "effects", "eight_schools", "--tau-prior", "uniform_improper"),  # heavy tail
    ("fit", "effects", "eight_schools", "--tau-prior", "jeffreys", "--mu-prior",
     "normal:0:20"),  # prior depends on the SEs; both Bayes factors defined
    ("fit", "effects", "crins2014_ar", "--cc", "0.5", "--tau-prior",
     "turner:adverse-events:pharma-vs-placebo"),  # 2x2 tables: derivation and details
    ("fit", "continuous", "normand1999_arms", "--measure", "SMD", "--col", "study=source",
     "--outcome-type", "final"),
])
def test_other_exact_fits_reprint_identically(tmp_path, args):
    fitted, shown, _tree = fit_save_show(tmp_path, *args)
    assert shown == fitted


def test_reloaded_exact_result_answers_every_question_alike(tmp_path):
    """Beyond the documents: any quantile, tail probability, density and study, exactly
    (bit for bit: the same arrays and the same formula, nothing refitted)."""
    res = bm.fit_effects("eight_schools", tau_prior="halfnormal:10", mu_prior="normal:0:30",
                         thresholds=[2.5])
    back = load_result(res.to_netcdf(tmp_path / "fit.nc"))
    assert back.to_dict() == res.to_dict()
    for name in ("mu", "tau", "theta_new"):
        a, b = res.posterior(name), back.posterior(name)
        assert a.quantile(np.array([0.01, 0.3, 0.9])).tolist() == \
            b.quantile(np.array([0.01, 0.3, 0.9])).tolist()
        assert a.sf(4.2) == b.sf(4.2) and a.pdf(3.3) == b.pdf(3.3)
        assert a.shortest_interval(0.8) == b.shortest_interval(0.8)
    assert res.study("C").interval(0.5) == back.study("C").interval(0.5)
    assert back.bayes_factors() == res.bayes_factors()


def test_saved_exact_fit_with_a_missing_group_is_one_input_error(tmp_path):
    res = bm.fit_effects("eight_schools", tau_prior="halfnormal:10")
    path = res.to_netcdf(tmp_path / "fit.nc")
    tree = xr.open_datatree(path).load()
    del tree["exact_posterior"]
    tree.to_netcdf(tmp_path / "cut.nc")
    with pytest.raises(InputError, match="not a complete bayesmeta effect-size fit"):
        load_result(tmp_path / "cut.nc")


@pytest.mark.mcmc
def test_mcmc_effects_fit_reprints_identically(tmp_path):
    fitted, shown, tree = fit_save_show(
        tmp_path, "fit", "continuous", "normand1999_arms", "--measure", "MD", "--col",
        "study=source", "--tau-prior", "halfnormal:20", "--mu-prior", "normal:0:50",
        "--method", "mcmc", "--seed", "5", *FAST)
    assert shown == fitted
    assert tree.attrs["bayesmeta_method"] == "mcmc" and int(tree.attrs["bayesmeta_seed"]) == 5
    assert settings_of(tree)["sampler"]["draws"] == 300
    assert json.loads(tree.attrs["bayesmeta_diagnostics"])["chains"] == 2
    assert tree["posterior"]["mu"].shape == (2, 300)


@pytest.mark.mcmc
def test_rate_fit_reprints_identically(tmp_path):
    fitted, shown, tree = fit_save_show(tmp_path, "fit", "rates", "hart1999_warfarin",
                                        "--threshold", "0.5", "--seed", "3", *FAST)
    assert shown == fitted and "Data: hart1999_warfarin" in shown
    assert tree.attrs["bayesmeta_schema"] == "bayesmeta.fit.rates/1"
    assert tree.attrs["bayesmeta_model"] == "poisson_normal"
    assert int(tree.attrs["bayesmeta_seed"]) == 3
    assert settings_of(tree)["priors"]["baseline"]["spec"] == "normal:0:10"
    assert tree["observed_data"]["exposure_t"].dtype == float
    # a file from before these attributes existed: priors from the settings document,
    # diagnostics recomputed from the same draws — the same JSON document
    for name in ("bayesmeta_priors", "bayesmeta_diagnostics", "bayesmeta_label",
                 "bayesmeta_seed", "bayesmeta_method"):
        del tree.attrs[name]
    tree.to_netcdf(tmp_path / "old.nc")
    old = load_result(tmp_path / "old.nc")
    assert old.to_dict() == json.loads((tmp_path / "fit.json").read_text())


def test_effects_file_of_an_older_version_is_refused_in_one_line(tmp_path):
    """Before `show` read effect-size fits, their files lacked how the effects were derived
    and the exact posterior as computed: say so instead of printing something else."""
    res = bm.fit_effects("eight_schools", tau_prior="halfnormal:10")
    tree = xr.open_datatree(res.to_netcdf(tmp_path / "fit.nc")).load()
    del tree["exact_posterior"]
    tree["observed_data"].attrs.clear()
    tree.to_netcdf(tmp_path / "old.nc")
    result = CliRunner().invoke(cli, ["show", str(tmp_path / "old.nc")])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "older version of bayesmeta" in result.output and "--save" in result.output


def test_conditional_fit_reprints_identically_without_a_baseline_prior(tmp_path):
    """The conditional likelihood has no baselines: the reloaded fit must not grow a
    baseline prior (it did before: the loader assumed the binomial–normal priors)."""
    fitted, shown, tree = fit_save_show(tmp_path, "fit", "binary", "crins2014_ar",
                                        "--likelihood", "conditional", *FAST)
    assert shown == fitted and "baseline" not in shown.split("Pooled")[0].lower()
    assert tree.attrs["bayesmeta_model"] == "conditional_hypergeometric"
