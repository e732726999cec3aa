"""What every classical (frequentist) estimator returns: one :class:`ClassicalFit`.

The estimate lives on the analysis scale (log OR, log RR, log IRR; RD and IRD as they are);
``ratio_scale`` says whether ``exp`` gives the ratio a reader wants. Every fit says what was
done to zero cells (``zero_handling``) and how many studies it actually used.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from bayesmeta.errors import BayesmetaError

#: Measures analysed on the log scale (the estimate is a log ratio).
LOG_MEASURES = frozenset({"OR", "RR", "IRR"})


@dataclass(frozen=True)
class ClassicalFit:
    """A frequentist meta-analysis result (metafor's names in brackets).

    ``estimate`` [beta], ``se`` [se], ``ci`` [ci.lb, ci.ub] and ``zval``/``pval`` (a t
    statistic with ``df`` degrees of freedom under the Hartung–Knapp test); ``tau2`` [tau2]
    with its Q-profile interval ``tau2_ci`` and ``se_tau2``; ``prediction`` [pi.lb, pi.ub];
    heterogeneity ``q`` [QE], ``q_df``, ``q_pval`` [QEp], ``i2`` [I2, in %];
    ``loglik`` [fit.stats ll ML] and ``loglik_reml``. ``k`` is the number of studies given,
    ``k_used`` the number that carry information for this method.
    """

    method: str
    label: str
    measure: str
    estimate: float
    se: float
    ci: tuple[float, float]
    zval: float
    pval: float
    k: int
    k_used: int
    zero_handling: str
    test: str = "z"
    df: int | None = None
    level: float = 0.95
    tau2: float | None = None
    tau2_ci: tuple[float, float] | None = None
    se_tau2: float | None = None
    prediction: tuple[float, float] | None = None
    q: float | None = None
    q_df: int | None = None
    q_pval: float | None = None
    i2: float | None = None
    loglik: float | None = None
    loglik_reml: float | None = None
    notes: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio_scale(self) -> bool:
        """True when ``exp(estimate)`` is the effect a reader wants (OR, RR, IRR)."""
        return self.measure in LOG_MEASURES

    @property
    def random_effects(self) -> bool:
        return self.tau2 is not None

    @property
    def tau(self) -> float | None:
        return None if self.tau2 is None else math.sqrt(max(self.tau2, 0.0))

    def on_natural_scale(self) -> dict[str, Any]:
        """Estimate and intervals as a reader reads them: ratios exponentiated."""
        f = math.exp if self.ratio_scale else (lambda x: x)
        return {
            "estimate": f(self.estimate),
            "ci": tuple(f(x) for x in self.ci),
            "prediction": None if self.prediction is None else tuple(f(x) for x in
                                                                      self.prediction),
        }

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["tau"] = self.tau
        out["ratio_scale"] = self.ratio_scale
        out["natural"] = self.on_natural_scale()
        return out


class NoEstimate(BayesmetaError):
    """A method has no finite estimate on these data (e.g. no events in one arm anywhere).

    ``compare`` shows the reason in the method's row; elsewhere it is a one-line error.
    """
