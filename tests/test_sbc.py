"""Simulation-based calibration: the rank tests, and a reduced SBC that passes for the
binomial–normal model and FAILS for deliberately broken fits (so the check can fail)."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmeta.errors import InputError
from bayesmeta.validation.sbc import CASES, make_case, run_sbc, thin
from bayesmeta.validation.uniformity import check_uniformity, rank_bins, rank_histogram

# --- the uniformity tests on ranks with a known answer ----------------------------------


def test_rank_bins_keep_equal_rank_counts_and_five_expected():
    assert rank_bins(100, 200) == 20      # 10 expected per bin
    assert rank_bins(100, 40) == 5        # 8 expected; 8 bins would not divide 100 ranks
    assert rank_bins(20, 40) == 5
    assert rank_bins(100, 8) == 1
    assert rank_histogram(np.array([0, 4, 5, 19]), 20, 4).tolist() == [2, 1, 0, 1]


def test_uniform_ranks_pass_and_piled_up_ranks_fail():
    exact = np.repeat(np.arange(100), 2)  # every rank value twice: perfectly flat
    flat = check_uniformity(exact, 100, seed=1)
    assert flat.chi2_p == pytest.approx(1.0) and flat.pot_c_p > 0.05
    assert flat.ecdf_outside == 0
    rng = np.random.default_rng(2)
    smile = np.concatenate([rng.integers(0, 10, 60), rng.integers(90, 100, 60),
                            rng.integers(0, 100, 80)])  # posterior too narrow
    bad = check_uniformity(smile, 100, seed=1)
    assert bad.chi2_p < 1e-6 and bad.pot_c_p < 1e-6 and bad.ecdf_outside > 0


def test_thin_takes_evenly_spaced_draws_across_chains():
    draws = np.arange(20).reshape(2, 10)
    assert thin(draws, 5).tolist() == [0, 4, 8, 12, 16]
    with pytest.raises(ValueError):
        thin(draws, 21)


def test_unknown_case_and_bad_option_are_input_errors():
    assert "binomial_normal" in CASES
    with pytest.raises(InputError, match="unknown SBC case 'nope'"):
        make_case("nope")
    with pytest.raises(InputError, match="bad option"):
        make_case("binomial_normal", (("no_such_option", 1),))


# --- reduced SBC of the binomial–normal model --------------------------------------------
#: 40 datasets of 5 studies (the model's kernel, compiled once, serves every run below),
#: 2 chains × (300 + 300) draws thinned to L = 19, i.e. 20 rank values.
#: Power: with the arms swapped the fit estimates −θ; θ ~ N(0, 2.82²) is usually far from 0
#: compared with its posterior sd, so ranks of θ pile up at 0 and L. A τ prior 5× too narrow
#: pins τ near 0 whatever the data say, so ranks of τ pile up at L. Both were measured to
#: give p < 1e-3 (the Bonferroni threshold) at N = 24 already; N = 40 leaves a margin.
REDUCED = dict(studies=(5, 5), chains=2, draws=300, tune=300)
N_REDUCED = 40


def reduced_sbc(**broken):
    return run_sbc("binomial_normal", n_sims=N_REDUCED, seed=1, n_ranks=20,
                   options={**REDUCED, **broken})


@pytest.mark.mcmc
def test_reduced_sbc_passes_for_the_model_as_built():
    result = reduced_sbc()
    assert result.passed, {p: u.to_dict() for p, u in result.uniformity().items()}
    assert result.n_sims == N_REDUCED and set(result.parameters) >= {"theta", "tau"}


@pytest.mark.mcmc
def test_reduced_sbc_catches_a_likelihood_with_the_arms_swapped():
    result = reduced_sbc(swap_arms=True)
    assert not result.passed
    assert {"theta", "theta_study[0]"} <= set(result.failures())
    assert "tau" not in result.failures()  # τ does not care which arm is which


@pytest.mark.mcmc
def test_reduced_sbc_catches_a_wrong_prior_scale():
    result = reduced_sbc(fit_tau="halfnormal:0.1")  # simulator draws τ ~ half-normal(0.5)
    assert not result.passed
    assert "tau" in result.failures()
    assert result.uniformity()["tau"].pot_c_p < 1e-6


def test_plot_is_written_atomically_and_never_over_a_file(tmp_path):
    from bayesmeta.errors import OutputExistsError
    from bayesmeta.presentation.sbc_plot import plot_sbc
    from bayesmeta.validation.sbc import SBCResult, SimOutcome

    rng = np.random.default_rng(5)
    outcomes = tuple(SimOutcome(i, {"a": int(rng.integers(20)), "b": int(rng.integers(20))},
                                500.0, 0, 0.1) for i in range(60))
    result = SBCResult("toy", ("a", "b"), {}, 20, 1, outcomes, 1, 1.0)
    path = plot_sbc(result, tmp_path / "ranks.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(OutputExistsError):
        plot_sbc(result, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ranks.png"]
    doc = result.to_dict()
    assert doc["n_sims"] == 60 and len(doc["ranks"]["a"]) == 60


# --- the harness on a known answer (exact posterior): fast, no MCMC -----------------------
@pytest.mark.parametrize("draws", [0, 400])  # 0: exact CDF path; 400: draws path
def test_harness_passes_an_exact_posterior_and_fails_a_too_narrow_one(draws):
    """N = 300 with a posterior 30% too narrow: ranks pile up at both ends (ECDF S-shape);
    measured chi-square p ≈ 1e-5 and POT-C p < 1e-6 against a threshold of 0.005
    (α = 0.01 over 2 tests); the exact posterior gives p > 0.3."""
    good = run_sbc("conjugate_normal", n_sims=300, seed=3, options={"draws": draws})
    assert good.passed, good.uniformity()["theta"]
    bad = run_sbc("conjugate_normal", n_sims=300, seed=3,
                  options={"draws": draws, "posterior_sd_factor": 0.7})
    assert not bad.passed and bad.failures() == ["theta"]


def test_parallel_workers_give_the_same_ranks_as_one_process():
    one = run_sbc("conjugate_normal", n_sims=40, seed=9, options={"draws": 99})
    two = run_sbc("conjugate_normal", n_sims=40, seed=9, options={"draws": 99}, workers=2)
    assert two.workers == 2
    assert one.ranks("theta").tolist() == two.ranks("theta").tolist()


# --- reduced SBC of the normal–normal model by quadrature: exact ranks, milliseconds ------
#: N = 200 meta-analyses of 3-8 log ORs, L = 99 (rank = 100 · F(truth)). Measured at seed 1:
#: the model as built passes with every p > 0.17 (threshold 0.01 / 8 = 0.00125); each broken
#: variant gives p < 1e-4 for the quantities it breaks and leaves the others calibrated.
def exact_nnhm_sbc(**options):
    return run_sbc("nnhm_exact", n_sims=200, seed=1, options=options)


def test_reduced_sbc_of_the_exact_nnhm_passes():
    result = exact_nnhm_sbc()
    assert result.passed, {p: u.to_dict() for p, u in result.uniformity().items()}
    assert result.parameters == ("mu", "tau", "theta_new", "theta[0]")
    doc = result.to_dict()  # no draws: no ESS, and the document is still valid JSON
    assert doc["min_ess_bulk"] is None and doc["sims_with_divergences"] == 0


def test_reduced_exact_sbc_catches_a_predictive_without_heterogeneity():
    """θ_new reported with μ's posterior (τ forgotten): too narrow, ranks pile at the ends."""
    result = exact_nnhm_sbc(bug="predictive_without_tau")
    assert not result.passed and result.failures() == ["theta_new"]


