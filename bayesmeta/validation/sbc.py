"""Simulation-based calibration (SBC; Talts, Betancourt, Simpson, Vehtari & Gelman 2018).

For ``i = 1..N``: draw parameters from the prior, simulate a dataset from them, fit the model
to it, and record the rank of each true value among ``L`` thinned posterior draws. If the
model code, the simulator and the sampler are right, each rank is uniform on ``0..L``;
a model that disagrees with the simulator (a wrong prior, a likelihood with the arms swapped,
a sampler that misses part of the posterior) bends the rank histogram.

A model takes part through an :class:`SBCCase` — its prior sampler, simulator, fitter and the
scalar quantities to check — listed once in :data:`CASES` (``name -> "module:factory"``), so
NNHM, longitudinal and Poisson models each add one entry. Simulations run in parallel
processes; every simulation's random numbers come from ``(seed, i)``, so the result does not
depend on the number of processes. ``benchmarks/sbc.py`` runs it and plots the ranks
(:mod:`bayesmeta.presentation.sbc_plot`).
"""

from __future__ import annotations

import importlib
import math
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from multiprocessing import get_context
from typing import Any

import numpy as np

from bayesmeta.errors import InputError
from bayesmeta.validation.uniformity import Uniformity, check_uniformity, pit_values

#: SBC cases by name: ``"module:factory"`` returning an :class:`SBCCase`, and a description.
#: Add one line per model (NNHM exact/MCMC, longitudinal, Poisson exposure).
CASES: dict[str, tuple[str, str]] = {
    "binomial_normal": ("bayesmeta.validation.binomial_normal:binomial_normal_case",
                        "binomial-normal model (rare events, 3-8 studies, arms of 10-100)"),
    "conjugate_normal": ("bayesmeta.validation.conjugate:conjugate_normal_case",
                         "known-answer check of the harness: normal mean, exact posterior"),
    "nnhm_exact": ("bayesmeta.validation.nnhm:nnhm_exact_case",
                   "normal-normal model by quadrature (exact CDF ranks; 3-8 log ORs)"),
    "nnhm_mcmc": ("bayesmeta.validation.nnhm:nnhm_mcmc_case",
                  "normal-normal model by NUTS (3-8 log ORs)"),
    "poisson_normal": ("bayesmeta.validation.poisson_exposure:poisson_normal_case",
                       "Poisson-normal model (3-8 studies, person-time per arm, low rates)"),
    "conditional_hypergeometric": (
        "bayesmeta.validation.conditional:conditional_case",
        "conditional hypergeometric-normal model (3-8 studies, arms of 10-100)"),
}

#: Default number of rank values, L + 1: L = 99 thinned draws; 100 has the divisors
#: 4, 5, 10 and 20, so histograms of 4-20 bins hold equally many rank values.
DEFAULT_RANKS = 100


@dataclass(frozen=True)
class FitDraws:
    """A fit's posterior of each checked quantity: MCMC draws, shape (chain, draw), or — for
    exact methods (e.g. the normal–normal model by quadrature) — the posterior CDF, whose
    value at the true parameter is exactly Uniform(0, 1) under calibration and is turned
    into a rank on the same ``0..L`` scale."""

    draws: Mapping[str, np.ndarray] = field(default_factory=dict)
    divergences: int = 0
    cdf: Mapping[str, Callable[[float], float]] = field(default_factory=dict)


@dataclass(frozen=True)
class SBCCase:
    """How to calibrate one model.

    ``draw_prior(rng)`` returns the true values (a dict holding at least every name in
    ``parameters`` as a scalar, plus whatever the simulator needs); ``simulate(truth, rng)``
    returns a dataset; ``fit(data, seed)`` returns :class:`FitDraws` for ``parameters``.
    """

    name: str
    parameters: tuple[str, ...]
    draw_prior: Callable[[np.random.Generator], dict[str, Any]]
    simulate: Callable[[dict[str, Any], np.random.Generator], Any]
    fit: Callable[[Any, int], FitDraws]
    description: str = ""


def register_case(name: str, factory: str, description: str = "") -> None:
    """Add an SBC case: ``factory`` is ``"package.module:function"`` returning an SBCCase."""
    CASES[name] = (factory, description)


def _options_key(options: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((options or {}).items()))


def make_case(name: str, options: tuple[tuple[str, Any], ...] = ()) -> SBCCase:
    """The case ``name`` built with ``options`` (cached per process: compiled models are
    reused by every simulation a worker runs)."""
    if name not in CASES:
        raise InputError(f"unknown SBC case '{name}'; known: {', '.join(CASES)}",
                         source="--case")
    return _build_case(name, CASES[name][0], options)


@cache
def _build_case(name: str, factory_path: str, options: tuple[tuple[str, Any], ...]) -> SBCCase:
    module, _, function = factory_path.partition(":")
    factory = getattr(importlib.import_module(module), function)
    try:
        return factory(**dict(options))
    except TypeError as exc:
        raise InputError(f"bad option for SBC case '{name}': {exc}", source="--set") from None


def thin(draws: np.ndarray, keep: int) -> np.ndarray:
    """``keep`` evenly spaced draws of all chains (chain after chain), to cut autocorrelation."""
    flat = np.asarray(draws, dtype=float).reshape(-1)
    step = flat.size // keep
    if step < 1:
        raise ValueError(f"{flat.size} draws cannot be thinned to {keep}")
    return flat[::step][:keep]


@dataclass(frozen=True)
class SimOutcome:
    """One simulation: the rank of each true value, sampler trouble, time taken."""

    index: int
    ranks: dict[str, int]
    min_ess: float
    divergences: int
    seconds: float


