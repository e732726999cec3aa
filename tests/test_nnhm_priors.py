"""The τ prior library: Turner 2015 / Rhodes 2015 named priors, log-t and Jeffreys families.

Spot checks of table values. The papers' tables could not be opened from here (see the
module docstrings of bayesmeta.priors.turner2015 / rhodes2015); the values checked by hand
are (a) the two the project's issue quotes from Turner et al. — general N(−2.56, 1.74²) and
adverse events, pharmacological vs placebo/control N(−1.87, 1.52²) — and (b) cells read off
the independent transcription in R bayesmeta's source (TurnerEtAlParameters /
RhodesEtAlParameters). The additivity tests check the tables' structure: both papers fit
outcome type, comparison type (and area) as additive effects on log τ², so every cell must be
row effect + column effect within the tables' rounding.
"""

from __future__ import annotations

import math

import numpy as np
import pymc as pm
import pytest
from scipy import integrate, stats

from bayesmeta.errors import InputError
from bayesmeta.inference.nnhm_exact import _FAST_LOGPDF
from bayesmeta.models.binomial_normal import BinomialNormalPriors, build_binomial_normal
from bayesmeta.priors import Prior, parse_prior, rhodes2015, turner2015
from bayesmeta.priors.families import jeffreys_tau_logpdf


@pytest.mark.parametrize("spec, mean, sd", [
    ("turner:general", -2.56, 1.74),                                 # issue / p. 993
    ("turner:adverse-events:pharma-vs-placebo", -1.87, 1.52),        # issue / Table IV
    ("turner:all-cause-mortality:pharma-vs-placebo", -3.95, 1.34),   # R bayesmeta table
    ("turner:subjective:nonpharma-vs-pharma", -1.67, 1.25),          # R bayesmeta table
    ("turner:obstetric:nonpharma-vs-nonpharma", -3.08, 1.68),        # R bayesmeta table
])
def test_turner_spot_values(spec, mean, sd):
    prior = parse_prior(spec, support="positive")
    assert prior.family == "lognormal_tau2"
    assert prior.params == (mean, sd)
    assert prior.spec == spec and "Turner" in prior.source


@pytest.mark.parametrize("spec, location, scale", [
    ("rhodes:general", -3.44, 2.59),                                       # Sec. 3.3
    ("rhodes:obstetric:pharma-vs-placebo", -4.13, 2.34),                   # Table 3
    ("rhodes:mental-health:pharma-vs-pharma", -3.27, 2.14),                # Table 3
    ("rhodes:subjective:nonpharma:respiratory", -4.52, 2.41),              # Table A.3.1
    ("rhodes:obstetric:pharma-vs-pharma:cancer", -1.85, 2.41),             # Table A.3.2
])
def test_rhodes_spot_values(spec, location, scale):
    prior = parse_prior(spec, support="positive")
    assert prior.family == "logt_tau2"
    assert prior.params == (5.0, location, scale)
    assert "Rhodes" in prior.source


def test_turner_general_is_log_normal_on_tau_squared():
    """log τ² ~ N(−2.56, 1.74²): the median of τ is exp(−2.56/2) = 0.278."""
    prior = parse_prior("turner:general")
    assert prior.dist().ppf(0.5) == pytest.approx(math.exp(-1.28), rel=1e-12)
    assert prior.dist().cdf(math.exp(-1.28 + 1.96 * 0.87)) == pytest.approx(0.975, abs=1e-4)


def test_turner_table_is_additive():
    means = np.array([row[1] for row in turner2015.OUTCOMES.values()])  # (16, 5)
    fitted = means.mean(axis=1, keepdims=True) + means.mean(axis=0) - means.mean()
    assert np.max(np.abs(means - fitted)) <= 0.015, np.abs(means - fitted).max()
    assert means.shape == (16, 5) and len(turner2015.COMPARISONS) == 5


def test_rhodes_tables_are_additive_except_the_flagged_cells():
    rows = [(area, out) for area in rhodes2015.AREAS for out in rhodes2015.OUTCOMES]
    loc = np.array([rhodes2015.TABLE[r][0] for r in rows])  # (24, 3)
    flagged = np.zeros_like(loc, dtype=bool)
    for (area, out, comp), (published, implied) in rhodes2015.ANOMALIES.items():
        i, j = rows.index((area, out)), rhodes2015.COMPARISONS.index(comp)
        assert loc[i, j] == published
        flagged[i, j] = True
        loc[i, j] = implied
    area_of = np.array([rhodes2015.AREAS.index(a) for a, _ in rows])
    out_of = np.array([list(rhodes2015.OUTCOMES).index(o) for _, o in rows])
    # additive model: area + outcome + comparison effects, fitted by least squares
    design = np.zeros((loc.size, 3 + 8 + 3))
    for n, (i, j) in enumerate(np.ndindex(loc.shape)):
        design[n, area_of[i]] = design[n, 3 + out_of[i]] = design[n, 11 + j] = 1
    coef, *_ = np.linalg.lstsq(design, loc.reshape(-1), rcond=None)
    resid = np.abs(design @ coef - loc.reshape(-1))
    assert resid.max() <= 0.02, resid.max()


