"""Convergence diagnostics for every fit, with a concrete remedy for each failure.

Uses ArviZ (arviz-stats) for R̂ (rank-normalised split R̂), bulk and tail ESS and E-BFMI.
Thresholds follow Vehtari et al. (2021, Bayesian Analysis 16:667–718): R̂ ≤ 1.01 and an ESS
of at least 100 per chain; E-BFMI ≥ 0.3 (Betancourt 2016); no divergent transitions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import xarray as xr

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100
EBFMI_MIN = 0.3


@dataclass(frozen=True)
class Problem:
    """One failed check: what failed, in words, and what to do about it."""

    check: str
    message: str
    remedy: str


@dataclass(frozen=True)
class Diagnostics:
    """The convergence checks of one fit."""

    max_rhat: float
    max_rhat_variable: str
    min_ess_bulk: float
    min_ess_bulk_variable: str
    min_ess_tail: float
    min_ess_tail_variable: str
    divergences: int
    draws: int
    chains: int
    min_ebfmi: float
    max_treedepth_hits: int
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        out["problems"] = [asdict(p) for p in self.problems]
        out["thresholds"] = {"rhat_max": RHAT_MAX, "ess_min": ESS_PER_CHAIN_MIN * self.chains,
                             "ebfmi_min": EBFMI_MIN}
        return out


def _extreme(tree: xr.DataTree, largest: bool) -> tuple[float, str]:
    best, name = (-np.inf if largest else np.inf), ""
    for var, values in tree.to_dataset().data_vars.items():
        arr = np.asarray(values, dtype=float)
        finite = arr[np.isfinite(arr)]
        if finite.size == 0:
            continue
        value = finite.max() if largest else finite.min()
        if (value > best) if largest else (value < best):
            best, name = float(value), str(var)
    return best, name


def diagnose(idata: xr.DataTree, var_names: list[str] | None = None) -> Diagnostics:
    """Compute the diagnostics of a fit and list every failed check with its remedy."""
    import arviz_stats as az

    post = idata["posterior"]
    chains = int(post.sizes["chain"])
    draws = int(post.sizes["draw"])
    names = var_names or [str(v) for v in post.data_vars]
    rhat, rhat_var = _extreme(az.rhat(idata, var_names=names), largest=True)
    bulk, bulk_var = _extreme(az.ess(idata, var_names=names, method="bulk"), largest=False)
    tail, tail_var = _extreme(az.ess(idata, var_names=names, method="tail"), largest=False)
    stats = idata["sample_stats"]
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    ebfmi = float(np.min(az.bfmi(idata)["energy"].values)) if "energy" in stats else np.nan
    if "maxdepth_reached" in stats:
        depth_hits = int(stats["maxdepth_reached"].sum())
    elif "reached_max_treedepth" in stats:
        depth_hits = int(stats["reached_max_treedepth"].sum())
    else:
        depth_hits = 0
    ess_min = ESS_PER_CHAIN_MIN * chains
    problems: list[Problem] = []
    if divergences:
        problems.append(Problem(
            "divergences",
            f"{divergences} divergent transition(s) after warm-up: the sampler could not follow "
            "the posterior everywhere (typically near τ = 0), so estimates may be biased",
            "rerun with --target-accept 0.99; if divergences remain, the data cannot "
            "pin down τ under this prior: try a more informative τ prior "
            "(e.g. --tau-prior halfnormal:0.5) and compare with a sensitivity analysis"))
    if chains > 1 and not rhat <= RHAT_MAX:
        problems.append(Problem(
            "rhat", f"R-hat = {rhat:.3f} for '{rhat_var}' exceeds {RHAT_MAX}: the chains "
            "disagree, the posterior is not reliably explored",
            "run longer chains (e.g. --tune 2000 --draws 4000); if R-hat stays high, look "
            "at the trace plot for chains stuck in different places"))
    if not bulk >= ess_min:
        problems.append(Problem(
            "ess_bulk", f"bulk ESS = {bulk:.0f} for '{bulk_var}' is below {ess_min} "
            f"({ESS_PER_CHAIN_MIN} per chain): medians and means are imprecise",
            f"increase --draws (about {int(np.ceil(draws * ess_min / max(bulk, 1)))} "
            "per chain would reach it)"))
    if not tail >= ess_min:
        problems.append(Problem(
            "ess_tail", f"tail ESS = {tail:.0f} for '{tail_var}' is below {ess_min}: the 95% "
            "interval ends are imprecise",
            f"increase --draws (about {int(np.ceil(draws * ess_min / max(tail, 1)))} "
            "per chain would reach it)"))
    if np.isfinite(ebfmi) and ebfmi < EBFMI_MIN:
        problems.append(Problem(
            "ebfmi", f"E-BFMI = {ebfmi:.2f} is below {EBFMI_MIN}: the sampler moves slowly "
            "through the heterogeneity parameter",
            "increase --tune, and consider a more informative τ prior"))
    if depth_hits:
        problems.append(Problem(
            "treedepth", f"{depth_hits} draw(s) hit the maximum tree depth: sampling was "
            "inefficient",
            "usually harmless if R-hat and ESS pass; otherwise rescale the data or priors"))
    return Diagnostics(
        max_rhat=rhat, max_rhat_variable=rhat_var, min_ess_bulk=bulk,
        min_ess_bulk_variable=bulk_var, min_ess_tail=tail, min_ess_tail_variable=tail_var,
        divergences=divergences, draws=draws, chains=chains, min_ebfmi=ebfmi,
        max_treedepth_hits=depth_hits, problems=tuple(problems))
