"""Prior distributions by name: one library for the MCMC models and the exact methods.

Part of the models layer (imports only :mod:`bayesmeta.errors`).
"""

from bayesmeta.priors.families import FAMILIES, Family
from bayesmeta.priors.spec import Prior, parse_prior, register_named

__all__ = ["FAMILIES", "Family", "Prior", "parse_prior", "register_named"]
