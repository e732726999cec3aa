"""Effect sizes against metafor's escalc values stored in the reference files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayesmeta.data.binary import read_binary
from bayesmeta.data.effect_sizes import binary_effects, continuous_effects, hedges_correction
from tests.conftest import DATA, REFERENCE


def _bayesmeta_ref(key: str) -> tuple[np.ndarray, np.ndarray]:
    doc = json.loads((REFERENCE / "bayesmeta_nnhm.json").read_text())
    rows = doc[key]["data"]
    return np.array([r["y"] for r in rows]), np.array([r["sigma"] for r in rows])


@pytest.mark.parametrize("dataset, key", [
    ("crins2014_acute_rejection.csv", "crinsAR_logOR_tauHN0.5_muN0sd4"),
    ("nissen2007_mi.csv", "nissenMI_logOR_tauHN0.5_muN0sd4"),
])
def test_log_or_matches_metafor_escalc(dataset, key):
    """The reference used escalc('OR'): 0.5 added to tables with a zero, double zeros out."""
    d = read_binary(DATA / dataset)
    eff = binary_effects(d.events_t, d.n_t, d.events_c, d.n_c, measure="OR")
    y, sigma = _bayesmeta_ref(key)
    np.testing.assert_allclose(eff.yi, y, rtol=1e-10)
    np.testing.assert_allclose(eff.sei, sigma, rtol=1e-10)


def test_mean_difference_matches_metafor_escalc():
    import pandas as pd

    arms = pd.read_csv(DATA / "normand1999_arms.csv")
    eff = continuous_effects(arms.m1i, arms.sd1i, arms.n1i, arms.m2i, arms.sd2i, arms.n2i)
    y, sigma = _bayesmeta_ref("normand1999_MD_tauUniform_muFlat")
    np.testing.assert_allclose(eff.yi, y, rtol=1e-10)
    np.testing.assert_allclose(eff.sei, sigma, rtol=1e-10)


def test_hedges_correction_known_values():
    from scipy.special import gamma

    # Exact J(m) = Γ(m/2) / (sqrt(m/2) Γ((m−1)/2)), here by plain gamma functions
    exact = gamma(5.0) / (np.sqrt(5.0) * gamma(4.5))
    assert hedges_correction(np.array([10.0]))[0] == pytest.approx(exact, rel=1e-12)
    # ... and close to Hedges' approximation 1 − 3/(4m − 1) for large m
    m = np.array([50.0, 200.0])
    np.testing.assert_allclose(hedges_correction(m), 1 - 3 / (4 * m - 1), rtol=1e-4)


def test_correction_is_reported():
    eff = binary_effects([0, 2, 0], [10, 10, 10], [1, 3, 0], [10, 10, 10])
    assert eff.kept.tolist() == [True, True, False]
    assert eff.corrected.tolist() == [True, False, False]
    assert "0.5 added" in eff.note and "1 double-zero" in eff.note
    none = binary_effects([1, 2], [10, 10], [1, 3], [10, 10], to="none")
    assert none.note == "no continuity correction needed"
