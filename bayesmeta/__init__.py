"""bayesmeta — Bayesian meta-analysis of clinical trials on PyMC and ArviZ.

Layers (see ARCHITECTURE.md): data → priors/models → inference → results → api →
presentation → cli. The public API is re-exported here and imported lazily, so that
``import bayesmeta`` is quick and PyMC loads only when a model is fitted.
"""

from __future__ import annotations

from typing import Any

from bayesmeta.errors import BayesmetaError, InputError

__version__ = "0.1.0"

_LAZY = {
    "fit_binary": "bayesmeta.api",
    "load_binary": "bayesmeta.api",
    "binomial_normal_priors": "bayesmeta.api",
    "read_binary": "bayesmeta.data.binary",
    "BinaryData": "bayesmeta.data.binary",
    "parse_prior": "bayesmeta.priors",
    "Prior": "bayesmeta.priors",
    "BinaryMetaResult": "bayesmeta.results.binary",
    "datasets": "bayesmeta.data.datasets",
    "diagnostics_text": "bayesmeta.presentation.binary_text",
    "plot_effect_over_time": "bayesmeta.presentation.longitudinal_plot",
    "fit_effects": "bayesmeta.api",
    "fit_continuous": "bayesmeta.api",
    "load_effects": "bayesmeta.api",
    "load_continuous": "bayesmeta.api",
    "nnhm_priors": "bayesmeta.api",
    "read_effects": "bayesmeta.data.effects",
    "EffectsData": "bayesmeta.data.effects",
    "read_continuous": "bayesmeta.data.continuous",
    "ContinuousData": "bayesmeta.data.continuous",
    "EffectsMetaResult": "bayesmeta.results.effects",
    "ExactMarginal": "bayesmeta.results.exact_marginal",
    "load_result": "bayesmeta.results.load",
    "run_sbc": "bayesmeta.validation.sbc",
    "influence": "bayesmeta.api",
    "plot": "bayesmeta.presentation.plots",
    "forest_plot": "bayesmeta.presentation.plots",
    "posterior_plot": "bayesmeta.presentation.plots",
    "tau_plot": "bayesmeta.presentation.plots",
    "trace_plot": "bayesmeta.presentation.plots",
    "rank_plot": "bayesmeta.presentation.plots",
    "build_report": "bayesmeta.presentation.report",
    "write_report": "bayesmeta.presentation.report",
    "fit_rates": "bayesmeta.api",
    "load_rates": "bayesmeta.api",
    "load_data": "bayesmeta.api",
    "fit_classical": "bayesmeta.api",
    "compare": "bayesmeta.api",
    "read_rates": "bayesmeta.data.rates",
    "RateData": "bayesmeta.data.rates",
    "RateMetaResult": "bayesmeta.results.rates",
    "ClassicalFit": "bayesmeta.inference.classical.result",
    "Comparison": "bayesmeta.results.comparison",
    "simulate_binary": "bayesmeta.data.simulate",
    "simulate_rates": "bayesmeta.data.simulate",
    "plot_comparison": "bayesmeta.presentation.comparison_plot",
    "render_comparison": "bayesmeta.presentation.comparison_text",
    "likelihood_words": "bayesmeta.presentation.text",
    "fit_longitudinal": "bayesmeta.api",
    "load_longitudinal": "bayesmeta.api",
    "read_longitudinal": "bayesmeta.data.longitudinal",
    "LongitudinalData": "bayesmeta.data.longitudinal",
    "LongitudinalMetaResult": "bayesmeta.results.longitudinal",
    "sensitivity": "bayesmeta.api",
    "tau_scale_curve": "bayesmeta.api",
    "reweight": "bayesmeta.api",
    "load_priors": "bayesmeta.api",
    "SensitivityResult": "bayesmeta.results.sensitivity",
    "EffectsSensitivityResult": "bayesmeta.results.effects_sensitivity",
    "TauScaleCurve": "bayesmeta.results.tau_scale_curve",
}

__all__ = ["BayesmetaError", "InputError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        return module if name == "datasets" else getattr(module, name)
    raise AttributeError(f"module 'bayesmeta' has no attribute '{name}'")
