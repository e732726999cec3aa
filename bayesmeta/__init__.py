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
    "sensitivity": "bayesmeta.api",
    "reweight": "bayesmeta.api",
    "load_priors": "bayesmeta.api",
    "SensitivityResult": "bayesmeta.results.sensitivity",
}

__all__ = ["BayesmetaError", "InputError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        return module if name == "datasets" else getattr(module, name)
    raise AttributeError(f"module 'bayesmeta' has no attribute '{name}'")
