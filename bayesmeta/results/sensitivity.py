"""The result of a prior sensitivity analysis: one fit per prior configuration, a table, a verdict.

``SensitivityResult`` holds, for every configuration of a prior set, the fit (an MCMC
:class:`~bayesmeta.results.binary.BinaryMetaResult`, or a
:class:`~bayesmeta.results.reweighting.ReweightedResult`) and answers:

* ``table()`` — a row per prior: pooled OR median and 95% CrI, τ median, P(OR > 1),
  P(θ_new > 0), P(OR > c) for each threshold c, and the diagnostics;
* ``verdict`` — per OR threshold c: where the 95% CrI of the pooled OR lies relative to c
  under each prior (below / includes / above c), whether that is the same under every prior
  (robust) or not (the threshold is crossed under some prior), the range of P(OR > c) and
  the prior that moves it most away from the reference; ``verdict.text()`` says it in words;
* ``results[name]`` — each configuration's full result; ``to_dict()`` the ``--json`` document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from bayesmeta.data.binary import BinaryData
from bayesmeta.inference.sampling import SamplerSettings
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.results.jsonable import clean as _clean
from bayesmeta.results.prior_sensitivity import NO_CONCERN, PowerScaling
from bayesmeta.results.versions import software_versions

SCHEMA = "bayesmeta.sensitivity.binary/1"
REPORTED = ("log_or", "or", "tau", "theta_new", "or_new")

BELOW, INCLUDES, ABOVE = "below", "includes", "above"


class FitLike(Protocol):
    """What a row needs of a fit (MCMC or reweighted)."""

    priors: BinomialNormalPriors

    def posterior(self, name: str) -> Any: ...

    def prob_harm(self, threshold: float = 1.0, *, predictive: bool = False) -> float: ...


@dataclass(frozen=True, eq=False)
class SensitivityRow:
    """One prior configuration and its fit."""

    name: str
    priors: BinomialNormalPriors
    fit: Any  # BinaryMetaResult | ReweightedResult
    source: str = ""
    method: str = "mcmc"  # "mcmc", "reweighted" or "refit" (reweighting was unreliable)
    power_scaling: PowerScaling | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def summary(self, quantity: str, *, with_mcse: bool = False) -> dict[str, Any]:
        """``{mean, sd, median, q025, q975}`` (+ ``mcse``) of a quantity (cached)."""
        key = ("summary", quantity, with_mcse)
        if key not in self._cache:
            self._cache[key] = self.fit.posterior(quantity).summary(with_mcse=with_mcse)
        return self._cache[key]

    def prob(self, threshold: float, *, predictive: bool = False) -> float:
        key = ("prob", threshold, predictive)
        if key not in self._cache:
            self._cache[key] = self.fit.prob_harm(threshold, predictive=predictive)
        return self._cache[key]

    def warm(self, thresholds: tuple[float, ...] = ()) -> None:
        """Compute what the table and the verdict read (done while the next prior samples)."""
        for q in REPORTED:
            self.summary(q)
        for c in (1.0, *thresholds):
            self.prob(c)
            self.prob(c, predictive=True)

    @property
    def mcmc(self) -> Any:
        """The MCMC fit behind this row (None for a reweighted row)."""
        if self.method == "mcmc":
            return self.fit
        return getattr(self.fit, "refit", None)

    @property
    def diagnostics_ok(self) -> bool:
        fit = self.mcmc
        if fit is not None:
            return fit.diagnostics.ok
        return bool(self.fit.reliable)

    def diagnostics_text(self) -> str:
        """Short: "OK", the failed checks, or the reweighting's k̂."""
        fit = self.mcmc
        if fit is not None:
            d = fit.diagnostics
            return "OK" if d.ok else "; ".join(p.check for p in d.problems)
        return f"k̂ {self.fit.pareto_k:.2f}, ESS {self.fit.ess:.0f}"

    def to_dict(self, reference: SensitivityRow, thresholds: tuple[float, ...]) -> dict:
        out: dict[str, Any] = {
            "name": self.name,
            "source": self.source,
            "method": self.method,
            "priors": {k: p.to_dict() for k, p in self.priors.as_dict().items()},
            "changed": [slot for slot, p in self.priors.as_dict().items()
                        if reference.priors.as_dict()[slot] != p],
        }
        for q in REPORTED:
            out[q] = self.summary(q, with_mcse=True)
        out["probabilities"] = {
            "or_gt_1": self.prob(1.0), "theta_new_gt_0": self.prob(1.0, predictive=True),
            "or_gt": {f"{c:g}": self.prob(c) for c in thresholds},
            "or_new_gt": {f"{c:g}": self.prob(c, predictive=True) for c in thresholds},
        }
        fit = self.mcmc
        out["diagnostics"] = fit.diagnostics.to_dict() if fit is not None else None
        out["reweighting"] = (None if self.method == "mcmc" else
                              {k: v for k, v in self.fit.to_dict().items()
                               if k in ("pareto_k", "khat_threshold", "reliable", "reason",
                                        "ess")})
        out["prior_sensitivity"] = (self.power_scaling.to_dict() if self.power_scaling
                                    else None)
        return out


