"""Numerics for exact (quadrature-based) posteriors, vectorised with numpy.

* :func:`solve_increasing` — safeguarded Newton for F(x) = target, many equations at once;
* :class:`NormalMixture` — a batch of B normal mixtures over N components (the marginal
  posteriors of μ, θ_new and every θ_i in the normal–normal model are mixtures over τ):
  cdf, pdf, moments, quantiles and shortest intervals;
* :class:`PanelDensity` — a density on [0, ∞) integrated by adaptive Gauss–Legendre panels
  in t = x / (x + c) (the posterior of τ): cdf, pdf, moments, quantiles, shortest interval.

Accuracy: quantiles are solved to |F(x) − p| ≤ 1e-13; densities are integrated to a relative
error below ``rel_tol`` (default 1e-10) as estimated by comparing 20- and 10-point rules on
every panel and splitting panels until the estimate is met.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

_SQRT_2PI = np.sqrt(2.0 * np.pi)
_GL_HIGH = np.polynomial.legendre.leggauss(20)
_GL_LOW = np.polynomial.legendre.leggauss(10)


def solve_increasing(F: Callable[[np.ndarray], np.ndarray],
                     dF: Callable[[np.ndarray], np.ndarray],
                     target: np.ndarray, lo: np.ndarray, hi: np.ndarray, x0: np.ndarray,
                     *, xtol: np.ndarray | float, ftol: float = 1e-13,
                     maxiter: int = 200) -> np.ndarray:
    """Solve F(x) = target elementwise for increasing F on the bracket [lo, hi].

    Newton steps, replaced by bisection whenever a step leaves the current bracket.
    """
    target = np.asarray(target, dtype=float)
    lo = np.broadcast_to(np.asarray(lo, dtype=float), target.shape).copy()
    hi = np.broadcast_to(np.asarray(hi, dtype=float), target.shape).copy()
    x = np.clip(np.broadcast_to(np.asarray(x0, dtype=float), target.shape), lo, hi)
    xtol = np.broadcast_to(np.asarray(xtol, dtype=float), target.shape)
    for _ in range(maxiter):
        f = F(x) - target
        lo = np.where(f <= 0, x, lo)
        hi = np.where(f >= 0, x, hi)
        done = (np.abs(f) <= ftol) | (hi - lo <= xtol)
        if done.all():
            return x
        with np.errstate(divide="ignore", invalid="ignore"):
            step = x - f / dF(x)
        bad = ~np.isfinite(step) | (step <= lo) | (step >= hi)
        step = np.where(bad, 0.5 * (lo + hi), step)
        x = np.where(done, x, step)
    return x


def shortest_by_width(quantile: Callable[[np.ndarray], np.ndarray],
                      pdf: Callable[[np.ndarray], np.ndarray], prob: float,
                      *, n_grid: int = 32) -> tuple[float, float]:
    """Shortest interval holding ``prob``: minimise w(p) = q(p + prob) − q(p), p ∈ [0, 1 − prob].

    A vectorised grid of ``n_grid`` + 1 lower-tail probabilities locates the minimum (so a
    density spike at the edge of the support — an odds ratio in a new study can have one at
    0 — or a second mode does not mislead it); inside the best grid cell the minimum is
    where the density is equal at both ends, h(p) = f(q(p + prob)) − f(q(p)) = 0, solved by
    Brent's method. At the edge p = 0 the interval starts at the lower end of the support.
    ``quantile`` must accept arrays and return the support's ends at probabilities 0 and 1.
    """
    gap = 1.0 - prob
    grid = np.linspace(0.0, gap, n_grid + 1)
    # the top of the support as q(1 − 1e-13): finite for a bounded posterior (e.g. τ with a
    # uniform(0, a) prior, whose shortest interval may end at a), huge otherwise
    lo, hi = quantile(grid), quantile(np.minimum(grid + prob, 1.0 - 1e-13))
    with np.errstate(invalid="ignore"):
        width = np.where(np.isfinite(lo) & np.isfinite(hi), hi - lo, np.inf)
    k = int(np.argmin(width))

    def ends(p: float) -> np.ndarray:
        return quantile(np.array([p, min(p + prob, 1.0 - 1e-13)]))

    def h(p: float) -> float:
        a, b = ends(p)
        return float(pdf(np.array([b]))[0] - pdf(np.array([a]))[0])

    best = grid[k]
    for a, b in ((grid[max(k - 1, 0)], grid[k]), (grid[k], grid[min(k + 1, n_grid)])):
        if b <= a:
            continue
        a_in, b_in = (a if a > 0 else 1e-300), (b if b < gap else gap * (1 - 1e-15))
        ha, hb = h(a_in), h(b_in)
        if ha > 0 > hb:
            best = brentq(h, a_in, b_in, xtol=1e-14, rtol=1e-12)
            break
    out = ends(best)
    return float(out[0]), float(out[1])


@dataclass(frozen=True)
class NormalMixture:
    """B mixtures Σ_j w_j N(m_bj, s_bj²) sharing the weights w (shape N, summing to 1).

    ``mean_exists``/``var_exists`` say whether the *exact* distribution this mixture
    approximates has a finite mean/variance (a heavy-tailed τ posterior can make them
    infinite even though every finite mixture has moments).
    """

    means: np.ndarray  # (B, N)
    sds: np.ndarray  # (B, N)
    weights: np.ndarray  # (N,)
    mean_exists: bool = True
    var_exists: bool = True

    @property
    def size(self) -> int:
        return self.means.shape[0]

    def row(self, b: int) -> NormalMixture:
        return NormalMixture(self.means[b:b + 1], self.sds[b:b + 1], self.weights,
                             self.mean_exists, self.var_exists)

    def _z(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        x2 = x.reshape(self.size, -1)
        return (x2[:, :, None] - self.means[:, None, :]) / self.sds[:, None, :]

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(X_b ≤ x_bp) for x of shape (B, P)."""
        x = np.asarray(x, dtype=float)
        return (ndtr(self._z(x)) @ self.weights).reshape(x.shape)

    def sf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return (ndtr(-self._z(x)) @ self.weights).reshape(x.shape)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        z = self._z(x)
        dens = np.exp(-0.5 * z * z) / (_SQRT_2PI * self.sds[:, None, :])
        return (dens @ self.weights).reshape(x.shape)

    def _pdf_and_slope(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = self._z(x)
        dens = np.exp(-0.5 * z * z) / (_SQRT_2PI * self.sds[:, None, :])
        slope = -dens * z / self.sds[:, None, :]
        return ((dens @ self.weights).reshape(x.shape),
                (slope @ self.weights).reshape(x.shape))

    def mean(self) -> np.ndarray:
        return self.means @ self.weights

    def var(self) -> np.ndarray:
        m = self.mean()
        return (self.sds**2 + (self.means - m[:, None]) ** 2) @ self.weights

    def _bracket(self) -> tuple[np.ndarray, np.ndarray]:
        lo = (self.means - 40.0 * self.sds).min(axis=1)
        hi = (self.means + 40.0 * self.sds).max(axis=1)
        return lo, hi

    def quantile(self, p: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
        """Quantiles at probabilities ``p`` (shape (P,) or (B, P)); returns (B, P)."""
        p = np.broadcast_to(np.asarray(p, dtype=float), (self.size, np.size(p) if np.ndim(p) <= 1
                                                          else np.shape(p)[1]))
        lo, hi = self._bracket()
        lo, hi = lo[:, None], hi[:, None]
        if x0 is None and self.size == 1:
            x_tab, f_tab = self._cdf_table
            x0 = np.interp(p, f_tab, x_tab)
        elif x0 is None:
            x0 = self.mean()[:, None] + np.sqrt(self.var())[:, None] * ndtri(
                np.clip(p, 1e-300, 1 - 1e-16))
        return solve_increasing(self.cdf, self.pdf, p, lo, hi, x0, xtol=1e-14 * (hi - lo))

    @cached_property
    def _cdf_table(self) -> tuple[np.ndarray, np.ndarray]:
        """cdf of a single mixture on a grid through its components' quantiles (1e-12 to
        1 − 1e-12): starting points for quantile searches (used when ``size`` is 1)."""
        z = ndtri(np.array([1e-12, 1e-6, 1e-3, 0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.98, 1 - 1e-3,
                            1 - 1e-6, 1 - 1e-12]))
        x = np.unique((self.means[0][:, None] + self.sds[0][:, None] * z[None, :]).ravel())
        if x.size > 400:
            x = np.quantile(x, np.linspace(0, 1, 400))
        f = np.maximum.accumulate(self.cdf(x[None, :])[0])
        return x, f

    def shortest_interval(self, prob: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Shortest intervals holding ``prob`` (one per mixture; assumes unimodal mixtures).

        At the optimum the density is equal at both ends: solve h(p) = f(q(p + prob)) −
        f(q(p)) = 0 for the lower tail probability p (h decreases in p), by safeguarded
        Newton with h'(p) = f'(R)/f(R) − f'(L)/f(L).
        """
        gap = 1.0 - prob
        b = self.size
        p = np.full((b, 1), gap / 2)
        lo_p, hi_p = np.zeros((b, 1)), np.full((b, 1), gap)
        left = self.quantile(p)
        right = self.quantile(p + prob)
        for _ in range(100):
            f_l, s_l = self._pdf_and_slope(left)
            f_r, s_r = self._pdf_and_slope(right)
            h = f_r - f_l
            lo_p = np.where(h >= 0, p, lo_p)
            hi_p = np.where(h <= 0, p, hi_p)
            converged = (np.abs(h) <= 1e-11 * np.maximum(f_l, f_r)) | (hi_p - lo_p <= 1e-15)
            if converged.all():
                break
            with np.errstate(divide="ignore", invalid="ignore"):
                step = p - h / (s_r / f_r - s_l / f_l)
            bad = ~np.isfinite(step) | (step <= lo_p) | (step >= hi_p)
            p = np.where(converged, p, np.where(bad, 0.5 * (lo_p + hi_p), step))
            left = self.quantile(p, x0=left)
            right = self.quantile(p + prob, x0=right)
        return left[:, 0], right[:, 0]


@dataclass(frozen=True)
class PanelDensity:
    """A density on [0, ∞) known up to a constant, integrated on Gauss–Legendre panels.

    The variable x ≥ 0 is mapped to t = x / (x + c) ∈ [0, 1); panels are intervals in t.
    ``log_density`` gives the unnormalised log density at any x (vectorised); ``shift`` is
    subtracted before exponentiating and ``norm`` = ∫ exp(log_density − shift) dx.
    """

    log_density: Callable[[np.ndarray], np.ndarray]
    c: float
    edges: np.ndarray  # panel edges in t, (n_panels + 1,)
    nodes: np.ndarray  # quadrature nodes in x, (M,)
    weights: np.ndarray  # quadrature weights in x times exp(logf − shift) / norm, (M,)
    cumulative: np.ndarray  # mass below each panel edge, (n_panels + 1,)
    shift: float
    norm: float
    error: float  # estimated relative integration error
    tail_power: float  # the density decays like x^(−tail_power) (inf: faster than any power)

    def x_of_t(self, t: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return self.c * t / (1.0 - t)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        flat = x.reshape(-1)
        out = np.zeros_like(flat)
        ok = (flat >= 0) & np.isfinite(flat)
        if ok.any():
            out[ok] = np.exp(self.log_density(flat[ok]) - self.shift) / self.norm
        return out.reshape(x.shape)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(X ≤ x): whole panels below x plus a Gauss–Legendre rule on the partial panel."""
        x = np.asarray(x, dtype=float)
        flat = np.clip(x.reshape(-1), 0.0, np.inf)
        with np.errstate(invalid="ignore"):
            t = np.where(np.isinf(flat), 1.0, flat / (flat + self.c))
        k = np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, len(self.edges) - 2)
        a = self.edges[k]
        half = 0.5 * (t - a)
        tn = a[:, None] + half[:, None] * (_GL_HIGH[0][None, :] + 1.0)
        xn = self.x_of_t(tn)
        jac = self.c / (1.0 - tn) ** 2
        logf = self.log_density(xn.reshape(-1)).reshape(xn.shape)
        part = (np.exp(logf - self.shift) * jac) @ _GL_HIGH[1] * half / self.norm
        out = np.clip(self.cumulative[k] + part, 0.0, 1.0)
        out = np.where(t >= 1.0, 1.0, out)
        return out.reshape(x.shape)

    def _cdf_t(self, t: np.ndarray) -> np.ndarray:
        return self.cdf(self.x_of_t(np.minimum(t, 1.0)))

    def _pdf_t(self, t: np.ndarray) -> np.ndarray:
        x = self.x_of_t(t)
        with np.errstate(over="ignore", invalid="ignore"):
            return self.pdf(x) * self.c / (1.0 - t) ** 2

    @cached_property
    def _node_cdf(self) -> tuple[np.ndarray, np.ndarray]:
        """(t, F) at every node and at t = 0 and 1: a table to start quantile searches."""
        t = np.concatenate([[0.0], self.nodes / (self.nodes + self.c), [1.0]])
        f = np.concatenate([[0.0], self.cdf(self.nodes), [1.0]])
        return t, np.maximum.accumulate(f)

    def quantile(self, p: np.ndarray) -> np.ndarray:
        """Quantiles (0 at p = 0, inf at p = 1), solved in t by safeguarded Newton from a
        start interpolated in the table of the cdf at the quadrature nodes."""
        p = np.asarray(p, dtype=float)
        inner = np.clip(p, 0.0, 1.0)
        t_tab, f_tab = self._node_cdf
        t0 = np.interp(inner, f_tab, t_tab)
        t = solve_increasing(self._cdf_t, self._pdf_t, inner, np.zeros_like(inner),
                             np.ones_like(inner), t0, xtol=1e-15)
        t = np.where(p <= 0, 0.0, np.where(p >= 1, 1.0, t))
        return self.x_of_t(t)

    def moment(self, m: int) -> float | None:
        """E[X^m], or None when it is infinite (decided from the tail power)."""
        if self.tail_power - m <= 1.0:
            return None
        return float(np.sum(self.weights * self.nodes**m))

    def shortest_interval(self, prob: float = 0.95) -> tuple[float, float]:
        """Shortest interval holding ``prob``; it starts at 0 when the density there is at
        least the density at the ``prob`` quantile (e.g. a mode at 0)."""
        return shortest_by_width(self.quantile, self.pdf, prob)


def integrate_on_panels(log_density: Callable[[np.ndarray], np.ndarray],
                        extras: Callable[[np.ndarray], np.ndarray], c: float, *,
                        tail_power: float = np.inf, rel_tol: float = 1e-10,
                        n_initial: int = 16, max_panels: int = 4000) -> PanelDensity:
    """Integrate exp(log_density) over [0, ∞) adaptively and return a :class:`PanelDensity`.

    ``extras(x)`` returns bounded functionals (shape (n, r), values in [−1, 1]) whose
    integrals against the density must be as accurate as the normalising constant — e.g.
    the shrinkage factors of the normal–normal model — so that mixtures built on the nodes
    are accurate too. A panel is split while |I₂₀ − I₁₀| of any functional exceeds its share
    of ``rel_tol`` × the total mass.
    """
    panels: list[tuple[float, float]] = [(i / n_initial, (i + 1) / n_initial)
                                         for i in range(n_initial)]
    cache: dict[tuple[float, float], dict[str, np.ndarray]] = {}

    def evaluate(new: list[tuple[float, float]]) -> None:
        if not new:
            return
        a = np.array([p[0] for p in new])[:, None]
        b = np.array([p[1] for p in new])[:, None]
        half = 0.5 * (b - a)
        parts = {}
        for key, (x_gl, _) in (("h", _GL_HIGH), ("l", _GL_LOW)):
            tn = a + half * (x_gl[None, :] + 1.0)
            xn = c * tn / (1.0 - tn)
            flat = xn.reshape(-1)
            parts[key] = (tn, xn, log_density(flat).reshape(xn.shape),
                          extras(flat).reshape((*xn.shape, -1)))
        for i, panel in enumerate(new):
            cache[panel] = {
                "half": half[i, 0],
                **{f"{key}_{name}": value[i] for key, vals in parts.items()
                   for name, value in zip(("t", "x", "logf", "ex"), vals, strict=True)},
            }

    evaluate(panels)
    shift = 0.0
    error = np.inf
    while True:
        shift = max(float(np.max(np.concatenate([cache[p]["h_logf"], cache[p]["l_logf"]])))
                    for p in panels)
        if not np.isfinite(shift):
            raise FloatingPointError("the density is zero (or not finite) everywhere")
        high, diffs = [], []
        for p in panels:
            d = cache[p]
            vals = []
            for key, (_, w_gl) in (("h", _GL_HIGH), ("l", _GL_LOW)):
                g = np.exp(d[f"{key}_logf"] - shift) * c / (1.0 - d[f"{key}_t"]) ** 2
                funcs = np.column_stack([np.ones_like(g), d[f"{key}_ex"]])
                vals.append(d["half"] * (w_gl * g) @ funcs)
            high.append(vals[0])
            diffs.append(np.max(np.abs(vals[0] - vals[1])))
        total = float(sum(h[0] for h in high))
        if not total > 0:
            raise FloatingPointError("the density integrates to zero")
        panel_err = np.array(diffs) / total
        error = float(panel_err.sum())
        if error <= rel_tol or len(panels) >= max_panels:
            break
        threshold = max(rel_tol / (4 * len(panels)), np.sort(panel_err)[-1] * 1e-3)
        split = [p for p, e in zip(panels, panel_err, strict=True) if e > threshold]
        new_panels: list[tuple[float, float]] = []
        kept: list[tuple[float, float]] = []
        for p in panels:
            if p in split:
                mid = 0.5 * (p[0] + p[1])
                new_panels += [(p[0], mid), (mid, p[1])]
            else:
                kept.append(p)
        evaluate(new_panels)
        panels = sorted(kept + new_panels)

    panels = sorted(panels)
    nodes = np.concatenate([cache[p]["h_x"] for p in panels])
    weights = np.concatenate([
        cache[p]["half"] * _GL_HIGH[1] * np.exp(cache[p]["h_logf"] - shift)
        * c / (1.0 - cache[p]["h_t"]) ** 2 for p in panels]) / total
    per_panel = np.array([np.sum(w) for w in np.split(weights, len(panels))])
    edges = np.array([p[0] for p in panels] + [panels[-1][1]])
    cumulative = np.concatenate([[0.0], np.cumsum(per_panel)])
    return PanelDensity(log_density=log_density, c=c, edges=edges, nodes=nodes,
                        weights=weights, cumulative=cumulative, shift=shift, norm=total,
                        error=error, tail_power=tail_power)
