"""Prior specifications: parsing, errors, and the PyMC and scipy faces of each family agree."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
from scipy import integrate

from bayesmeta.errors import InputError
from bayesmeta.priors import FAMILIES, Prior, parse_prior

PROPER = {
    "normal": (0.3, 2.0), "student_t": (4.0, 0.0, 1.5), "halfnormal": (0.5,),
    "halfcauchy": (0.5,), "halft": (3.0, 1.0), "exponential": (2.0,), "uniform": (0.0, 5.0),
    "lognormal_tau2": (-2.56, 1.74),
}


@pytest.mark.parametrize("family", list(PROPER))
def test_density_integrates_to_one(family):
    prior = Prior(family, PROPER[family])
    lo = 0.0 if prior.support == "positive" else -np.inf
    total, _ = integrate.quad(lambda x: np.exp(prior.logpdf(x)), lo, np.inf, limit=200)
    assert total == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("family", list(PROPER))
def test_pymc_and_scipy_densities_agree(family):
    prior = Prior(family, PROPER[family])
    with pm.Model():
        var = prior.to_pymc("x")
    xs = np.array([0.05, 0.3, 1.0, 2.5])
    pymc_logp = np.array([pm.logp(var, x).eval() for x in xs])
    # PyTensor's numba backend compiles with fastmath: ~1e-8 relative error in log/exp.
    # A wrong constant or parameterisation would differ by far more than 1e-6.
    np.testing.assert_allclose(pymc_logp, prior.logpdf(xs), rtol=1e-6)


def test_lognormal_tau2_means_log_tau_squared_is_normal():
    """Turner et al. write log τ² ~ N(m, s²): check through the distribution of log τ²."""
    prior = Prior("lognormal_tau2", (-2.56, 1.74))
    draws = prior.dist().rvs(size=200_000, random_state=1)
    log_tau2 = np.log(draws**2)
    assert log_tau2.mean() == pytest.approx(-2.56, abs=0.02)
    assert log_tau2.std() == pytest.approx(1.74, abs=0.02)


@pytest.mark.parametrize("text, family, params", [
    ("halfnormal:0.5", "halfnormal", (0.5,)), ("half-normal:1", "halfnormal", (1.0,)),
    ("HN:0.25", "halfnormal", (0.25,)), ("normal:0:2.82", "normal", (0.0, 2.82)),
    ("hc:25", "halfcauchy", (25.0,)), ("uniform:0:5", "uniform", (0.0, 5.0)),
    ("exponential:2", "exponential", (2.0,)), ("flat", "flat", ()),
])
def test_parse(text, family, params):
    prior = parse_prior(text)
    assert (prior.family, prior.params) == (family, params)
    assert parse_prior(prior.spec) == prior  # the spec string round-trips


@pytest.mark.parametrize("text, fragment", [
    ("halfnormal:-1", "scale must be greater than 0"),
    ("halfnormal:0", "scale must be greater than 0"),
    ("normal:0", "takes 2 parameter(s)"), ("normal:0:1:2", "takes 2 parameter(s)"),
    ("normal:zero:1", "'zero' is not a number"), ("normal:0:inf", "not a finite number"),
    ("uniform:5:1", "upper (1) must exceed lower (5)"), ("", "empty prior"),
    ("cauchy:1", "unknown prior 'cauchy'"),
])
def test_parse_errors(text, fragment):
    with pytest.raises(InputError) as info:
        parse_prior(text, option="--tau-prior")
    assert fragment in str(info.value) and str(info.value).startswith("--tau-prior")


def test_support_is_checked():
    with pytest.raises(InputError, match="needs positive values"):
        parse_prior("normal:0:1", support="positive")
    with pytest.raises(InputError, match="needs real values"):
        parse_prior("halfnormal:1", support="real")


def test_every_family_is_documented():
    for fam in FAMILIES.values():
        assert fam.doc and fam.math
