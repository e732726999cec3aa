"""The priors-as-data binomial–normal model is the same model as the fixed-prior one.

Two independent checks: (1) each family's coefficients reproduce its scipy density (the
prior's "scipy face") at many points; (2) for every family, the compiled log density of
:func:`build_binomial_normal_prior_data` at an unconstrained point equals that of
:func:`build_binomial_normal` (PyMC's own distributions and transforms) at the same point —
including after swapping the priors as data without rebuilding.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayesmeta.data.binary import read_binary
from bayesmeta.errors import InputError
from bayesmeta.models import binomial_normal_prior_data as pdm
from bayesmeta.models.binomial_normal import BinomialNormalPriors, build_binomial_normal
from bayesmeta.priors import Prior, parse_prior
from tests.conftest import DATA

TAU_PRIORS = ["halfnormal:0.25", "halfnormal:1", "halfcauchy:0.5", "halft:3:0.7",
              "exponential:2", "uniform:0:5", "uniform:0.1:2", "lognormal_tau2:-1.87:1.52"]
REAL_PRIORS = ["normal:0:2.82", "normal:-1:10", "student_t:3:0:2.5", "student_t:1:0.5:1"]


@pytest.mark.parametrize("spec", TAU_PRIORS + REAL_PRIORS)
def test_coefficients_reproduce_the_scipy_density(spec):
    prior = parse_prior(spec)
    dist = prior.dist()
    if prior.support == "positive":
        x = np.concatenate([dist.ppf(np.linspace(0.001, 0.999, 41)), [1e-6, 3.0]])
    else:
        x = np.linspace(-30, 30, 61)
    expected = dist.logpdf(x)
    ok = np.isfinite(expected)
    # rel 1e-12: both are closed forms in double precision; any wrong constant or term
    # would show at the first digits.
    np.testing.assert_allclose(pdm.log_density(prior, x)[ok], expected[ok], rtol=1e-12,
                               atol=1e-12)
    assert np.all(np.isneginf(pdm.log_density(prior, x[~ok])))


def _unconstrained_point(model, rng, tau_u):
    point = {}
    for var in model.value_vars:
        shape = model.initial_point()[var.name].shape
        point[var.name] = rng.normal(0, 1, shape) - (2.0 if var.name == "mu" else 0.0)
    key = next(n for n in point if n.startswith("tau"))
    point[key] = np.asarray(tau_u)
    return point, key


@pytest.fixture(scope="module")
def swapped_model():
    """Built once with the default priors; each test gives its priors as data."""
    data = read_binary(DATA / "crins2014_ptld.csv")  # has a double-zero study
    model = pdm.build_binomial_normal_prior_data(data, BinomialNormalPriors())
    return data, model, model.compile_logp()  # numba, as sampled; compiled once


@pytest.mark.parametrize("tau_spec, effect_spec, baseline_spec", [
    *[(tau, "normal:0:2.82", "normal:0:10") for tau in TAU_PRIORS],
    ("halfcauchy:0.5", "student_t:3:0:2.5", "normal:0:10"),
    ("uniform:0:5", "normal:0:10", "student_t:4:-2:3"),
])
def test_log_density_equals_the_fixed_prior_model(swapped_model, tau_spec, effect_spec,
                                                  baseline_spec):
    data, swapped, logp_swapped = swapped_model
    priors = BinomialNormalPriors(tau=parse_prior(tau_spec), effect=parse_prior(effect_spec),
                                  baseline=parse_prior(baseline_spec))
    fixed = build_binomial_normal(data, priors)
    swapped.set_data(pdm.PRIOR_VALUES, pdm.encode_priors(priors))  # no rebuild, no recompile
    logp_fixed = fixed.compile_logp(mode="FAST_COMPILE")  # PyMC's graph, cheap to compile
    rng = np.random.default_rng(7)
    for tau_u in (-3.0, -0.4, 0.9):
        point, key = _unconstrained_point(fixed, rng, tau_u)
        other = {("tau_unconstrained" if k == key else k): v for k, v in point.items()}
        # abs 1e-6: PyMC rounds some constants of its densities at single precision (its
        # normal's log √(2π) is 1.6e-8 off scipy's, which ours matches to 1e-15, see the
        # test above): ≤ 2e-8 per prior term, 8 terms here. A missing Jacobian or prior
        # term, or a wrong transform, is off by more than 1e-3.
        assert logp_swapped(other) == pytest.approx(logp_fixed(point), abs=1e-6)


def test_tau_follows_pymc_transforms():
    import pymc as pm

    data = read_binary(DATA / "crins2014_acute_rejection.csv")
    priors = BinomialNormalPriors(tau=Prior("uniform", (0.5, 3.0)))
    model = pdm.build_binomial_normal_prior_data(data, priors)
    tau = model.compile_fn(model["tau"], inputs=[model["tau_unconstrained"]],
                           on_unused_input="ignore")
    u = 0.3
    sig = 1 / (1 + np.exp(-u))
    assert float(tau({"tau_unconstrained": u})) == pytest.approx(0.5 + 2.5 * sig, rel=1e-12)
    with model:
        pm.set_data({pdm.PRIOR_VALUES: pdm.encode_priors(BinomialNormalPriors())})
    assert float(tau({"tau_unconstrained": u})) == pytest.approx(np.exp(u), rel=1e-12)


def test_improper_and_unknown_priors_are_refused_with_one_line():
    with pytest.raises(InputError, match=r"tau prior: .*improper.*exact"):
        pdm.encode_priors(BinomialNormalPriors(tau=Prior("uniform_improper")))
    assert not pdm.supports(Prior("flat"))
    assert all(pdm.supports(parse_prior(s)) for s in TAU_PRIORS + REAL_PRIORS)


def test_named_dimensions_and_reported_variables():
    data = read_binary(DATA / "crins2014_acute_rejection.csv")
    model = pdm.build_binomial_normal_prior_data(data)
    assert model.named_vars_to_dims["theta_study"] == ("study",)
    assert model.named_vars_to_dims["mu"] == ("study",)
    assert {"theta", "tau", "theta_new", "theta_study", "mu"} <= set(model.named_vars)
