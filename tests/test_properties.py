"""Property-based tests (hypothesis): symmetries every correct meta-analysis must have.

* Swapping treatment and control negates log OR, log RR and RD (effect sizes: exactly, up to
  floating-point rounding), and the binomial–normal model's log density is invariant under
  (swap arms, θ → −θ, z → −z) at any point — an exact check of the fitted model that needs no
  MCMC (its posterior of θ is therefore exactly mirrored).
* Permuting studies changes nothing: the data layer reads the same studies, and the model
  density is the same when data and study parameters are permuted together.
* Scaling: a mean difference scales with the outcome's unit, Hedges' g does not; shifting
  both arms changes neither; counting non-events instead of events negates the log OR.
* Fuzzing: any text in a cell, any bytes as a file, give data or an InputError — never
  another exception.
* The exact normal–normal posterior: permuting studies changes nothing (to rounding);
  swapping the arms of 2×2 tables mirrors μ, θ_new and θ_i under a symmetric μ prior;
  rescaling a mean difference (and its priors) rescales μ, τ, θ_new and θ_i.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayesmeta.data.binary import BinaryData, read_binary
from bayesmeta.data.effect_sizes import binary_effects, continuous_effects
from bayesmeta.errors import InputError

#: Fixed examples (derandomize) so CI runs the same cases every time; 60 per property.
FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
#: Exact normal–normal fits (two per example, ~20-40 ms each): 40 examples per property.
EXACT = settings(FAST, max_examples=40)


@st.composite
def two_arm_counts(draw, min_k: int = 2, max_k: int = 8):
    """Studies with arm sizes 1-500 and any number of events, zeros included."""
    k = draw(st.integers(min_k, max_k))
    n_t = np.array(draw(st.lists(st.integers(1, 500), min_size=k, max_size=k)))
    n_c = np.array(draw(st.lists(st.integers(1, 500), min_size=k, max_size=k)))
    e_t = np.array([draw(st.integers(0, int(n))) for n in n_t])
    e_c = np.array([draw(st.integers(0, int(n))) for n in n_c])
    return e_t, n_t, e_c, n_c


def close(a, b):
    """Equal up to floating-point rounding (1e-12): these identities are exact in algebra."""
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# --- effect sizes ---------------------------------------------------------------------
@FAST
@given(counts=two_arm_counts(), measure=st.sampled_from(["OR", "RR", "RD"]),
       to=st.sampled_from(["only0", "all", "if0all", "none"]))
def test_swapping_arms_negates_binary_effects(counts, measure, to):
    e_t, n_t, e_c, n_c = counts
    fwd = binary_effects(e_t, n_t, e_c, n_c, measure=measure, to=to)
    rev = binary_effects(e_c, n_c, e_t, n_t, measure=measure, to=to)
    assert fwd.kept.tolist() == rev.kept.tolist()
    assert fwd.corrected.tolist() == rev.corrected.tolist()
    finite = np.isfinite(fwd.yi)
    assert finite.tolist() == np.isfinite(rev.yi).tolist()
    close(fwd.yi[finite], -rev.yi[finite])
    close(fwd.vi[finite], rev.vi[finite])


@FAST
@given(counts=two_arm_counts(), to=st.sampled_from(["only0", "all", "none"]))
def test_counting_non_events_negates_log_or_and_rd(counts, to):
    e_t, n_t, e_c, n_c = counts
    for measure in ("OR", "RD"):
        events = binary_effects(e_t, n_t, e_c, n_c, measure=measure, to=to, drop00=False)
        others = binary_effects(n_t - e_t, n_t, n_c - e_c, n_c, measure=measure, to=to,
                                drop00=False)
        finite = np.isfinite(events.yi)
        close(events.yi[finite], -others.yi[finite])
        close(events.vi[finite], others.vi[finite])


@st.composite
def continuous_arms(draw):
    k = draw(st.integers(2, 6))
    real = st.floats(-100, 100, allow_nan=False)
    sd = st.floats(0.1, 50)
    n = st.integers(2, 300)
    return tuple(np.array(draw(st.lists(s, min_size=k, max_size=k)))
                 for s in (real, sd, n, real, sd, n))


@FAST
@given(arms=continuous_arms(), scale=st.floats(0.01, 100), shift=st.floats(-50, 50))
def test_mean_difference_scales_and_hedges_g_does_not(arms, scale, shift):
    m1, s1, n1, m2, s2, n2 = arms
    md = continuous_effects(m1, s1, n1, m2, s2, n2, measure="MD")
    md_scaled = continuous_effects(scale * m1, scale * s1, n1, scale * m2, scale * s2, n2,
                                   measure="MD")
    np.testing.assert_allclose(md_scaled.yi, scale * md.yi, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(md_scaled.vi, scale**2 * md.vi, rtol=1e-9)
    md_shifted = continuous_effects(m1 + shift, s1, n1, m2 + shift, s2, n2, measure="MD")
    np.testing.assert_allclose(md_shifted.yi, md.yi, atol=1e-9)
    g = continuous_effects(m1, s1, n1, m2, s2, n2, measure="SMD")
    g_scaled = continuous_effects(scale * m1 + shift, scale * s1, n1, scale * m2 + shift,
                                  scale * s2, n2, measure="SMD")
    np.testing.assert_allclose(g_scaled.yi, g.yi, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(g_scaled.vi, g.vi, rtol=1e-8)
    g_swapped = continuous_effects(m2, s2, n2, m1, s1, n1, measure="SMD")
    close(g_swapped.yi, -g.yi)
    close(g_swapped.vi, g.vi)


# --- data layer -----------------------------------------------------------------------
def as_csv(e_t, n_t, e_c, n_c, order) -> str:
    lines = ["study,events_t,n_t,events_c,n_c"]
    lines += [f"S{i},{e_t[i]},{n_t[i]},{e_c[i]},{n_c[i]}" for i in order]
    return "\n".join(lines) + "\n"


def by_study(d: BinaryData) -> dict[str, tuple[int, int, int, int]]:
    return {s: (int(a), int(b), int(c), int(e)) for s, a, b, c, e in
            zip(d.study, d.events_t, d.n_t, d.events_c, d.n_c, strict=True)}


@FAST
@given(counts=two_arm_counts(), data=st.data())
def test_permuting_rows_reads_the_same_studies(tmp_path, counts, data):
    e_t, n_t, e_c, n_c = counts
    k = len(e_t)
    order = data.draw(st.permutations(range(k)))
    path = tmp_path / "d.csv"
    path.write_text(as_csv(e_t, n_t, e_c, n_c, range(k)))
    original = read_binary(path)
    path.write_text(as_csv(e_t, n_t, e_c, n_c, order))
    permuted = read_binary(path)
    assert by_study(permuted) == by_study(original)
    assert permuted.study == tuple(f"S{i}" for i in order)
    assert permuted.pooled_control_risk() == pytest.approx(original.pooled_control_risk(),
                                                           rel=1e-15)
    frame = original.to_frame().iloc[list(order)]
    assert by_study(read_binary(frame)) == by_study(original)
    assert by_study(original.swap_arms().swap_arms()) == by_study(original)


CELL_TEXT = st.one_of(st.text(max_size=12),
                      st.sampled_from(["1e400", "-0", "0x1F", "1_000", "١٢", "NaN", "+5",
                                       " 7 ", "5.", ".5", "1,5", '"', "\u00a0", "∞"]))


@FAST
@given(cell=CELL_TEXT, column=st.sampled_from(["study", "events_t", "n_t", "events_c", "n_c"]))
def test_any_cell_text_gives_data_or_a_one_line_input_error(cell, column):
    df = pd.DataFrame({"study": ["A", "B"], "events_t": ["1", "2"], "n_t": ["10", "20"],
                       "events_c": ["0", "1"], "n_c": ["12", "18"]})
    df.loc[1, column] = cell
    try:
        d = read_binary(df)
    except InputError as exc:
        assert "\n" not in str(exc) and "data frame" in str(exc)
    else:
        assert (d.events_t <= d.n_t).all() and (d.n_c >= 1).all() and d.k == 2


@FAST
@given(raw=st.one_of(st.binary(max_size=300),
                     st.text(max_size=300).map(lambda t: t.encode("utf-8"))))
def test_any_file_bytes_give_data_or_a_one_line_input_error(tmp_path, raw):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(raw)
    try:
        read_binary(path)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(path))


# --- the binomial–normal model's log density --------------------------------------------
@cache
def compiled_density(k: int):
    """The model for k studies and its log density, compiled once: the counts are PyMC data
    containers, so each example only swaps in new counts."""
    from bayesmeta.models.binomial_normal import build_binomial_normal

    ones = np.ones(k, dtype=np.int64)
    template = BinaryData(tuple(f"s{i}" for i in range(k)), 0 * ones, ones, 0 * ones, ones)
    model = build_binomial_normal(template, refittable=True)
    return model, model.compile_logp(jacobian=False)


def density(counts, point) -> float:
    import pymc as pm

    e_t, n_t, e_c, n_c = counts
    model, logp = compiled_density(len(e_t))
    pm.set_data({"events_t_data": e_t, "n_t": n_t, "events_c_data": e_c, "n_c": n_c},
                model=model)
    return float(logp(point))


@st.composite
def model_points(draw, k: int):
    real = st.floats(-4, 4, allow_nan=False)
    return {"mu": np.array(draw(st.lists(real, min_size=k, max_size=k))),
            "theta": draw(real), "tau_log__": draw(st.floats(-5, 1)),
            "z": np.array(draw(st.lists(real, min_size=k, max_size=k))),
            "z_new": draw(real)}


@pytest.mark.parametrize("k", [3, 6])
def test_model_density_is_invariant_under_swapping_arms_and_permuting_studies(k):
    """logp(data, point) = logp(arms swapped, θ→−θ, z→−z, z_new→−z_new): the effect prior
    N(0, 2.82²) and z's N(0, 1) are symmetric, and logit p_t = μ + θ_i/2 becomes the
    control arm's μ − θ_i/2. Permuting studies with their μ_i and z_i leaves a sum of the
    same terms. Tolerance 1e-9 relative: PyTensor's fastmath sums in another order."""
    compiled_density(k)  # compile outside hypothesis (PyTensor raises the recursion limit)

    @FAST
    @given(counts=two_arm_counts(min_k=k, max_k=k), point=model_points(k), data=st.data())
    def check(counts, point, data):
        e_t, n_t, e_c, n_c = counts
        base = density(counts, point)
        assert np.isfinite(base)
        mirrored = {**point, "theta": -point["theta"], "z": -point["z"],
                    "z_new": -point["z_new"]}
        assert density((e_c, n_c, e_t, n_t), mirrored) == pytest.approx(base, rel=1e-9)
        order = np.array(data.draw(st.permutations(range(k))))
        permuted = {**point, "mu": point["mu"][order], "z": point["z"][order]}
        assert density(tuple(x[order] for x in counts), permuted) == pytest.approx(
            base, rel=1e-9)
        # the check has teeth: swapping the arms WITHOUT mirroring θ changes the density
        arms_differ = not (e_t == e_c).all() or not (n_t == n_c).all()
        if arms_differ and abs(point["theta"]) > 0.1 and np.exp(point["tau_log__"]) < 1:
            assert density((e_c, n_c, e_t, n_t), point) != pytest.approx(base, rel=1e-9)

    check()


