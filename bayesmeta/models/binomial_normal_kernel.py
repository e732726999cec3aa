r"""The binomial–normal model's log density and gradient, written out for numba.

This is :mod:`bayesmeta.models.binomial_normal_prior_data` — the same model, the same
unconstrained coordinates, the same priors given as coefficients — with its log density and
its gradient written by hand as two loops over studies, so that numba compiles it as one
function (~3 s, once per machine, for any data set) instead of PyTensor's 60–80 small
functions (~11 s with empty caches and 4–5 s for every new data set, measured on the 2-core
reference machine). ``bayesmeta fit binary`` samples it with nutpie
(:mod:`bayesmeta.inference.nutpie_kernel`); PyMC's NUTS samples the PyMC model.
``tests/test_binomial_normal_kernel.py`` checks the log density, its gradient and the
reported quantities against PyMC's compiled model (its automatic derivatives) at random
points, for every prior family and for data with zero and double-zero cells.

The model (Günhan, Röver & Friede 2020), for study i = 1..k:

.. math::

    r_{ti} &\sim \mathrm{Bin}(n_{ti}, \operatorname{expit}\eta_{ti}),\quad
    r_{ci} \sim \mathrm{Bin}(n_{ci}, \operatorname{expit}\eta_{ci}),\qquad
    \eta_{ti} = \mu_i + \tfrac12\theta_i,\quad \eta_{ci} = \mu_i - \tfrac12\theta_i \\
    \theta_i &= \theta + \tau z_i,\quad z_i \sim N(0, 1),\quad z_{new} \sim N(0, 1),\quad
    \tau = l + \frac{w}{e^{-u} + \kappa}

with priors :math:`\log\pi(x) = C + E d^2 + F\log(1 + G d^2)`, :math:`d = x - m`, on each
:math:`\mu_i` and on :math:`\theta`, and :math:`\log\pi(\tau) = C + A\log\tau + B\log^2\tau
+ D\tau + E\tau^2 + F\log(1 + G\tau^2)` (coefficients from
:func:`~bayesmeta.models.binomial_normal_prior_data.encode_priors`). NUTS moves
:math:`x = (\mu_{1..k}, \theta, u, z_{1..k}, z_{new})`; the log density is

.. math::

    \ell(x) = \sum_i \Big[\log\binom{n_{ti}}{r_{ti}} + r_{ti}\eta_{ti}
        - n_{ti}\log(1 + e^{\eta_{ti}}) + (\text{same for } c)
        + \log\pi_\mu(\mu_i) - \tfrac12 z_i^2\Big] - \tfrac12 z_{new}^2
        - \tfrac{k+1}{2}\log 2\pi + \log\pi_\theta(\theta) + \log\pi_\tau(\tau)
        + \log w - u - 2\log(e^{-u} + \kappa)

and, with :math:`g_{ai} = r_{ai} - n_{ai}\operatorname{expit}\eta_{ai}` and
:math:`h_i = \tfrac12(g_{ti} - g_{ci})`, its gradient is

.. math::

    \partial_{\mu_i}\ell = g_{ti} + g_{ci} + (\log\pi_\mu)'(\mu_i),\quad
    \partial_{z_i}\ell = \tau h_i - z_i,\quad \partial_{z_{new}}\ell = -z_{new},\quad
    \partial_\theta\ell = \textstyle\sum_i h_i + (\log\pi_\theta)'(\theta) \\
    \partial_u\ell = \Big(\textstyle\sum_i h_i z_i + (\log\pi_\tau)'(\tau)\Big)
        \frac{w e^{-u}}{(e^{-u} + \kappa)^2} - 1 + \frac{2e^{-u}}{e^{-u} + \kappa}

The data are one float64 vector (:func:`pack`): its length, k, the four count columns, the
summed log binomial coefficients, then the prior coefficients (``prior_values``) — so the
one compiled function serves every data set and every prior, and a prior sweep or a
leave-one-out refit only swaps numbers.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from scipy.special import gammaln

from bayesmeta.data.binary import BinaryData
from bayesmeta.models import binomial_normal_prior_data as prior_data

#: Name the prior coefficients go by (as in the PyMC model's ``pm.Data``).
PRIOR_VALUES = prior_data.PRIOR_VALUES
#: Modules whose source decides the compiled code (the key of its disk cache).
SOURCE_MODULES = (__name__, prior_data.__name__)

# Positions inside prior_values: the baseline and effect blocks, then the tau block.
_N_REAL, _N_POSITIVE = len(prior_data.REAL_KEYS), len(prior_data.POSITIVE_KEYS)
_BASELINE, _EFFECT, _TAU = 0, _N_REAL, 2 * _N_REAL
_R = {key: i for i, key in enumerate(prior_data.REAL_KEYS)}
_P = {key: _TAU + i for i, key in enumerate(prior_data.POSITIVE_KEYS)}
_RC, _RM, _RE, _RF, _RG = (_R[k] for k in ("C", "m", "E", "F", "G"))
_LOWER, _WIDTH, _KAPPA, _PC, _PA, _PB, _PD, _PE, _PF, _PG = (
    _P[k] for k in ("lower", "width", "kappa", "C", "A", "B", "D", "E", "F", "G"))
_N_PRIOR = 2 * _N_REAL + _N_POSITIVE
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def pack(data: BinaryData, prior_values: np.ndarray) -> np.ndarray:
    """The data vector: [length, k, r_t, n_t, r_c, n_c, Σ log C(n, r), prior_values]."""
    k = len(data.study)
    counts = [np.asarray(c, dtype=float) for c in (data.events_t, data.n_t, data.events_c,
                                                   data.n_c)]
    log_choose = sum(float(np.sum(gammaln(n + 1) - gammaln(r + 1) - gammaln(n - r + 1)))
                     for r, n in (counts[:2], counts[2:]))
    size = 2 + 4 * k + 1 + _N_PRIOR
    return np.concatenate([[size, k], *counts, [log_choose], _prior_block(prior_values)])


def with_priors(packed: np.ndarray, prior_values: np.ndarray) -> np.ndarray:
    """``packed`` with other prior coefficients (same data)."""
    return np.concatenate([packed[:-_N_PRIOR], _prior_block(prior_values)])


def _prior_block(prior_values: np.ndarray) -> np.ndarray:
    values = np.asarray(prior_values, dtype=float)
    if values.shape != (_N_PRIOR,):
        raise ValueError(f"prior_values must have {_N_PRIOR} values, got {values.shape}")
    return values


def variables(study: list[str]) -> tuple[list[str], list[slice], list[tuple[int, ...]]]:
    """Names, slices and shapes of the values :func:`expand` writes: the sampled
    coordinates, then τ and the effects, in the PyMC model's order."""
    k = len(study)
    names = ["mu", "theta", "tau_unconstrained", "z", "z_new", "tau", "theta_study",
             "theta_new"]
    shapes: list[tuple[int, ...]] = [(k,), (), (), (k,), (), (), (k,), ()]
    slices, start = [], 0
    for shape in shapes:
        size = shape[0] if shape else 1
        slices.append(slice(start, start + size))
        start += size
    return names, slices, shapes


