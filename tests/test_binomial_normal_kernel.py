"""The hand-written binomial–normal kernel is PyMC's priors-as-data model, exactly.

The reference is independent of the kernel: PyMC's compiled log density of
:func:`build_binomial_normal_prior_data` and its gradient by PyTensor's automatic
differentiation, at random unconstrained points, for every prior family, on data with a
double-zero study (Crins PTLD), a zero cell (Crins acute rejection) and 48 studies (Nissen MI).
The C callbacks nutpie calls are tested on two data sets of different sizes with one compiled
pair.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from bayesmeta.data.binary import read_binary
from bayesmeta.models import binomial_normal_kernel as kernel
from bayesmeta.models import binomial_normal_prior_data as pdm
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.priors import parse_prior
from tests.conftest import DATA

PRIOR_SETS = [  # (tau, effect, baseline): every family of every slot at least once
    ("halfnormal:0.5", "normal:0:2.82", "normal:0:10"),
    ("halfcauchy:0.5", "student_t:3:0:2.5", "normal:-1:10"),
    ("halft:3:0.7", "normal:0.3:1", "student_t:4:-2:3"),
    ("exponential:2", "student_t:1:0.5:1", "normal:0:10"),
    ("uniform:0:5", "normal:0:2.82", "normal:0:10"),
    ("uniform:0.1:2", "normal:0:2.82", "student_t:3:0:5"),
    ("lognormal_tau2:-1.87:1.52", "normal:0:2.82", "normal:0:10"),
]
DATASETS = ["crins2014_ptld.csv", "crins2014_acute_rejection.csv", "nissen2007_mi.csv"]


def priors_of(spec: tuple[str, str, str]) -> BinomialNormalPriors:
    tau, effect, baseline = (parse_prior(s) for s in spec)
    return BinomialNormalPriors(tau=tau, effect=effect, baseline=baseline)


@pytest.fixture(scope="module", params=DATASETS)
def pymc_twin(request):
    """PyMC's model of one data set, its log density, gradient and reported quantities."""
    data = read_binary(DATA / request.param)
    model = pdm.build_binomial_normal_prior_data(data)
    outputs = model.replace_rvs_by_values([model["tau"], model["theta_study"],
                                           model["theta_new"]])
    reported = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")
    return data, model, model.compile_logp(), model.compile_dlogp(), reported


def random_points(k: int, seed: int):
    rng = np.random.default_rng(seed)
    for tau_u in (-9.0, -4.0, -0.7, 0.0, 1.1, 3.0):  # τ from ~1e-4 to ~20
        x = rng.normal(0.0, 3.0, 2 * k + 3)
        x[:k] -= 2.5  # baselines of rare events
        x[k + 1] = tau_u
        yield x


def as_point(x: np.ndarray, k: int) -> dict[str, np.ndarray]:
    return {"mu": x[:k], "theta": np.asarray(x[k]), "tau_unconstrained": np.asarray(x[k + 1]),
            "z": x[k + 2:2 * k + 2], "z_new": np.asarray(x[2 * k + 2])}


@pytest.mark.parametrize("spec", PRIOR_SETS, ids=lambda s: s[0])
def test_log_density_gradient_and_reported_values_equal_pymcs(pymc_twin, spec):
    data, model, logp, dlogp, reported = pymc_twin
    priors = priors_of(spec)
    values = pdm.encode_priors(priors)
    model.set_data(pdm.PRIOR_VALUES, values)
    packed = kernel.pack(data, values)
    k = len(data.study)
    n_dim, n_expanded = kernel.sizes(packed)
    assert (n_dim, n_expanded) == (2 * k + 3, 3 * k + 5)
    for x in random_points(k, seed=len(spec[0])):
        point = as_point(x, k)
        grad = np.empty(n_dim)
        value = kernel.log_density_and_gradient(x, packed, grad)
        # rel 1e-12: the same closed forms in double precision, summed in another order
        # (|ℓ| ≤ ~1e4 here). A wrong term or derivative is off in the first digits.
        assert value == pytest.approx(float(logp(point)), rel=1e-12, abs=1e-9)
        expected = np.asarray(dlogp(point))
        np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-9)
        out = np.empty(n_expanded)
        kernel.expand(x, packed, out)
        tau, theta_study, theta_new = reported(point)
        np.testing.assert_array_equal(out[:n_dim], x)
        np.testing.assert_allclose(out[n_dim:], [tau, *theta_study, theta_new], rtol=1e-13)


