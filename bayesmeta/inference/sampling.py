"""Run NUTS on a PyMC model with one of several samplers, reproducibly, showing progress.

Samplers (``SamplerSettings.sampler``):

* ``"nutpie"`` — nutpie's Rust NUTS on PyMC's numba-compiled log density
  (see :mod:`bayesmeta.inference.nutpie_compile`), or on a hand-written numba log density
  compiled once per machine (:mod:`bayesmeta.inference.nutpie_kernel`);
* ``"pymc"`` — PyMC's own NUTS (compiled code cached on disk, chains in processes);
* ``"numpyro"``, ``"blackjax"`` — through ``pm.sample`` when JAX is installed;
* ``"auto"`` — the fastest for the job. ``benchmarks/bench_binary.py`` measured, on the
  2-core reference machine, whole-process times for Crins (6 studies) of 4.6 s with nutpie
  vs 14.5 s with PyMC (warm caches, medians of 5), and for 1,000 studies 29 s vs 54 s, so
  ``auto`` means nutpie at every size.

Chains run on all cores. The same model, data, settings and seed give the same draws.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import xarray as xr

from bayesmeta.errors import InputError

SAMPLERS = ("auto", "nutpie", "pymc", "numpyro", "blackjax")
#: Bounds that catch typos before they exhaust memory (10**9 chains crash the sampler).
MAX_CHAINS = 64
MAX_TOTAL_DRAWS = 4_000_000


def exact_float_arithmetic() -> None:
    """Compile PyTensor's numba code without ``fastmath``.

    With fastmath, numba may reassociate floating-point operations differently when a
    function is compiled fresh than when it is loaded from PyTensor's disk cache and linked
    into nutpie's callbacks, so the first run of a model on a machine gave different draws
    from later runs with the same seed (measured: Crins, seed 7, cold vs warm cache).
    Without it, the same inputs and seed give the same numbers whatever the cache holds,
    and log densities agree with scipy to rounding.
    """
    import pytensor

    pytensor.config.numba__fastmath = False


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample: sampler, chains, draws and warm-up per chain, seed, target acceptance."""

    sampler: str = "auto"
    chains: int = 4
    draws: int = 1000
    tune: int = 1000
    seed: int = 1
    target_accept: float = 0.9
    cores: int | None = None

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise InputError(f"unknown sampler '{self.sampler}'; choose one of "
                             f"{', '.join(SAMPLERS)}", source="--sampler")
        for name in ("chains", "draws"):
            if getattr(self, name) < 1:
                raise InputError(f"must be at least 1 (got {getattr(self, name)})",
                                 source=f"--{name}")
        if self.chains > MAX_CHAINS:
            raise InputError(f"at most {MAX_CHAINS} chains (got {self.chains})",
                             source="--chains")
        if self.chains * self.draws > MAX_TOTAL_DRAWS:
            raise InputError(f"{self.chains} chains × {self.draws} draws is more than "
                             f"{MAX_TOTAL_DRAWS:,} kept draws; a typo? (--draws is per chain)",
                             source="--draws")
        if self.tune > MAX_TOTAL_DRAWS:
            raise InputError(f"at most {MAX_TOTAL_DRAWS:,} warm-up draws (got {self.tune})",
                             source="--tune")
        if self.cores is not None and self.cores < 1:
            raise InputError(f"must be at least 1 (got {self.cores})", source="--cores")
        if self.tune < 0:
            raise InputError(f"must not be negative (got {self.tune})", source="--tune")
        if not 0 < self.target_accept < 1:
            raise InputError(f"must be between 0 and 1 (got {self.target_accept})",
                             source="--target-accept")
        if self.seed < 0:
            raise InputError(f"must not be negative (got {self.seed})", source="--seed")

    @property
    def resolved_sampler(self) -> str:
        return "nutpie" if self.sampler == "auto" else self.sampler

    @property
    def resolved_cores(self) -> int:
        return max(1, min(self.chains, self.cores or os.cpu_count() or 1))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["sampler"] = self.resolved_sampler
        out["cores"] = self.resolved_cores
        return out


class Progress(Protocol):
    """Receives progress while a model compiles and samples (the CLI prints it)."""

    def stage(self, message: str) -> None: ...

    def sampling(self, done: int, total: int, divergences: int) -> None: ...

    def finished(self, message: str) -> None: ...


