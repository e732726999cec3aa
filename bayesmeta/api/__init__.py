"""The Python API: one call per analysis, mirroring the command line.

>>> import bayesmeta as bm
>>> res = bm.fit_binary("crins2014_ar", seed=1)            # a bundled dataset, file or DataFrame
>>> res.posterior("or").median, res.prob_harm(1.0)          # pooled OR, P(OR > 1)
>>> res.prob_harm(1.0, predictive=True)                     # P(harm) in a new trial
>>> res.risk_difference().summary()                         # per 1,000 patients
>>> res.summary(); res.to_dict(); res.to_netcdf("fit.nc")

Effect sizes (normal–normal model, exact by default):

>>> res = bm.fit_effects("eight_schools", tau_prior="halfcauchy:25")
>>> res.posterior("mu").median, res.posterior("tau").shortest_interval()
>>> res.probabilities(), res.bayes_factors(), res.study_effects()
>>> bm.fit_continuous("normand1999_arms", measure="SMD")           # arm-level means/SDs
>>> bm.fit_effects("crins2014_ar", measure="logOR", cc=0.5)         # 2x2 tables -> log ORs
>>> bm.influence(res).to_frame()                            # PSIS-LOO k̂, leave-one-out refits
>>> bm.load_result("fit.nc")                                # a saved fit, back
>>> bm.fit_binary("nissen2007_mi", likelihood="conditional")  # hypergeometric-normal model
>>> bm.fit_rates("hart1999_warfarin")                        # events over person-years
>>> bm.fit_classical("crins2014_ar", "REML", test="knha")    # a classical comparator
>>> bm.compare("crins2014_ar").table()                      # every method side by side
>>> res.prior_sensitivity().to_dict()                       # power-scaling diagnosis
>>> bm.reweight(res, tau_prior="halfnormal:0.25")           # PSIS, or a refit if unreliable
>>> sens = bm.sensitivity("crins2014_ar", priors="sensitivity_rare_events", thresholds=[1.5])
>>> sens.table(); sens.verdict_text(); sens.results["HC(0.5)"]
>>> bm.sensitivity("crins2014_ar", model="effects", cc=0.5)  # exact NNHM, log-ratio prior set
>>> bm.tau_scale_curve("crins2014_ar", "halfnormal:0.1:2", cc=0.5).verdict_text()

Each kind of analysis has its module — :mod:`~bayesmeta.api.binary`,
:mod:`~bayesmeta.api.rates`, :mod:`~bayesmeta.api.effects` (and
:mod:`~bayesmeta.api.effects_loading`), :mod:`~bayesmeta.api.longitudinal`,
:mod:`~bayesmeta.api.refits` (influence), :mod:`~bayesmeta.api.classical`,
:mod:`~bayesmeta.api.sweeps` (prior sensitivity) — and everything is re-exported here.
The classical estimators (:mod:`~bayesmeta.api.comparison`) and the normal–normal sweeps
(:mod:`~bayesmeta.api.nnhm_sweeps`) load only when used.
"""

from __future__ import annotations

from bayesmeta.api.binary import (
    BINARY_LIKELIHOODS,
    DataLike,
    binomial_normal_priors,
    conditional_priors,
    fit_binary,
    load_binary,
)
from bayesmeta.api.binary_fitter import BinaryFitter
from bayesmeta.api.classical import compare, fit_classical
from bayesmeta.api.common import RowProgress as _RowProgress
from bayesmeta.api.effects import (
    METHODS,
    _fit_nnhm,
    fit_continuous,
    fit_effects,
    nnhm_priors,
)
from bayesmeta.api.effects_loading import (
    ContinuousLike,
    EffectsLike,
    load_continuous,
    load_effects,
)
from bayesmeta.api.longitudinal import (
    LongitudinalLike,
    bundled_defaults,
    fit_longitudinal,
    load_longitudinal,
    longitudinal_priors,
)
from bayesmeta.api.rates import RateLike, fit_rates, load_rates, poisson_normal_priors
from bayesmeta.api.refits import REFITTERS, influence, refit_binary, refit_effects, refit_rates
from bayesmeta.api.sweeps import (
    SENSITIVITY_MODELS,
    PriorsLike,
    load_priors,
    reweight,
    sensitivity,
    tau_scale_curve,
)
from bayesmeta.data.loading import load_data

__all__ = [
    "BINARY_LIKELIHOODS",
    "METHODS",
    "REFITTERS",
    "SENSITIVITY_MODELS",
    "BinaryFitter",
    "ContinuousLike",
    "DataLike",
    "EffectsLike",
    "LongitudinalLike",
    "PriorsLike",
    "RateLike",
    "_RowProgress",
    "_fit_nnhm",
    "binomial_normal_priors",
    "bundled_defaults",
    "compare",
    "conditional_priors",
    "fit_binary",
    "fit_classical",
    "fit_continuous",
    "fit_effects",
    "fit_longitudinal",
    "fit_rates",
    "influence",
    "load_binary",
    "load_continuous",
    "load_data",
    "load_effects",
    "load_longitudinal",
    "load_priors",
    "load_rates",
    "longitudinal_priors",
    "nnhm_priors",
    "poisson_normal_priors",
    "refit_binary",
    "refit_effects",
    "refit_rates",
    "reweight",
    "sensitivity",
    "tau_scale_curve",
]