def test_reduced_exact_sbc_catches_variances_given_as_standard_errors():
    result = exact_nnhm_sbc(bug="se_as_variance")
    assert not result.passed and {"tau", "theta[0]"} <= set(result.failures())


def test_reduced_exact_sbc_catches_a_wrong_tau_prior():
    result = exact_nnhm_sbc(fit_tau="halfnormal:0.1")  # simulator: half-normal(0.5)
    assert not result.passed and "tau" in result.failures()


# --- reduced SBC of the Poisson–normal model (MCMC) ---------------------------------------
#: 30 meta-analyses of 5 studies (one compiled model for both runs), 2 × (300 + 300) draws,
#: L = 19. With the arms swapped the fit estimates −θ; θ ~ N(0, 2.82²) is usually far from 0
#: compared with its posterior SD, so the ranks of θ pile at 0 and L: measured at seed 1,
#: chi-square p ≈ 3e-8 and POT-C p ≈ 8e-11 for θ (threshold 0.001), τ and μ_1 untouched;
#: the model as built passes with every p > 0.1.
POISSON_REDUCED = dict(studies=(5, 5), chains=2, draws=300, tune=300)


@pytest.mark.mcmc
def test_reduced_sbc_of_the_poisson_model_passes_and_catches_swapped_arms():
    good = run_sbc("poisson_normal", n_sims=30, seed=1, n_ranks=20, options=POISSON_REDUCED)
    assert good.passed, {p: u.to_dict() for p, u in good.uniformity().items()}
    bad = run_sbc("poisson_normal", n_sims=30, seed=1, n_ranks=20,
                  options={**POISSON_REDUCED, "swap_arms": True})
    assert not bad.passed and {"theta", "theta_study[0]"} <= set(bad.failures())
    assert "tau" not in bad.failures()
