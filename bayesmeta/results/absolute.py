"""Absolute effects: risk difference per 1,000 patients and number needed to treat/harm.

Given a baseline (control) risk :math:`p_0`, a log odds ratio :math:`\\theta` implies a
treatment risk :math:`p_1 = \\operatorname{expit}(\\operatorname{logit} p_0 + \\theta)`;
the risk difference is :math:`p_1 - p_0`, computed draw by draw, so its posterior carries
all the uncertainty of θ. The number needed to harm (NNH, when the event is more frequent
under treatment) or to treat for one fewer event (NNTB) is 1 / |RD|; its interval follows
Altman (1998, BMJ 317:1309): when the RD interval contains 0 it runs through infinity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, logit


def risk_difference_draws(log_or: np.ndarray, baseline_risk: float) -> np.ndarray:
    """Risk differences p1 − p0 for each log-OR draw at baseline risk ``baseline_risk``."""
    return expit(logit(baseline_risk) + log_or) - baseline_risk


@dataclass(frozen=True)
class NumberNeeded:
    """Number needed to harm/treat from a risk difference's median and 95% interval."""

    rd_median: float
    rd_low: float
    rd_high: float

    @staticmethod
    def _one(rd: float) -> str:
        if rd == 0:
            return "∞"
        kind = "NNH" if rd > 0 else "NNTB"
        return f"{kind} {math.ceil(1.0 / abs(rd))}"

    @property
    def kind(self) -> str:
        return "harm" if self.rd_median > 0 else "benefit"

    @property
    def value(self) -> float:
        return math.inf if self.rd_median == 0 else math.ceil(1.0 / abs(self.rd_median))

    def text(self) -> str:
        point = self._one(self.rd_median)
        if self.rd_low > 0 or self.rd_high < 0:
            return f"{point} (95% CrI {self._one(self.rd_high)} to {self._one(self.rd_low)})" \
                if self.rd_low > 0 else \
                f"{point} (95% CrI {self._one(self.rd_low)} to {self._one(self.rd_high)})"
        return (f"{point} (95% CrI {self._one(self.rd_low)} to ∞ to "
                f"{self._one(self.rd_high)})")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": None if math.isinf(self.value) else self.value,
                "text": self.text()}
