"""Simulated longitudinal meta-analyses: the model recovers known μ_k, Σ and ρ_w.

Truth: four follow-ups at 1, 3, 6 and 12 months; μ = (−1.0, −1.5, −1.8, −1.2); between-
study SDs τ = (0.5, 0.6, 0.7, 0.8) with continuous-time AR(1) correlation φ = 0.9 per month
(so corr(1, 12 months) = 0.9¹¹ = 0.31); within-study correlation ρ_w = 0.6 between any two
of a study's estimates, given a uniform(0, 1) prior and estimated. 48 studies, most missing
some follow-ups: 16 report all four, 8 months 1/3/6, 8 months 6/12, 8 months 1/12, and 8
only one time point; standard errors 0.15–0.9.

Four data sets (seeds) are simulated from the same design and fitted with one compiled
model (the data are swapped in: nutpie ``with_data``). For each fit, 10 quantities (μ_1..4,
τ_1..4, φ, ρ_w) are checked against the truth with their central 95% credible intervals:
40 checks. With correct coverage the number of misses is Binomial(40, 0.05); we allow at
most 6 (P(7 or more) = 0.3%), and require every check where a miss would point at a
systematic error — each μ_k in its 99.9% interval for every seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

TIMES = np.array([1.0, 3.0, 6.0, 12.0])
MU = np.array([-1.0, -1.5, -1.8, -1.2])
TAU = np.array([0.5, 0.6, 0.7, 0.8])
PHI = 0.9
RHO_W = 0.6
PATTERNS = [[0, 1, 2, 3]] * 16 + [[0, 1, 2]] * 8 + [[2, 3]] * 8 + [[0, 3]] * 8 + \
    [[0], [1], [2], [3]] * 2
SEEDS = (101, 202, 303, 404)


def _design() -> pd.DataFrame:
    rng = np.random.default_rng(2024)
    rows = []
    for i, pattern in enumerate(PATTERNS):
        for k in pattern:
            rows.append({"study": f"S{i:02d}", "time": TIMES[k], "k": k,
                         "sei": rng.uniform(0.15, 0.9)})
    return pd.DataFrame(rows)


def _simulate(design: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sigma = np.outer(TAU, TAU) * PHI ** np.abs(TIMES[:, None] - TIMES[None, :])
    out = design.copy()
    yi = np.empty(len(design))
    for _, rows in design.groupby("study", sort=False):
        u = rng.multivariate_normal(np.zeros(4), sigma)
        k = rows["k"].to_numpy()
        se = rows["sei"].to_numpy()
        s_within = np.outer(se, se) * np.where(np.eye(len(k), dtype=bool), 1.0, RHO_W)
        eps = rng.multivariate_normal(np.zeros(len(k)), s_within)
        yi[rows.index] = MU[k] + u[k] + eps
    out["yi"] = yi
    return out.drop(columns="k")


@pytest.mark.mcmc
def test_recovers_known_parameters_with_missing_times():
    import nutpie

    from bayesmeta.data.longitudinal import read_longitudinal
    from bayesmeta.inference.nutpie_compile import compile_for_nutpie
    from bayesmeta.models.longitudinal import (
        LongitudinalOptions,
        LongitudinalPriors,
        build_longitudinal,
        study_groups,
    )
    from bayesmeta.priors import Prior

    design = _design()
    options = LongitudinalOptions(structure="ar1", tau_per_time=True, within="cs")
    priors = LongitudinalPriors(effect=Prior("normal", (0.0, 10.0)),
                                tau=Prior("halfnormal", (2.0,)),
                                corr=Prior("uniform", (0.0, 1.0)),
                                rho_within=Prior("uniform", (0.0, 1.0)))
    first = read_longitudinal(_simulate(design, SEEDS[0]))
    assert (first.times_per_study() < 4).sum() == 32  # missing times are in the design
    compiled = compile_for_nutpie(build_longitudinal(first, priors, options,
                                                     mutable_data=True))
    truth = {"phi": PHI, "rho_within": RHO_W}
    misses: list[str] = []
    for seed in SEEDS:
        data = read_longitudinal(_simulate(design, seed))
        assert data.study == first.study and np.array_equal(data.sei, first.sei)
        updates = {f"y_{g.m}": g.y for g in study_groups(data)}
        fit = nutpie.sample(compiled.with_data(**updates), draws=1000, tune=1000, chains=2,
                            seed=seed, progress_bar=False)
        post = fit["posterior"].to_dataset()
        assert int(fit["sample_stats"]["diverging"].sum()) == 0
        for k in range(4):
            mu = post["mu"].values[..., k].ravel()
            lo, hi = np.quantile(mu, [0.0005, 0.9995])
            assert lo <= MU[k] <= hi, (seed, k, lo, hi)
            checks = {f"mu[{k}]": (mu, MU[k]),
                      f"tau[{k}]": (post["tau"].values[..., k].ravel(), TAU[k])}
            for label, (draws, value) in checks.items():
                lo, hi = np.quantile(draws, [0.025, 0.975])
                if not lo <= value <= hi:
                    misses.append(f"seed {seed} {label}: {value} not in [{lo:.3f}, {hi:.3f}]")
        for name, value in truth.items():
            lo, hi = np.quantile(post[name].values.ravel(), [0.025, 0.975])
            if not lo <= value <= hi:
                misses.append(f"seed {seed} {name}: {value} not in [{lo:.3f}, {hi:.3f}]")
    assert len(misses) <= 6, misses