def test_refittable_model_has_the_density_of_the_default_model():
    """The properties above use the refittable build (counts in data containers); it must
    have the same log density as the default build (counts as constants). rel 1e-9: the
    two graphs are compiled apart."""
    from bayesmeta.models.binomial_normal import build_binomial_normal

    rng = np.random.default_rng(4)
    k = 6
    n_t, n_c = rng.integers(10, 100, k), rng.integers(10, 100, k)
    counts = (rng.binomial(n_t, 0.1), n_t, rng.binomial(n_c, 0.05), n_c)
    data = BinaryData(tuple(f"s{i}" for i in range(k)), *counts)
    constant = build_binomial_normal(data).compile_logp(jacobian=False)
    for _ in range(5):
        point = {"mu": rng.normal(-3, 1, k), "theta": rng.normal(), "tau_log__": rng.normal(-1),
                 "z": rng.normal(size=k), "z_new": rng.normal()}
        assert density(counts, point) == pytest.approx(float(constant(point)), rel=1e-9)


# --- the exact normal–normal model: permutation, mirror and scale symmetries ---------------
def exact_fit(yi, sei, *, tau_prior, mu_prior, study=None, thresholds=()):
    import bayesmeta as bm
    from bayesmeta.data.effects import EffectsData

    k = len(yi)
    data = EffectsData(tuple(study or (f"S{i}" for i in range(k))), np.asarray(yi, float),
                       np.asarray(sei, float), measure="generic")
    return bm.fit_effects(data, tau_prior=tau_prior, mu_prior=mu_prior,
                          thresholds=thresholds)