class SilentProgress:
    """A :class:`Progress` that shows nothing (the API default)."""

    def stage(self, message: str) -> None:
        pass

    def sampling(self, done: int, total: int, divergences: int) -> None:
        pass

    def finished(self, message: str) -> None:
        pass


@dataclass(frozen=True)
class SamplingTimes:
    compile_s: float
    sample_s: float


def sample_model(model: Any, settings: SamplerSettings, progress: Progress | None = None,
                 *, data: Mapping[str, Any] | None = None,
                 drop: Sequence[str] = ()) -> tuple[xr.DataTree, SamplingTimes]:
    """Sample ``model``'s posterior; return the DataTree and how long compiling/sampling took.

    ``data`` sets values of the model's data variables (``pm.Data``) first; ``drop`` names
    posterior variables not to return. Only the posterior and sampler statistics are
    returned; unconstrained copies of constrained parameters (``tau_log__``) are dropped.
    """
    prepared = PreparedModel(model, settings.resolved_sampler, progress)
    tree, times = prepared.sample(settings, data=data, progress=progress, drop=drop)
    return tree, SamplingTimes(prepared.compile_s, times.sample_s)


class PreparedModel:
    """A PyMC model compiled once for a sampler, then sampled any number of times.

    With nutpie the model is compiled here, once; :meth:`sample` with new ``data`` (values
    of the model's ``pm.Data`` variables, e.g. prior hyperparameters) swaps the data under the
    compiled code, so nothing is recompiled. PyMC's and JAX samplers set the data with
    ``pm.set_data`` and compile inside ``pm.sample`` (from PyTensor's disk cache). The same
    data, settings and seed give the same draws whichever way the model was prepared.
    """

    def __init__(self, model: Any, sampler: str, progress: Progress | None = None, *,
                 nutpie_model: Callable[[], Any] | None = None) -> None:
        """``model``: a PyMC model, or with ``nutpie_model`` a function building it (called
        only when a sampler other than nutpie needs it). ``nutpie_model``: a function giving
        nutpie's compiled model directly (a hand-written kernel,
        :mod:`~bayesmeta.inference.nutpie_kernel`), used instead of compiling ``model``."""
        self._model = None if nutpie_model is not None else model
        self._build = model if nutpie_model is not None else None
        self.sampler = "nutpie" if sampler == "auto" else sampler
        self.compile_s = 0.0
        self._compiled: Any = None
        self._prepared = "compiled"
        logging.getLogger("pymc").setLevel(logging.ERROR)
        exact_float_arithmetic()
        progress = progress or SilentProgress()
        if self.sampler == "nutpie":
            t0 = time.perf_counter()
            if nutpie_model is not None:
                progress.stage("Loading the compiled model (compiled on a machine's first "
                               "run: ~3 s)")
                self._compiled = nutpie_model()
                self._prepared = "ready"
            else:
                from bayesmeta.inference.nutpie_compile import compile_for_nutpie

                progress.stage("Compiling the model")
                self._compiled = compile_for_nutpie(self.model)
            self.compile_s = time.perf_counter() - t0
        elif self.sampler in {"numpyro", "blackjax"}:
            _require_jax(self.sampler)

    @property
    def model(self) -> Any:
        """The PyMC model (built now if it was given as a function)."""
        if self._model is None:
            self._model = self._build()
        return self._model

    def sample(self, settings: SamplerSettings, *, data: Mapping[str, Any] | None = None,
               progress: Progress | None = None,
               drop: Sequence[str] = ()) -> tuple[xr.DataTree, SamplingTimes]:
        """Sample with ``settings`` (its sampler must be this one's) after setting ``data``."""
        return self.start(settings, data=data, progress=progress, drop=drop).wait()

    def start(self, settings: SamplerSettings, *, data: Mapping[str, Any] | None = None,
              progress: Progress | None = None, drop: Sequence[str] = ()) -> RunningSampler:
        """Start sampling and return at once (nutpie samples in background threads, so
        Python can summarise the previous run meanwhile); :meth:`RunningSampler.wait`
        gives what :meth:`sample` returns. Other samplers run to the end here."""
        progress = progress or SilentProgress()
        if settings.resolved_sampler != self.sampler:
            raise ValueError(f"prepared for {self.sampler}, asked for "
                             f"{settings.resolved_sampler}")
        if self._compiled is not None:
            compiled = self._compiled.with_data(**data) if data else self._compiled
            prepared = f"{self._prepared} in {self.compile_s:.1f} s, "
            return _start_nutpie(compiled, settings, progress, self.compile_s, drop, prepared)
        if data:
            import pymc as pm

            with self.model:
                pm.set_data(dict(data))
        tree, times = _sample_pm(self.model, settings, progress, self.sampler)
        return RunningSampler(lambda: (tree, times), drop)


