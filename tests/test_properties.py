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
    """The SBC and the properties above use the refittable build (counts in data
    containers); it must have the same log density as the default build (counts as
    constants) that `bayesmeta fit` samples. rel 1e-9: the two graphs are compiled apart."""
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
