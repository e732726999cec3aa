"""Absolute effects against hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bayesmeta.results.absolute import NumberNeeded, risk_difference_draws


def test_risk_difference_by_hand():
    # baseline 10%: odds 1/9; OR 2 -> odds 2/9 -> risk 2/11; RD = 2/11 - 1/10
    rd = risk_difference_draws(np.array([math.log(2.0), 0.0]), 0.10)
    assert rd[0] == pytest.approx(2 / 11 - 0.1, rel=1e-12)
    assert rd[1] == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("rd, text", [
    ((0.04, 0.01, 0.10), "NNH 25 (95% CrI NNH 10 to NNH 100)"),
    ((-0.25, -0.30, -0.20), "NNTB 4 (95% CrI NNTB 4 to NNTB 5)"),
    ((0.02, -0.01, 0.05), "NNH 50 (95% CrI NNTB 100 to ∞ to NNH 20)"),
])
def test_number_needed_follows_altman(rd, text):
    assert NumberNeeded(*rd).text() == text


@pytest.mark.mcmc
def test_result_risk_difference_uses_pooled_control_risk(crins_fit):
    base = crins_fit.baseline_risk
    assert base.value == pytest.approx(85 / 184)
    log_or = crins_fit.posterior("log_or").flat
    expected = 1000 * np.median(risk_difference_draws(log_or, 85 / 184))
    assert crins_fit.risk_difference().median == pytest.approx(expected)


@pytest.mark.mcmc
def test_prob_harm_is_the_share_of_draws(crins_fit):
    theta = crins_fit.posterior("log_or").flat
    assert crins_fit.prob_harm(0.5) == pytest.approx(np.mean(theta > math.log(0.5)))
    assert crins_fit.prob_harm(1.0) <= crins_fit.prob_harm(0.5)
    doc = crins_fit.to_dict()
    assert doc["probabilities"]["or_gt"]["0.5"] == crins_fit.prob_harm(0.5)
