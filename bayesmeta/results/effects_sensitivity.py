"""The result of a prior sweep of the normal–normal model: one fit per prior, a table, a verdict.

``EffectsSensitivityResult`` is the effect-size counterpart of
:class:`~bayesmeta.results.sensitivity.SensitivityResult`: every row is an
:class:`~bayesmeta.results.effects.EffectsMetaResult` (exact by default — the same object
``fit_effects`` returns for that prior) and the result answers the same questions:

* ``table()`` — a row per prior: the pooled effect's median and 95% CrI and a new study's
  95% interval on the displayed scale (OR/RR/HR for log-ratio measures, else the measure's
  own scale), τ median, P(effect > null), P(θ_new > 0), P(effect > c) per threshold c;
* ``verdicts`` / ``verdict_text()`` — per threshold: where each prior's 95% CrI lies relative
  to c, whether that is the same under every prior, the range of P(effect > c) and the prior
  that moves it most (:class:`~bayesmeta.results.sensitivity.ThresholdVerdict`);
* ``to_dict()`` — the ``--json`` document (schema ``bayesmeta.sensitivity.effects/1``).

Thresholds are on the displayed scale (an OR of 1.5, an SMD of 0.2); probabilities are
P(μ > internal c) from the posterior of μ, so P(OR > 1) is exactly ``fit_effects``'s
``mu_gt_0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from bayesmeta.data.effects import MEASURES, RATIO_NAMES, EffectsData
from bayesmeta.inference.sampling import SamplerSettings
from bayesmeta.models.nnhm import NNHMPriors
from bayesmeta.results.effect_scale import EFFECT_SIZE_SCALES, EffectScale
from bayesmeta.results.effects import EffectsMetaResult, software_versions
from bayesmeta.results.jsonable import clean
from bayesmeta.results.sensitivity import ThresholdVerdict, _p, classify

SCHEMA = "bayesmeta.sensitivity.effects/1"

def effect_scale_of(measure: str) -> EffectScale:
    """How effects on ``measure``'s scale are shown and judged: log-ratio measures as the
    ratio (OR, RR, HR; no effect = 1, log axis), the others on their own scale (0). The
    fit's own scale (:data:`EFFECT_SIZE_SCALES`), with a sweep's fuller name for measures
    that are not ratios (e.g. "standardised mean difference (Hedges' g)")."""
    scale = EFFECT_SIZE_SCALES[measure]
    return scale if scale.log else replace(scale, name=MEASURES.get(measure, measure))


def display_names(measure: str) -> tuple[str, str]:
    """Names of ``EffectsMetaResult.posterior`` for the pooled effect and a new study's
    effect on the displayed scale: ``("or", "or_new")`` or ``("mu", "theta_new")``."""
    ratio = RATIO_NAMES.get(measure)
    return (ratio, f"{ratio}_new") if ratio else ("mu", "theta_new")


@dataclass(frozen=True, eq=False)
class EffectsSensitivityRow:
    """One prior configuration and its normal–normal fit."""

    name: str
    priors: NNHMPriors
    fit: EffectsMetaResult
    scale: EffectScale
    source: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def method(self) -> str:
        return self.fit.method

    def summary(self, quantity: str) -> dict[str, Any]:
        """The fit's ``quantity_summary`` (with ``mcse`` for MCMC), cached."""
        if quantity not in self._cache:
            self._cache[quantity] = self.fit.quantity_summary(quantity, mcse=True)
        return self._cache[quantity]

    def prob(self, threshold: float, *, predictive: bool = False) -> float:
        """P(effect > threshold), the threshold on the displayed scale (an OR for log ORs):
        P(μ > log c) — or P(θ_new > log c) — from the fit."""
        key = ("prob", threshold, predictive)
        if key not in self._cache:
            name = self.scale.predictive if predictive else self.scale.pooled
            self._cache[key] = self.fit.posterior(name).sf(self.scale.to_internal(threshold))
        return self._cache[key]

    @property
    def diagnostics_ok(self) -> bool:
        return bool(self.fit.method_details()["ok"])

    def diagnostics_text(self) -> str:
        """"exact" (quadrature converged), or the MCMC checks: "OK" or the failed ones."""
        if self.method == "exact":
            if self.diagnostics_ok:
                return "exact"
            err = self.fit.method_details()["estimated_relative_error"]
            return f"exact, quadrature error {err:.0e}"
        d = self.fit.diagnostics
        assert d is not None
        return "OK" if d.ok else "; ".join(p.check for p in d.problems)

    def to_dict(self, reference: EffectsSensitivityRow,
                thresholds: tuple[float, ...]) -> dict[str, Any]:
        pooled, new = display_names(self.fit.data.measure)
        null = self.scale.null
        ref = reference.priors.as_dict()
        out: dict[str, Any] = {
            "name": self.name, "source": self.source, "method": self.method,
            "priors": {k: p.to_dict() for k, p in self.priors.as_dict().items()},
            "changed": [slot for slot, p in self.priors.as_dict().items()
                        if ref.get(slot) != p],
        }
        for q in self.fit.quantities:
            out[q] = self.summary(q)
        out["probabilities"] = {
            f"{pooled}_gt_{null:g}": self.prob(null),
            "theta_new_gt_0": self.prob(null, predictive=True),
            f"{pooled}_gt": {f"{c:g}": self.prob(c) for c in thresholds},
            f"{new}_gt": {f"{c:g}": self.prob(c, predictive=True) for c in thresholds},
        }
        out["bayes_factors"] = self.fit.bayes_factors()
        out["diagnostics"] = self.fit.method_details()
        return out


