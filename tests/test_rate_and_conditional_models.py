"""The Poisson–normal and conditional (hypergeometric)–normal models: log densities against
scipy, the Poisson model recovering known rates, the conditional model against its exact
posterior by quadrature."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

import bayesmeta as bm
from bayesmeta.data.binary import read_binary
from bayesmeta.data.datasets import resolve
from bayesmeta.data.rates import read_rates
from bayesmeta.models.conditional_hypergeometric import build_conditional_hypergeometric
from bayesmeta.models.poisson_exposure import build_poisson_exposure


def test_poisson_model_log_density_equals_scipy_by_hand():
    """The whole model's log density (priors + likelihood, no Jacobian) at a point equals
    the sum of scipy log densities written out by hand."""
    d = read_rates(resolve("hart1999_warfarin"))
    model = build_poisson_exposure(d)
    mu = np.linspace(-4.0, -2.5, d.k)
    z = np.linspace(-1.0, 1.2, d.k)
    theta, tau, z_new = -0.8, 0.3, 0.4
    point = {"mu": mu, "theta": theta, "tau_log__": np.log(tau), "z": z, "z_new": z_new}
    ours = model.compile_logp(jacobian=False)(point)
    theta_i = theta + tau * z
    by_hand = (stats.norm.logpdf(mu, 0, 10).sum() + stats.norm.logpdf(theta, 0, 2.82)
               + stats.halfnorm.logpdf(tau, scale=0.5) + stats.norm.logpdf(z).sum()
               + stats.norm.logpdf(z_new)
               + stats.poisson.logpmf(d.events_t, d.exposure_t * np.exp(mu + theta_i / 2)).sum()
               + stats.poisson.logpmf(d.events_c, d.exposure_c * np.exp(mu - theta_i / 2)).sum())
    assert ours == pytest.approx(by_hand, rel=1e-12)


@pytest.mark.parametrize("theta0", [0.3, 6.0, -6.0])
def test_conditional_likelihood_equals_scipy_fisher_noncentral_hypergeometric(theta0):
    """Each trial's term is scipy's nchypergeom_fisher log-pmf, also at extreme odds ratios
    (the shifted sum must not overflow)."""
    d = read_binary(resolve("nissen2007_mi"))
    model = build_conditional_hypergeometric(d)
    z = np.linspace(-1, 1, d.k)
    point = {"theta": theta0, "tau_log__": np.log(0.2), "z": z, "z_new": 0.0}
    ours = model.compile_logp(vars=[model["events_t"]], sum=False)(point)[0]
    psi = np.exp(theta0 + 0.2 * z)
    ref = stats.nchypergeom_fisher.logpmf(d.events_t, d.n_t + d.n_c, d.n_t,
                                          d.events_t + d.events_c, psi)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-9)


def test_conditional_gradient_matches_finite_differences():
    d = read_binary(resolve("crins2014_ar"))
    model = build_conditional_hypergeometric(d)
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    point = {"theta": -1.3, "tau_log__": np.log(0.4), "z": np.linspace(-1, 1, d.k),
             "z_new": 0.1}
    grad = dlogp(point)
    h = 1e-6
    up, down = dict(point), dict(point)
    up["theta"] += h
    down["theta"] -= h
    assert grad[0] == pytest.approx((logp(up) - logp(down)) / (2 * h), rel=1e-6)


@pytest.mark.mcmc
@pytest.mark.parametrize("seed", [101, 202, 303])
def test_poisson_model_recovers_known_rates(seed):
    """Simulated from the model (θ = 0.4, τ = 0.25, 15 studies, ~4–150 events per arm):
    the true log rate ratio lies within 3 posterior SDs of the posterior median (a
    well-specified posterior misses by more with probability ≈ 0.3%), and every study's
    true control and treatment rate within 4 posterior SDs (≈ 6e-5 each, 30 per seed)."""
    data, truth = bm.simulate_rates(15, theta=0.4, tau=0.25, control_rate=(0.02, 0.1),
                                    exposure=(200.0, 1000.0), seed=seed)
    res = bm.fit_rates(data, chains=4, draws=1000, tune=1000, seed=seed)
    assert res.diagnostics.ok, res.diagnostics.problems
    log_rr = res.posterior("log_rr")
    assert abs(log_rr.median - 0.4) < 3 * log_rr.sd
    post = res.posterior_tree
    mu = post["mu"].transpose("chain", "draw", "study").values.reshape(-1, data.k)
    th = post["theta_study"].transpose("chain", "draw", "study").values.reshape(-1, data.k)
    for log_rate, true_rate in ((mu - th / 2, truth["rate_c"]), (mu + th / 2, truth["rate_t"])):
        rate = np.exp(log_rate)
        z = np.abs(np.median(rate, axis=0) - true_rate) / rate.std(axis=0)
        assert np.all(z < 4), z


def _exact_conditional_posterior(d, theta_grid, tau_grid):
    """p(θ, τ | data) on a grid for the conditional model with its default priors:
    each trial's likelihood ∫ FNCH(a | m, e^u) N(u; θ, τ²) du by the trapezoid rule in
    z = (u − θ)/τ on [−7, 7] (Δz = 0.1), FNCH tabulated on a fine u grid."""
    u = np.linspace(-12, 8, 8001)
    z = np.linspace(-7, 7, 141)
    wz = stats.norm.pdf(z) * 0.1
    wz[[0, -1]] /= 2
    log_post = (stats.norm.logpdf(theta_grid, 0, 2.82)[:, None]
                + stats.halfnorm.logpdf(tau_grid, scale=0.5)[None, :])
    points = theta_grid[:, None, None] + tau_grid[None, :, None] * z[None, None, :]
    for a, n1, c, n2 in zip(d.events_t, d.n_t, d.events_c, d.n_c, strict=True):
        f = stats.nchypergeom_fisher.pmf(a, n1 + n2, n1, a + c, np.exp(u))
        lik = np.interp(points, u, f) @ wz
        log_post += np.log(lik)
    post = np.exp(log_post - log_post.max())
    return post / post.sum()


def _grid_median(grid, density):
    """Median from density values on a uniform grid (trapezoid cumulative integral)."""
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2)])
    return float(np.interp(0.5, cdf / cdf[-1], grid))


@pytest.mark.mcmc
def test_conditional_model_matches_its_exact_posterior():
    """Crins 2014: the MCMC posterior medians of θ and τ agree with the exact posterior
    (2-D grid, 1-D integrals per trial) within 4 Monte Carlo SEs of the median plus 0.001
    for the grid (halving the grid steps moves the exact medians by < 0.0002)."""
    d = read_binary(resolve("crins2014_ar"))
    theta_grid = np.linspace(-4.0, 1.0, 201)
    tau_grid = np.linspace(0.0, 2.5, 126)
    post = _exact_conditional_posterior(d, theta_grid, tau_grid)
    res = bm.fit_binary(d, likelihood="conditional", draws=2000, tune=1000, seed=5)
    assert res.diagnostics.ok
    for name, grid, mass in (("log_or", theta_grid, post.sum(axis=1)),
                             ("tau", tau_grid, post.sum(axis=0))):
        draws = res.posterior(name)
        exact = _grid_median(grid, mass)
        assert abs(draws.median - exact) < 4 * draws.mcse()["median"] + 0.001, (name, exact)


def test_exact_conditional_posterior_helper_is_normalised_and_sane():
    """The quadrature reference itself: mass sums to 1 and the integrand integrates the
    normal density to 1 (so the likelihood of a flat FNCH would be exact)."""
    z = np.linspace(-7, 7, 141)
    wz = stats.norm.pdf(z) * 0.1
    wz[[0, -1]] /= 2
    assert wz.sum() == pytest.approx(1.0, abs=1e-9)
    assert special.logsumexp([0.0]) == 0.0
