"""The binomial–normal model prepared once per data set and fitted under any priors.

:class:`BinaryFitter` prepares the binomial–normal model of one data set once; priors enter
it as data, so fits under other priors (``fit_binary``, prior sweeps, reweighting refits)
do not recompile.
"""

from __future__ import annotations

import time

import xarray as xr

from bayesmeta.data.binary import BinaryData
from bayesmeta.errors import InputError
from bayesmeta.inference.diagnostics import diagnose
from bayesmeta.inference.sampling import (
    PreparedModel,
    Progress,
    RunningSampler,
    SamplerSettings,
    SamplingTimes,
)
from bayesmeta.models import binomial_normal_prior_data as prior_data
from bayesmeta.models.binomial_normal import BinomialNormalPriors, build_binomial_normal
from bayesmeta.results.binary import BaselineRisk, BinaryMetaResult


def _kernel_model(data: BinaryData, priors: BinomialNormalPriors) -> object:
    from bayesmeta.inference.nutpie_kernel import kernel_model
    from bayesmeta.models import binomial_normal_kernel as kernel  # imports numba

    packed = kernel.pack(data, prior_data.encode_priors(priors))
    return kernel_model(kernel, packed, study=list(data.study))


class BinaryFitter:
    """The binomial–normal model of one data set, compiled once, fitted with any priors.

    Priors enter the compiled model as data
    (:mod:`bayesmeta.models.binomial_normal_prior_data`; for nutpie its hand-written numba
    twin :mod:`bayesmeta.models.binomial_normal_kernel`, compiled once per machine for any
    data), so :meth:`fit` with other priors does not recompile, and a fit from a fitter made
    for other priors gives exactly the numbers of a fresh ``fit_binary`` with the same
    priors, settings and seed. A prior family that cannot be given as data falls back to
    :func:`~bayesmeta.models.binomial_normal.build_binomial_normal` (one compile per fit).
    """

    def __init__(self, data: BinaryData, priors: BinomialNormalPriors, sampler: str,
                 progress: Progress | None = None) -> None:
        self.data = data
        self.sampler = sampler
        self.priors_as_data = all(prior_data.supports(p) for p in priors.as_dict().values())
        self._fixed_priors = None if self.priors_as_data else priors
        if not self.priors_as_data:
            self.prepared = PreparedModel(build_binomial_normal(data, priors), sampler, progress)
            return
        # nutpie samples the hand-written kernel (compiled once per machine, no PyMC);
        # other samplers the PyMC model, built only for them.
        self.prepared = PreparedModel(
            lambda: prior_data.build_binomial_normal_prior_data(data, priors), sampler,
            progress, nutpie_model=lambda: _kernel_model(data, priors))

    def accepts(self, priors: BinomialNormalPriors) -> bool:
        """Whether :meth:`fit` can use these priors without recompiling."""
        if self.priors_as_data:
            return all(prior_data.supports(p) for p in priors.as_dict().values())
        return priors == self._fixed_priors

    def start(self, priors: BinomialNormalPriors, settings: SamplerSettings,
              progress: Progress | None = None) -> RunningSampler:
        """Start sampling under ``priors`` (in the background with nutpie)."""
        if not self.accepts(priors):
            raise InputError(f"the priors {', '.join(p.spec for p in priors.as_dict().values())}"
                             " cannot be given to this compiled model")
        if self.priors_as_data:
            return self.prepared.start(
                settings, data={prior_data.PRIOR_VALUES: prior_data.encode_priors(priors)},
                progress=progress, drop=prior_data.SAMPLING_ONLY)
        return self.prepared.start(settings, progress=progress)

    def finish(self, running: RunningSampler, priors: BinomialNormalPriors,
               settings: SamplerSettings, *, thresholds: tuple[float, ...] = (),
               baseline: BaselineRisk | None = None,
               started: float | None = None) -> BinaryMetaResult:
        """The :class:`BinaryMetaResult` of a run started by :meth:`start`."""
        t0 = time.perf_counter() if started is None else started
        idata, times = running.wait()
        return self.result(idata, times, priors, settings, thresholds=thresholds,
                           baseline=baseline, started=t0)

    def result(self, idata: xr.DataTree, times: SamplingTimes, priors: BinomialNormalPriors,
               settings: SamplerSettings, *, thresholds: tuple[float, ...] = (),
               baseline: BaselineRisk | None = None,
               started: float | None = None) -> BinaryMetaResult:
        """Diagnose sampled draws and wrap them in a :class:`BinaryMetaResult`."""
        t0 = time.perf_counter() if started is None else started
        t1 = time.perf_counter()
        diagnostics = diagnose(idata, var_names=["theta", "tau", "theta_study", "theta_new",
                                                 "mu"])
        return BinaryMetaResult(
            data=self.data, priors=priors, settings=settings, idata=idata,
            diagnostics=diagnostics, thresholds=thresholds, baseline=baseline,
            timings={"build_and_sample_s": t1 - t0, "compile_s": self.prepared.compile_s,
                     "sample_s": times.sample_s})

    def fit(self, priors: BinomialNormalPriors, settings: SamplerSettings, *,
            thresholds: tuple[float, ...] = (), baseline: BaselineRisk | None = None,
            progress: Progress | None = None, started: float | None = None) -> BinaryMetaResult:
        """A full :class:`BinaryMetaResult` under ``priors``."""
        t0 = time.perf_counter() if started is None else started
        running = self.start(priors, settings, progress)
        return self.finish(running, priors, settings, thresholds=thresholds,
                           baseline=baseline, started=t0)