#: Numbers every check compares: each pooled quantity's summary (moments, quantiles, both
#: intervals), and the Bayes factors.
SUMMARY_KEYS = ("mean", "sd", "median", "q025", "q975", "shortest95_lo", "shortest95_hi")


@st.composite
def effect_estimates(draw, min_k: int = 3, max_k: int = 8):
    k = draw(st.integers(min_k, max_k))
    yi = draw(st.lists(st.floats(-3, 3, allow_nan=False), min_size=k, max_size=k))
    sei = draw(st.lists(st.floats(0.05, 2.0), min_size=k, max_size=k))
    return np.array(yi), np.array(sei)


EXACT_PRIORS = st.sampled_from([("halfnormal:0.5", "normal:0:4"), ("halfcauchy:1", "flat"),
                                ("uniform_improper", "normal:0:2"), ("jeffreys", "flat"),
                                ("lognormal_tau2:-1.87:1.52", "normal:0.5:1")])


@EXACT
@given(est=effect_estimates(), priors=EXACT_PRIORS, data=st.data())
def test_permuting_studies_leaves_the_exact_posterior_unchanged(est, priors, data):
    """Same studies in another order: same posterior. The quadrature adds the studies'
    terms in another order, so numbers agree to rounding, not bit for bit: 1e-12 of the
    data's scale (measured worst case over 300 random meta-analyses: 5e-13)."""
    yi, sei = est
    k = len(yi)
    order = np.array(data.draw(st.permutations(range(k))))
    names = [f"S{i}" for i in range(k)]
    a = exact_fit(yi, sei, tau_prior=priors[0], mu_prior=priors[1], study=names)
    b = exact_fit(yi[order], sei[order], tau_prior=priors[0], mu_prior=priors[1],
                  study=[names[i] for i in order])
    scale = float(np.max(np.abs(yi)) + np.max(sei))
    for name in ("mu", "tau", "theta_new"):
        sa, sb = a.quantity_summary(name), b.quantity_summary(name)
        for key in SUMMARY_KEYS:
            if np.isnan(sa[key]):  # a moment that does not exist: in both
                assert np.isnan(sb[key])
                continue
            assert sb[key] == pytest.approx(sa[key], rel=1e-12, abs=1e-12 * scale), (name, key)
    ta = a.study_effects().set_index("study").loc[names]
    tb = b.study_effects().set_index("study").loc[names]
    np.testing.assert_allclose(tb.to_numpy(float), ta.to_numpy(float), rtol=1e-12,
                               atol=1e-12 * scale)
    for key in ("tau_0", "mu_0"):
        fa, fb = a.bayes_factors()[key], b.bayes_factors()[key]
        assert (fa is None and fb is None) or fb == pytest.approx(fa, rel=1e-10)