def classify(q025: float, q975: float, threshold: float) -> str:
    """Where a 95% CrI of the OR lies relative to ``threshold``."""
    if q975 < threshold:
        return BELOW
    if q025 > threshold:
        return ABOVE
    return INCLUDES


@dataclass(frozen=True)
class ThresholdVerdict:
    """How the conclusion about one threshold c of the pooled effect (an OR by default)
    changes across priors. ``symbol`` names the effect in the text (``OR``, ``RR``, ``SMD``),
    ``key`` in the JSON (``p_or_gt``)."""

    threshold: float
    reference: str
    classes: dict[str, str]  # prior name -> below / includes / above
    probabilities: dict[str, float]  # prior name -> P(OR > c)
    symbol: str = "OR"
    key: str = "or"

    @property
    def robust(self) -> bool:
        return len(set(self.classes.values())) == 1

    @property
    def crossed_by(self) -> list[str]:
        """Priors under which the 95% CrI sits differently from the reference's."""
        ref = self.classes[self.reference]
        return [n for n, c in self.classes.items() if c != ref]

    @property
    def moved_most(self) -> tuple[str, float]:
        """The prior whose P(OR > c) differs most from the reference's, and by how much."""
        ref = self.probabilities[self.reference]
        others = {n: p - ref for n, p in self.probabilities.items() if n != self.reference}
        if not others:
            return self.reference, 0.0
        name = max(others, key=lambda n: (abs(others[n]), n))
        return name, others[name]

    def extreme(self, largest: bool) -> tuple[str, float]:
        pick = max if largest else min
        name = pick(self.probabilities, key=lambda n: self.probabilities[n])
        return name, self.probabilities[name]

    def text(self, n_draws: int) -> str:
        c = f"{self.threshold:g}"
        ref_class = self.classes[self.reference]
        lo_name, lo = self.extreme(largest=False)
        hi_name, hi = self.extreme(largest=True)
        where = {BELOW: f"lies below {c}", ABOVE: f"lies above {c}",
                 INCLUDES: f"includes {c}"}
        sym = self.symbol
        span = (f"P({sym} > {c}) ranges from {_p(lo, n_draws)} ({lo_name}) to "
                f"{_p(hi, n_draws)} ({hi_name})")
        mover, change = self.moved_most
        moved = (f"; the prior that moves it most from the reference is {mover} "
                 f"({'+' if change >= 0 else '−'}{_p(abs(change), None)})"
                 if mover != self.reference else "")
        if self.robust:
            return (f"{sym} threshold {c}: robust — under every prior the 95% CrI of the "
                    f"pooled {sym} {where[ref_class]}. {span}{moved}.")
        crossed = self.crossed_by
        other = sorted({self.classes[n] for n in crossed})
        return (f"{sym} threshold {c}: NOT robust — under the reference prior "
                f"({self.reference}) the 95% CrI {where[ref_class]}, but it "
                f"{' / '.join(where[o] for o in other)} under {', '.join(crossed)}. "
                f"{span}{moved}.")

    def to_dict(self) -> dict[str, Any]:
        mover, change = self.moved_most
        lo_name, lo = self.extreme(largest=False)
        hi_name, hi = self.extreme(largest=True)
        return {"threshold": self.threshold, "robust": self.robust,
                "reference": {"prior": self.reference,
                              "class": self.classes[self.reference],
                              f"p_{self.key}_gt": self.probabilities[self.reference]},
                "classes": dict(self.classes), f"p_{self.key}_gt": dict(self.probabilities),
                "crossed_by": self.crossed_by,
                "p_min": {"prior": lo_name, "value": lo},
                "p_max": {"prior": hi_name, "value": hi},
                "moved_most": {"prior": mover, "change": change}}


def _p(p: float, n_draws: int | None) -> str:
    if n_draws and p == 0:
        return f"< {1 / n_draws:.1g}"
    if p < 0.001:
        return f"{p:.1g}" if p > 0 else "0"
    return f"{p:.3f}"


