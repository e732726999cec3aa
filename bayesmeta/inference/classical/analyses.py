"""One call per classical analysis of two-arm data: effect sizes, zero-cell rule, estimator.

``classical_binary(data, "REML", cc=0.5, cc_to="only0", drop00=True, test="knha")`` computes
the study effects with the stated continuity correction (see
:mod:`bayesmeta.data.effect_sizes`) and pools them; ``"MH"``, ``"Peto"`` and ``"GLMM"`` use
the raw counts. ``classical_rates`` does the same for events over person-time. Every result
states in words what was done to zero cells (``ClassicalFit.zero_handling``).
"""

from __future__ import annotations

import numpy as np

from bayesmeta.data.binary import BinaryData
from bayesmeta.data.effect_sizes import CC_METHODS, CC_RULES, binary_effects, rate_effects
from bayesmeta.data.rates import RateData
from bayesmeta.errors import InputError
from bayesmeta.inference.classical.glmm import glmm_fixed_study
from bayesmeta.inference.classical.inverse_variance import TAU2_METHODS, TESTS, inverse_variance
from bayesmeta.inference.classical.mantel_haenszel import (
    mantel_haenszel,
    mantel_haenszel_rates,
    peto,
)
from bayesmeta.inference.classical.result import ClassicalFit

#: Inverse-variance τ² methods, plus the methods on raw counts.
BINARY_METHODS = (*TAU2_METHODS, "MH", "Peto", "GLMM")
RATE_METHODS = (*TAU2_METHODS, "MH", "GLMM")


def _check(value: str, allowed: tuple[str, ...], option: str) -> None:
    if value not in allowed:
        raise InputError(f"'{value}' is not one of {', '.join(allowed)}", source=option)


def _iv_zero_text(note: str, double_zero: int, drop00: bool) -> str:
    text = note
    if double_zero and not drop00:
        text += f"; {double_zero} double-zero table(s) kept"
    return text


def _pool_effects(eff, method: str, *, test: str, level: float, measure: str, k_total: int,
                  zero: str) -> ClassicalFit:
    """Pool study effects; with no correction, studies whose estimate is undefined (a zero
    cell) are left out and the text says so."""
    finite = np.isfinite(eff.yi) & np.isfinite(eff.vi) & (eff.vi > 0)
    yi, vi = eff.yi[finite], eff.vi[finite]
    if (~finite).any():
        left_out = int((~finite).sum())
        zero = (("no continuity correction: " if zero.startswith("no continuity") else
                 zero + "; ") + f"{left_out} table(s) with a zero cell left out")
    return inverse_variance(yi, vi, tau2_method=method, test=test, level=level,
                            measure=measure, k_total=k_total, zero_handling=zero)


def classical_binary(data: BinaryData, method: str = "REML", *, measure: str = "OR",
                     cc: float = 0.5, cc_to: str = "only0", cc_method: str = "constant",
                     drop00: bool = True, test: str = "z", level: float = 0.95) -> ClassicalFit:
    """A classical meta-analysis of two-arm event counts.

    Parameters
    ----------
    method
        ``"FE"`` (inverse variance), ``"DL"``, ``"REML"``, ``"ML"``, ``"PM"`` (random
        effects by inverse variance), ``"MH"`` (Mantel–Haenszel), ``"Peto"``, or ``"GLMM"``
        (binomial–normal GLMM, ML, fixed study effects).
    measure
        ``"OR"``, ``"RR"`` or ``"RD"`` (``Peto`` and ``GLMM``: OR only).
    cc, cc_to, cc_method, drop00
        Zero-cell rule of the inverse-variance methods: amount, which tables (``only0``,
        ``all``, ``if0all``, ``none``), ``constant`` or ``tacc`` (treatment-arm
        correction), and whether double-zero tables are dropped.
    test
        ``"z"`` or ``"knha"`` (Hartung–Knapp–Sidik–Jonkman), inverse variance only.
    """
    _check(method, BINARY_METHODS, "--method")
    _check(measure, ("OR", "RR", "RD"), "--measure")
    _check(cc_to, CC_RULES, "--cc-to")
    _check(cc_method, CC_METHODS, "--cc-method")
    _check(test, TESTS, "--test")
    if not 0 < level < 1:
        raise InputError(f"must be between 0 and 1 (got {level})", source="--level")
    if cc < 0:
        raise InputError(f"must not be negative (got {cc})", source="--cc")
    if method in ("Peto", "GLMM") and measure != "OR":
        raise InputError(f"{method} estimates an odds ratio only (got measure {measure})",
                         source="--measure")
    d = data
    if method == "MH":
        return mantel_haenszel(d.events_t, d.n_t, d.events_c, d.n_c, measure=measure,
                               level=level)
    if method == "Peto":
        return peto(d.events_t, d.n_t, d.events_c, d.n_c, level=level)
    if method == "GLMM":
        return glmm_fixed_study(d.events_t, d.n_t, d.events_c, d.n_c, level=level)
    eff = binary_effects(d.events_t, d.n_t, d.events_c, d.n_c, measure=measure, cc=cc,
                         to=cc_to, drop00=drop00, cc_method=cc_method)
    zero = _iv_zero_text(eff.note, int(d.double_zero.sum()), drop00)
    return _pool_effects(eff, method, test=test, level=level, measure=measure, k_total=d.k,
                         zero=zero)


def classical_rates(data: RateData, method: str = "REML", *, measure: str = "IRR",
                    cc: float = 0.5, cc_to: str = "only0", drop00: bool = False,
                    test: str = "z", level: float = 0.95) -> ClassicalFit:
    """A classical meta-analysis of events over person-time (rate ratio or difference).

    ``method`` as in :func:`classical_binary` (no Peto); ``"GLMM"`` is the Poisson–normal
    GLMM with fixed study effects. The zero rule adds ``cc`` to both event counts of a
    study with a zero count (metafor's ``escalc("IRR")`` default).
    """
    _check(method, RATE_METHODS, "--method")
    _check(measure, ("IRR", "IRD"), "--measure")
    _check(cc_to, CC_RULES, "--cc-to")
    _check(test, TESTS, "--test")
    if method in ("MH", "GLMM") and measure != "IRR":
        raise InputError(f"{method} estimates a rate ratio only (got measure {measure})",
                         source="--measure")
    d = data
    if method == "MH":
        return mantel_haenszel_rates(d.events_t, d.exposure_t, d.events_c, d.exposure_c,
                                     level=level)
    if method == "GLMM":
        return glmm_fixed_study(d.events_t, d.exposure_t, d.events_c, d.exposure_c,
                                family="poisson", level=level)
    eff = rate_effects(d.events_t, d.exposure_t, d.events_c, d.exposure_c, measure=measure,
                       cc=cc, to=cc_to, drop00=drop00)
    zero = _iv_zero_text(eff.note, int(d.double_zero.sum()), drop00)
    return _pool_effects(eff, method, test=test, level=level, measure=measure, k_total=d.k,
                         zero=zero)
