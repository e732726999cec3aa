"""Prior sensitivity of the binomial–normal model: every configuration of a prior set
fitted with one compiled model (priors as data), pipelined, or reweighted from the
reference fit where that is reliable."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

from bayesmeta.api.binary import DataLike, load_binary
from bayesmeta.api.binary_fitter import BinaryFitter
from bayesmeta.api.common import RowProgress
from bayesmeta.data.binary import BinaryData
from bayesmeta.errors import InputError
from bayesmeta.inference.sampling import Progress, RunningSampler, SamplerSettings, SilentProgress
from bayesmeta.models import binomial_normal_prior_data as prior_data
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.models.prior_sets import PriorSet
from bayesmeta.results.reweighting import reweight as reweight_draws
from bayesmeta.results.sensitivity import SensitivityResult, SensitivityRow


def sensitivity_binary(data: DataLike, prior_set: PriorSet, *, settings: SamplerSettings,
                       thresholds: tuple[float, ...], method: str, progress: Progress | None,
                       subgroup: str | None,
                       read_options: Mapping[str, object] | None) -> SensitivityResult:
    """``sensitivity(..., model="binary")``: the binomial–normal model, priors as data."""
    for config in prior_set.configurations:
        try:
            prior_data.encode_priors(BinomialNormalPriors(**config.priors))
        except InputError as exc:
            raise InputError(exc.reason, source=f"{prior_set.where} [[configuration]] "
                                                f"'{config.name}' {exc.source}") from None
    binary = load_binary(data, subgroup=subgroup, **dict(read_options or {}))
    return sweep_binary(binary, prior_set, settings, thresholds, method, progress)


def sweep_binary(binary: BinaryData, prior_set: PriorSet, settings: SamplerSettings,
                 cuts: tuple[float, ...], method: str,
                 progress: Progress | None) -> SensitivityResult:
    """Fit every configuration with one compiled model, the reference first.

    Runs are pipelined: the next configuration samples (nutpie's threads, no GIL) while
    Python summarises the previous one (diagnostics, power-scaling, summaries), so the two
    overlap. Sampling one configuration already keeps both cores of the reference machine
    busy (4 chains), so running configurations side by side (one core each) cannot do
    better there; benchmarks/bench_sensitivity.py measures the three ways.
    """
    progress = progress or SilentProgress()
    t0 = time.perf_counter()
    reference = prior_set.reference_configuration
    ordered = [reference, *[c for c in prior_set.configurations if c is not reference]]
    fitter = BinaryFitter(binary, BinomialNormalPriors(**reference.priors),
                          settings.resolved_sampler, progress)
    n = len(ordered)
    priors_of = {c.name: BinomialNormalPriors(**c.priors) for c in ordered}
    rows: dict[str, SensitivityRow] = {}

    def launch(i: int) -> RunningSampler:
        config = ordered[i]
        return fitter.start(priors_of[config.name], settings,
                            RowProgress(progress, f"Prior {i + 1}/{n} '{config.name}'"))

    todo = list(range(n))
    if method == "reweight":
        # The reference first: the others may not need sampling at all.
        base = fitter.finish(launch(0), priors_of[reference.name], settings, thresholds=cuts)
        rows[reference.name] = SensitivityRow(reference.name, priors_of[reference.name], base,
                                              reference.source, "mcmc",
                                              base.prior_sensitivity())
        todo = []
        for i, config in enumerate(ordered[1:], start=1):
            rw = reweight_draws(base, priors_of[config.name])
            if rw.reliable:
                progress.finished(f"Prior {i + 1}/{n} '{config.name}': reweighted the "
                                  f"reference fit (Pareto k̂ {rw.pareto_k:.2f})")
                rows[config.name] = SensitivityRow(config.name, priors_of[config.name], rw,
                                                   config.source, "reweighted")
            else:
                todo.append(i)
    running = launch(todo[0]) if todo else None
    for j, i in enumerate(todo):
        config = ordered[i]
        priors = priors_of[config.name]
        idata, times = running.wait()
        running = launch(todo[j + 1]) if j + 1 < len(todo) else None  # samples meanwhile
        fit = fitter.result(idata, times, priors, settings, thresholds=cuts)
        if method == "reweight":
            row = SensitivityRow(config.name, priors, replace(reweight_draws(base, priors),
                                                              refit=fit),
                                 config.source, "refit", fit.prior_sensitivity())
        else:
            row = SensitivityRow(config.name, priors, fit, config.source, "mcmc",
                                 fit.prior_sensitivity())
        row.warm(cuts)
        rows[config.name] = row
    t1 = time.perf_counter()
    return SensitivityResult(
        data=binary, title=prior_set.title, reference=prior_set.reference,
        rows=tuple(rows[c.name] for c in prior_set.configurations), settings=settings,
        thresholds=cuts, method=method, prior_set_source=prior_set.where,
        timings={"total_s": t1 - t0, "compile_s": fitter.prepared.compile_s})

