"""How a model's effect is measured, shown and judged — what plots and reports need to know.

Every result type names its :class:`EffectScale`: the quantity asked of
``result.posterior(name)`` for the pooled effect and for a new study's effect, whether the
model works on the log of the displayed measure (log OR → OR on a log axis), the value of no
effect, which side is harm, and the words for each side of a forest plot. Plots, the
influence table and the report use only this and ``posterior(name)``, so a new model plugs
in by declaring its scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EffectScale:
    """The effect measure of a model.

    ``pooled``/``predictive``/``heterogeneity`` are names for ``result.posterior(name)`` on
    the model's internal scale (log OR for the binomial–normal model); ``log`` says the
    displayed measure is ``exp`` of it. Harm is a displayed value above ``null`` (or above
    a threshold the user gives) when ``harm_above`` is true, below it otherwise.
    """

    name: str
    symbol: str
    pooled: str
    predictive: str
    heterogeneity: str = "tau"
    log: bool = False
    null: float = 0.0
    harm_above: bool = True
    lower_label: str = "favours treatment"
    upper_label: str = "favours control"

    def to_display(self, x):
        """Internal (e.g. log OR) → displayed (OR) values."""
        if self.log:
            return np.exp(x) if not isinstance(x, float | int) else math.exp(x)
        return x

    def to_internal(self, value: float) -> float:
        """A displayed value (e.g. an OR threshold) on the internal scale."""
        if self.log:
            if not value > 0:
                raise ValueError(f"a {self.symbol} threshold must be greater than 0")
            return math.log(value)
        return float(value)

    def harm_text(self, threshold: float | None = None) -> str:
        """E.g. ``OR > 1``: the event that counts as harm."""
        c = self.null if threshold is None else threshold
        return f"{self.symbol} {'>' if self.harm_above else '<'} {c:g}"


#: The odds ratio of the binomial–normal model: treatment vs control, adverse events.
ODDS_RATIO = EffectScale(name="odds ratio", symbol="OR", pooled="log_or",
                         predictive="theta_new", heterogeneity="tau", log=True, null=1.0)


def prob_harm(result, threshold: float | None = None, *, predictive: bool = False) -> float:
    """P(harm) for any result with an ``effect_scale``: P(effect > threshold) (or < when
    harm is below), from ``result.posterior(name).sf``/``cdf``."""
    scale: EffectScale = result.effect_scale
    c = scale.to_internal(scale.null if threshold is None else threshold)
    marginal = result.posterior(scale.predictive if predictive else scale.pooled)
    return marginal.sf(c) if scale.harm_above else marginal.cdf(c)
