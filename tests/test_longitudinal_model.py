"""The longitudinal model's density and derived draws against independent computations.

No MCMC here: the PyMC model's log-likelihood at fixed parameter values is compared with
``tests/longitudinal_exact.py`` (dense covariance of each study's observed times, written
from the definition), and the derived draws (a new study's effects, study-level effects)
with their exact Gaussian moments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from pytensor.graph.replace import graph_replace
from scipy import integrate, stats

from bayesmeta.data.longitudinal import read_longitudinal
from bayesmeta.models.longitudinal import (
    LongitudinalOptions,
    LongitudinalPriors,
    build_longitudinal,
    conditional_study_effects,
    correlation_prior,
    cpc_from_correlation,
    default_priors,
    new_study_effects,
    rho_within_value,
)
from bayesmeta.priors import Prior
from tests.conftest import DATA
from tests.longitudinal_exact import between, ishak_by_index, marginal_loglik

MU = np.array([-25.0, -27.0, -29.0, -26.0])
TAU = np.array([4.0, 6.0, 5.0, 7.0])
UN_CORR = np.array([[1.0, 0.8, 0.6, 0.3],
                    [0.8, 1.0, 0.7, 0.5],
                    [0.6, 0.7, 1.0, 0.65],
                    [0.3, 0.5, 0.65, 1.0]])


def _ishak_index():
    return read_longitudinal(DATA / "ishak2007_long.csv", time_col="timepoint")


def _loglik(model, values: dict) -> float:
    """Sum of the model's likelihood terms with its parameters replaced by ``values``."""
    total = sum(model.potentials)
    replaced = graph_replace(total, {model[name]: np.asarray(v, float)
                                     for name, v in values.items()}, strict=False)
    return float(replaced.eval())


@pytest.mark.parametrize("structure, per_time, within, rho_w", [
    ("ar1", False, "ar1", 0.97),   # metafor "AR" with vcalc(phi = 0.97)
    ("ar1", True, "ar1", 0.97),    # "HAR"
    ("cs", False, "cs", 0.5),      # "CS", constant within-study correlation
    ("cs", True, "ar1", 0.6),      # "HCS"
    ("un", True, "cs", 0.3),       # unstructured
])
def test_likelihood_equals_dense_marginal_likelihood(structure, per_time, within, rho_w):
    data = _ishak_index()
    options = LongitudinalOptions(structure=structure, tau_per_time=per_time, within=within)
    priors = LongitudinalPriors(effect=Prior("normal", (0, 100)), tau=Prior("halfnormal", (10,)),
                                corr=Prior("uniform", (0, 1)), rho_within=rho_w)
    model = build_longitudinal(data, priors, options)
    tau = TAU if per_time else np.array(5.5)
    values = {"mu": MU, "tau": tau}
    if structure == "un":
        values["corr_cpc01"] = (cpc_from_correlation(UN_CORR) + 1) / 2
        sigma = np.outer(TAU, TAU) * UN_CORR
    else:
        corr_value = 0.83
        values["phi" if structure == "ar1" else "rho"] = corr_value
        struct = ("H" if per_time else "") + ("AR" if structure == "ar1" else "CS")
        sigma = between(struct, np.broadcast_to(tau**2, (4,)), corr_value, data.times)
    expected = marginal_loglik(ishak_by_index(), sigma, MU, rho_w, kind=within)
    assert _loglik(model, values) == pytest.approx(expected, rel=1e-9)


def test_one_time_point_is_the_normal_normal_likelihood():
    frame = pd.read_csv(DATA / "eight_schools.csv")
    data = read_longitudinal(frame.assign(time=1).rename(columns={"y": "yi", "sigma": "sei"}))
    priors = default_priors(data, LongitudinalOptions())
    model = build_longitudinal(data, priors, LongitudinalOptions())
    assert "phi" not in model.named_vars  # nothing to correlate with one time point
    mu, tau = 7.0, 4.0
    expected = stats.norm.logpdf(frame.y, mu, np.sqrt(frame.sigma**2 + tau**2)).sum()
    assert _loglik(model, {"mu": [mu], "tau": tau}) == pytest.approx(expected, rel=1e-10)