@EXACT
@given(counts=two_arm_counts(min_k=3), mu_prior=st.sampled_from(["normal:0:4", "flat"]))
def test_swapping_arms_mirrors_the_exact_posterior_of_a_log_odds_ratio(counts, mu_prior):
    """2×2 tables (0.5 added to tables with a zero) → log ORs; exchanging treatment and
    control negates every log OR, and under a prior on μ symmetric about 0 the posterior
    of μ, θ_new and every θ_i is mirrored: median → −median, 2.5% ↔ −97.5% quantile,
    P(μ > 0) → P(μ < 0); τ and the Bayes factors are unchanged. Tolerance 1e-10 of the
    data's scale: the log ORs of swapped tables are computed in another order (exact to
    1e-15) and quantiles are solved to |F(x) − p| ≤ 1e-13."""
    from bayesmeta.data.effects import effects_from_binary

    e_t, n_t, e_c, n_c = counts
    k = len(e_t)
    data = BinaryData(tuple(f"S{i}" for i in range(k)), e_t, n_t, e_c, n_c)
    if data.double_zero.sum() > k - 2:  # a meta-analysis needs two informative tables
        return
    fwd = effects_from_binary(data, cc=0.5)
    rev = effects_from_binary(data.swap_arms(), cc=0.5)
    np.testing.assert_allclose(rev.yi, -fwd.yi, rtol=1e-13, atol=1e-13)
    a = exact_fit(fwd.yi, fwd.sei, tau_prior="halfnormal:0.5", mu_prior=mu_prior)
    b = exact_fit(rev.yi, rev.sei, tau_prior="halfnormal:0.5", mu_prior=mu_prior)
    tol = 1e-10 * float(np.max(np.abs(fwd.yi)) + np.max(fwd.sei))
    for name in ("mu", "theta_new"):
        sa, sb = a.quantity_summary(name), b.quantity_summary(name)
        assert sb["median"] == pytest.approx(-sa["median"], abs=tol)
        assert sb["mean"] == pytest.approx(-sa["mean"], abs=tol)
        assert sb["sd"] == pytest.approx(sa["sd"], abs=tol)
        assert sb["q025"] == pytest.approx(-sa["q975"], abs=tol)
        assert sb["shortest95_lo"] == pytest.approx(-sa["shortest95_hi"], abs=tol)
    assert b.probabilities()["mu_gt_0"] == pytest.approx(1 - a.probabilities()["mu_gt_0"],
                                                         abs=1e-12)
    for key in SUMMARY_KEYS:
        assert b.quantity_summary("tau")[key] == pytest.approx(
            a.quantity_summary("tau")[key], rel=1e-10, abs=tol)
    np.testing.assert_allclose(b.study_effects()["median"], -a.study_effects()["median"],
                               atol=tol)


