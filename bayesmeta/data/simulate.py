r"""Simulate two-arm trials with known truth, for teaching and for checking methods.

``simulate_binary`` draws k trials from the binomial–normal model:
:math:`\theta_i \sim N(\theta, \tau^2)`, control risk :math:`p_{ci}` uniform on
``control_risk``, :math:`\operatorname{logit} p_{ti} = \operatorname{logit} p_{ci} + \theta_i`,
control-arm sizes uniform on ``arm_size`` and treatment arms ``allocation`` times as large
(2.0 = 2 : 1 randomisation). ``simulate_rates`` draws events over person-time:
control rates uniform on ``control_rate`` (per unit of person-time),
:math:`\lambda_{ti} = \lambda_{ci} e^{\theta_i}`, person-time uniform on ``exposure``.
Both take a numpy ``Generator`` (or a seed), so a simulation is reproducible.
"""

from __future__ import annotations

import numpy as np

from bayesmeta.data.binary import BinaryData
from bayesmeta.data.rates import RateData


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def simulate_binary(k: int, *, theta: float = 0.0, tau: float = 0.0,
                    control_risk: tuple[float, float] = (0.01, 0.05),
                    arm_size: tuple[int, int] = (50, 200), allocation: float = 1.0,
                    seed: int | np.random.Generator | None = None) -> BinaryData:
    """k trials with events per arm from the binomial–normal model (log OR ``theta``,
    between-trial SD ``tau``); see the module docstring."""
    rng = _rng(seed)
    theta_i = theta + tau * rng.standard_normal(k)
    p_c = rng.uniform(*control_risk, size=k)
    p_t = 1 / (1 + np.exp(-(np.log(p_c / (1 - p_c)) + theta_i)))
    n_c = rng.integers(arm_size[0], arm_size[1] + 1, size=k)
    n_t = np.maximum(1, np.round(allocation * n_c)).astype(np.int64)
    return BinaryData(tuple(f"trial {i + 1}" for i in range(k)), rng.binomial(n_t, p_t),
                      n_t, rng.binomial(n_c, p_c), n_c, source="simulated")


def simulate_rates(k: int, *, theta: float = 0.0, tau: float = 0.0,
                   control_rate: tuple[float, float] = (0.01, 0.05),
                   exposure: tuple[float, float] = (100.0, 500.0),
                   seed: int | np.random.Generator | None = None
                   ) -> tuple[RateData, dict[str, np.ndarray]]:
    """k studies with events over person-time (log rate ratio ``theta``, SD ``tau``).

    Returns the data and the truth per study: ``rate_c``, ``rate_t`` and ``theta_i``.
    """
    rng = _rng(seed)
    theta_i = theta + tau * rng.standard_normal(k)
    rate_c = rng.uniform(*control_rate, size=k)
    rate_t = rate_c * np.exp(theta_i)
    t_t = rng.uniform(*exposure, size=k)
    t_c = rng.uniform(*exposure, size=k)
    data = RateData(tuple(f"study {i + 1}" for i in range(k)), rng.poisson(rate_t * t_t), t_t,
                    rng.poisson(rate_c * t_c), t_c, source="simulated")
    return data, {"rate_c": rate_c, "rate_t": rate_t, "theta_i": theta_i}
