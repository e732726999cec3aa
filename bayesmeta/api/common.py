"""What the fitting functions of the API share: priors from a model file and single
priors, threshold checks, sampler settings and the timed sampling run.

Kept apart so that each model's module (binary, rates, effects, longitudinal) states only
what is its own, and every model reports a wrong threshold or an improper prior alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayesmeta.data import datasets
from bayesmeta.errors import InputError
from bayesmeta.inference.sampling import Progress, SamplerSettings, sample_model
from bayesmeta.models.spec_files import MODEL_PRIOR_SLOTS, load_model_spec
from bayesmeta.priors import Prior, parse_prior

#: What an argument ``sampler=..., chains=..., ...`` defaults to in every fitting function.
SAMPLER_DEFAULTS: dict[str, Any] = {"sampler": "auto", "chains": 4, "draws": 1000,
                                    "tune": 1000, "seed": 1, "target_accept": 0.9,
                                    "cores": None}


def load_table(data: Any, data_type: type, reader: Callable[..., Any], kind: str, *,
               subgroup: str | None, subgroup_column: str,
               read_options: Mapping[str, Any]) -> Any:
    """Data of ``data_type`` as they are, or read by ``reader`` from a DataFrame, CSV path or
    bundled dataset name of this ``kind``; then only the studies of ``subgroup``."""
    if isinstance(data, data_type):
        loaded = data
    elif isinstance(data, pd.DataFrame):
        loaded = reader(data, **read_options)
    else:
        loaded = reader(datasets.resolve(data, kind=kind), **read_options)
    if subgroup is not None:
        loaded = loaded.select(subgroup_column, subgroup)
    return loaded


def sampler_kwargs(settings: SamplerSettings | None) -> dict[str, Any]:
    """The keyword arguments that give a fitting function ``settings`` again (the
    defaults when there are none, as for an exact fit)."""
    if settings is None:
        return dict(SAMPLER_DEFAULTS)
    return {name: getattr(settings, name) for name in SAMPLER_DEFAULTS}


def effect_baseline_slots(tau_prior: str | Prior | None, effect_prior: str | Prior | None,
                          baseline_prior: str | Prior | None
                          ) -> dict[str, tuple[str | Prior | None, str, str]]:
    """The single priors of a two-arm model (τ, effect, baseline) as ``slot -> (value,
    command-line option, support)``, the form :func:`priors_from` reads."""
    return {"tau": (tau_prior, "--tau-prior", "positive"),
            "effect": (effect_prior, "--effect-prior", "real"),
            "baseline": (baseline_prior, "--baseline-prior", "real")}


def parse_given(given: Mapping[str, tuple[str | Prior | None, str, str]]) -> dict[str, Prior]:
    """The single priors that were given (value not None), parsed; errors name the option."""
    return {slot: parse_prior(value, option=option, support=support)
            for slot, (value, option, support) in given.items() if value is not None}


def priors_from(model_name: str, model: str | Path | None,
                given: Mapping[str, tuple[str | Prior | None, str, str]], *,
                label: str | None = None) -> dict[str, Prior]:
    """Priors for ``model_name`` from a model file (optional) overridden by single priors;
    ``given`` maps a slot to (value, option, support). A value for a slot the model does
    not have is refused, and so is an improper prior (these models are fitted by MCMC);
    ``label`` names the model in that message (default: ``model_name``)."""
    slots = MODEL_PRIOR_SLOTS[model_name]
    chosen: dict[str, Prior] = {}
    places: dict[str, str] = {}
    if model is not None:
        spec = load_model_spec(model)
        if spec.model != model_name:
            raise InputError(f"model file is for '{spec.model}', not {model_name}",
                             source=str(spec.path))
        chosen.update(spec.priors)
        places.update({slot: f"{spec.path} [priors] {slot}" for slot in spec.priors})
    for slot, (value, option, support) in given.items():
        if value is None:
            continue
        if slot not in slots:
            raise InputError(f"the {model_name} model has no {slot} prior (its priors: "
                             f"{', '.join(slots)})", source=option)
        chosen[slot] = parse_prior(value, option=option, support=support)
        places[slot] = option
    for slot, prior in chosen.items():
        if not prior.proper:  # MCMC needs a proper prior; say where the improper one came from
            raise InputError(f"'{prior.spec}' is an improper prior, usable only by exact "
                             f"methods, not by the {label or model_name} MCMC model; choose "
                             "a proper one (e.g. halfnormal:0.5 for tau, normal:0:2.82 for "
                             "the effect)", source=places[slot])
    return chosen


def ratio_thresholds(thresholds: Iterable[float], what: str = "an OR") -> tuple[float, ...]:
    """Thresholds of a ratio (OR, rate ratio): positive finite numbers."""
    cuts = tuple(float(c) for c in thresholds)
    for c in cuts:
        if not (c > 0 and c < float("inf")):
            raise InputError(f"{what} threshold must be a positive number (got {c:g})",
                             source="--threshold")
    return cuts


def finite_thresholds(thresholds: Iterable[float]) -> tuple[float, ...]:
    """Thresholds on an effect's own scale: finite numbers."""
    cuts = tuple(float(c) for c in thresholds)
    for c in cuts:
        if not np.isfinite(c):
            raise InputError(f"a threshold must be a finite number (got {c:g})",
                             source="--threshold")
    return cuts


def sample_timed(model: Any, settings: SamplerSettings, progress: Progress | None,
                 started: float) -> tuple[xr.DataTree, dict[str, float]]:
    """Sample ``model`` and time it: the draws, and the timings every MCMC result keeps
    (build and sample since ``started``, compile, sample)."""
    idata, times = sample_model(model, settings, progress)
    return idata, {"build_and_sample_s": time.perf_counter() - started,
                   "compile_s": times.compile_s, "sample_s": times.sample_s}


class RowProgress:
    """Progress of one configuration of a prior sweep: the sampling bar, then one line
    labelled with the configuration (``Prior 2/5 'HN(0.5)': ...``)."""

    def __init__(self, outer: Progress, label: str) -> None:
        self.outer = outer
        self.label = label

    def stage(self, message: str) -> None:
        pass

    def sampling(self, done: int, total: int, divergences: int) -> None:
        self.outer.sampling(done, total, divergences)

    def finished(self, message: str) -> None:
        sampled = message.split(", ")[-1]
        self.outer.finished(f"{self.label}: {sampled}")
