"""Prior distributions by name: one library for the MCMC models and the exact methods.

Part of the models layer (imports only :mod:`bayesmeta.errors`). Named priors from the
literature register here: ``turner:...`` (Turner et al. 2015, log OR) and ``rhodes:...``
(Rhodes et al. 2015, SMD).
"""

from bayesmeta.priors import rhodes2015, turner2015
from bayesmeta.priors.families import FAMILIES, Family
from bayesmeta.priors.spec import Prior, parse_prior, register_named

register_named("turner", turner2015.resolve)
register_named("rhodes", rhodes2015.resolve)

__all__ = ["FAMILIES", "Family", "Prior", "parse_prior", "register_named"]
