"""P(harm) and the pooled effect as a function of the τ prior's scale (exact NNHM, a curve).

A prior set compares a handful of priors; the curve asks the continuous question behind it:
*how large must the prior's scale of the heterogeneity τ be before the conclusion changes?*
With the exact normal–normal model each fit costs milliseconds, so the scale of one family
(half-normal, half-Cauchy, half-t, exponential, uniform(0, U)) is swept over a fine grid and,
at each point, the pooled effect's median and 95% CrI, a new study's 95% interval, τ's
median and 95% CrI and P(effect > c) are recorded.

Where the 95% CrI of the pooled effect starts or stops including a threshold c between two
grid points, the scale is found by root finding on the exact fits (Brent's method), so the
verdict ("the CrI excludes OR = 1 for half-normal scales below 0.83") does not depend on the
grid. Each grid point's numbers are those of ``fit_effects`` with that τ prior.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.data.effects import EffectsData
from bayesmeta.errors import InputError
from bayesmeta.priors import Prior
from bayesmeta.results.effect_scale import EffectScale
from bayesmeta.results.effects import EffectsMetaResult, software_versions
from bayesmeta.results.jsonable import clean, records
from bayesmeta.results.sensitivity import ABOVE, BELOW, INCLUDES, classify

SCHEMA = "bayesmeta.sensitivity.tau_scale/1"

#: Families whose scale can be swept: name -> (fixed parameters before the scale, what the
#: swept number is). The exponential is swept by its mean 1/rate, uniform by its upper bound.
CURVE_FAMILIES: dict[str, tuple[int, str]] = {
    "halfnormal": (0, "half-normal scale"),
    "halfcauchy": (0, "half-Cauchy scale"),
    "halft": (1, "half-t scale"),
    "exponential": (0, "exponential mean (1/rate)"),
    "uniform": (0, "uniform upper bound"),
}
MAX_POINTS = 5000


@dataclass(frozen=True)
class TauPriorFamily:
    """A τ prior family with every parameter fixed but its scale (``fixed``: e.g. the
    half-t's degrees of freedom)."""

    family: str
    fixed: tuple[float, ...] = ()

    @property
    def what(self) -> str:
        """What the swept number is, in words (an axis label)."""
        return CURVE_FAMILIES[self.family][1]

    def prior(self, scale: float) -> Prior:
        """The τ prior at ``scale``."""
        s = float(scale)
        if self.family == "exponential":
            return Prior("exponential", (1.0 / s,))
        if self.family == "uniform":
            return Prior("uniform", (0.0, s))
        return Prior(self.family, (*self.fixed, s))

    def scale_of(self, prior: Prior) -> float | None:
        """The scale of ``prior`` if it belongs to this family (with the same fixed
        parameters), else None."""
        if prior.family != self.family:
            return None
        if self.family == "exponential":
            return 1.0 / prior.params[0]
        if self.family == "uniform":
            return prior.params[1] if prior.params[0] == 0 else None
        n = len(self.fixed)
        return prior.params[n] if tuple(prior.params[:n]) == self.fixed else None

    @property
    def spec(self) -> str:
        return ":".join([self.family, *(f"{p:g}" for p in self.fixed)])


def parse_curve_spec(text: str, *, option: str = "--tau-scale-curve"
                     ) -> tuple[TauPriorFamily, float, float]:
    """``"halfnormal:0.1:2"`` (or ``"halft:3:0.1:2"``) → (family, from, to)."""
    parts = [p.strip() for p in str(text).split(":")]
    family = parts[0].lower().replace("-", "").replace("_", "")
    names = ", ".join(CURVE_FAMILIES)
    if family not in CURVE_FAMILIES:
        raise InputError(f"'{parts[0]}' is not a τ prior family whose scale can be swept; "
                         f"use one of {names}, e.g. halfnormal:0.1:2", source=option)
    n_fixed = CURVE_FAMILIES[family][0]
    if len(parts) != 3 + n_fixed:
        form = "halft:NU:FROM:TO" if n_fixed else f"{family}:FROM:TO"
        raise InputError(f"'{text}' must be written {form}", source=option)
    try:
        numbers = [float(p) for p in parts[1:]]
    except ValueError:
        raise InputError(f"'{text}': the parameters must be numbers", source=option) from None
    fixed, (lo, hi) = tuple(numbers[:n_fixed]), numbers[n_fixed:]
    if not all(math.isfinite(x) for x in numbers):
        raise InputError(f"'{text}': the parameters must be finite", source=option)
    if not 0 < lo < hi:
        raise InputError(f"'{text}': the scales must satisfy 0 < FROM < TO", source=option)
    if fixed and not fixed[0] > 0:
        raise InputError(f"'{text}': the degrees of freedom must be positive", source=option)
    return TauPriorFamily(family, fixed), lo, hi


def scale_grid(lower: float, upper: float, n: int, *, include: float | None = None
               ) -> np.ndarray:
    """``n`` log-spaced scales from ``lower`` to ``upper`` (plus ``include``, if inside)."""
    if not 2 <= n <= MAX_POINTS:
        raise InputError(f"the grid needs 2 to {MAX_POINTS} points (got {n})", source="--grid")
    grid = np.geomspace(lower, upper, n)
    if include is not None and lower < include < upper:
        grid = np.unique(np.append(grid, include))
    return grid


@dataclass(frozen=True)
class Crossing:
    """The scale at which the 95% CrI's ``limit`` (``q025`` or ``q975``) of the pooled
    effect crosses ``threshold``: the CrI is ``before`` (below / includes / above c) for
    smaller scales and ``after`` for larger ones."""

    threshold: float
    limit: str
    scale: float
    before: str
    after: str

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "limit": self.limit, "scale": self.scale,
                "before": self.before, "after": self.after}