def _draw_dict(n: int, structure: str) -> dict[str, np.ndarray]:
    draws = {"mu": np.tile(MU, (n, 1)), "tau": np.tile(TAU, (n, 1))}
    if structure == "ar1":
        draws["phi"] = np.full(n, 0.8)
    elif structure == "cs":
        draws["rho"] = np.full(n, 0.6)
    else:
        draws["corr_cpc01"] = np.tile((cpc_from_correlation(UN_CORR) + 1) / 2, (n, 1))
    return draws


@pytest.mark.parametrize("structure", ["ar1", "cs", "un"])
def test_new_study_effects_have_covariance_sigma(structure):
    """θ_new − μ ~ MVN(0, Σ): the sample covariance of 200,000 draws is within 5 standard
    errors (SE of a sample covariance: sqrt((Σ_kk Σ_ll + Σ_kl²)/n)) of Σ."""
    times = np.array([1.0, 2.0, 4.0, 8.0])
    n = 200_000
    options = LongitudinalOptions(structure=structure, tau_per_time=True)
    draws = _draw_dict(n, structure)
    theta = new_study_effects(options, times, draws, np.random.default_rng(3))
    if structure == "ar1":
        corr = 0.8 ** np.abs(times[:, None] - times[None, :])
    elif structure == "cs":
        corr = np.where(np.eye(4, dtype=bool), 1.0, 0.6)
    else:
        corr = UN_CORR
    sigma = np.outer(TAU, TAU) * corr
    dev = theta - MU
    np.testing.assert_array_less(np.abs(dev.mean(axis=0)), 5 * TAU / math.sqrt(n))
    se = np.sqrt((np.outer(np.diag(sigma), np.diag(sigma)) + sigma**2) / n)
    assert np.all(np.abs(np.cov(dev.T) - sigma) < 5 * se)


def test_study_effects_follow_the_gaussian_conditional():
    """θ_i | y_i for a study seen at 2 of 4 times: mean and covariance by conditioning the
    joint normal of (θ_i, y_i) — computed here from scratch — match 200,000 draws."""
    times = np.array([1.0, 2.0, 3.0, 4.0])
    frame = pd.DataFrame({"study": ["A", "A", "B", "B"], "time": [1, 3, 2, 4],
                          "yi": [-20.0, -31.0, -26.0, -24.0], "sei": [2.0, 3.0, 1.5, 2.5]})
    data = read_longitudinal(frame)
    options = LongitudinalOptions(structure="ar1", tau_per_time=True, within="cs")
    n = 200_000
    draws = _draw_dict(n, "ar1")
    rho_w = np.full(n, 0.5)
    theta = conditional_study_effects(data, options, draws, rho_w, np.random.default_rng(5))
    sigma = np.outer(TAU, TAU) * 0.8 ** np.abs(times[:, None] - times[None, :])
    obs = [0, 2]
    s_within = np.array([[4.0, 0.5 * 2 * 3], [0.5 * 2 * 3, 9.0]])
    v = sigma[np.ix_(obs, obs)] + s_within
    cross = sigma[:, obs]
    mean = MU + cross @ np.linalg.solve(v, np.array([-20.0, -31.0]) - MU[obs])
    cov = sigma - cross @ np.linalg.solve(v, cross.T)
    sample = theta[:, 0, :]
    se_mean = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(sample.mean(axis=0) - mean) < 5 * se_mean)
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(np.cov(sample.T) - cov) < 5 * se_cov)


def test_beta_prior_faces_agree():
    prior = Prior("beta", (2.0, 3.0))
    total, _ = integrate.quad(lambda x: np.exp(prior.logpdf(x)), 0, 1)
    assert total == pytest.approx(1.0, abs=1e-8)
    with pm.Model():
        var = prior.to_pymc("x")
    xs = np.array([0.1, 0.4, 0.8])
    np.testing.assert_allclose([pm.logp(var, x).eval() for x in xs], prior.logpdf(xs),
                               rtol=1e-6)


@pytest.mark.parametrize("text, ok", [
    ("uniform:0:1", True), ("beta:2:2", True), ("uniform:0:0.9", True),
    ("uniform:0:2", False), ("halfnormal:1", False), ("normal:0:1", False),
])
def test_correlation_priors_stay_in_0_1(text, ok):
    if ok:
        assert correlation_prior(text, option="--corr-prior").spec == text
    else:
        with pytest.raises(Exception, match="--corr-prior"):
            correlation_prior(text, option="--corr-prior")


