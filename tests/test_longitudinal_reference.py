"""Ishak et al. (2007): the longitudinal model against metafor's REML fits and the exact
posterior.

Reference: ``tests/reference/metafor_ishak2007_rmamv.json`` from
``tests/reference/scripts/07_metafor_longitudinal_dl.R``: ``rma.mv(yi, V, mods = ~
factor(time) - 1, random = ~ time | study, struct = "AR"/"HAR"/"CS"/"HCS")`` with time =
the follow-up index 1..4 and V = ``vcalc(vi, cluster = study, time1 = time, phi = 0.97)``,
i.e. within-study correlation 0.97^|Δ index|. Our settings: ``time_col="timepoint"``,
``structure="ar1"`` (metafor's AR is φ^|Δ index|), ``within="ar1"``, ``rho_within=0.97``.

Three layers of checks:

1. Exact (no MCMC). At metafor's REML estimates, an independent dense implementation
   (``tests/longitudinal_exact.py``) reproduces its GLS estimates, standard errors and REML
   log-likelihood to 1e-8, and maximising that REML likelihood ourselves recovers
   metafor's τ² and ρ. (The PyMC model's likelihood equals the same implementation:
   ``test_longitudinal_model.py``.)
2. Posterior vs exact posterior. The posterior of (τ, φ) given y is the REML-type
   marginal likelihood (μ integrated out under its normal prior) times the priors; we
   compute it independently by importance sampling (20,000 draws, ESS > 10,000) with μ
   added exactly as a normal mixture. MCMC medians and 2.5%/97.5% quantiles must agree
   within 4·sqrt(MCSE_mcmc² + MCSE_is²): a 4-sigma band.
3. Posterior vs REML — expected differences, stated and tested:
   * μ_k: given (τ, φ) μ's posterior is centred at the GLS estimate (the N(0, 280²) prior
     moves it by < 0.001); the marginal median averages the GLS estimate over the
     posterior of (τ, φ), which moves it by a few hundredths of an SE (exact computation:
     ≤ 0.07 SE for AR and HAR). Tolerance: 0.1·SE_REML + 4·MCSE.
   * τ_k and φ: REML is the joint mode of the restricted likelihood, which is the
     posterior under flat priors on (τ, φ) (our U(0, 1) on φ is flat; half-normal(28) is
     flat to 3% over the plausible τ). A skewed posterior's median sits off its mode by
     about |skewness| × sd / 3 (Pearson: median − mode ≈ ⅔(mean − mode), mean − mode ≈
     skewness × sd / 2). The exact posterior has skewness 0.5–0.7 for τ_k and −1.25 (AR),
     −1.34 (HAR) for φ, so we expect up to ~0.2 sd for τ and ~0.45 sd for φ. Tolerance:
     0.5 × posterior sd + 4·MCSE.

Measured (seed 4, 4 × 1000 draws): μ medians within 0.03 SE of metafor's estimates; τ
medians −0.14 sd (AR) and +0.12 to +0.17 sd (HAR) off; φ −0.31 sd (AR), −0.24 sd (HAR).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.conftest import REFERENCE
from tests.longitudinal_exact import (
    between,
    fit_reml,
    gls,
    importance_posterior,
    ishak_by_index,
    reml_loglik,
)

Z = 4.0
EFFECT_SD, TAU_SCALE = 280.0, 28.0  # the default priors for Ishak (data scale U = 28)


def _reference() -> dict:
    return json.loads((REFERENCE / "metafor_ishak2007_rmamv.json").read_text())


@pytest.mark.parametrize("name", ["AR", "HAR", "CS", "HCS", "AR_diagV", "CS_diagV"])
def test_metafor_fit_reproduced_exactly(name):
    ref = _reference()[name]
    data = ishak_by_index()
    sigma = between(ref["struct"], np.array(ref["tau2"]), ref["rho"], data.times)
    beta, se = gls(data, sigma, ref["rho_within_phi"])
    np.testing.assert_allclose(beta, ref["beta"], rtol=1e-8)
    np.testing.assert_allclose(se, ref["se"], rtol=1e-8)
    assert reml_loglik(data, sigma, ref["rho_within_phi"]) == pytest.approx(ref["logLik"],
                                                                            abs=1e-8)


@pytest.mark.parametrize("name", ["AR", "HAR"])
def test_reml_maximum_recovers_metafor_estimates(name):
    ref = _reference()[name]
    n_tau = len(np.atleast_1d(ref["tau2"]))
    est = fit_reml(ishak_by_index(), ref["struct"], 0.97,
                   np.concatenate([np.full(n_tau, math.log(25.0)), [1.0]]))
    np.testing.assert_allclose(est[:-1], ref["tau2"], rtol=1e-3)
    assert est[-1] == pytest.approx(ref["rho"], abs=1e-3)


@pytest.fixture(scope="module", params=["AR", "HAR"])
def ishak_fit(request):
    import bayesmeta as bm

    name = request.param
    res = bm.fit_longitudinal("ishak2007", time_col="timepoint", structure="ar1",
                              tau_per_time=(name == "HAR"), within="ar1", rho_within=0.97,
                              seed=4)
    assert res.priors.effect.params == (0.0, EFFECT_SD)
    assert res.priors.tau.params == (TAU_SCALE,)
    exact = importance_posterior(ishak_by_index(), name, 0.97, EFFECT_SD, TAU_SCALE,
                                 4 if name == "HAR" else 1)
    return name, res, exact


def _tau_values(name: str, exact, k: int) -> np.ndarray:
    return exact.tau[:, k if name == "HAR" else 0]


@pytest.mark.mcmc
def test_posterior_matches_exact_posterior(ishak_fit):
    name, res, exact = ishak_fit
    assert res.diagnostics.ok, res.diagnostics.problems
    assert exact.ess > 5000
    for p, key in ((0.5, "median"), (0.025, "q025"), (0.975, "q975")):
        for k, t in enumerate(res.times):
            ours = res.posterior("mu", t).summary()
            band = Z * math.hypot(ours["mcse"][key], exact.mu_mcse(k, p))
            assert abs(ours[key] - exact.mu_quantile(k, p)) <= band, (name, "mu", t, key)
            tau_exact = _tau_values(name, exact, k)
            ours = res.posterior("tau", t).summary()
            band = Z * math.hypot(ours["mcse"][key], exact.mcse_quantile(tau_exact, p))
            assert abs(ours[key] - exact.quantile(tau_exact, p)) <= band, (name, "tau", t, key)
        ours = res.posterior("phi").summary()
        band = Z * math.hypot(ours["mcse"][key], exact.mcse_quantile(exact.phi, p))
        assert abs(ours[key] - exact.quantile(exact.phi, p)) <= band, (name, "phi", key)


@pytest.mark.mcmc
def test_close_to_metafor_reml_within_expected_differences(ishak_fit):
    name, res, _ = ishak_fit
    ref = _reference()[name]
    tau_reml = np.sqrt(np.broadcast_to(ref["tau2"], (4,)))
    for k, t in enumerate(res.times):
        mu = res.posterior("mu", t)
        allowed = 0.1 * ref["se"][k] + Z * mu.mcse()["median"]
        assert abs(mu.median - ref["beta"][k]) <= allowed, (name, t, mu.median, ref["beta"][k])
        tau = res.posterior("tau", t)
        allowed = 0.5 * tau.sd + Z * tau.mcse()["median"]
        assert abs(tau.median - tau_reml[k]) <= allowed, (name, t, tau.median, tau_reml[k])
    phi = res.posterior("phi")
    assert abs(phi.median - ref["rho"]) <= 0.5 * phi.sd + Z * phi.mcse()["median"]