class RunningSampler:
    """A sampling run started by :meth:`PreparedModel.start`."""

    def __init__(self, finish: Any, drop: Sequence[str]) -> None:
        self._finish = finish
        self._drop = tuple(drop)

    def wait(self) -> tuple[xr.DataTree, SamplingTimes]:
        tree, times = self._finish()
        return _posterior_and_stats(tree, self._drop), times


def _posterior_and_stats(tree: xr.DataTree, drop: Sequence[str]) -> xr.DataTree:
    post = tree["posterior"].to_dataset()
    gone = [v for v in post.data_vars if str(v).endswith("__") or str(v) in set(drop)]
    children = {"posterior": xr.DataTree(post.drop_vars(gone)),
                "sample_stats": xr.DataTree(tree["sample_stats"].to_dataset())}
    return xr.DataTree.from_dict(children)


def _start_nutpie(compiled: Any, settings: SamplerSettings, progress: Progress,
                  compile_s: float, drop: Sequence[str], prepared: str = "") -> RunningSampler:
    from bayesmeta.inference.nutpie_compile import import_nutpie

    nutpie = import_nutpie()
    t1 = time.perf_counter()
    total = settings.chains * (settings.draws + settings.tune)
    progress.stage(f"Sampling {settings.chains} chains × ({settings.tune} warm-up + "
                   f"{settings.draws} draws) with nutpie on {settings.resolved_cores} cores")

    def on_progress(chains: list[Any]) -> None:
        done = sum(int(c.finished_draws) for c in chains)
        progress.sampling(done, total, sum(int(c.divergences) for c in chains))

    background = nutpie.sample(
        compiled, draws=settings.draws, tune=settings.tune, chains=settings.chains,
        cores=settings.resolved_cores, seed=settings.seed, target_accept=settings.target_accept,
        save_warmup=False, progress_bar=False, progress_callback=on_progress,
        progress_rate=200, blocking=False)

    def finish() -> tuple[xr.DataTree, SamplingTimes]:
        try:
            tree = background.wait()
        except BaseException:
            background.cancel()
            raise
        t2 = time.perf_counter()
        progress.finished(f"{prepared}sampled in {t2 - t1:.1f} s")
        return tree, SamplingTimes(compile_s, t2 - t1)

    return RunningSampler(finish, drop)


def sample_compiled_nutpie(compiled: Any, settings: SamplerSettings,
                           progress: Progress | None = None) -> xr.DataTree:
    """Sample an already compiled nutpie model (e.g. one refitted with ``with_data``).

    The same call as every nutpie fit makes, so code that reuses a compiled model
    (simulation-based calibration) samples exactly as ``bayesmeta fit`` does.
    """
    tree, _ = _start_nutpie(compiled, settings, progress or SilentProgress(), 0.0, ()).wait()
    return tree


def _sample_pm(model: Any, settings: SamplerSettings, progress: Progress,
               sampler: str) -> tuple[xr.DataTree, SamplingTimes]:
    import pymc as pm

    progress.stage(f"Sampling {settings.chains} chains × ({settings.tune} warm-up + "
                   f"{settings.draws} draws) with {sampler}")
    t0 = time.perf_counter()
    kwargs: dict[str, Any] = {}
    if sampler == "pymc":
        kwargs["cores"] = settings.resolved_cores
    with model:
        tree = pm.sample(
            draws=settings.draws, tune=settings.tune, chains=settings.chains,
            random_seed=settings.seed, target_accept=settings.target_accept,
            nuts_sampler=sampler, progressbar=False, compute_convergence_checks=False,
            **kwargs)
    t1 = time.perf_counter()
    progress.finished(f"sampled in {t1 - t0:.1f} s (compile included)")
    return tree, SamplingTimes(0.0, t1 - t0)


def _require_jax(sampler: str) -> None:
    import importlib.util

    missing = [m for m in ("jax", sampler) if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(f"sampler '{sampler}' needs {' and '.join(missing)}: "
                         f"pip install {' '.join(missing)}", source="--sampler")

