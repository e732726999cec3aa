"""Effect sizes with their sampling variances (as metafor's ``escalc`` computes them).

Binary (two arms, events/patients): log odds ratio, log risk ratio, risk difference.
Continuous (two arms, mean/SD/n): mean difference, standardised mean difference (Hedges' g).

Continuity corrections exist here and nowhere else, only when asked, and they are reported:
every function returns, besides ``yi`` and ``vi``, which studies were corrected or dropped.
The rules follow metafor: ``"only0"`` adds ``cc`` to the four cells of tables with a zero
cell (metafor's default), ``"all"`` to every table, ``"if0all"`` to every table when any has
a zero, ``"none"`` to none. Double-zero tables are dropped (``drop00=True``, the usual
choice for OR/RR) or kept.

References: Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat
Softw 2010;36(3). Hedges LV. Distribution theory for Glass's estimator of effect size.
J Educ Stat 1981;6:107–128 (exact small-sample correction J).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

CC_RULES = ("only0", "all", "if0all", "none")
BINARY_MEASURES = ("OR", "RR", "RD")


@dataclass(frozen=True)
class Effects:
    """Per-study effect estimates ``yi`` with sampling variances ``vi``.

    ``kept`` marks which input studies are in ``yi`` (False = dropped, e.g. double zero);
    ``corrected`` marks (among all input studies) those that received a continuity
    correction; ``note`` says in words what was done.
    """

    yi: np.ndarray
    vi: np.ndarray
    measure: str
    kept: np.ndarray
    corrected: np.ndarray
    note: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def sei(self) -> np.ndarray:
        return np.sqrt(self.vi)


def binary_effects(events_t, n_t, events_c, n_c, *, measure: str = "OR", cc: float = 0.5,
                   to: str = "only0", drop00: bool = True) -> Effects:
    """log OR, log RR or RD (treatment vs control) with variances, metafor-style."""
    if measure not in BINARY_MEASURES:
        raise ValueError(f"measure must be one of {BINARY_MEASURES}")
    if to not in CC_RULES:
        raise ValueError(f"to must be one of {CC_RULES}")
    a = np.asarray(events_t, dtype=float)
    c = np.asarray(events_c, dtype=float)
    b = np.asarray(n_t, dtype=float) - a
    d = np.asarray(n_c, dtype=float) - c
    double_zero = (a == 0) & (c == 0)
    kept = ~double_zero if (drop00 and measure in ("OR", "RR")) else np.ones_like(a, bool)
    zero_cell = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if measure == "RD":  # metafor does not correct RD by default
        zero_cell = np.zeros_like(zero_cell)
    if to == "all":
        corrected = np.ones_like(a, dtype=bool)
    elif to == "only0":
        corrected = zero_cell.copy()
    elif to == "if0all":
        corrected = np.full_like(a, zero_cell[kept].any(), dtype=bool)
    else:
        corrected = np.zeros_like(a, dtype=bool)
    corrected &= kept
    add = np.where(corrected, cc, 0.0)
    a, b, c, d = a + add, b + add, c + add, d + add
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(a * d / (b * c))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log((a / n1) / (c / n2))
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        else:
            p1, p2 = a / n1, c / n2
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    parts = []
    if corrected.any():
        parts.append(f"{cc:g} added to every cell of {int(corrected.sum())} table(s) "
                     f"({'with a zero cell' if to == 'only0' else to})")
    if (~kept).any():
        parts.append(f"{int((~kept).sum())} double-zero table(s) dropped")
    return Effects(yi[kept], vi[kept], {"OR": "logOR", "RR": "logRR", "RD": "RD"}[measure],
                   kept, corrected, "; ".join(parts) or "no continuity correction needed")


def hedges_correction(df: np.ndarray) -> np.ndarray:
    """Exact small-sample correction J(m) = Γ(m/2) / (sqrt(m/2) Γ((m−1)/2)) (Hedges 1981)."""
    m = np.asarray(df, dtype=float)
    return np.exp(gammaln(m / 2) - 0.5 * np.log(m / 2) - gammaln((m - 1) / 2))


def continuous_effects(mean_t, sd_t, n_t, mean_c, sd_c, n_c, *,
                       measure: str = "MD") -> Effects:
    """Mean difference or Hedges' g (treatment − control), metafor's ``escalc`` defaults.

    MD: yi = m1 − m2, vi = sd1²/n1 + sd2²/n2.
    SMD: yi = J·(m1 − m2)/s_pooled with exact J, vi = 1/n1 + 1/n2 + yi²/(2(n1 + n2)).
    """
    m1, s1, n1 = (np.asarray(x, dtype=float) for x in (mean_t, sd_t, n_t))
    m2, s2, n2 = (np.asarray(x, dtype=float) for x in (mean_c, sd_c, n_c))
    if measure == "MD":
        yi = m1 - m2
        vi = s1**2 / n1 + s2**2 / n2
    elif measure == "SMD":
        pooled = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
        yi = hedges_correction(n1 + n2 - 2) * (m1 - m2) / pooled
        vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    else:
        raise ValueError("measure must be MD or SMD")
    k = len(yi)
    return Effects(yi, vi, measure, np.ones(k, bool), np.zeros(k, bool), "")