def simulate_one(name: str, factory_path: str, options: tuple[tuple[str, Any], ...],
                 index: int, seed: int, n_ranks: int) -> SimOutcome:
    """Draw, simulate, fit and rank simulation ``index`` (runs in a worker process)."""
    from arviz_stats.base import array_stats

    t0 = time.perf_counter()
    case = _build_case(name, factory_path, options)
    rng = np.random.default_rng([seed, index])
    truth = case.draw_prior(rng)
    data = case.simulate(truth, rng)
    fit = case.fit(data, int(rng.integers(2**31 - 1)))
    ranks, ess = {}, []
    for p in case.parameters:
        if p in fit.cdf:  # exact posterior: rank = the CDF at the truth, on the 0..L scale
            u = float(fit.cdf[p](truth[p]))
            ranks[p] = min(n_ranks - 1, int(u * n_ranks))
            continue
        draws = np.asarray(fit.draws[p], dtype=float)
        ranks[p] = int(np.sum(thin(draws, n_ranks - 1) < truth[p]))
        if draws.ndim == 2:
            ess.append(float(array_stats.ess(draws, method="bulk")))
    return SimOutcome(index, ranks, min(ess) if ess else math.nan, fit.divergences,
                      time.perf_counter() - t0)


@dataclass(frozen=True)
class SBCResult:
    """Ranks of N simulations and their uniformity tests."""

    case: str
    parameters: tuple[str, ...]
    options: dict[str, Any]
    n_ranks: int
    seed: int
    outcomes: tuple[SimOutcome, ...]
    workers: int
    seconds: float
    alpha: float = 0.01
    _tests: dict[str, Uniformity] = field(default_factory=dict, repr=False)

    @property
    def n_sims(self) -> int:
        return len(self.outcomes)

    def ranks(self, parameter: str) -> np.ndarray:
        return np.array([o.ranks[parameter] for o in self.outcomes], dtype=int)

    def _pit_seed(self, parameter: str) -> int:
        return self.seed * 1000 + self.parameters.index(parameter)

    def pit(self, parameter: str) -> np.ndarray:
        """The randomised PIT values the tests use (same random numbers every time)."""
        return pit_values(self.ranks(parameter), self.n_ranks,
                          np.random.default_rng(self._pit_seed(parameter)))

    def uniformity(self) -> dict[str, Uniformity]:
        """Chi-square, POT-C and ECDF-band results per parameter (computed once)."""
        if not self._tests:
            for p in self.parameters:
                self._tests[p] = check_uniformity(self.ranks(p), self.n_ranks,
                                                  seed=self._pit_seed(p))
        return self._tests

    @property
    def threshold(self) -> float:
        """Bonferroni: ``alpha`` shared by both tests of every parameter."""
        return self.alpha / (2 * len(self.parameters))

    @property
    def passed(self) -> bool:
        """True when no chi-square or POT-C p-value falls below :attr:`threshold`."""
        return all(u.min_p >= self.threshold for u in self.uniformity().values())

    def failures(self) -> list[str]:
        return [p for p, u in self.uniformity().items() if u.min_p < self.threshold]

    def to_dict(self) -> dict[str, Any]:
        divergent = [o.divergences for o in self.outcomes]
        ess = np.array([o.min_ess for o in self.outcomes], dtype=float)
        has_ess = bool(np.isfinite(ess).any())  # exact fits have no draws, hence no ESS
        return {
            "case": self.case, "options": {k: _jsonable(v) for k, v in self.options.items()},
            "n_sims": self.n_sims, "n_ranks": self.n_ranks, "seed": self.seed,
            "alpha": self.alpha, "threshold": self.threshold, "passed": self.passed,
            "uniformity": {p: u.to_dict() for p, u in self.uniformity().items()},
            "sims_with_divergences": int(np.sum(np.array(divergent) > 0)),
            "min_ess_bulk": float(np.nanmin(ess)) if has_ess else None,
            "median_ess_bulk": float(np.nanmedian(ess)) if has_ess else None,
            "workers": self.workers, "seconds": self.seconds,
            "ranks": {p: self.ranks(p).tolist() for p in self.parameters},
        }


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def run_sbc(name: str, *, n_sims: int, seed: int = 1, options: Mapping[str, Any] | None = None,
            n_ranks: int = DEFAULT_RANKS, workers: int = 1, alpha: float = 0.01,
            progress: Callable[[int, int], None] | None = None) -> SBCResult:
    """Run ``n_sims`` simulations of case ``name``, in ``workers`` processes (1 = here).

    The ranks depend only on ``name``, ``options``, ``seed`` and ``n_ranks``.
    """
    if n_sims < 1:
        raise InputError(f"must be at least 1 (got {n_sims})", source="--n")
    key = _options_key(options)
    case = make_case(name, key)  # fail early on a bad name or option
    factory = CASES[name][0]
    t0 = time.perf_counter()
    outcomes: list[SimOutcome] = []
    workers = max(1, min(workers, n_sims))
    if workers == 1:
        for i in range(n_sims):
            outcomes.append(simulate_one(name, factory, key, i, seed, n_ranks))
            if progress:
                progress(i + 1, n_sims)
    else:
        os.environ.setdefault("PYTHONWARNINGS", "ignore")
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(simulate_one, name, factory, key, i, seed, n_ranks)
                       for i in range(n_sims)]
            for done, future in enumerate(futures, start=1):
                outcomes.append(future.result())
                if progress:
                    progress(done, n_sims)
    return SBCResult(case=name, parameters=case.parameters, options=dict(key),
                     n_ranks=n_ranks, seed=seed, outcomes=tuple(outcomes), workers=workers,
                     seconds=time.perf_counter() - t0, alpha=alpha)
