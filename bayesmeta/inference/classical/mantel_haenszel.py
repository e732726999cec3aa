r"""Mantel–Haenszel and Peto fixed-effect methods on the raw 2×2 tables (no correction).

For study i with a events of n₁ under treatment, c of n₂ under control, b = n₁ − a,
d = n₂ − c and N = n₁ + n₂:

* **MH odds ratio** :math:`\hat\psi = \sum R_i / \sum S_i`, :math:`R_i = a_i d_i/N_i`,
  :math:`S_i = b_i c_i/N_i`, with the Robins–Breslow–Greenland (1986) variance of
  :math:`\log\hat\psi`; a table with no events (or only events) has R = S = 0 and so no
  weight — double-zero trials drop out by themselves.
* **MH risk ratio** :math:`\sum a_i n_{2i}/N_i \,/\, \sum c_i n_{1i}/N_i` with the
  Greenland–Robins (1985) variance.
* **MH risk difference** :math:`\sum (a_i n_{2i} - c_i n_{1i})/N_i \,/\, \sum n_{1i} n_{2i}/N_i`
  with the Sato, Greenland & Robins (1989) variance. Double-zero trials *do* count here
  (they say the risks are equal).
* **MH rate ratio** for events over person-time (x₁/T₁ vs x₂/T₂):
  :math:`\sum x_{1i} T_{2i}/T_i \,/\, \sum x_{2i} T_{1i}/T_i` (Greenland & Robins 1985).
* **Peto odds ratio** :math:`\log\hat\psi = \sum (O_i - E_i)/\sum V_i`,
  :math:`E_i = n_{1i} m_i / N_i`, :math:`V_i = m_i (N_i - m_i) n_{1i} n_{2i} / (N_i^2 (N_i - 1))`
  with m = a + c events; se = :math:`(\sum V_i)^{-1/2}` (Yusuf et al. 1985).

Heterogeneity (as metafor's ``rma.mh``/``rma.peto``): Cochran's Q of the study estimates
(0.5 added to tables with a zero, double zeros out) around the MH estimate; for Peto,
:math:`\sum (O_i - E_i)^2/V_i - (\sum (O_i - E_i))^2/\sum V_i`.

References: Mantel N, Haenszel W. J Natl Cancer Inst 1959;22:719–748. Robins J, Breslow N,
Greenland S. Biometrics 1986;42:311–323. Greenland S, Robins JM. Biometrics 1985;41:55–68.
Sato T, Greenland S, Robins JM. Biometrics 1989;45:1323–1324. Yusuf S, Peto R, Lewis J,
Collins R, Sleight P. Prog Cardiovasc Dis 1985;27:335–371.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from bayesmeta.data.effect_sizes import binary_effects, rate_effects
from bayesmeta.inference.classical.result import ClassicalFit, NoEstimate

MH_MEASURES = ("OR", "RR", "RD")
RAW_COUNTS = "none: raw counts (no continuity correction)"


def _tables(events_t, n_t, events_c, n_c):
    a = np.asarray(events_t, dtype=float)
    c = np.asarray(events_c, dtype=float)
    n1 = np.asarray(n_t, dtype=float)
    n2 = np.asarray(n_c, dtype=float)
    return a, n1 - a, c, n2 - c, n1, n2, n1 + n2


def _heterogeneity(yi: np.ndarray, vi: np.ndarray, estimate: float) -> dict:
    k = len(yi)
    if k < 2:
        return {"q": 0.0, "q_df": max(k - 1, 0), "q_pval": 1.0, "i2": 0.0}
    q = max(0.0, float(np.sum((yi - estimate) ** 2 / vi)))
    return {"q": q, "q_df": k - 1, "q_pval": float(stats.chi2.sf(q, k - 1)),
            "i2": max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0}


def _loglik(yi: np.ndarray, vi: np.ndarray, estimate: float) -> float:
    return float(-0.5 * (len(yi) * math.log(2 * math.pi) + np.sum(np.log(vi))
                         + np.sum((yi - estimate) ** 2 / vi)))


def _fit(method: str, label: str, measure: str, estimate: float, se: float, level: float,
         k: int, k_used: int, zero_handling: str, het: dict, loglik: float | None,
         extra: dict | None = None) -> ClassicalFit:
    crit = float(stats.norm.ppf(0.5 + level / 2))
    z = estimate / se
    return ClassicalFit(method=method, label=label, measure=measure, estimate=estimate, se=se,
                        ci=(estimate - crit * se, estimate + crit * se), zval=z,
                        pval=float(2 * stats.norm.sf(abs(z))), k=k, k_used=k_used,
                        zero_handling=zero_handling, level=level, loglik=loglik,
                        extra=extra or {}, **het)


def mantel_haenszel(events_t, n_t, events_c, n_c, *, measure: str = "OR",
                    level: float = 0.95) -> ClassicalFit:
    """Mantel–Haenszel fixed-effect OR, RR or RD (see the module docstring)."""
    if measure not in MH_MEASURES:
        raise ValueError(f"measure must be one of {MH_MEASURES}")
    a, b, c, d, n1, n2, n = _tables(events_t, n_t, events_c, n_c)
    k = len(a)
    if measure == "OR":
        r, s = a * d / n, b * c / n
        rr, ss = r.sum(), s.sum()
        if rr == 0 or ss == 0:
            raise NoEstimate("the Mantel–Haenszel OR is 0 or infinite: no events (or no "
                             "non-events) in one arm of every informative table")
        p, q = (a + d) / n, (b + c) / n
        var = 0.5 * (np.sum(p * r) / rr**2 + np.sum(p * s + q * r) / (rr * ss)
                     + np.sum(q * s) / ss**2)
        estimate, used = math.log(rr / ss), int(np.sum((r + s) > 0))
    elif measure == "RR":
        r, s = a * n2 / n, c * n1 / n
        rr, ss = r.sum(), s.sum()
        if rr == 0 or ss == 0:
            raise NoEstimate("the Mantel–Haenszel RR is 0 or infinite: no events in one arm "
                             "of every table")
        var = np.sum(n1 * n2 * (a + c) / n**2 - a * c / n) / (rr * ss)
        estimate, used = math.log(rr / ss), int(np.sum((r + s) > 0))
    else:
        weight = np.sum(n1 * n2 / n)
        estimate = float(np.sum((a * n2 - c * n1) / n) / weight)
        var = (estimate * np.sum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2
                                 + (n1 / n) * (n2 / n) * (n2 - n1) / 2)
               + np.sum(a * (n2 - c) / n + c * (n1 - a) / n) / 2) / weight**2
        used = k
    eff = binary_effects(a, n1, c, n2, measure=measure)
    usable = np.isfinite(eff.yi) & np.isfinite(eff.vi) & (eff.vi > 0)
    eff_yi, eff_vi = eff.yi[usable], eff.vi[usable]
    het = _heterogeneity(eff_yi, eff_vi, estimate)
    names = {"OR": "odds ratio", "RR": "risk ratio", "RD": "risk difference"}
    zero = RAW_COUNTS + ("; double-zero tables count (equal risks)" if measure == "RD"
                         else "; tables without events in either arm carry no weight")
    return _fit(f"MH-{measure}", f"Mantel–Haenszel {names[measure]}", measure, estimate,
                math.sqrt(var), level, k, used, zero, het, _loglik(eff_yi, eff_vi, estimate),
                {"heterogeneity_effects": eff.note})


def mantel_haenszel_rates(events_t, exposure_t, events_c, exposure_c, *,
                          level: float = 0.95) -> ClassicalFit:
    """Mantel–Haenszel incidence rate ratio (events over person-time)."""
    x1 = np.asarray(events_t, dtype=float)
    x2 = np.asarray(events_c, dtype=float)
    t1 = np.asarray(exposure_t, dtype=float)
    t2 = np.asarray(exposure_c, dtype=float)
    t = t1 + t2
    r, s = x1 * t2 / t, x2 * t1 / t
    if r.sum() == 0 or s.sum() == 0:
        raise NoEstimate("the Mantel–Haenszel rate ratio is 0 or infinite: no events in one "
                         "arm of every study")
    estimate = math.log(r.sum() / s.sum())
    var = np.sum(t1 * t2 * (x1 + x2) / t**2) / (r.sum() * s.sum())
    eff = rate_effects(x1, t1, x2, t2, drop00=True)
    het = _heterogeneity(eff.yi, eff.vi, estimate)
    return _fit("MH-IRR", "Mantel–Haenszel rate ratio", "IRR", estimate, math.sqrt(var),
                level, len(x1), int(np.sum((x1 + x2) > 0)),
                RAW_COUNTS + "; studies without events carry no weight", het,
                _loglik(eff.yi, eff.vi, estimate), {"heterogeneity_effects": eff.note})


def _peto_study_effects(a, b, c, d) -> tuple[np.ndarray, np.ndarray]:
    """Per-study Peto log ORs (O − E)/V and variances 1/V, with 0.5 added to tables with a
    zero cell and double zeros dropped (metafor's ``escalc("PETO")`` defaults; used only for
    the log-likelihood, as metafor does)."""
    keep = (a + c) > 0
    a, b, c, d = a[keep], b[keep], c[keep], d[keep]
    add = np.where((a == 0) | (b == 0) | (c == 0) | (d == 0), 0.5, 0.0)
    a, b, c, d = a + add, b + add, c + add, d + add
    n1, n2, m = a + b, c + d, a + c
    n = n1 + n2
    v = m * (n - m) * n1 * n2 / (n**2 * (n - 1))
    return (a - n1 * m / n) / v, 1.0 / v


def peto(events_t, n_t, events_c, n_c, *, level: float = 0.95) -> ClassicalFit:
    """Peto's one-step odds ratio (see the module docstring)."""
    a, b, c, d, n1, n2, n = _tables(events_t, n_t, events_c, n_c)
    m = a + c
    expected = n1 * m / n
    with np.errstate(divide="ignore", invalid="ignore"):
        v = m * (n - m) * n1 * n2 / (n**2 * (n - 1))
    v = np.where(np.isfinite(v), v, 0.0)
    if v.sum() == 0:
        raise NoEstimate("Peto's method needs a table with both events and non-events")
    oe = a - expected
    estimate = float(oe.sum() / v.sum())
    se = 1.0 / math.sqrt(v.sum())
    used = v > 0
    k_used = int(used.sum())
    q = max(0.0, float(np.sum(oe[used] ** 2 / v[used]) - oe.sum() ** 2 / v.sum()))
    het = {"q": q, "q_df": k_used - 1,
           "q_pval": float(stats.chi2.sf(q, k_used - 1)) if k_used > 1 else 1.0,
           "i2": max(0.0, 100 * (q - (k_used - 1)) / q) if q > 0 and k_used > 1 else 0.0}
    yi, vi = _peto_study_effects(a, b, c, d)
    return _fit("Peto", "Peto odds ratio", "OR", estimate, se, level, len(a), k_used,
                RAW_COUNTS + "; tables without events in either arm carry no weight", het,
                _loglik(yi, vi, estimate))