@dataclass(frozen=True, eq=False)
class EffectsSensitivityResult:
    """A prior sensitivity analysis of a normal–normal meta-analysis (see module doc).

    ``skipped`` lists configurations that were not fitted, with the reason (an improper prior
    under ``method="mcmc"``, or an improper posterior with too few studies)."""

    data: EffectsData
    title: str
    reference: str
    rows: tuple[EffectsSensitivityRow, ...]
    scale: EffectScale
    method: str = "exact"
    settings: SamplerSettings | None = None
    thresholds: tuple[float, ...] = ()
    prior_set_source: str = ""
    skipped: tuple[tuple[str, str], ...] = ()
    model: str = "nnhm"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rows]

    @property
    def results(self) -> dict[str, EffectsMetaResult]:
        """Each configuration's fit, by name."""
        return {r.name: r.fit for r in self.rows}

    def row(self, name: str) -> EffectsSensitivityRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def reference_row(self) -> EffectsSensitivityRow:
        return self.row(self.reference)

    @property
    def all_thresholds(self) -> tuple[float, ...]:
        """Thresholds of the verdict: no effect (1 or 0) and those asked for."""
        return tuple(dict.fromkeys((self.scale.null, *self.thresholds)))

    @property
    def extra_thresholds(self) -> tuple[float, ...]:
        """The thresholds asked for other than no effect (own columns of the table)."""
        return tuple(c for c in dict.fromkeys(self.thresholds) if c != self.scale.null)

    @property
    def display(self) -> tuple[str, str]:
        """The pooled and new-study quantities on the displayed scale (``or``, ``or_new``)."""
        return display_names(self.data.measure)

    @property
    def n_draws(self) -> int | None:
        """Draws per fit (MCMC), for writing small probabilities; None for exact fits."""
        if self.method != "mcmc" or self.settings is None:
            return None
        return self.settings.chains * self.settings.draws

    def table(self) -> pd.DataFrame:
        """A row per prior: the quantities a reviewer compares (and how each was computed)."""
        pooled, new = self.display
        null = self.scale.null
        records = []
        for r in self.rows:
            s, n = r.summary(pooled), r.summary(new)
            rec: dict[str, Any] = {
                "prior": r.name, "tau_prior": r.priors.tau.spec if r.priors.tau else "",
                "mu_prior": r.priors.mu.spec,
                f"{pooled}_median": s["median"], f"{pooled}_q025": s["q025"],
                f"{pooled}_q975": s["q975"],
                f"{new}_q025": n["q025"], f"{new}_q975": n["q975"],
                "tau_median": r.summary("tau")["median"],
                f"p_{pooled}_gt_{null:g}": r.prob(null),
                "p_theta_new_gt_0": r.prob(null, predictive=True),
            }
            for c in self.extra_thresholds:
                rec[f"p_{pooled}_gt_{c:g}"] = r.prob(c)
            rec["method"] = r.method
            rec["diagnostics"] = r.diagnostics_text()
            records.append(rec)
        return pd.DataFrame(records).set_index("prior")

    @property
    def verdicts(self) -> list[ThresholdVerdict]:
        pooled, _ = self.display
        out = []
        for c in self.all_thresholds:
            classes, probs = {}, {}
            for r in self.rows:
                s = r.summary(pooled)
                classes[r.name] = classify(s["q025"], s["q975"], c)
                probs[r.name] = r.prob(c)
            out.append(ThresholdVerdict(c, self.reference, classes, probs,
                                        symbol=self.scale.symbol, key=pooled))
        return out

    def verdict_text(self) -> list[str]:
        """The verdict in words: one sentence per threshold, the spread, what was skipped."""
        pooled, _ = self.display
        sym = self.scale.symbol
        n_draws = self.n_draws
        lines = [v.text(n_draws) for v in self.verdicts]
        medians = {r.name: r.summary(pooled)["median"] for r in self.rows}
        taus = {r.name: r.summary("tau")["median"] for r in self.rows}
        new = {r.name: r.prob(self.scale.null, predictive=True) for r in self.rows}
        lo, hi = min(medians, key=medians.get), max(medians, key=medians.get)
        lines.append(f"Pooled {sym} (median) from {medians[lo]:.3g} ({lo}) to "
                     f"{medians[hi]:.3g} ({hi}); reference {medians[self.reference]:.3g}.")
        tlo, thi = min(taus, key=taus.get), max(taus, key=taus.get)
        lines.append(f"Heterogeneity τ (median) from {taus[tlo]:.2g} ({tlo}) to "
                     f"{taus[thi]:.2g} ({thi}).")
        nlo, nhi = min(new, key=new.get), max(new, key=new.get)
        lines.append(f"P(θ_new > 0), a new study's effect above {self.scale.null:g} on the "
                     f"{sym} scale, from {_p(new[nlo], n_draws)} ({nlo}) to "
                     f"{_p(new[nhi], n_draws)} ({nhi}).")
        if self.skipped:
            lines.append("Not fitted: " + "; ".join(f"{n} ({why})" for n, why in self.skipped)
                         + ".")
        bad = [r.name for r in self.rows if not r.diagnostics_ok]
        if bad:
            what = ("sampler diagnostics" if self.method == "mcmc"
                    else "quadrature accuracy checks")
            lines.append(f"Do not trust the rows of {', '.join(bad)} yet: their {what} "
                         "failed (see the table and the JSON).")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (schema ``bayesmeta.sensitivity.effects/1``)."""
        d = self.data
        ref = self.reference_row
        return clean({
            "schema": SCHEMA,
            "model": self.model,
            "method": self.method,
            "data": {"source": d.source, "n_studies": d.k, "studies": list(d.study),
                     "measure": d.measure, "measure_text": d.measure_text,
                     "derivation": d.derivation},
            "effect": {"name": self.scale.name, "symbol": self.scale.symbol,
                       "log": self.scale.log, "null": self.scale.null},
            "prior_set": {"title": self.title, "source": self.prior_set_source,
                          "reference": self.reference, "names": self.names},
            "rows": [r.to_dict(ref, self.thresholds) for r in self.rows],
            "skipped": [{"name": n, "reason": why} for n, why in self.skipped],
            "verdict": {"thresholds": [v.to_dict() for v in self.verdicts],
                        "text": self.verdict_text()},
            "settings": {"model": self.model, "method": self.method, "measure": d.measure,
                         "sampler": None if self.settings is None else self.settings.to_dict(),
                         "seed": None if self.settings is None else self.settings.seed,
                         "thresholds": list(self.thresholds),
                         "versions": dict(software_versions())},
        })

    @property
    def plot_columns(self) -> tuple[str, str, str, str, str]:
        """Columns of :meth:`table` the sensitivity plot draws: median, 95% CrI, P(effect >
        null), P(θ_new > 0)."""
        pooled, _ = self.display
        return (f"{pooled}_median", f"{pooled}_q025", f"{pooled}_q975",
                f"p_{pooled}_gt_{self.scale.null:g}", "p_theta_new_gt_0")

    def plot_data(self) -> pd.DataFrame:
        return self.table()[list(self.plot_columns)]
