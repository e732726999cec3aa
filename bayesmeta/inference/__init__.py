"""Inference layer: sampling with NUTS and checking convergence."""

from bayesmeta.inference.diagnostics import Diagnostics, diagnose
from bayesmeta.inference.sampling import SamplerSettings, sample_model

__all__ = ["Diagnostics", "SamplerSettings", "diagnose", "sample_model"]