FitAt = Callable[[float], EffectsMetaResult]


def curve_point(fit: EffectsMetaResult, scale: float, eff: EffectScale,
                pooled: str, new: str, thresholds: tuple[float, ...]) -> dict[str, Any]:
    """One grid point: the numbers of ``fit`` (a fit with the τ prior at ``scale``)."""
    p, n, t = fit.posterior(pooled), fit.posterior(new), fit.posterior("tau")
    rec: dict[str, Any] = {"scale": float(scale), "tau_prior": fit.priors.tau.spec}
    (lo, hi), (nlo, nhi), (tlo, thi) = p.interval(), n.interval(), t.interval()
    rec.update({f"{pooled}_median": p.median, f"{pooled}_q025": lo, f"{pooled}_q975": hi,
                f"{new}_median": n.median, f"{new}_q025": nlo, f"{new}_q975": nhi,
                "tau_median": t.median, "tau_q025": tlo, "tau_q975": thi})
    mu, theta_new = fit.posterior(eff.pooled), fit.posterior(eff.predictive)
    for c in thresholds:
        rec[f"p_{pooled}_gt_{c:g}"] = mu.sf(eff.to_internal(c))
    for c in thresholds:
        rec[f"p_{new}_gt_{c:g}"] = theta_new.sf(eff.to_internal(c))
    return rec


