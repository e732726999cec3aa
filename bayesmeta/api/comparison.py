"""Compare methods on the same data: a small registry of methods and the function that runs them.

Every method is a :class:`ComparisonMethod`: a name (``reml-tacc``), a label, its kind
(``classical`` or ``bayesian``), the data it takes (``binary`` or ``rates``), the measure it
estimates, its zero-cell rule in words, and a callable ``run(data, context) ->
ComparisonRow``. :data:`METHODS` holds them in display order; :func:`compare` runs the
chosen ones and returns a :class:`~bayesmeta.results.comparison.Comparison`.

Adding a model is one entry. For example a normal–normal model on log ORs, given a function
``fit_nnhm(effects, ...)`` returning a result with ``posterior("mu")``::

    def _run_nnhm(data, ctx):
        res = fit_nnhm(data, tau_prior=ctx.tau_prior, **ctx.sampler_kwargs())
        return bayesian_row("nnhm", "normal–normal (log OR, 0.5 cc)", res.posterior("or"),
                            res.posterior("or_new"), res.posterior("tau"),
                            zeros="0.5 added to tables with a zero; double zeros dropped",
                            used=..., total=data.k, diagnostics=res.diagnostics)

    register(ComparisonMethod("nnhm", "normal–normal model", "bayesian", "binary", "OR",
                              "0.5 to tables with a zero", _run_nnhm))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bayesmeta.api.binary import fit_binary
from bayesmeta.api.common import sampler_kwargs
from bayesmeta.api.effects import fit_effects
from bayesmeta.api.rates import fit_rates
from bayesmeta.data.binary import BinaryData
from bayesmeta.data.loading import load_data
from bayesmeta.data.rates import RateData
from bayesmeta.errors import InputError
from bayesmeta.inference.classical.analyses import classical_binary, classical_rates
from bayesmeta.inference.classical.result import NoEstimate
from bayesmeta.inference.sampling import Progress, SamplerSettings, SilentProgress
from bayesmeta.priors import Prior
from bayesmeta.results.comparison import Comparison, ComparisonRow
from bayesmeta.results.marginal import DrawsMarginal

DATA_KINDS = ("binary", "rates")


@dataclass(frozen=True)
class CompareContext:
    """What every method's ``run`` receives besides the data: sampler settings and priors
    for the Bayesian models, the interval level and the continuity correction of the
    classical ones, and where to report progress."""

    settings: SamplerSettings = field(default_factory=SamplerSettings)
    progress: Progress = field(default_factory=SilentProgress)
    tau_prior: str | Prior | None = None
    effect_prior: str | Prior | None = None
    level: float = 0.95
    cc: float = 0.5

    def sampler_kwargs(self) -> dict[str, Any]:
        """The sampler settings and progress as keyword arguments of a fitting function."""
        return {**sampler_kwargs(self.settings), "progress": self.progress}


@dataclass(frozen=True)
class ComparisonMethod:
    """One method in the registry (see the module docstring)."""

    name: str
    label: str
    kind: str
    data_kind: str
    measure: str
    zeros: str
    run: Callable[[Any, CompareContext], ComparisonRow]
    default: bool = True


#: The registry, in display order.
METHODS: dict[str, ComparisonMethod] = {}


def register(method: ComparisonMethod, *, replace: bool = False) -> ComparisonMethod:
    """Add a method to :data:`METHODS` (``replace=True`` to overwrite one of that name)."""
    if method.kind not in ("classical", "bayesian"):
        raise ValueError("kind must be 'classical' or 'bayesian'")
    if method.data_kind not in DATA_KINDS:
        raise ValueError(f"data_kind must be one of {DATA_KINDS}")
    if method.name in METHODS and not replace:
        raise ValueError(f"a method '{method.name}' is already registered")
    METHODS[method.name] = method
    return method


# -- classical methods -------------------------------------------------------------------
def _classical(name: str, label: str, data_kind: str, measure: str, method: str, zeros: str,
               *, default: bool = True, **options: Any) -> None:
    def run(data: Any, ctx: CompareContext) -> ComparisonRow:
        analyse = classical_binary if data_kind == "binary" else classical_rates
        fit = analyse(data, method, measure=measure, cc=ctx.cc, level=ctx.level, **options)
        return ComparisonRow.from_classical(name, fit, label=label)

    register(ComparisonMethod(name, label, "classical", data_kind, measure, zeros, run,
                              default))


ONLY0 = "0.5 to tables with a zero"
_classical("mh", "Mantel–Haenszel", "binary", "OR", "MH", "none (raw counts)")
_classical("peto", "Peto", "binary", "OR", "Peto", "none (raw counts)")
_classical("fe", "inverse variance, fixed effect", "binary", "OR", "FE",
           ONLY0 + "; double zeros dropped", drop00=True)
_classical("dl", "DerSimonian–Laird", "binary", "OR", "DL", ONLY0 + "; double zeros dropped",
           drop00=True)
_classical("dl-hksj", "DerSimonian–Laird + HKSJ", "binary", "OR", "DL",
           ONLY0 + "; double zeros dropped", drop00=True, test="knha")
_classical("reml", "REML", "binary", "OR", "REML",
           ONLY0 + "; double zeros kept (metafor's default)", drop00=False)
_classical("reml-drop00", "REML, double zeros dropped", "binary", "OR", "REML",
           ONLY0 + "; double zeros dropped", drop00=True)
_classical("reml-all", "REML, 0.5 to every table", "binary", "OR", "REML",
           "0.5 to every table; double zeros dropped", drop00=True, cc_to="all")
_classical("reml-tacc", "REML, treatment-arm correction", "binary", "OR", "REML",
           "treatment-arm correction (Sweeting 2004); double zeros dropped", drop00=True,
           cc_method="tacc")
_classical("reml-none", "REML, no correction", "binary", "OR", "REML",
           "none: tables with a zero cell left out", drop00=True, cc_to="none")
_classical("reml-hksj", "REML + HKSJ", "binary", "OR", "REML",
           ONLY0 + "; double zeros dropped", drop00=True, test="knha")
_classical("pm", "Paule–Mandel", "binary", "OR", "PM", ONLY0 + "; double zeros dropped",
           drop00=True)
_classical("pm-hksj", "Paule–Mandel + HKSJ", "binary", "OR", "PM",
           ONLY0 + "; double zeros dropped", drop00=True, test="knha")
_classical("glmm", "binomial-normal GLMM (ML)", "binary", "OR", "GLMM",
           "none (exact likelihood)")
for _measure in ("RR", "RD"):
    _low = _measure.lower()
    _classical(f"mh-{_low}", f"Mantel–Haenszel {_measure}", "binary", _measure, "MH",
               "none (raw counts)")
    _rule = (ONLY0 + "; double zeros dropped" if _measure == "RR"
             else "none; double zeros left out (zero variance)")
    _classical(f"dl-{_low}", f"DerSimonian–Laird {_measure}", "binary", _measure, "DL", _rule,
               drop00=True)
    _classical(f"reml-{_low}", f"REML {_measure}", "binary", _measure, "REML", _rule,
               drop00=True)
_IRR0 = "0.5 to both arms of studies with a zero"
_classical("mh-irr", "Mantel–Haenszel rate ratio", "rates", "IRR", "MH", "none (raw counts)")
_classical("fe-irr", "inverse variance, fixed effect", "rates", "IRR", "FE",
           _IRR0 + "; double zeros dropped", drop00=True)
_classical("dl-irr", "DerSimonian–Laird", "rates", "IRR", "DL",
           _IRR0 + "; double zeros dropped", drop00=True)
_classical("dl-irr-hksj", "DerSimonian–Laird + HKSJ", "rates", "IRR", "DL",
           _IRR0 + "; double zeros dropped", drop00=True, test="knha")
_classical("reml-irr", "REML", "rates", "IRR", "REML", _IRR0 + "; double zeros dropped",
           drop00=True)
_classical("reml-irr-hksj", "REML + HKSJ", "rates", "IRR", "REML",
           _IRR0 + "; double zeros dropped", drop00=True, test="knha")
_classical("glmm-irr", "Poisson-normal GLMM (ML)", "rates", "IRR", "GLMM",
           "none (exact likelihood)")


# -- Bayesian models ---------------------------------------------------------------------
def bayesian_row(name: str, label: str, effect: DrawsMarginal, effect_new: DrawsMarginal,
                 tau: DrawsMarginal, *, measure: str, zeros: str, used: int, total: int,
                 diagnostics: Any, prob_above_null: float | None = None,
                 detail: dict[str, Any] | None = None) -> ComparisonRow:
    """A row from a posterior: median, 95% equal-tailed CrI, predictive interval for a
    new study, τ median and CrI; sampler problems go into ``note``. The marginals may be
    draws or exact (:class:`~bayesmeta.results.exact_marginal.ExactMarginal`, with
    ``diagnostics=None``: no sampler, no Monte Carlo error)."""
    lo, hi = effect.interval(0.95)
    plo, phi = effect_new.interval(0.95)
    tlo, thi = tau.interval(0.95)
    note = "" if diagnostics is None or diagnostics.ok else ("SAMPLER PROBLEMS: " + "; ".join(
        p.check for p in diagnostics.problems))
    draws = getattr(effect, "flat", None)
    return ComparisonRow(name=name, label=label, kind="bayesian", measure=measure,
                         zeros=zeros, studies_used=used, studies_total=total,
                         estimate=effect.median, lower=lo, upper=hi, pred_lower=plo,
                         pred_upper=phi, tau=tau.median, tau_lower=tlo, tau_upper=thi,
                         interval="95% CrI (posterior median)",
                         prob_above_null=prob_above_null, note=note,
                         detail={"n_draws": None if draws is None else int(draws.size),
                                 **(detail or {})})


def _uninformative(data: BinaryData) -> int:
    total = data.events_t + data.events_c
    return int(np.sum((total == 0) | (total == data.n_t + data.n_c)))


def _run_binary_model(likelihood: str) -> Callable[[BinaryData, CompareContext],
                                                   ComparisonRow]:
    def run(data: BinaryData, ctx: CompareContext) -> ComparisonRow:
        res = fit_binary(data, likelihood=likelihood, tau_prior=ctx.tau_prior,
                         effect_prior=ctx.effect_prior, **ctx.sampler_kwargs())
        method = METHODS[_BINARY_MODEL_NAMES[likelihood]]
        if likelihood == "conditional":
            dropped = _uninformative(data)
            zeros = ("none: exact conditional likelihood"
                     + (f"; {dropped} trial(s) without events in either arm carry no "
                        "information" if dropped else ""))
            used = data.k - dropped
        else:
            zeros = ("none: exact binomial likelihood; all trials kept"
                     + (f" ({int(data.double_zero.sum())} double-zero)"
                        if data.double_zero.any() else ""))
            used = data.k
        return bayesian_row(method.name, method.label, res.posterior("or"),
                            res.posterior("or_new"), res.posterior("tau"), measure="OR",
                            zeros=zeros, used=used, total=data.k,
                            diagnostics=res.diagnostics, prob_above_null=res.prob_harm(1.0),
                            detail={"summary": res.summary().to_dict("index"),
                                    "priors": res.settings_dict()["priors"],
                                    "diagnostics": res.diagnostics.to_dict()})
    return run


_BINARY_MODEL_NAMES = {"binomial": "binomial-normal", "conditional": "conditional"}
register(ComparisonMethod("binomial-normal", "binomial-normal model", "bayesian", "binary",
                          "OR", "none (exact binomial likelihood)",
                          _run_binary_model("binomial")))
register(ComparisonMethod("conditional", "conditional (hypergeometric)-normal model",
                          "bayesian", "binary", "OR", "none (exact conditional likelihood)",
                          _run_binary_model("conditional")))


def _run_poisson(data: RateData, ctx: CompareContext) -> ComparisonRow:
    res = fit_rates(data, tau_prior=ctx.tau_prior, effect_prior=ctx.effect_prior,
                    **ctx.sampler_kwargs())
    return bayesian_row("poisson-normal", METHODS["poisson-normal"].label,
                        res.posterior("rr"), res.posterior("rr_new"), res.posterior("tau"),
                        measure="IRR", zeros="none: exact Poisson likelihood; all studies kept",
                        used=data.k, total=data.k, diagnostics=res.diagnostics,
                        prob_above_null=res.prob_harm(1.0),
                        detail={"summary": res.summary().to_dict("index"),
                                "priors": res.settings_dict()["priors"],
                                "diagnostics": res.diagnostics.to_dict()})


register(ComparisonMethod("poisson-normal", "Poisson-normal model", "bayesian", "rates",
                          "IRR", "none (exact Poisson likelihood)", _run_poisson))


def _run_nnhm(data: BinaryData, ctx: CompareContext) -> ComparisonRow:
    """The normal–normal model, exact, on log ORs with the classical methods' zero rule:
    0.5 added to every cell of tables with a zero, double-zero tables dropped."""
    from bayesmeta.data.effect_sizes import binary_effects
    from bayesmeta.data.effects import effects_from_binary

    effects = effects_from_binary(data, measure="logOR", cc=ctx.cc, cc_to="only0",
                                  drop_double_zero=True)
    res = fit_effects(effects, tau_prior=ctx.tau_prior, mu_prior=ctx.effect_prior)
    corrected = list(effects.details["corrected_studies"])
    dropped = list(effects.details["dropped_double_zero"])
    # In the classical inverse-variance methods' words: the same rule gives the same text.
    zeros = binary_effects(data.events_t, data.n_t, data.events_c, data.n_c, measure="OR",
                           cc=ctx.cc, to="only0", drop00=True).note
    return bayesian_row("nnhm", METHODS["nnhm"].label, res.posterior("or"),
                        res.posterior("or_new"), res.posterior("tau"), measure="OR",
                        zeros=zeros, used=effects.k, total=data.k, diagnostics=None,
                        prob_above_null=res.posterior("mu").sf(0.0),
                        detail={"summary": res.summary().to_dict("index"),
                                "priors": res.settings_dict()["priors"],
                                "method": res.method_details(),
                                "corrected_studies": corrected, "dropped_double_zero": dropped})


register(ComparisonMethod("nnhm", "normal-normal model, exact (log OR)", "bayesian", "binary",
                          "OR", ONLY0 + " (as the classical methods); double zeros dropped",
                          _run_nnhm))


# -- running a comparison ----------------------------------------------------------------
def methods_for(data_kind: str, *, measure: str = "OR", bayesian: bool = True
                ) -> list[ComparisonMethod]:
    """The default methods for data of ``data_kind`` on ``measure`` (``"all"``: every
    measure)."""
    return [m for m in METHODS.values() if m.data_kind == data_kind and m.default
            and (measure == "all" or m.measure == measure)
            and (bayesian or m.kind == "classical")]


def select_methods(names: Iterable[str] | None, data_kind: str, *, measure: str | None = None,
                   bayesian: bool = True) -> list[ComparisonMethod]:
    """Resolve method names (or the defaults) for ``data_kind``; unknown names are refused
    with the list of known ones."""
    default_measure = "OR" if data_kind == "binary" else "IRR"
    measures = {m.measure for m in METHODS.values() if m.data_kind == data_kind}
    if measure is not None and measure != "all" and measure not in measures:
        raise InputError(f"measure '{measure}' is not available for {data_kind} data "
                         f"(choose {', '.join(sorted(measures))} or all)", source="--measure")
    if names is None:
        return methods_for(data_kind, measure=measure or default_measure, bayesian=bayesian)
    names = [n.strip() for n in names if n.strip()]
    if names == ["all"]:
        return [m for m in METHODS.values() if m.data_kind == data_kind
                and (bayesian or m.kind == "classical")]
    chosen = []
    for n in names:
        if n not in METHODS:
            known = ", ".join(m for m, v in METHODS.items() if v.data_kind == data_kind)
            raise InputError(f"unknown method '{n}'; methods for {data_kind} data: {known}",
                             source="--methods")
        if METHODS[n].data_kind != data_kind:
            raise InputError(f"method '{n}' is for {METHODS[n].data_kind} data, not "
                             f"{data_kind}", source="--methods")
        chosen.append(METHODS[n])
    if not chosen:
        raise InputError("no methods chosen", source="--methods")
    return chosen


def describe_data(data: BinaryData | RateData) -> dict[str, Any]:
    """What a reader needs to know about the data before reading the rows."""
    out: dict[str, Any] = {
        "source": data.source, "kind": "binary" if isinstance(data, BinaryData) else "rates",
        "n_studies": data.k, "studies": list(data.study),
        "double_zero_studies": [s for s, z in zip(data.study, data.double_zero, strict=True)
                                if z],
        "studies_with_a_zero": int(np.sum(data.any_zero)),
        "events_t": int(data.events_t.sum()), "events_c": int(data.events_c.sum()),
    }
    if isinstance(data, BinaryData):
        out.update(n_t=int(data.n_t.sum()), n_c=int(data.n_c.sum()))
    else:
        out.update(exposure_t=float(data.exposure_t.sum()),
                   exposure_c=float(data.exposure_c.sum()))
    return out


def compare(data: Any, methods: Iterable[str] | None = None, *, measure: str | None = None,
            bayesian: bool = True, tau_prior: str | Prior | None = None,
            effect_prior: str | Prior | None = None, level: float = 0.95, cc: float = 0.5,
            sampler: str = "auto", chains: int = 4, draws: int = 1000, tune: int = 1000,
            seed: int = 1, target_accept: float = 0.9, cores: int | None = None,
            subgroup: str | None = None, progress: Progress | None = None,
            read_options: dict[str, Any] | None = None) -> Comparison:
    """Run every chosen method on the same data (see the module docstring).

    ``data``: a bundled name, CSV path, DataFrame, BinaryData or RateData (a table with
    person-time columns is rate data). ``methods``: names from :data:`METHODS` (``["all"]``
    for every one), default the teaching set for the data's kind on ``measure`` (``OR`` for
    binary data, ``IRR`` for rates; ``"all"`` for every measure). ``bayesian=False`` skips
    the models fitted by MCMC. Sampler settings and priors go to every Bayesian model; the
    classical methods use ``level`` and continuity correction ``cc``.
    """
    loaded = load_data(data, **(read_options or {}))
    if subgroup is not None:
        loaded = loaded.select("subgroup", subgroup)
    data_kind = "binary" if isinstance(loaded, BinaryData) else "rates"
    chosen = select_methods(methods, data_kind, measure=measure, bayesian=bayesian)
    if not 0 < level < 1:
        raise InputError(f"must be between 0 and 1 (got {level})", source="--level")
    if cc <= 0:
        raise InputError(f"must be greater than 0 (got {cc})", source="--cc")
    settings = SamplerSettings(sampler=sampler, chains=chains, draws=draws, tune=tune,
                               seed=seed, target_accept=target_accept, cores=cores)
    ctx = CompareContext(settings=settings, progress=progress or SilentProgress(),
                         tau_prior=tau_prior, effect_prior=effect_prior, level=level, cc=cc)
    rows = []
    for method in chosen:
        if method.kind == "bayesian":
            ctx.progress.stage(f"{method.label}:")
        try:
            rows.append(replace(method.run(loaded, ctx), rule=method.zeros))
        except NoEstimate as exc:
            rows.append(ComparisonRow.failed(method.name, method.label, method.kind,
                                             method.measure, method.zeros, loaded.k,
                                             str(exc)))
            rows[-1] = replace(rows[-1], rule=method.zeros)
    bayes = [m for m in chosen if m.kind == "bayesian"]
    return Comparison(tuple(rows), describe_data(loaded), {
        "methods": [m.name for m in chosen], "measure": measure or "default",
        "level": level, "cc": cc,
        "sampler": settings.to_dict() if bayes else None,
        "tau_prior": None if tau_prior is None else str(tau_prior),
        "effect_prior": None if effect_prior is None else str(effect_prior)})
