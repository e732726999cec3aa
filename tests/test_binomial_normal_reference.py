"""The binomial–normal model against Stan (brms, MetaStan) fits of the same model and priors.

Tolerance: the two estimates differ only by Monte Carlo error. Ours has Monte Carlo
standard error (MCSE) m_ours, computed by ArviZ from our draws (4 chains × 2000); the
reference (40,000 draws) has m_ref ≈ sd·sqrt(π/2)/sqrt(ESS) for a median and
sqrt(p(1−p)/ESS)/density for a 2.5%/97.5% quantile (normal approximation, its own bulk ESS).
We require |ours − ref| ≤ 4·sqrt(m_ours² + m_ref²): a 4-sigma band, which a correct
sampler misses with probability ~6e-5 per comparison. The references are checked to agree
with each other (brms vs MetaStan) within the same band, which shows the band is not loose.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tests.conftest import read_reference

Z = 4.0
PARAMS = {"theta": "log_or", "tau": "tau"}


def _ref(tool: str, analysis: str) -> dict[str, dict[str, float]]:
    frame = read_reference(f"{tool}_bnhm_summary.csv")
    rows = frame[frame.analysis == analysis]
    ess_cols = {"theta": ["ess_bulk_theta", "neff_theta"], "tau": ["ess_bulk_tau", "neff_tau"]}
    out = {}
    for _, row in rows.iterrows():
        if row.param not in PARAMS:
            continue
        ess = next(float(row[c]) for c in ess_cols[row.param] if c in row.index)
        out[row.param] = {"median": row["median"], "q025": row.q025, "q975": row.q975,
                          "sd": row.sd, "ess": ess, "p_gt0": row.P_theta_gt0}
    return out


def _ref_mcse(ref: dict[str, float], key: str) -> float:
    """Normal-approximation MCSE of a reference quantile from its ESS."""
    p = {"median": 0.5, "q025": 0.025, "q975": 0.975}[key]
    density = stats.norm.pdf(stats.norm.ppf(p)) / ref["sd"]
    return math.sqrt(p * (1 - p) / ref["ess"]) / density


@pytest.mark.mcmc
@pytest.mark.parametrize("tool", ["brms", "metastan"])
@pytest.mark.parametrize("analysis, fixture", [("crinsAR", "crins_fit"),
                                               ("nissenMI", "nissen_fit")])
def test_pooled_log_or_and_tau_match_stan(tool, analysis, fixture, request):
    res = request.getfixturevalue(fixture)
    assert res.diagnostics.ok, res.diagnostics.problems
    ref = _ref(tool, analysis)
    for param, quantity in PARAMS.items():
        ours = res.posterior(quantity).summary()
        for key in ("median", "q025", "q975"):
            band = Z * math.hypot(ours["mcse"][key], _ref_mcse(ref[param], key))
            diff = ours[key] - ref[param][key]
            assert abs(diff) <= band, (
                f"{analysis} {param} {key}: ours {ours[key]:.4f} vs {tool} "
                f"{ref[param][key]:.4f} (band ±{band:.4f})")


@pytest.mark.mcmc
@pytest.mark.parametrize("analysis, fixture", [("crinsAR", "crins_fit"),
                                               ("nissenMI", "nissen_fit")])
def test_probability_of_harm_matches_stan(analysis, fixture, request):
    res = request.getfixturevalue(fixture)
    ours = res.prob_harm(1.0)
    draws = res.posterior("log_or").draws
    from arviz_stats.base import array_stats

    ess = float(array_stats.ess(draws > 0, method="mean"))
    for tool in ("brms", "metastan"):
        ref = _ref(tool, analysis)["theta"]["p_gt0"]
        p = max(ref, 1.0 / ess)  # binomial MC error, at least one draw's worth
        band = Z * math.sqrt(p * (1 - p) / ess + ref * (1 - ref) / 40000)
        assert abs(ours - ref) <= band, f"{analysis}: P(OR>1) {ours} vs {tool} {ref} ± {band}"


def test_the_two_references_agree_within_the_same_band():
    """brms and MetaStan (both 40,000 draws) agree within the band used above."""
    for analysis in ("crinsAR", "nissenMI"):
        a, b = _ref("brms", analysis), _ref("metastan", analysis)
        for param in PARAMS:
            for key in ("median", "q025", "q975"):
                band = Z * math.hypot(_ref_mcse(a[param], key), _ref_mcse(b[param], key))
                assert abs(a[param][key] - b[param][key]) <= band


@pytest.mark.mcmc
def test_predictive_interval_matches_stan(crins_fit):
    """θ_new = θ + τ·z: its 95% interval against brms' (same band, from our MCSE)."""
    frame = read_reference("brms_bnhm_summary.csv")
    row = frame[(frame.analysis == "crinsAR") & (frame.param == "theta_new")].iloc[0]
    ours = crins_fit.posterior("theta_new").summary()
    for key in ("median", "q025", "q975"):
        # θ_new mixes θ and τ: take the smaller of their two reported bulk ESS
        ess = min(row.ess_bulk_theta, row.ess_bulk_tau)
        ref_mcse = _ref_mcse({"sd": row.sd, "ess": ess}, key)
        band = Z * math.hypot(ours["mcse"][key], ref_mcse)
        assert abs(ours[key] - row[key]) <= band, (key, ours[key], row[key], band)


@pytest.mark.mcmc
def test_double_zero_trials_are_kept(nissen_fit):
    assert nissen_fit.data.k == 42
    assert int(nissen_fit.data.double_zero.sum()) == 4
    assert nissen_fit.posterior_tree["theta_study"].sizes["study"] == 42
    assert np.isfinite(nissen_fit.posterior("or").median)