@dataclass(frozen=True, eq=False)
class TauScaleCurve:
    """The pooled effect and P(effect > c) along a τ-prior scale (see the module doc).

    ``grid`` has one row per scale (columns as in :meth:`columns`); ``crossings`` the scales
    where the 95% CrI of the pooled effect changes its position relative to a threshold."""

    data: EffectsData
    family: TauPriorFamily
    lower: float
    upper: float
    mu_prior: Prior
    scale: EffectScale
    pooled: str
    new: str
    grid: pd.DataFrame
    crossings: tuple[Crossing, ...]
    thresholds: tuple[float, ...] = ()
    reference_scale: float | None = None
    model: str = "nnhm"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def all_thresholds(self) -> tuple[float, ...]:
        return tuple(dict.fromkeys((self.scale.null, *self.thresholds)))

    def prob_column(self, c: float, *, predictive: bool = False) -> str:
        return f"p_{self.new if predictive else self.pooled}_gt_{c:g}"

    def classes(self, c: float) -> list[str]:
        """Per grid point: where the 95% CrI of the pooled effect lies relative to c."""
        g = self.grid
        return [classify(lo, hi, c) for lo, hi in zip(g[f"{self.pooled}_q025"],
                                                      g[f"{self.pooled}_q975"], strict=True)]

    def segments(self, c: float) -> list[tuple[float, float, str]]:
        """(from, to, class) stretches of scale over which the CrI's position relative to c
        stays the same, with the boundaries at the refined crossings."""
        cuts = sorted((x for x in self.crossings if x.threshold == c), key=lambda x: x.scale)
        classes = self.classes(c)
        out, start, current = [], self.lower, classes[0]
        for x in cuts:
            out.append((start, x.scale, current))
            start, current = x.scale, x.after
        out.append((start, self.upper, current))
        return out

    def verdict_text(self) -> list[str]:
        """One sentence per threshold, then how P(effect > null) and τ move along the curve."""
        sym, what = self.scale.symbol, self.family.what
        where = {BELOW: "lies below", ABOVE: "lies above", INCLUDES: "includes"}
        g = self.grid
        lines = []
        for c in self.all_thresholds:
            segs = self.segments(c)
            if len(segs) == 1:
                lines.append(f"{sym} threshold {c:g}: robust over {what}s {self.lower:g} to "
                             f"{self.upper:g} — the 95% CrI of the pooled {sym} "
                             f"{where[segs[0][2]]} {c:g} throughout.")
            else:
                parts = [f"{where[k]} {c:g} for {a:.3g} to {b:.3g}" for a, b, k in segs]
                parts[0] = parts[0].replace(" for ", f" for {what}s ", 1)
                lines.append(f"{sym} threshold {c:g}: NOT robust — the 95% CrI of the pooled "
                             f"{sym} {', '.join(parts[:-1])} and {parts[-1]}.")
            col = g[self.prob_column(c)]
            i, j = int(np.argmin(col.to_numpy())), int(np.argmax(col.to_numpy()))
            ref = ""
            if self.reference_scale is not None:
                k = int(np.argmin(np.abs(g["scale"].to_numpy() - self.reference_scale)))
                ref = f"; at the default {self.reference_scale:g}: {_prob(col.iloc[k])}"
            lines.append(f"  P({sym} > {c:g}) from {_prob(col.iloc[i])} ({what} "
                         f"{g['scale'].iloc[i]:.3g}) to {_prob(col.iloc[j])} "
                         f"({g['scale'].iloc[j]:.3g}){ref}.")
        col = g[self.prob_column(self.scale.null, predictive=True)]
        lines.append(f"P(θ_new > 0), a new study's effect above {self.scale.null:g} on the "
                     f"{sym} scale, from {_prob(col.min())} to {_prob(col.max())}; τ (median) "
                     f"from {g['tau_median'].min():.2g} to {g['tau_median'].max():.2g}.")
        return lines

    def table(self) -> pd.DataFrame:
        """The grid as a table (the ``--csv`` file): one row per scale."""
        return self.grid.set_index("scale")

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (schema ``bayesmeta.sensitivity.tau_scale/1``)."""
        d = self.data
        return clean({
            "schema": SCHEMA, "model": self.model, "method": "exact",
            "data": {"source": d.source, "n_studies": d.k, "studies": list(d.study),
                     "measure": d.measure, "measure_text": d.measure_text,
                     "derivation": d.derivation},
            "effect": {"name": self.scale.name, "symbol": self.scale.symbol,
                       "log": self.scale.log, "null": self.scale.null},
            "tau_prior": {"family": self.family.family, "fixed": list(self.family.fixed),
                          "swept": self.family.what, "from": self.lower, "to": self.upper,
                          "points": len(self.grid), "spacing": "log",
                          "reference_scale": self.reference_scale},
            "mu_prior": self.mu_prior.to_dict(),
            "grid": records(self.grid),
            "crossings": [x.to_dict() for x in self.crossings],
            "verdict": {"text": self.verdict_text()},
            "settings": {"model": self.model, "method": "exact", "measure": d.measure,
                         "thresholds": list(self.thresholds),
                         "versions": dict(software_versions())},
        })


def _prob(p: float) -> str:
    if p < 0.001:
        return f"{p:.1g}" if p > 0 else "0"
    return f"{p:.3f}"


def compute_curve(fit_at: FitAt, grid: np.ndarray, eff: EffectScale, pooled: str, new: str,
                  thresholds: tuple[float, ...]) -> tuple[pd.DataFrame, tuple[Crossing, ...]]:
    """The grid's records, and the crossings refined by Brent's method on ``log scale``
    (to a relative 1e-6 of the scale) between grid points whose CrI classes differ."""
    from scipy.optimize import brentq

    rows = [curve_point(fit_at(s), s, eff, pooled, new, thresholds) for s in grid]
    frame = pd.DataFrame(rows)
    crossings: list[Crossing] = []
    for c in thresholds:
        for limit in ("q025", "q975"):
            values = frame[f"{pooled}_{limit}"].to_numpy() - c
            for i in np.flatnonzero(np.sign(values[:-1]) != np.sign(values[1:])):
                a, b = math.log(grid[i]), math.log(grid[i + 1])

                def gap(log_s: float, limit: str = limit, c: float = c) -> float:
                    lo, hi = fit_at(math.exp(log_s)).posterior(pooled).interval()
                    return (lo if limit == "q025" else hi) - c

                if values[i + 1] == 0:
                    continue  # lands on the next point; its own sign change follows
                root = math.exp(brentq(gap, a, b, xtol=1e-6)) if values[i] != 0 else grid[i]
                before = classify(frame[f"{pooled}_q025"].iloc[i],
                                  frame[f"{pooled}_q975"].iloc[i], c)
                after = classify(frame[f"{pooled}_q025"].iloc[i + 1],
                                 frame[f"{pooled}_q975"].iloc[i + 1], c)
                if before != after:
                    crossings.append(Crossing(c, limit, root, before, after))
    crossings.sort(key=lambda x: (x.threshold, x.scale))
    return frame, tuple(crossings)
