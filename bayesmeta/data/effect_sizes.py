"""Effect sizes with their sampling variances (as metafor's ``escalc`` computes them).

Binary (two arms, events/patients): log odds ratio, log risk ratio, risk difference.
Continuous (two arms, mean/SD/n): mean difference, standardised mean difference (Hedges' g).

Event rates (two arms, events/person-time): log incidence rate ratio, rate difference.

Continuity corrections exist here and nowhere else, only when asked, and they are reported:
every function returns, besides ``yi`` and ``vi``, which studies were corrected or dropped.
The rules follow metafor: ``"only0"`` adds ``cc`` to the four cells of tables with a zero
cell (metafor's default), ``"all"`` to every table, ``"if0all"`` to every table when any has
a zero, ``"none"`` to none. Double-zero tables are dropped (``drop00=True``, the usual
choice for OR/RR) or kept.

What is added is either the constant ``cc`` in every cell (``cc_method="constant"``) or the
treatment-arm continuity correction of Sweeting, Sutton & Lambert (2004)
(``cc_method="tacc"``): each arm's two cells receive an amount proportional to the
reciprocal of the *other* arm's size, k_t = 2·cc·n_t/(n_t + n_c) and k_c = 2·cc·n_c/(n_t + n_c),
so that k_t + k_c = 2·cc as with the constant, and a balanced trial gets cc in every cell.
With unequal arms this removes most of the bias the constant correction causes.

References: Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat
Softw 2010;36(3). Hedges LV. Distribution theory for Glass's estimator of effect size.
J Educ Stat 1981;6:107–128 (exact small-sample correction J). Sweeting MJ, Sutton AJ,
Lambert PC. What to add to nothing? Use and avoidance of continuity corrections in
meta-analysis of sparse data. Stat Med 2004;23:1351–1375.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln

CC_RULES = ("only0", "all", "if0all", "none")
CC_METHODS = ("constant", "tacc")
BINARY_MEASURES = ("OR", "RR", "RD")
RATE_MEASURES = ("IRR", "IRD")


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
                   to: str = "only0", drop00: bool = True,
                   cc_method: str = "constant") -> Effects:
    """log OR, log RR or RD (treatment vs control) with variances, metafor-style.

    ``cc_method="tacc"`` replaces the constant ``cc`` by the treatment-arm correction
    (see the module docstring); ``to`` still says which tables are corrected.
    """
    if measure not in BINARY_MEASURES:
        raise ValueError(f"measure must be one of {BINARY_MEASURES}")
    if to not in CC_RULES:
        raise ValueError(f"to must be one of {CC_RULES}")
    if cc_method not in CC_METHODS:
        raise ValueError(f"cc_method must be one of {CC_METHODS}")
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
    if cc_method == "tacc":
        share_t = (a + b) / (a + b + c + d)
        add_t = np.where(corrected, 2 * cc * share_t, 0.0)
        add_c = np.where(corrected, 2 * cc * (1 - share_t), 0.0)
    else:
        add_t = add_c = np.where(corrected, cc, 0.0)
    a, b, c, d = a + add_t, b + add_t, c + add_c, d + add_c
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
        which = "with a zero cell" if to == "only0" else to
        if cc_method == "tacc":
            parts.append(f"treatment-arm correction (total {2 * cc:g} per table, split by arm "
                         f"size) added to {int(corrected.sum())} table(s) ({which})")
        else:
            parts.append(f"{cc:g} added to every cell of {int(corrected.sum())} table(s) "
                         f"({which})")
    if (~kept).any():
        parts.append(f"{int((~kept).sum())} double-zero table(s) dropped")
    return Effects(yi[kept], vi[kept], {"OR": "logOR", "RR": "logRR", "RD": "RD"}[measure],
                   kept, corrected, "; ".join(parts) or "no continuity correction needed",
                   {"cc": cc, "to": to, "cc_method": cc_method, "drop00": drop00})


def rate_effects(events_t, exposure_t, events_c, exposure_c, *, measure: str = "IRR",
                 cc: float = 0.5, to: str = "only0", drop00: bool = False) -> Effects:
    """log incidence rate ratio or rate difference (treatment vs control), as metafor's
    ``escalc("IRR")``/``escalc("IRD")``.

    IRR: yi = log(x_t/T_t) − log(x_c/T_c), vi = 1/x_t + 1/x_c, with ``cc`` added to both
    event counts of a study with a zero count (``to="only0"``). IRD: yi = x_t/T_t − x_c/T_c,
    vi = x_t/T_t² + x_c/T_c² (no correction by default, as metafor).
    """
    if measure not in RATE_MEASURES:
        raise ValueError(f"measure must be one of {RATE_MEASURES}")
    if to not in CC_RULES:
        raise ValueError(f"to must be one of {CC_RULES}")
    x1 = np.asarray(events_t, dtype=float)
    x2 = np.asarray(events_c, dtype=float)
    t1 = np.asarray(exposure_t, dtype=float)
    t2 = np.asarray(exposure_c, dtype=float)
    double_zero = (x1 == 0) & (x2 == 0)
    kept = ~double_zero if (drop00 and measure == "IRR") else np.ones_like(x1, bool)
    zero = (x1 == 0) | (x2 == 0)
    if measure == "IRD":
        zero = np.zeros_like(zero)
    corrected = {"all": np.ones_like(zero), "only0": zero.copy(),
                 "if0all": np.full_like(zero, zero[kept].any()),
                 "none": np.zeros_like(zero)}[to] & kept
    add = np.where(corrected, cc, 0.0)
    x1, x2 = x1 + add, x2 + add
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "IRR":
            yi = np.log(x1 / t1) - np.log(x2 / t2)
            vi = 1 / x1 + 1 / x2
        else:
            yi = x1 / t1 - x2 / t2
            vi = x1 / t1**2 + x2 / t2**2
    parts = []
    if corrected.any():
        parts.append(f"{cc:g} added to both event counts of {int(corrected.sum())} "
                     f"study(ies) ({'with a zero count' if to == 'only0' else to})")
    if (~kept).any():
        parts.append(f"{int((~kept).sum())} double-zero study(ies) dropped")
    return Effects(yi[kept], vi[kept], {"IRR": "logIRR", "IRD": "IRD"}[measure], kept,
                   corrected, "; ".join(parts) or "no continuity correction needed",
                   {"cc": cc, "to": to, "cc_method": "constant", "drop00": drop00})


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
