r"""Normal–normal hierarchical model (NNHM) for effect estimates with standard errors.

For study :math:`i = 1..k` with estimate :math:`y_i` and standard error :math:`s_i`:

.. math::

    y_i &\sim N(\theta_i,\, s_i^2) \qquad (s_i \text{ known}) \\
    \theta_i &\sim N(\mu,\, \tau^2) \\
    \mu &\sim N(m_0, v_0) \text{ or flat}, \qquad \tau \sim p(\tau)

:math:`\mu` is the pooled (mean) effect, :math:`\tau` the between-study SD, :math:`\theta_i`
study i's own (shrunken) effect, and :math:`\theta_{new} \sim N(\mu, \tau^2)` the effect in a
new study (prediction). With two parameters the posterior can be computed exactly by
quadrature (:mod:`bayesmeta.inference.nnhm_exact`, the default ``--method exact``); this
module builds the same model in PyMC for ``--method mcmc`` (cross-checks, extensions).

**PyMC parameterisation.** The θ_i are integrated out of the likelihood,
:math:`y_i \mid \mu, \tau \sim N(\mu, s_i^2 + \tau^2)`, and recovered from their exact
conditional posterior, non-centred:

.. math::

    \theta_i = (1 - b_i)\, y_i + b_i\, \mu + \sqrt{s_i^2 (1 - b_i)}\; z_i, \quad
    b_i = \frac{s_i^2}{s_i^2 + \tau^2}, \quad z_i \sim N(0, 1);
    \qquad \theta_{new} = \mu + \tau z_{new}.

The joint density of (μ, τ, z) is then exactly the NNHM posterior, but NUTS sees neither the
funnel of small τ (non-centred θ) nor that of precise studies with large τ (centred θ), so
one parameterisation samples well in both regimes. Named dims: ``theta[study]``.

**Default priors** (``models/nnhm_*.toml``; see :func:`default_prior_file`):

* log OR / log RR / log HR: μ ~ N(0, 4²) — the unit-information prior of a log odds ratio
  (one patient's information: a log OR from two arms of n/2 with risk 0.5 has variance 16/n,
  so the unit-information SD is 4; Röver et al. 2021) — and τ ~ half-normal(0.5), which makes
  τ > 1 (ORs of studies spreading over a factor e² ≈ 7 either side) a 5% event (Friede et
  al. 2017; Röver et al. 2021);
* SMD: the same choice on the SMD scale, whose unit-information SD is 2 (half that of a log
  OR; Chinn 2000 converts log OR to SMD by √3/π ≈ 0.55): μ ~ N(0, 2²), τ ~ half-normal(0.25)
  (τ > 0.5 SD units is a 5% event). The empirical alternative is ``rhodes:...``;
* MD, RD and effects on their own scale (``generic``): **no default τ prior**. A τ prior
  has to be stated in the outcome's units (days, points, mmHg), so bayesmeta asks for one:
  a weakly informative half-normal with a scale the analyst can defend, or a scale-free
  reference prior (``uniform_improper`` — R bayesmeta's default — or ``jeffreys``; exact
  method only). μ is flat by default (exact method only; MCMC needs a proper prior).

References: Röver C. Bayesian random-effects meta-analysis using the bayesmeta R package.
J Stat Softw 2020;93(6). Röver C, Bender R, Dias S, et al. On weakly informative prior
distributions for the heterogeneity parameter in Bayesian random-effects meta-analysis. Res
Synth Methods 2021;12:448–474. Friede T, Röver C, Wandel S, Neuenschwander B. Meta-analysis
of two studies in the presence of heterogeneity with applications in rare diseases. Biom J
2017;59:658–671. Chinn S. A simple method for converting an odds ratio to effect size for use
in meta-analysis. Stat Med 2000;19:3127–3131.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bayesmeta.errors import InputError
from bayesmeta.priors import Prior, parse_prior

if TYPE_CHECKING:
    import pymc as pm

    from bayesmeta.data.effects import EffectsData

NAME = "nnhm"

#: The bundled model file holding the default priors for each measure (None: no default).
DEFAULT_PRIOR_FILES: dict[str, str | None] = {
    "logOR": "nnhm_log_ratio", "logRR": "nnhm_log_ratio", "logHR": "nnhm_log_ratio",
    "SMD": "nnhm_smd", "MD": None, "RD": None, "generic": None,
}


def default_prior_file(measure: str) -> str | None:
    """Name of the bundled model file with the default priors for ``measure``."""
    return DEFAULT_PRIOR_FILES.get(measure)


@dataclass(frozen=True)
class NNHMPriors:
    """Priors of the normal–normal model: ``mu`` (real) and ``tau`` (positive).

    ``tau=None`` means "not chosen": fitting then stops with a message asking for one (the
    measure has no default, see the module docstring).
    """

    mu: Prior = field(default_factory=lambda: Prior("flat"))
    tau: Prior | None = None

    def __post_init__(self) -> None:
        parse_prior(self.mu, option="mu prior", support="real")
        if self.tau is not None:
            parse_prior(self.tau, option="tau prior", support="positive")

    def as_dict(self) -> dict[str, Prior]:
        out = {"mu": self.mu}
        if self.tau is not None:
            out["tau"] = self.tau
        return out

    def require_proper(self, places: Mapping[str, str] | None = None) -> None:
        """MCMC needs proper priors: say which one is not, where it was chosen (``places``:
        slot -> option or model file; default the command-line options), and what to do."""
        for slot, prior, option in (("mu", self.mu, "--mu-prior"),
                                    ("tau", self.tau, "--tau-prior")):
            option = (places or {}).get(slot, option)
            if prior is not None and not prior.proper:
                example = "normal:0:10" if slot == "mu" else "halfnormal:S"
                raise InputError(
                    f"the prior '{prior.spec}' on {slot} is improper; --method mcmc needs a "
                    f"proper one (e.g. {example} on the effect's scale), or use --method "
                    "exact", source=option)


def build_nnhm(effects: EffectsData, priors: NNHMPriors) -> pm.Model:
    """Build the PyMC model (see the module docstring). Posteriors read ``mu``, ``tau``,
    ``theta[study]`` and ``theta_new``."""
    import pymc as pm
    import pytensor.tensor as pt

    if priors.tau is None:
        raise InputError("no prior on tau was chosen", source="--tau-prior")
    priors.require_proper()
    y = np.asarray(effects.yi, dtype=float)
    s2 = np.asarray(effects.sei, dtype=float) ** 2
    with pm.Model(coords={"study": list(effects.study)}) as model:
        y_data = pm.Data("y", y, dims="study")
        s2_data = pm.Data("s2", s2, dims="study")
        mu = priors.mu.to_pymc("mu")
        tau = priors.tau.to_pymc("tau")
        pm.Normal("y_obs", mu=mu, sigma=pt.sqrt(s2_data + tau**2), observed=y_data,
                  dims="study")
        b = s2_data / (s2_data + tau**2)
        z = pm.Normal("z", 0.0, 1.0, dims="study")
        pm.Deterministic("theta", (1 - b) * y_data + b * mu + pt.sqrt(s2_data * (1 - b)) * z,
                         dims="study")
        z_new = pm.Normal("z_new", 0.0, 1.0)
        pm.Deterministic("theta_new", mu + tau * z_new)
    return model
