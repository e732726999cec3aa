"""The exact normal–normal model against R bayesmeta and against independent quadrature.

References (tests/reference/): R bayesmeta 3.4 on eight schools (improper uniform τ; half-
Cauchy(25) τ; flat μ), Crins acute rejection and Nissen MI log ORs (τ ~ HN(0.5), μ ~
N(0, 4²)) and Normand 1999 MD (improper uniform τ, flat μ); the JSON holds the exact y, σ.

What each side computes exactly, and the tolerances that follow:

* p(τ | y) and the marginal likelihood are integrated numerically by both programs, so τ's
  quantiles, moments, shortest interval and p(y) must agree to ~1e-6 relative (we ask 1e-6).
* R bayesmeta approximates the marginals of μ, θ_new and θ_i by a finite mixture over a τ
  grid (the DIRECT algorithm of Röver & Friede 2017, J Comput Graph Stat 26:217, with its
  defaults δ = 0.01, ε = 1e-4), whereas we integrate over τ by adaptive quadrature. Scipy's
  adaptive ``quad`` (a third, independent computation written out in this file) agrees
  with ours to ~1e-10 and shows that R's values are off by up to 9.5e-4 on the
  probability scale (e.g. eight schools, θ_G median: R's value is our 50.09% quantile;
  Crins P(μ > 0): 6.187e-5 in R, 6.0127e-5 exactly). So these are compared (a) with R on the
  probability scale — F_exact(R's value) within 1e-3 of its nominal probability — and
  (b) with scipy's quadrature to 1e-8. Medians of μ and θ_new also agree with R to 3
  significant digits.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import ndtr

from bayesmeta.errors import InputError
from bayesmeta.inference.nnhm_exact import NNHMInput, nnhm_exact
from bayesmeta.priors import parse_prior
from tests.conftest import REFERENCE

ANALYSES = {
    "eightschools_tauUniform_muFlat": ("uniform_improper", "flat"),
    "eightschools_tauHalfCauchy25_muFlat": ("halfcauchy:25", "flat"),
    "crinsAR_logOR_tauHN0.5_muN0sd4": ("halfnormal:0.5", "normal:0:4"),
    "nissenMI_logOR_tauHN0.5_muN0sd4": ("halfnormal:0.5", "normal:0:4"),
    "normand1999_MD_tauUniform_muFlat": ("uniform_improper", "flat"),
}
#: R bayesmeta's own error on μ, θ_new and θ_i (probability scale), see the docstring.
R_MIXTURE_TOL = 1e-3


@pytest.fixture(scope="module")
def reference():
    return json.loads((REFERENCE / "bayesmeta_nnhm.json").read_text())


@pytest.fixture(scope="module")
def summary_ref():
    return pd.read_csv(REFERENCE / "bayesmeta_nnhm_summary.csv")


@pytest.fixture(scope="module")
def shrinkage_ref():
    return pd.read_csv(REFERENCE / "bayesmeta_nnhm_shrinkage.csv")


@pytest.fixture(scope="module")
def fits(reference):
    out = {}
    for name, (tau, mu) in ANALYSES.items():
        data = reference[name]["data"]
        y = np.array([d["y"] for d in data])
        s = np.array([d["sigma"] for d in data])
        out[name] = nnhm_exact(NNHMInput(y, s, parse_prior(mu), parse_prior(tau)))
    return out


def _cdf(mixture, x):
    return float(mixture.cdf(np.array([[x]]))[0, 0])


def _sig3(a: float, b: float) -> bool:
    return abs(a - b) <= 0.5 * 10 ** (math.floor(math.log10(abs(b))) - 2)


@pytest.mark.parametrize("name", list(ANALYSES))
def test_tau_matches_bayesmeta(name, fits, summary_ref):
    post = fits[name]
    row = summary_ref[(summary_ref.analysis == name) & (summary_ref.param == "tau")].iloc[0]
    q = post.tau.quantile(np.array([0.025, 0.5, 0.975]))
    np.testing.assert_allclose(q, [row.q025, row.q50, row.q975], rtol=1e-6)
    m1, m2 = post.tau.moment(1), post.tau.moment(2)
    np.testing.assert_allclose([m1, math.sqrt(m2 - m1**2)], [row["mean"], row.sd], rtol=1e-6)
    lo, hi = post.tau.shortest_interval(0.95)
    assert hi == pytest.approx(row.shortest95_hi, rel=1e-6)
    assert lo == pytest.approx(row.shortest95_lo, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", ["crinsAR_logOR_tauHN0.5_muN0sd4",
                                  "nissenMI_logOR_tauHN0.5_muN0sd4"])
def test_marginal_likelihood_matches_bayesmeta(name, fits, reference):
    log_ml = fits[name].bayes_factors.log_marginal
    assert math.exp(log_ml) == pytest.approx(reference[name]["marginal_likelihood"], rel=1e-6)


@pytest.mark.parametrize("name", list(ANALYSES))
def test_mu_and_theta_new_match_bayesmeta(name, fits, summary_ref):
    post = fits[name]
    for param, mix in (("mu", post.mu), ("theta_new", post.theta_new)):
        row = summary_ref[(summary_ref.analysis == name) & (summary_ref.param == param)].iloc[0]
        median = float(mix.quantile(np.array([0.5]))[0, 0])
        assert _sig3(median, row.q50), (param, median, row.q50)
        for value, p in ((row.q025, 0.025), (row.q50, 0.5), (row.q975, 0.975)):
            assert _cdf(mix, value) == pytest.approx(p, abs=R_MIXTURE_TOL)
        lo, hi = mix.shortest_interval(0.95)
        assert _cdf(mix, row.shortest95_lo) == pytest.approx(_cdf(mix, lo[0]),
                                                             abs=R_MIXTURE_TOL)
        assert _cdf(mix, row.shortest95_hi) == pytest.approx(_cdf(mix, hi[0]),
                                                             abs=R_MIXTURE_TOL)
        p_gt0 = float(mix.sf(np.array([[0.0]]))[0, 0])
        assert p_gt0 == pytest.approx(row.P_gt0, abs=R_MIXTURE_TOL)
        assert float(mix.mean()[0]) == pytest.approx(row["mean"], rel=2e-3)


@pytest.mark.parametrize("name", list(ANALYSES))
def test_shrinkage_matches_bayesmeta(name, fits, shrinkage_ref):
    post = fits[name]
    ref = shrinkage_ref[shrinkage_ref.analysis == name].reset_index(drop=True)
    assert len(ref) == post.theta.size
    lo, hi = post.theta.shortest_interval(0.95)
    for i, row in ref.iterrows():
        one = post.theta.row(i)
        for value, p in ((row.q025, 0.025), (row["median"], 0.5), (row.q975, 0.975)):
            assert _cdf(one, value) == pytest.approx(p, abs=R_MIXTURE_TOL)
        assert _cdf(one, row.shortest95_lo) == pytest.approx(_cdf(one, lo[i]),
                                                             abs=R_MIXTURE_TOL)
        assert _cdf(one, row.shortest95_hi) == pytest.approx(_cdf(one, hi[i]),
                                                             abs=R_MIXTURE_TOL)


# -- independent quadrature (scipy.integrate.quad on the model written out afresh) --------
def _brute(y, s, tau_logpdf, mu_prior):
    """Functions of τ for the NNHM written from scratch: p(τ|y) ∝ ... and μ | τ, y."""

    def cond(t):
        # y_i | μ, τ ~ N(μ, s_i² + τ²); integrating μ over its prior (flat, or N(m0, sd0²)
        # as one more "observation" m0 with variance sd0²) leaves, up to a constant,
        # log p(y | τ) = ½ Σ log w_i − ½ log P − ½ Σ w_i (y_i − m)² [− ½ (m0 − m)²/sd0²].
        w = 1.0 / (s**2 + t * t)
        m0, prec0 = (0.0, 0.0) if mu_prior is None else (mu_prior[0], mu_prior[1] ** -2)
        prec = w.sum() + prec0
        m = ((w * y).sum() + prec0 * m0) / prec
        log_lik = (0.5 * np.log(w).sum() - 0.5 * math.log(prec)
                   - 0.5 * (w * (y - m) ** 2).sum() - 0.5 * prec0 * (m0 - m) ** 2)
        return m, 1.0 / prec, log_lik

    scale = float(np.max(np.abs(y)) + np.max(s))
    # log τ from −∞ (a log-t prior on τ² puts 2e-5 of the mass below τ = 1e-9) to a τ a
    # million times the data's scale (beyond it, less than 1e-12 of the mass here)
    u_lo, u_hi = -np.inf, math.log(1e6 * scale)
    t_ref = 1.0
    shift = cond(t_ref)[2] + tau_logpdf(t_ref)

    def dens(u):  # the density of u = log τ (smooth for every prior, unlike that of τ)
        t = math.exp(u)
        if t == 0.0:
            return 0.0
        return math.exp(cond(t)[2] + tau_logpdf(t) - shift + u)

    def integral(g):
        return integrate.quad(lambda u: dens(u) * g(u), u_lo, u_hi, epsabs=0,
                              epsrel=1e-12, limit=400)[0]

    z = integral(lambda u: 1.0)

    def expect(g):
        return integral(lambda u: g(math.exp(u), *cond(math.exp(u))[:2])) / z

    return expect


@pytest.mark.parametrize("name", list(ANALYSES))
def test_exact_equals_independent_quadrature(name, fits, reference):
    post = fits[name]
    data = reference[name]["data"]
    y = np.array([d["y"] for d in data])
    s = np.array([d["sigma"] for d in data])
    tau_prior, mu_prior = ANALYSES[name]
    tau_logpdf = {"uniform_improper": lambda t: 0.0,  # densities up to constants
                  "halfcauchy:25": lambda t: -math.log1p((t / 25) ** 2),
                  "halfnormal:0.5": lambda t: -2.0 * t * t}[tau_prior]
    expect = _brute(y, s, tau_logpdf, None if mu_prior == "flat" else (0.0, 4.0))
    q_mu = post.mu.quantile(np.array([0.025, 0.5, 0.975]))[0]
    for x, p in zip(q_mu, (0.025, 0.5, 0.975), strict=True):
        assert expect(lambda t, m, v, x=x: ndtr((x - m) / math.sqrt(v))) == \
            pytest.approx(p, abs=1e-8)
    q_new = post.theta_new.quantile(np.array([0.025, 0.975]))[0]
    for x, p in zip(q_new, (0.025, 0.975), strict=True):
        assert expect(lambda t, m, v, x=x: ndtr((x - m) / math.sqrt(v + t * t))) == \
            pytest.approx(p, abs=1e-8)
    p_mu = float(post.mu.sf(np.array([[0.0]]))[0, 0])
    assert p_mu == pytest.approx(expect(lambda t, m, v: ndtr(m / math.sqrt(v))),
                                 rel=1e-7, abs=1e-12)
    # the first study's shrunken effect: θ_1 | τ, y ~ N((1−b)y₁ + bμ̂, s₁²(1−b) + b²V)
    med = float(post.theta.quantile(np.array([0.5]))[0, 0])

    def theta1_cdf(t, m, v):
        b = s[0] ** 2 / (s[0] ** 2 + t * t)
        return ndtr((med - (1 - b) * y[0] - b * m) / math.sqrt(s[0] ** 2 * (1 - b) + b * b * v))

    assert expect(theta1_cdf) == pytest.approx(0.5, abs=1e-8)
    assert float(post.theta.mean()[0]) == pytest.approx(
        expect(lambda t, m, v: (1 - s[0] ** 2 / (s[0] ** 2 + t * t)) * y[0]
               + s[0] ** 2 / (s[0] ** 2 + t * t) * m), rel=1e-8)


def test_shortest_intervals_have_equal_density_ends(fits):
    """The shortest 95% interval of a unimodal density: 95% inside, equal density at the
    ends, narrower than the equal-tailed interval."""
    post = fits["eightschools_tauHalfCauchy25_muFlat"]
    for mix in (post.mu, post.theta_new, post.theta):
        lo, hi = mix.shortest_interval(0.95)
        inside = mix.cdf(hi[:, None])[:, 0] - mix.cdf(lo[:, None])[:, 0]
        np.testing.assert_allclose(inside, 0.95, atol=1e-10)
        np.testing.assert_allclose(mix.pdf(lo[:, None]), mix.pdf(hi[:, None]), rtol=1e-6)
        q = mix.quantile(np.array([0.025, 0.975]))
        assert np.all(hi - lo <= q[:, 1] - q[:, 0] + 1e-12)


def test_bayes_factors_equal_independent_integration(fits, reference):
    """Crins: p(y | τ = 0), p(y | μ = 0) and p(y) written as multivariate normal densities
    and integrated over τ with scipy (not the formulas of the module)."""
    data = reference["crinsAR_logOR_tauHN0.5_muN0sd4"]["data"]
    y = np.array([d["y"] for d in data])
    s = np.array([d["sigma"] for d in data])
    k = len(y)
    prior = stats.halfnorm(scale=0.5)

    def p_y_given(tau, mu_var):
        return stats.multivariate_normal(np.zeros(k), np.diag(s**2 + tau**2)
                                         + mu_var).pdf(y)

    p_y = integrate.quad(lambda t: prior.pdf(t) * p_y_given(t, 16.0), 0, np.inf,
                         epsabs=0, epsrel=1e-11)[0]
    p_tau0 = p_y_given(0.0, 16.0)
    p_mu0 = integrate.quad(lambda t: prior.pdf(t) * p_y_given(t, 0.0), 0, np.inf,
                           epsabs=0, epsrel=1e-11)[0]
    bf = fits["crinsAR_logOR_tauHN0.5_muN0sd4"].bayes_factors
    assert bf.tau0 == pytest.approx(p_tau0 / p_y, rel=1e-7)
    assert bf.mu0 == pytest.approx(p_mu0 / p_y, rel=1e-7)


def test_improper_bayes_factors_are_not_reported(fits):
    bf = fits["eightschools_tauUniform_muFlat"].bayes_factors
    assert bf.tau0 is None and bf.mu0 is None and bf.log_marginal is None
    assert "improper" in bf.why["tau0"] and "flat" in bf.why["mu0"]


def _input(y, s, tau="uniform_improper", mu="flat"):
    return NNHMInput(np.asarray(y, float), np.asarray(s, float), parse_prior(mu),
                     parse_prior(tau))


def test_improper_posterior_is_refused():
    with pytest.raises(InputError, match="improper for 2 studies"):
        nnhm_exact(_input([0.1, 0.5], [0.2, 0.3]))
    nnhm_exact(_input([0.1, 0.5], [0.2, 0.3], mu="normal:0:4"))  # proper: p(y|τ) ~ τ^-2
    nnhm_exact(_input([0.1, 0.5], [0.2, 0.3], tau="jeffreys"))  # Jeffreys: ~ τ^-2


def test_moments_that_do_not_exist_are_not_reported():
    """3 studies, uniform τ, flat μ: p(τ|y) ~ τ^-2, so E[τ] = ∞ and μ has no mean, while
    quantiles exist."""
    post = nnhm_exact(_input([0.1, 0.5, -0.2], [0.2, 0.3, 0.25]))
    assert post.tau.moment(1) is None
    assert not post.mu.mean_exists and not post.theta_new.var_exists
    q = post.tau.quantile(np.array([0.5, 0.975]))
    assert np.all(np.isfinite(q)) and q[1] > q[0] > 0


@pytest.mark.parametrize("tau_prior, scipy_prior", [
    ("jeffreys", None),
    ("rhodes:general", stats.t(5, loc=-3.44 / 2, scale=2.59 / 2)),
    ("turner:general", stats.norm(loc=-2.56 / 2, scale=1.74 / 2)),
])
def test_other_tau_priors_equal_independent_quadrature(tau_prior, scipy_prior):
    """Jeffreys (data-dependent), log-t (heavy tail) and log-normal τ priors."""
    y = np.array([-0.65, -0.13, 0.12, -0.41, -0.02, 0.21, -0.55])
    s = np.array([0.31, 0.20, 0.44, 0.26, 0.18, 0.35, 0.52])
    post = nnhm_exact(_input(y, s, tau=tau_prior, mu="normal:0:2"))

    def tau_logpdf(t):
        if scipy_prior is None:  # Jeffreys: sqrt(Σ τ²/(s²+τ²)²)
            v = float(np.sum((t / (s**2 + t * t)) ** 2))
            return 0.5 * math.log(v) if v > 0 else -np.inf
        return scipy_prior.logpdf(math.log(t)) - math.log(t) if t > 0 else -np.inf

    expect = _brute(y, s, tau_logpdf, (0.0, 2.0))
    x = float(post.mu.quantile(np.array([0.9]))[0, 0])
    assert expect(lambda t, m, v: ndtr((x - m) / math.sqrt(v))) == \
        pytest.approx(0.9, abs=1e-8)
    t_med = float(post.tau.quantile(np.array([0.5]))[0])
    assert expect(lambda t, m, v: float(t <= t_med)) == pytest.approx(0.5, abs=1e-6)


def test_many_studies_stay_accurate():
    """1,000 precise studies: a narrow τ posterior; quadrature must still resolve it."""
    rng = np.random.default_rng(7)
    s = rng.uniform(0.05, 0.3, 1000)
    y = rng.normal(0.2, 0.15, 1000) + rng.normal(0, s)
    post = nnhm_exact(_input(y, s, tau="halfnormal:0.5", mu="normal:0:4"))
    assert post.tau.error < 1e-9
    w = 1 / (s**2 + 0.15**2)
    assert float(post.mu.quantile(np.array([0.5]))[0, 0]) == pytest.approx(
        np.sum(w * y) / np.sum(w), abs=0.01)
    assert float(post.tau.quantile(np.array([0.5]))[0]) == pytest.approx(0.15, abs=0.02)
    sd_tau = math.sqrt(post.tau.moment(2) - post.tau.moment(1) ** 2)
    assert sd_tau < 0.01  # narrow, as expected with 1,000 studies


def test_draws_shortest_interval_matches_the_exact_one():
    """MCMC results answer shortest_interval() too: for Exp(1) draws the shortest 95%
    interval is [0, −log 0.05]; with 20,000 draws the upper end is within 0.1 (about 3 SD)
    (its sampling SD is about 1/(f(q) sqrt(n)) · sqrt(p(1 − p)) ≈ 0.03)."""
    from bayesmeta.results.marginal import DrawsMarginal

    draws = np.random.default_rng(3).exponential(size=(4, 5000))
    lo, hi = DrawsMarginal("x", draws).shortest_interval(0.95)
    assert lo == pytest.approx(0.0, abs=1e-3)
    assert hi == pytest.approx(-math.log(0.05), abs=0.1)