@numba.njit(error_model="numpy")
def sizes(packed: np.ndarray) -> tuple[int, int]:
    """Number of sampled coordinates and of expanded values for ``packed``."""
    k = int(packed[1])
    return 2 * k + 3, 3 * k + 5


@numba.njit(error_model="numpy")
def _real_prior(x: float, p: np.ndarray, block: int) -> tuple[float, float]:
    """log π(x) and its derivative for a prior on the real line (coefficients at block)."""
    d = x - p[block + _RM]
    d2 = d * d
    g = p[block + _RG]
    value = p[block + _RC] + p[block + _RE] * d2 + p[block + _RF] * math.log1p(g * d2)
    slope = 2.0 * d * (p[block + _RE] + p[block + _RF] * g / (1.0 + g * d2))
    return value, slope


@numba.njit(error_model="numpy")
def _softplus(eta: float) -> float:
    """log(1 + e^η) without overflow."""
    return max(eta, 0.0) + math.log1p(math.exp(-abs(eta)))


@numba.njit(error_model="numpy")
def log_density_and_gradient(x: np.ndarray, packed: np.ndarray, grad: np.ndarray) -> float:
    """ℓ(x) (see the module docstring); writes ∂ℓ/∂x into ``grad``."""
    k = int(packed[1])
    r_t, n_t = packed[2:2 + k], packed[2 + k:2 + 2 * k]
    r_c, n_c = packed[2 + 2 * k:2 + 3 * k], packed[2 + 3 * k:2 + 4 * k]
    log_choose = packed[2 + 4 * k]
    p = packed[3 + 4 * k:]
    theta, u, z_new = x[k], x[k + 1], x[2 * k + 2]

    e_u = math.exp(-u)
    q = e_u + p[_KAPPA]
    tau = p[_LOWER] + p[_WIDTH] / q
    dtau_du = p[_WIDTH] * e_u / (q * q)
    log_tau = math.log(tau)
    tau2 = tau * tau
    g = p[_PG]
    total = (p[_PC] + p[_PA] * log_tau + p[_PB] * log_tau * log_tau + p[_PD] * tau
             + p[_PE] * tau2 + p[_PF] * math.log1p(g * tau2)
             + math.log(p[_WIDTH]) - u - 2.0 * math.log(q))
    dprior_dtau = (p[_PA] / tau + 2.0 * p[_PB] * log_tau / tau + p[_PD] + 2.0 * p[_PE] * tau
                   + 2.0 * p[_PF] * g * tau / (1.0 + g * tau2))
    effect_prior, dtheta = _real_prior(theta, p, _EFFECT)
    total += effect_prior + log_choose - 0.5 * z_new * z_new - (k + 1) * _HALF_LOG_2PI
    dtau = 0.0
    for i in range(k):
        mu, z = x[i], x[k + 2 + i]
        baseline_prior, dmu = _real_prior(mu, p, _BASELINE)
        theta_i = theta + tau * z
        eta_t, eta_c = mu + 0.5 * theta_i, mu - 0.5 * theta_i
        total += (baseline_prior + r_t[i] * eta_t - n_t[i] * _softplus(eta_t)
                  + r_c[i] * eta_c - n_c[i] * _softplus(eta_c) - 0.5 * z * z)
        g_t = r_t[i] - n_t[i] / (1.0 + math.exp(-eta_t))
        g_c = r_c[i] - n_c[i] / (1.0 + math.exp(-eta_c))
        h = 0.5 * (g_t - g_c)
        grad[i] = dmu + g_t + g_c
        grad[k + 2 + i] = tau * h - z
        dtheta += h
        dtau += h * z
    grad[k] = dtheta
    grad[k + 1] = (dtau + dprior_dtau) * dtau_du - 1.0 + 2.0 * e_u / q
    grad[2 * k + 2] = -z_new
    return total


@numba.njit(error_model="numpy")
def expand(x: np.ndarray, packed: np.ndarray, out: np.ndarray) -> None:
    """Write the sampled coordinates, τ, θ_i and θ_new into ``out`` (see :func:`variables`)."""
    k = int(packed[1])
    p = packed[3 + 4 * k:]
    n = 2 * k + 3
    for i in range(n):
        out[i] = x[i]
    theta = x[k]
    tau = p[_LOWER] + p[_WIDTH] / (math.exp(-x[k + 1]) + p[_KAPPA])
    out[n] = tau
    for i in range(k):
        out[n + 1 + i] = theta + tau * x[k + 2 + i]
    out[n + 1 + k] = theta + tau * x[2 * k + 2]
