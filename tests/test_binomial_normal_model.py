"""The model's log density equals the binomial–normal likelihood written out with scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit

from bayesmeta.data.binary import read_binary
from bayesmeta.models.binomial_normal import BinomialNormalPriors, build_binomial_normal
from bayesmeta.priors import Prior
from tests.conftest import DATA


@pytest.mark.parametrize("tau_prior", [Prior("halfnormal", (0.5,)),
                                       Prior("halfcauchy", (1.0,)),
                                       Prior("lognormal_tau2", (-1.87, 1.52))])
def test_log_density_matches_scipy(tau_prior):
    data = read_binary(DATA / "crins2014_ptld.csv")  # includes a double-zero study
    priors = BinomialNormalPriors(tau=tau_prior)
    model = build_binomial_normal(data, priors)
    rng = np.random.default_rng(3)
    mu, z = rng.normal(-3, 1, data.k), rng.normal(0, 1, data.k)
    theta, tau, z_new = 0.4, 0.3, 0.2
    logp = model.compile_logp(jacobian=False)
    value_names = {v.name for v in model.value_vars}
    tau_key = next(n for n in value_names if n.startswith("tau"))
    point = {"mu": mu, "theta": theta, "z": z, "z_new": z_new,
             tau_key: np.log(tau) if tau_key.endswith("log__") else tau}
    theta_i = theta + tau * z
    expected = (
        stats.binom.logpmf(data.events_t, data.n_t, expit(mu + theta_i / 2)).sum()
        + stats.binom.logpmf(data.events_c, data.n_c, expit(mu - theta_i / 2)).sum()
        + stats.norm.logpdf(mu, 0, 10).sum() + stats.norm.logpdf(theta, 0, 2.82)
        + tau_prior.logpdf(tau) + stats.norm.logpdf(z).sum() + stats.norm.logpdf(z_new))
    # rel 1e-6: PyTensor's numba backend uses fastmath (~1e-8 relative error); a wrong
    # likelihood or prior term would be off by orders of magnitude more.
    assert logp(point) == pytest.approx(expected, rel=1e-6)


def test_named_dimensions():
    data = read_binary(DATA / "crins2014_acute_rejection.csv")
    model = build_binomial_normal(data)
    assert model.named_vars_to_dims["theta_study"] == ("study",)
    assert model.named_vars_to_dims["mu"] == ("study",)
    assert list(model.coords["study"]) == list(data.study)
    assert {"theta", "tau", "theta_new", "theta_study"} <= set(model.named_vars)


def test_improper_prior_refused_for_mcmc():
    from bayesmeta.errors import InputError

    data = read_binary(DATA / "crins2014_acute_rejection.csv")
    with pytest.raises(InputError, match=r"improper.*exact"):
        build_binomial_normal(data, BinomialNormalPriors(tau=Prior("uniform_improper")))
