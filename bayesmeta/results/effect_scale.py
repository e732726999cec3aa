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
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bayesmeta.errors import InputError


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
    #: What the shaded side is called ("harm": events are adverse, e.g. an odds ratio of
    #: adverse events); None for measures with no side that is harm by themselves (a mean
    #: difference can be good or bad): plots then name the event itself, e.g. "MD > 0".
    harm_word: str | None = "harm"

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

    def displayed_thresholds(self, values: Iterable[float]) -> tuple[float, ...]:
        """Validated thresholds as a user gives them, on the displayed scale: positive ratios
        for a log measure (``--threshold 1.5`` is an OR of 1.5), finite numbers otherwise.
        Raises :class:`InputError` (``--threshold``) for anything else."""
        cuts = tuple(float(c) for c in values)
        for c in cuts:
            if self.log and not (c > 0 and math.isfinite(c)):
                raise InputError(f"an {self.symbol} threshold must be a positive ratio (got "
                                 f"{c:g}); thresholds are on the {self.symbol} scale, not the "
                                 "log scale", source="--threshold")
            if not math.isfinite(c):
                raise InputError(f"a threshold must be a finite number (got {c:g})",
                                 source="--threshold")
        return cuts

    def harm_text(self, threshold: float | None = None) -> str:
        """E.g. ``OR > 1``: the event that counts as harm."""
        c = self.null if threshold is None else threshold
        return f"{self.symbol} {'>' if self.harm_above else '<'} {c:g}"


#: The odds ratio of the binomial–normal model: treatment vs control, adverse events.
ODDS_RATIO = EffectScale(name="odds ratio", symbol="OR", pooled="log_or",
                         predictive="theta_new", heterogeneity="tau", log=True, null=1.0)


#: The rate ratio of the Poisson–normal model (events over person-time), harm = RR above 1.
RATE_RATIO = EffectScale(name="rate ratio", symbol="RR", pooled="log_rr",
                         predictive="theta_new", heterogeneity="tau", log=True, null=1.0)


def _effect_size_scales() -> dict[str, EffectScale]:
    """The normal–normal model's scale for each measure of its effects: log ratios are
    shown as ratios on a log axis (harm above 1, as for event counts), differences on a
    linear axis around 0. Risk differences count events (harm above 0); mean differences
    and generic effects have no harmful side of their own."""
    out = {}
    for measure, name, symbol in (("logOR", "odds ratio", "OR"), ("logRR", "risk ratio", "RR"),
                                  ("logHR", "hazard ratio", "HR")):
        out[measure] = EffectScale(name=name, symbol=symbol, pooled="mu",
                                   predictive="theta_new", log=True, null=1.0)
    out["RD"] = EffectScale(name="risk difference", symbol="RD", pooled="mu",
                            predictive="theta_new")
    for measure, name, symbol in (("MD", "mean difference", "MD"),
                                  ("SMD", "standardised mean difference", "SMD")):
        out[measure] = EffectScale(name=name, symbol=symbol, pooled="mu",
                                   predictive="theta_new", lower_label="lower under treatment",
                                   upper_label="higher under treatment", harm_word=None)
    out["generic"] = EffectScale(name="effect", symbol="effect", pooled="mu",
                                 predictive="theta_new", lower_label="lower",
                                 upper_label="higher", harm_word=None)
    return out


#: Scales of the normal–normal model by measure (``EffectsData.measure``).
EFFECT_SIZE_SCALES: dict[str, EffectScale] = _effect_size_scales()


def prob_harm(result, threshold: float | None = None, *, predictive: bool = False) -> float:
    """P(harm) for any result with an ``effect_scale``: P(effect > threshold) (or < when
    harm is below), from ``result.posterior(name).sf``/``cdf``."""
    scale: EffectScale = result.effect_scale
    c = scale.to_internal(scale.null if threshold is None else threshold)
    marginal = result.posterior(scale.predictive if predictive else scale.pooled)
    return marginal.sf(c) if scale.harm_above else marginal.cdf(c)