@dataclass(frozen=True, eq=False)
class SensitivityResult:
    """A prior sensitivity analysis of a binomial–normal meta-analysis (see module doc)."""

    data: BinaryData
    title: str
    reference: str
    rows: tuple[SensitivityRow, ...]
    settings: SamplerSettings
    thresholds: tuple[float, ...] = ()
    method: str = "refit"
    prior_set_source: str = ""
    model: str = "binomial_normal"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rows]

    @property
    def results(self) -> dict[str, Any]:
        """Each configuration's fit, by name."""
        return {r.name: r.fit for r in self.rows}

    def row(self, name: str) -> SensitivityRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def reference_row(self) -> SensitivityRow:
        return self.row(self.reference)

    @property
    def all_thresholds(self) -> tuple[float, ...]:
        """OR thresholds of the verdict: 1 and those asked for."""
        return tuple(dict.fromkeys((1.0, *self.thresholds)))

    def table(self) -> pd.DataFrame:
        """A row per prior: the quantities a reviewer compares (and the diagnostics)."""
        records = []
        for r in self.rows:
            or_ = r.summary("or")
            rec: dict[str, Any] = {
                "prior": r.name,
                "tau_prior": r.priors.tau.spec, "effect_prior": r.priors.effect.spec,
                "baseline_prior": r.priors.baseline.spec,
                "or_median": or_["median"], "or_q025": or_["q025"], "or_q975": or_["q975"],
                "tau_median": r.summary("tau")["median"],
                "p_or_gt_1": r.prob(1.0), "p_theta_new_gt_0": r.prob(1.0, predictive=True),
            }
            for c in self.thresholds:
                rec[f"p_or_gt_{c:g}"] = r.prob(c)
            rec["method"] = r.method
            rec["diagnostics"] = r.diagnostics_text()
            ps = r.power_scaling
            rec["power_scaling"] = ("" if ps is None else
                                    "; ".join(f"{q}: {d}" for q, d in ps.concerns.items())
                                    or NO_CONCERN)
            records.append(rec)
        return pd.DataFrame(records).set_index("prior")

    @property
    def verdicts(self) -> list[ThresholdVerdict]:
        out = []
        for c in self.all_thresholds:
            classes, probs = {}, {}
            for r in self.rows:
                s = r.summary("or")
                classes[r.name] = classify(s["q025"], s["q975"], c)
                probs[r.name] = r.prob(c)
            out.append(ThresholdVerdict(c, self.reference, classes, probs))
        return out

    def verdict_text(self) -> list[str]:
        """The verdict in words: one sentence per threshold, the spread, the diagnostics."""
        n_draws = self.settings.chains * self.settings.draws
        lines = [v.text(n_draws) for v in self.verdicts]
        medians = {r.name: r.summary("or")["median"] for r in self.rows}
        taus = {r.name: r.summary("tau")["median"] for r in self.rows}
        new = {r.name: r.prob(1.0, predictive=True) for r in self.rows}
        lo, hi = min(medians, key=medians.get), max(medians, key=medians.get)
        lines.append(f"Pooled OR (median) from {medians[lo]:.3g} ({lo}) to {medians[hi]:.3g} "
                     f"({hi}); reference {medians[self.reference]:.3g}.")
        tlo, thi = min(taus, key=taus.get), max(taus, key=taus.get)
        lines.append(f"Heterogeneity τ (median) from {taus[tlo]:.2g} ({tlo}) to "
                     f"{taus[thi]:.2g} ({thi}).")
        nlo, nhi = min(new, key=new.get), max(new, key=new.get)
        lines.append(f"P(θ_new > 0), harm in a new trial, from {_p(new[nlo], n_draws)} ({nlo}) "
                     f"to {_p(new[nhi], n_draws)} ({nhi}).")
        bad = [r.name for r in self.rows if not r.diagnostics_ok]
        if bad:
            lines.append(f"Do not trust the rows of {', '.join(bad)} yet: their sampler "
                         "diagnostics failed (see the table and the JSON for remedies).")
        conflicts = [r.name for r in self.rows if r.power_scaling is not None
                     and "log_or" in r.power_scaling.concerns]
        if conflicts:
            lines.append("Power-scaling flags the pooled log OR under "
                         f"{', '.join(conflicts)}: there the result leans on the prior.")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (schema ``bayesmeta.sensitivity.binary/1``)."""
        d = self.data
        ref = self.reference_row
        return _clean({
            "schema": SCHEMA,
            "model": self.model,
            "data": {"source": d.source, "n_studies": d.k, "studies": list(d.study),
                     "events_t": int(d.events_t.sum()), "n_t": int(d.n_t.sum()),
                     "events_c": int(d.events_c.sum()), "n_c": int(d.n_c.sum())},
            "prior_set": {"title": self.title, "source": self.prior_set_source,
                          "reference": self.reference, "names": self.names},
            "rows": [r.to_dict(ref, self.thresholds) for r in self.rows],
            "verdict": {"thresholds": [v.to_dict() for v in self.verdicts],
                        "text": self.verdict_text()},
            "settings": {"model": self.model, "method": self.method,
                         "sampler": self.settings.to_dict(), "seed": self.settings.seed,
                         "thresholds": list(self.thresholds),
                         "versions": software_versions()},
        })

    def plot_data(self) -> pd.DataFrame:
        """Per prior: OR median and 95% CrI, P(OR > 1), P(θ_new > 0) (for the plot)."""
        t = self.table()
        return t[["or_median", "or_q025", "or_q975", "p_or_gt_1", "p_theta_new_gt_0"]]