@pytest.mark.parametrize("text, expected", [
    ("turner:AE:placebo-vs-pharmacological", "turner:adverse-events:pharma-vs-placebo"),
    ("turner:pain:control-vs-non-pharma", "turner:pain:nonpharma-vs-placebo"),
    ("turner:mortality:drug-vs-drug", "turner:all-cause-mortality:pharma-vs-pharma"),
    ("turner:any", "turner:general"),
    ("rhodes:pain:placebo-vs-pharma", "rhodes:general-physical-health:pharma-vs-placebo"),
    ("rhodes:infection:nonpharma-vs-placebo:other",
     "rhodes:signs-symptoms:nonpharma"),
])
def test_names_and_aliases(text, expected):
    assert parse_prior(text).spec == expected
    assert parse_prior(parse_prior(text).spec) == parse_prior(text)  # round trip


@pytest.mark.parametrize("text, fragment", [
    ("turner:adverse-events", "OUTCOME:COMPARISON"),
    ("turner:headache:pharma-vs-placebo", "unknown outcome type 'headache'"),
    ("turner:pain:placebo-vs-placebo", "unknown comparison"),
    ("rhodes:pain:pharma-vs-placebo:mars", "unknown medical area 'mars'"),
    ("rhodes:pain:vs", "unknown comparison"),
])
def test_named_prior_errors(text, fragment):
    with pytest.raises(InputError) as info:
        parse_prior(text, option="--tau-prior")
    assert fragment in str(info.value) and str(info.value).startswith("--tau-prior")


def test_rhodes_anomalous_cell_says_so():
    prior = parse_prior("rhodes:mental-health:nonpharma")
    assert "published location -3.85" in prior.source and "-2.85" in prior.source


def test_logt_tau2_faces_agree_and_integrate_to_one():
    prior = Prior("logt_tau2", (5.0, -3.44, 2.59))
    total, _ = integrate.quad(lambda u: np.exp(prior.logpdf(np.exp(u)) + u), -200, 50,
                              limit=400)
    assert total == pytest.approx(1.0, abs=1e-7)
    with pm.Model():
        var = prior.to_pymc("tau")
    xs = np.array([0.01, 0.2, 1.0, 3.0])
    np.testing.assert_allclose([pm.logp(var, x).eval() for x in xs], prior.logpdf(xs),
                               rtol=1e-6)
    # log τ² ~ t5(−3.44, 2.59): check through the distribution of log τ²
    t5 = stats.t(5, loc=-3.44, scale=2.59)
    assert prior.dist().cdf(np.exp(0.5 * t5.ppf(0.9))) == pytest.approx(0.9, abs=1e-12)


@pytest.mark.parametrize("spec", ["halfnormal:0.5", "halfcauchy:25", "lognormal_tau2:-1.87:1.52"])
def test_fast_log_densities_equal_the_scipy_faces(spec):
    prior = parse_prior(spec)
    xs = np.array([1e-6, 0.05, 0.4, 2.0, 30.0])
    fast = _FAST_LOGPDF[prior.family](*prior.params)
    np.testing.assert_allclose(fast(xs), prior.logpdf(xs), rtol=1e-12)


def test_jeffreys_prior_is_exact_only():
    prior = parse_prior("jeffreys", support="positive")
    assert not prior.proper
    with pytest.raises(InputError, match="standard errors"):
        prior.logpdf(np.array([0.5]))
    with pytest.raises(InputError, match="exact methods"), pm.Model():
        prior.to_pymc("tau")
    s = np.array([0.2, 0.5])
    tau = np.array([0.1, 1.0])
    expected = 0.5 * np.log(((tau[:, None] / (s**2 + tau[:, None] ** 2)) ** 2).sum(axis=1))
    np.testing.assert_allclose(jeffreys_tau_logpdf(tau, s), expected)


def test_binomial_normal_model_takes_named_priors():
    """The same library serves the binomial–normal model: a Turner prior becomes its τ."""
    from bayesmeta.data.binary import read_binary
    from bayesmeta.data.datasets import resolve

    priors = BinomialNormalPriors(tau=parse_prior("turner:adverse-events:pharma-vs-placebo"))
    model = build_binomial_normal(read_binary(resolve("crins2014_ar")), priors)
    tau = model["tau"]
    expected = stats.lognorm(s=1.52 / 2, scale=math.exp(-1.87 / 2)).logpdf(0.3)
    assert float(pm.logp(tau, 0.3).eval()) == pytest.approx(expected, rel=1e-6)
