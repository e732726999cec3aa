"""A known-answer SBC case: the harness checking itself, in milliseconds.

θ ~ N(0, 1) and y_1..y_m | θ ~ N(θ, 1): the posterior is N(Σy / (m + 1), 1 / (m + 1)),
exactly. The fit reports its CDF (the path exact methods such as the normal–normal model by
quadrature take) or, with ``draws > 0``, independent draws from it (the MCMC path). With
``posterior_sd_factor`` ≠ 1 the posterior is deliberately too narrow or too wide, and SBC
must fail.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from bayesmeta.validation.sbc import FitDraws, SBCCase


def conjugate_normal_case(*, m: int = 3, draws: int = 0,
                          posterior_sd_factor: float = 1.0) -> SBCCase:
    """The conjugate normal case; ``draws`` = 0 reports the exact CDF."""

    def draw_prior(rng: np.random.Generator) -> dict[str, Any]:
        return {"theta": float(rng.standard_normal())}

    def simulate(truth: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
        return truth["theta"] + rng.standard_normal(m)

    def fit(y: np.ndarray, seed: int) -> FitDraws:
        post = stats.norm(y.sum() / (m + 1), posterior_sd_factor / np.sqrt(m + 1))
        if draws:
            sample = post.rvs(size=(1, draws), random_state=np.random.default_rng(seed))
            return FitDraws({"theta": sample})
        return FitDraws(cdf={"theta": post.cdf})

    return SBCCase("conjugate_normal", ("theta",), draw_prior, simulate, fit,
                   f"conjugate normal, m = {m}, posterior sd × {posterior_sd_factor}")