def test_the_mirror_check_has_teeth():
    """With a prior on μ that is not symmetric about 0 the mirror image is another
    posterior: the check above would fail."""
    yi, sei = np.array([0.4, 0.1, 0.9]), np.array([0.3, 0.5, 0.4])
    a = exact_fit(yi, sei, tau_prior="halfnormal:0.5", mu_prior="normal:1:0.5")
    b = exact_fit(-yi, sei, tau_prior="halfnormal:0.5", mu_prior="normal:1:0.5")
    assert abs(b.posterior("mu").median + a.posterior("mu").median) > 0.1


@EXACT
@given(arms=continuous_arms(), scale=st.floats(0.01, 100),
       priors=st.sampled_from([("halfnormal:{c}", "normal:0:{c}"), ("halfcauchy:{c}", "flat"),
                               ("uniform_improper", "flat"), ("jeffreys", "normal:{c}:{c}")]))
def test_rescaling_a_mean_difference_rescales_the_exact_posterior(arms, scale, priors):
    """Outcome in other units (means and SDs × c), τ and μ priors rescaled alike (the
    improper uniform and Jeffreys priors are scale-free): μ, τ, θ_new and every θ_i scale
    by c, probabilities and Bayes factors do not change. Tolerance 1e-9 relative (plus
    1e-9 of the data's scale): the data are rescaled in floating point and the quadrature
    runs on τ/(τ + s), s proportional to the data's scale, so it meets the same panels."""
    m1, s1, n1, m2, s2, n2 = arms
    k = len(m1)
    if k < 3:  # improper priors need three studies
        return
    base = continuous_effects(m1, s1, n1, m2, s2, n2, measure="MD")
    moved = continuous_effects(scale * m1, scale * s1, n1, scale * m2, scale * s2, n2,
                               measure="MD")
    tau_spec, mu_spec = priors
    a = exact_fit(base.yi, np.sqrt(base.vi), tau_prior=tau_spec.format(c=10.0),
                  mu_prior=mu_spec.format(c=10.0), thresholds=[1.0])
    b = exact_fit(moved.yi, np.sqrt(moved.vi), tau_prior=tau_spec.format(c=10.0 * scale),
                  mu_prior=mu_spec.format(c=10.0 * scale), thresholds=[scale])
    data_scale = float(np.max(np.abs(base.yi)) + np.max(np.sqrt(base.vi)))
    for name in ("mu", "tau", "theta_new"):
        sa, sb = a.quantity_summary(name), b.quantity_summary(name)
        for key in SUMMARY_KEYS:
            if np.isnan(sa[key]):
                assert np.isnan(sb[key])
                continue
            assert sb[key] == pytest.approx(scale * sa[key], rel=1e-9,
                                            abs=1e-9 * scale * data_scale), (name, key)
    pa, pb = a.probabilities(), b.probabilities()
    assert pb["mu_gt_0"] == pytest.approx(pa["mu_gt_0"], abs=1e-9)
    assert pb["mu_gt"][f"{scale:g}"] == pytest.approx(pa["mu_gt"]["1"], abs=1e-9)
    np.testing.assert_allclose(b.study_effects()["median"], scale * a.study_effects()["median"],
                               rtol=1e-9, atol=1e-9 * scale * data_scale)
    for key in ("tau_0", "mu_0"):
        fa, fb = a.bayes_factors()[key], b.bayes_factors()[key]
        assert (fa is None and fb is None) or fb == pytest.approx(fa, rel=1e-8)