def test_variables_are_pymcs_in_pymcs_order():
    data = read_binary(DATA / "crins2014_acute_rejection.csv")
    model = pdm.build_binomial_normal_prior_data(data)
    names, slices, shapes = kernel.variables(list(data.study))
    sampled = [v.name for v in model.value_vars]
    reported = [v.name for v in model.deterministics]
    assert names == sampled + reported
    point = model.initial_point()
    values = model.compile_fn(model.replace_rvs_by_values(model.deterministics),
                              inputs=model.value_vars, on_unused_input="ignore")(point)
    point |= dict(zip(reported, values, strict=True))
    k = len(data.study)
    for name, part, shape in zip(names, slices, shapes, strict=True):
        assert shape == np.shape(point[name]) and part.stop - part.start == int(np.prod(shape))
    assert slices[-1].stop == 3 * k + 5


def test_pack_and_with_priors():
    data = read_binary(DATA / "crins2014_acute_rejection.csv")
    default = pdm.encode_priors(BinomialNormalPriors())
    other = pdm.encode_priors(priors_of(PRIOR_SETS[1]))
    packed = kernel.pack(data, default)
    assert packed[0] == packed.size and packed[1] == len(data.study)
    np.testing.assert_array_equal(kernel.with_priors(packed, other), kernel.pack(data, other))
    with pytest.raises(ValueError, match="prior_values must have"):
        kernel.pack(data, default[:-1])


def _call_logp(c_logp, x: np.ndarray, packed: np.ndarray) -> tuple[int, float, np.ndarray]:
    fn = c_logp.ctypes
    grad, logp = np.empty_like(x), np.zeros(1)
    ptr = ctypes.POINTER(ctypes.c_double)
    code = fn(x.size, x.ctypes.data_as(ptr), grad.ctypes.data_as(ptr), logp.ctypes.data_as(ptr),
              ctypes.c_void_p(packed.ctypes.data))
    return code, float(logp[0]), grad


def test_one_compiled_pair_of_callbacks_serves_data_of_any_size():
    from bayesmeta.inference.nutpie_kernel import callbacks

    c_logp, c_expand = callbacks(kernel)
    values = pdm.encode_priors(BinomialNormalPriors())
    for name in ("crins2014_acute_rejection.csv", "nissen2007_mi.csv"):
        data = read_binary(DATA / name)
        packed = kernel.pack(data, values)
        k = len(data.study)
        x = next(random_points(k, seed=3))
        code, value, grad = _call_logp(c_logp, x, packed)
        expected_grad = np.empty_like(x)
        assert code == 0
        assert value == kernel.log_density_and_gradient(x, packed, expected_grad)
        np.testing.assert_array_equal(grad, expected_grad)
        wrong_size = np.concatenate([x, [0.0]])
        assert _call_logp(c_logp, wrong_size, packed)[0] == -1  # refused, not misread
        out, expected_out = np.empty(3 * k + 5), np.empty(3 * k + 5)
        ptr = ctypes.POINTER(ctypes.c_double)
        assert c_expand.ctypes(x.size, out.size, x.ctypes.data_as(ptr),
                               out.ctypes.data_as(ptr), ctypes.c_void_p(packed.ctypes.data)) == 0
        kernel.expand(x, packed, expected_out)
        np.testing.assert_array_equal(out, expected_out)
    assert callbacks(kernel) == callbacks(kernel)  # compiled once per process