def test_rho_within_is_a_number_or_a_prior():
    assert rho_within_value("0.5") == 0.5
    assert rho_within_value("beta:2:2").family == "beta"
    for bad in ("1", "-0.2", "halfnormal:1"):
        with pytest.raises(Exception, match="--rho-within"):
            rho_within_value(bad)


def test_partial_correlations_give_lkj():
    """(z + 1)/2 ~ Beta(β_j, β_j) for the C-vine partial correlations must give R ~ LKJ(η),
    whose every off-diagonal element is marginally Beta(η − 1 + K/2, η − 1 + K/2) on
    (−1, 1) (Lewandowski et al. 2009): Kolmogorov–Smirnov test on 20,000 prior draws of
    each element, and the round trip correlation → CPC → Cholesky."""
    from bayesmeta.models.longitudinal import cholesky_from_cpc, cpc_beta_parameters

    k, eta, n = 4, 2.0, 20_000
    beta = cpc_beta_parameters(k, eta)
    z = 2 * np.random.default_rng(8).beta(beta, beta, size=(n, len(beta))) - 1
    chol = cholesky_from_cpc(z, k)
    corr = chol @ np.swapaxes(chol, 1, 2)
    np.testing.assert_allclose(np.diagonal(corr, axis1=1, axis2=2), 1.0, atol=1e-12)
    marginal = stats.beta(eta - 1 + k / 2, eta - 1 + k / 2, loc=-1, scale=2)
    for i, j in [(1, 0), (2, 0), (3, 1), (3, 2)]:
        assert stats.kstest(corr[:, i, j], marginal.cdf).pvalue > 0.001, (i, j)
    back = cholesky_from_cpc(cpc_from_correlation(UN_CORR)[None, :], k)[0]
    np.testing.assert_allclose(back @ back.T, UN_CORR, atol=1e-12)


def _random_batch(n: int = 7, m: int = 3, seed: int = 1):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, m, m))
    return rng.normal(size=(n, m)), a, a @ np.swapaxes(a, 1, 2) + 0.5 * np.eye(m)


@pytest.mark.parametrize("linker", ["numba", "py"])
def test_small_mvnormal_op_value(linker):
    """The operation (numba kernel, and the numpy fallback) equals scipy's MVN density."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.compile.mode import Mode

    from bayesmeta.models.mvn_ops import small_mvnormal_logp

    resid, _, cov = _random_batch()
    r, c = pt.dmatrix("r"), pt.dtensor3("c")
    f = pytensor.function([r, c], small_mvnormal_logp(r, c), mode=Mode(linker=linker))
    expected = sum(stats.multivariate_normal.logpdf(x, cov=v) for x, v in zip(resid, cov,
                                                                              strict=True))
    assert f(resid, cov) == pytest.approx(expected, rel=1e-10)
    bad = cov.copy()
    bad[2] = -np.eye(3)
    assert f(resid, bad) == -np.inf


@pytest.mark.parametrize("linker", ["numba", "py"])
def test_small_mvnormal_op_gradient(linker):
    """Analytic gradient (numba kernel and numpy fallback) against central finite
    differences along random directions — symmetric ones for the covariance, as the model
    only ever passes symmetric matrices (the gradient is the symmetric one)."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.compile.mode import Mode

    from bayesmeta.models.mvn_ops import small_mvnormal_logp

    resid, _, cov = _random_batch(n=4, m=3, seed=2)
    r, c = pt.dmatrix("r"), pt.dtensor3("c")
    out = small_mvnormal_logp(r, c)
    mode = Mode(linker=linker)
    f = pytensor.function([r, c], out, mode=mode)
    g = pytensor.function([r, c], pt.grad(out, [r, c]), mode=mode)
    g_r, g_c = g(resid, cov)
    rng = np.random.default_rng(3)
    h = 1e-5
    for _ in range(5):
        e = rng.normal(size=resid.shape)
        d = rng.normal(size=cov.shape)
        d = d + np.swapaxes(d, 1, 2)
        numeric = (f(resid + h * e, cov + h * d) - f(resid - h * e, cov - h * d)) / (2 * h)
        analytic = np.sum(g_r * e) + np.sum(g_c * d)
        assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-6)
