"""Which study drives the result: PSIS-LOO Pareto k̂ and leave-one-study-out refits.

Two views of each study's influence:

* **PSIS-LOO** (Vehtari, Gelman & Gabry 2017; Vehtari et al. 2024): Pareto-smoothed
  importance sampling of the posterior without study *i*, from the per-study log-likelihood
  ``result.pointwise_log_likelihood()``. Its Pareto k̂ says whether the approximation can be
  trusted (k̂ ≤ ``good_k``, about 0.7); a high k̂ also flags a study the posterior leans on.
  With a handful of studies, each with its own baseline parameter, most k̂ are high: the
  approximation is then unreliable and the refits below are the answer.
* **Leave-one-study-out refits**: the model fitted again without each study, with the same
  priors, sampler settings and seed, and how the pooled estimate, its interval, P(harm)
  and the predictive P(harm) move. ``refit(result, data_without_study)`` is supplied by the
  API layer (NUTS for the binomial–normal model; an exact fit for the normal–normal model).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayesmeta.errors import InputError
from bayesmeta.inference.sampling import Progress, SilentProgress
from bayesmeta.results.effect_scale import prob_harm

SCHEMA = "bayesmeta.influence/1"


@dataclass(frozen=True)
class PsisLoo:
    """PSIS-LOO per study: expected log predictive density, effective number of parameters
    (lppd_i − elpd_i) and Pareto k̂."""

    studies: tuple[str, ...]
    elpd_i: np.ndarray
    pareto_k: np.ndarray
    p_loo_i: np.ndarray
    elpd: float
    elpd_se: float
    p_loo: float
    good_k: float
    #: Why many k̂ can be high for this model (a result may say so as ``high_k_reason``).
    high_k_reason: str = ("expected with few studies, each with its own baseline risk, which "
                          "leaving the study out leaves to its prior")

    @property
    def n_high(self) -> int:
        """Studies whose k̂ exceeds ``good_k``: their PSIS estimate is unreliable."""
        return int(np.sum(self.pareto_k > self.good_k))

    def verdict(self) -> str:
        """One sentence on how far PSIS-LOO can be trusted here."""
        k = len(self.studies)
        if self.n_high == 0:
            return (f"All {k} Pareto k̂ are at most {self.good_k:.2f}: the PSIS-LOO "
                    "approximation is reliable for every study.")
        return (f"{self.n_high} of {k} studies have Pareto k̂ above {self.good_k:.2f}: the "
                f"PSIS-LOO approximation is unreliable for them ({self.high_k_reason}); "
                "leave-one-study-out refits answer the question directly.")


@dataclass(frozen=True)
class StudyRefit:
    """The pooled result without one study."""

    study: str
    median: float
    lower: float
    upper: float
    tau_median: float
    p_harm: float
    p_harm_new: float
    diagnostics_ok: bool
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Influence:
    """PSIS-LOO and (optionally) leave-one-study-out refits of one fit.

    Estimates (``median``, ``lower``, ``upper``) are on the displayed scale (OR).
    """

    effect: str
    symbol: str
    log_scale: bool
    threshold: float
    harm_text: str
    full: StudyRefit
    loo: PsisLoo | None
    refits: tuple[StudyRefit, ...] = ()
    refits_skipped: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    n_draws: int | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per study (k̂, elpd, and the pooled estimate without it) plus the full fit."""
        rows = []
        by_study = {r.study: r for r in self.refits}
        studies = self.loo.studies if self.loo is not None else tuple(by_study)
        for i, study in enumerate(studies):
            row: dict[str, Any] = {"study": study}
            if self.loo is not None:
                row["pareto_k"] = float(self.loo.pareto_k[i])
                row["elpd_loo_i"] = float(self.loo.elpd_i[i])
            r = by_study.get(study)
            if r is not None:
                row.update(self._columns(r))
            rows.append(row)
        frame = pd.DataFrame(rows).set_index("study")
        return frame

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document of ``bayesmeta influence`` (see docs/json.md)."""
        loo = None
        if self.loo is not None:
            loo = {"elpd_loo": self.loo.elpd, "se": self.loo.elpd_se, "p_loo": self.loo.p_loo,
                   "good_k": self.loo.good_k, "n_high_k": self.loo.n_high,
                   "verdict": self.loo.verdict(),
                   "studies": [{"study": s, "pareto_k": float(k), "elpd_loo_i": float(e),
                                "p_loo_i": float(p)}
                               for s, k, e, p in zip(self.loo.studies, self.loo.pareto_k,
                                                     self.loo.elpd_i, self.loo.p_loo_i,
                                                     strict=True)]}
        return _finite({
            "schema": SCHEMA, "effect": self.effect, "symbol": self.symbol,
            "threshold": self.threshold, "harm": self.harm_text,
            "full": _refit_dict(self.full),
            "psis_loo": loo,
            "leave_one_out": [{**_refit_dict(r), **self._columns(r)} for r in self.refits],
            "refits_skipped": self.refits_skipped or None,
            "settings": self.settings,
        })

    def shift(self, refit: StudyRefit) -> float:
        """How far leaving the study out moves the pooled median: the ratio of the medians
        for ratio measures (OR without / OR with all studies), else the difference."""
        if self.log_scale:
            return refit.median / self.full.median
        return refit.median - self.full.median

    def most_influential(self) -> StudyRefit | None:
        """The study whose removal moves the pooled median most (log scale for ratios)."""
        if not self.refits:
            return None
        if self.log_scale:
            return max(self.refits, key=lambda r: abs(math.log(self.shift(r))))
        return max(self.refits, key=lambda r: abs(self.shift(r)))

    def most_influential_words(self) -> str:
        """How to introduce :meth:`most_influential`: "most" only when every study was
        refitted."""
        n_studies = len(self.loo.studies) if self.loo is not None else len(self.refits)
        if len(self.refits) == 1:
            return "Leaving out {study} moves the pooled {symbol}"
        if len(self.refits) < n_studies:
            return (f"Of the {len(self.refits)} studies refitted, leaving out {{study}} moves "
                    "the pooled {symbol} most")
        return "Leaving out {study} moves the pooled {symbol} most"

    def _columns(self, r: StudyRefit) -> dict[str, Any]:
        return {"median_without": r.median, "q025_without": r.lower, "q975_without": r.upper,
                "ratio_to_full" if self.log_scale else "change_from_full": self.shift(r),
                "tau_median_without": r.tau_median,
                "p_harm_without": r.p_harm, "p_harm_change": r.p_harm - self.full.p_harm,
                "p_harm_new_without": r.p_harm_new, "diagnostics_ok": r.diagnostics_ok}


def _refit_dict(r: StudyRefit) -> dict[str, Any]:
    return {"study": r.study, "median": r.median, "q025": r.lower, "q975": r.upper,
            "tau_median": r.tau_median, "p_harm": r.p_harm, "p_harm_new": r.p_harm_new,
            "diagnostics_ok": r.diagnostics_ok, "problems": list(r.problems)}


def _finite(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer | np.bool_):
        return obj.item()
    return obj


def summarise_fit(result: Any, study: str, threshold: float) -> StudyRefit:
    """The pooled estimate (displayed scale), τ and P(harm) of one fit, as a row."""
    scale = result.effect_scale
    pooled = result.posterior(scale.pooled)
    lo, hi = pooled.interval(0.95)
    diagnostics = getattr(result, "diagnostics", None)
    return StudyRefit(
        study=study, median=float(scale.to_display(pooled.median)),
        lower=float(scale.to_display(lo)), upper=float(scale.to_display(hi)),
        tau_median=float(result.posterior(scale.heterogeneity).median),
        p_harm=prob_harm(result, threshold),
        p_harm_new=prob_harm(result, threshold, predictive=True),
        diagnostics_ok=bool(getattr(diagnostics, "ok", True)),
        problems=tuple(p.check for p in getattr(diagnostics, "problems", ())))


def psis_loo(result: Any) -> PsisLoo:
    """PSIS-LOO from ``result.pointwise_log_likelihood()`` (chain, draw, study) with ArviZ."""
    import arviz_stats as azs
    from scipy.special import logsumexp

    log_lik: xr.DataArray = result.pointwise_log_likelihood()
    tree = xr.DataTree.from_dict({
        "posterior": xr.DataTree(result.idata["posterior"].to_dataset()),
        "log_likelihood": xr.DataTree(xr.Dataset({"events": log_lik})),
    })
    with warnings.catch_warnings():  # the k̂ warning is reported in words by verdict()
        warnings.simplefilter("ignore", UserWarning)
        loo = azs.loo(tree, pointwise=True, var_name="events")
    elpd_i = np.asarray(loo.elpd_i.transpose("study").values, dtype=float)
    draws = log_lik.transpose("study", ...).values.reshape(log_lik.sizes["study"], -1)
    lppd_i = logsumexp(draws, axis=1) - math.log(draws.shape[1])
    return PsisLoo(
        studies=tuple(str(s) for s in log_lik["study"].values),
        elpd_i=elpd_i,
        pareto_k=np.asarray(loo.pareto_k.transpose("study").values, dtype=float),
        p_loo_i=lppd_i - elpd_i,
        elpd=float(loo.elpd), elpd_se=float(loo.se), p_loo=float(loo.p),
        good_k=float(loo.good_k),
        **({"high_k_reason": result.high_k_reason} if hasattr(result, "high_k_reason")
           else {}))


Refit = Callable[[Any, Any], Any]


def leave_one_out(result: Any, refit: Refit, *, threshold: float | None = None,
                  studies: Sequence[str] | None = None,
                  progress: Progress | None = None) -> tuple[StudyRefit, ...]:
    """Refit without each study (or each of ``studies``) and summarise every refit.

    ``refit(result, data)`` returns a result of the same kind fitted to ``data`` with the
    same priors and settings; ``result.data.without(study)`` gives the data.
    """
    progress = progress or SilentProgress()
    scale = result.effect_scale
    c = scale.null if threshold is None else threshold
    chosen = list(result.data.study if studies is None else studies)
    out = []
    for j, study in enumerate(chosen, start=1):
        progress.stage(f"Leave-one-out refit {j}/{len(chosen)}: without {study}")
        refitted = refit(result, result.data.without(study))
        out.append(summarise_fit(refitted, study, c))
    return tuple(out)


def influence(result: Any, refit: Refit | None, *, threshold: float | None = None,
              studies: Sequence[str] | None = None, with_loo: bool = True,
              progress: Progress | None = None) -> Influence:
    """PSIS-LOO (when the result has draws) and leave-one-study-out refits (when ``refit``
    is given) of ``result``."""
    scale = result.effect_scale
    c = scale.null if threshold is None else threshold
    has_draws = getattr(result, "idata", None) is not None
    loo = (psis_loo(result) if with_loo and has_draws
           and hasattr(result, "pointwise_log_likelihood") else None)
    skipped = ""
    refits: tuple[StudyRefit, ...] = ()
    if refit is None:
        skipped = "leave-one-study-out refits were not run (asked for none)"
    elif result.data.k < 3:
        skipped = (f"leave-one-study-out refits need at least 3 studies "
                   f"(there are {result.data.k})")
    else:
        try:
            refits = leave_one_out(result, refit, threshold=c, studies=studies,
                                   progress=progress)
        except InputError as exc:  # e.g. an improper prior needs all k studies
            if studies is not None and any(s not in result.data.study for s in studies):
                raise
            skipped = f"leave-one-study-out refits could not be run: {exc}"
    settings = {}
    if hasattr(result, "settings_dict"):
        full_settings = result.settings_dict()
        settings = {k: full_settings[k] for k in ("model", "priors", "sampler", "seed")
                    if k in full_settings}
    draws = getattr(result.posterior(scale.pooled), "draws", None)
    return Influence(effect=scale.name, symbol=scale.symbol, log_scale=scale.log, threshold=c,
                     harm_text=scale.harm_text(c), full=summarise_fit(result, "(all studies)", c),
                     loo=loo, refits=refits, refits_skipped=skipped, settings=settings,
                     n_draws=None if draws is None else int(np.size(draws)))