def test_refittable_poisson_model_has_the_density_of_the_default_model():
    """The Poisson–normal SBC refits one compiled model with new counts and person-time
    (data containers); its log density must equal that of the model `fit rates` samples
    (constants). rel 1e-9: the two graphs are compiled apart."""
    import pymc as pm

    from bayesmeta.data.rates import RateData
    from bayesmeta.models.poisson_exposure import build_poisson_exposure

    rng = np.random.default_rng(8)
    k = 5

    def rates(seed_rng):
        t_t, t_c = seed_rng.uniform(20, 500, k), seed_rng.uniform(20, 500, k)
        return RateData(tuple(f"s{i}" for i in range(k)), seed_rng.poisson(0.02 * t_t), t_t,
                        seed_rng.poisson(0.03 * t_c), t_c)

    template = build_poisson_exposure(rates(rng), refittable=True)
    refit_logp = template.compile_logp(jacobian=False)
    for _ in range(3):
        data = rates(rng)
        constant = build_poisson_exposure(data).compile_logp(jacobian=False)
        pm.set_data({"events_t_data": data.events_t, "events_c_data": data.events_c,
                     "log_exposure_t": np.log(data.exposure_t),
                     "log_exposure_c": np.log(data.exposure_c)}, model=template)
        point = {"mu": rng.normal(-4, 1, k), "theta": rng.normal(), "tau_log__": rng.normal(-1),
                 "z": rng.normal(size=k), "z_new": rng.normal()}
        assert float(refit_logp(point)) == pytest.approx(float(constant(point)), rel=1e-9)
