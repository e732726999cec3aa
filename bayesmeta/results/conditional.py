"""The result of a conditional (non-central hypergeometric)–normal meta-analysis.

The same questions and documents as :class:`~bayesmeta.results.binary.BinaryMetaResult`
(odds ratios, P(harm), risk differences at a baseline risk, the ``bayesmeta.fit.binary/1``
JSON document with ``model = "conditional_hypergeometric"``), with what differs for this
likelihood: the per-study log-likelihood is the conditional one (treatment-arm events given
the study's total), and the report describes this model. A distinct type so that the
registries of plots, influence refits and report sections can tell the two models apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import xarray as xr

from bayesmeta.models.conditional_hypergeometric import conditional_log_likelihood
from bayesmeta.results.binary import BinaryMetaResult


@dataclass(frozen=True, eq=False)
class ConditionalMetaResult(BinaryMetaResult):
    """A fitted conditional (hypergeometric)–normal meta-analysis (``fit_binary(...,
    likelihood="conditional")``)."""

    #: Why PSIS-LOO's Pareto k̂ can be high here (the influence verdict's words).
    high_k_reason: ClassVar[str] = ("expected with few studies, where the pooled estimate "
                                    "leans on single trials")

    def pointwise_log_likelihood(self) -> xr.DataArray:
        """log P(a_i | m_i, θ_i) per draw and study (chain, draw, study): Fisher's
        non-central hypergeometric log pmf of the treatment-arm events given the study's
        total, as the model defines it (a trial without events in either arm has log
        likelihood 0); used by PSIS-LOO."""
        d = self.data
        theta = self.posterior_tree["theta_study"].transpose("chain", "draw", "study")
        log_lik = conditional_log_likelihood(d.events_t, d.n_t, d.n_c, d.events_t + d.events_c,
                                             theta.values)
        return xr.DataArray(log_lik, dims=("chain", "draw", "study"), coords=theta.coords,
                            name="events_t")
