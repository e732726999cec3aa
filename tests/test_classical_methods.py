"""Classical methods where metafor has no stored reference: checked against closed forms
that must hold exactly (one table, τ̂ = 0 limits, hand-computed corrections)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

import bayesmeta as bm
from bayesmeta.data.binary import BinaryData
from bayesmeta.data.effect_sizes import binary_effects, rate_effects
from bayesmeta.errors import InputError
from bayesmeta.inference.classical.analyses import classical_binary
from bayesmeta.inference.classical.glmm import glmm_fixed_study
from bayesmeta.inference.classical.inverse_variance import inverse_variance
from bayesmeta.inference.classical.mantel_haenszel import (
    mantel_haenszel,
    mantel_haenszel_rates,
    peto,
)
from bayesmeta.inference.classical.result import NoEstimate

A, N1, C, N2 = 7, 40, 15, 45  # one 2×2 table
B, D = N1 - A, N2 - C


@pytest.mark.parametrize("measure, estimate, variance", [
    # one table: MH = the table's own estimate, and each MH variance reduces to the
    # textbook one (Woolf; Katz; Wald for RD)
    ("OR", math.log(A * D / (B * C)), 1 / A + 1 / B + 1 / C + 1 / D),
    ("RR", math.log((A / N1) / (C / N2)), 1 / A - 1 / N1 + 1 / C - 1 / N2),
    ("RD", A / N1 - C / N2, (A / N1) * (1 - A / N1) / N1 + (C / N2) * (1 - C / N2) / N2),
])
def test_mantel_haenszel_on_one_table_is_the_table_estimate(measure, estimate, variance):
    fit = mantel_haenszel([A], [N1], [C], [N2], measure=measure)
    assert fit.estimate == pytest.approx(estimate, rel=1e-12)
    assert fit.se**2 == pytest.approx(variance, rel=1e-12)


def test_peto_on_one_table_is_o_minus_e_over_v():
    m, n = A + C, N1 + N2
    e = N1 * m / n
    v = m * (n - m) * N1 * N2 / (n**2 * (n - 1))
    fit = peto([A], [N1], [C], [N2])
    assert fit.estimate == pytest.approx((A - e) / v, rel=1e-12)
    assert fit.se == pytest.approx(v**-0.5, rel=1e-12)


def test_mantel_haenszel_rate_ratio_on_one_study():
    fit = mantel_haenszel_rates([9], [413.0], [19], [398.0])
    assert fit.estimate == pytest.approx(math.log((9 / 413) / (19 / 398)), rel=1e-12)
    assert fit.se**2 == pytest.approx(1 / 9 + 1 / 19, rel=1e-12)


def test_treatment_arm_correction_by_hand():
    """Sweeting et al. (2004): arm corrections ∝ the other arm's reciprocal size, summing
    to 2·cc — here k_t = 100/150, k_c = 50/150 for the zero table; the full table is
    untouched; balanced arms get cc in every cell (= the constant correction)."""
    eff = binary_effects([0, 4], [100, 60], [5, 6], [50, 60], cc_method="tacc")
    kt, kc = 2 / 3, 1 / 3
    a, b, c, d = kt, 100 + kt, 5 + kc, 45 + kc
    assert eff.yi[0] == pytest.approx(math.log(a * d / (b * c)), rel=1e-12)
    assert eff.vi[0] == pytest.approx(1 / a + 1 / b + 1 / c + 1 / d, rel=1e-12)
    assert eff.yi[1] == pytest.approx(math.log(4 * 54 / (56 * 6)), rel=1e-12)
    assert "treatment-arm correction" in eff.note
    balanced = binary_effects([0], [30], [3], [30], cc_method="tacc")
    constant = binary_effects([0], [30], [3], [30])
    np.testing.assert_allclose(balanced.yi, constant.yi, rtol=1e-12)


def test_rate_effects_by_hand():
    eff = rate_effects([0, 9], [413.0, 263.0], [19, 8], [398.0, 245.0])
    assert eff.yi[0] == pytest.approx(math.log((0.5 / 413) / (19.5 / 398)), rel=1e-12)
    assert eff.vi[1] == pytest.approx(1 / 9 + 1 / 8, rel=1e-12)
    assert eff.corrected.tolist() == [True, False]


def test_dl_with_no_heterogeneity_equals_fixed_effect():
    yi, vi = np.array([0.1, 0.12, 0.09]), np.array([0.04, 0.05, 0.06])
    fe = inverse_variance(yi, vi, tau2_method="FE")
    dl = inverse_variance(yi, vi, tau2_method="DL")
    assert dl.tau2 == 0 and dl.estimate == pytest.approx(fe.estimate, rel=1e-14)
    w = 1 / vi
    assert fe.estimate == pytest.approx(np.sum(w * yi) / np.sum(w), rel=1e-14)


def test_paule_mandel_solves_its_estimating_equation():
    yi, vi = np.array([-1.0, 0.4, 0.9, -0.2]), np.array([0.1, 0.2, 0.15, 0.3])
    fit = inverse_variance(yi, vi, tau2_method="PM")
    w = 1 / (vi + fit.tau2)
    mu = np.sum(w * yi) / np.sum(w)
    assert np.sum(w * (yi - mu) ** 2) == pytest.approx(len(yi) - 1, rel=1e-10)


def test_poisson_glmm_at_tau_zero_is_the_conditional_binomial_mle():
    """With fixed study effects and τ̂ = 0, the Poisson ML of θ solves
    Σ x_t = Σ m·T_t e^θ/(T_t e^θ + T_c) (the conditional binomial score)."""
    x_t, t_t = np.array([9, 8, 3]), np.array([413.0, 263.0, 487.0])
    x_c, t_c = np.array([19, 19, 13]), np.array([398.0, 245.0, 435.0])
    fit = glmm_fixed_study(x_t, t_t, x_c, t_c, family="poisson")
    m = x_t + x_c

    def score(theta):
        return np.sum(x_t - m * t_t * np.exp(theta) / (t_t * np.exp(theta) + t_c))

    exact = optimize.brentq(score, -5, 5, xtol=1e-14)
    assert fit.tau2 == 0
    assert fit.estimate == pytest.approx(exact, abs=1e-7)


def test_no_events_in_one_arm_anywhere_gives_no_estimate():
    data = BinaryData(("a", "b"), np.array([0, 0]), np.array([20, 30]), np.array([2, 3]),
                      np.array([20, 30]))
    for method in ("MH", "GLMM"):
        with pytest.raises(NoEstimate):
            classical_binary(data, method)
    # the inverse-variance methods with a correction still give a (biased) number
    assert classical_binary(data, "REML").estimate < 0


def test_no_correction_leaves_zero_tables_out_and_says_so():
    fit = bm.fit_classical("nissen2007_mi", "REML", cc_to="none")
    assert fit.k_used == 12 and "26 table(s) with a zero cell left out" in fit.zero_handling


@pytest.mark.parametrize("kwargs, option", [
    ({"method": "XYZ"}, "--method"), ({"measure": "HR"}, "--measure"),
    ({"cc_to": "some"}, "--cc-to"), ({"test": "t"}, "--test"),
    ({"method": "Peto", "measure": "RR"}, "--measure"),
])
def test_bad_options_are_input_errors(kwargs, option):
    with pytest.raises(InputError, match=option):
        bm.fit_classical("crins2014_ar", **kwargs)


def test_hksj_uses_t_quantile_and_prediction_adds_tau2():
    yi, vi = np.array([-1.0, 0.4, 0.9, -0.2, 0.3]), np.array([0.1, 0.2, 0.15, 0.3, 0.2])
    fit = inverse_variance(yi, vi, tau2_method="REML", test="knha")
    crit = stats.t.ppf(0.975, 4)
    assert fit.ci[1] - fit.estimate == pytest.approx(crit * fit.se, rel=1e-12)
    assert fit.prediction[1] - fit.estimate == pytest.approx(
        crit * math.sqrt(fit.tau2 + fit.se**2), rel=1e-12)
