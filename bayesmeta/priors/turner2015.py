"""Turner et al. (2015) predictive priors for the heterogeneity of log odds ratios.

Source: Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT. Predictive distributions for
between-study heterogeneity and simple methods for their application in Bayesian
meta-analysis. Stat Med 2015;34(6):984–998, doi:10.1002/sim.6381, Table IV. From 14,886
binary-outcome meta-analyses in the Cochrane Database of Systematic Reviews, the authors give,
for 16 outcome types × 5 intervention-comparison types, a predictive distribution for the
between-study variance of a *new* meta-analysis of log odds ratios:

    log τ² ~ N(mean, sd²)      (family ``lognormal_tau2``; τ itself is log-normal)

and for the general setting (any outcome, any comparison; p. 993 of the paper)
log τ² ~ N(−2.56, 1.74²).

Names: ``turner:general`` and ``turner:OUTCOME:COMPARISON``, e.g.
``turner:adverse-events:pharma-vs-placebo`` (= N(−1.87, 1.52²) on log τ²). Outcomes are the
slugs of :data:`OUTCOMES`; comparisons are ``pharma-vs-placebo``, ``pharma-vs-pharma``,
``nonpharma-vs-placebo``, ``nonpharma-vs-pharma``, ``nonpharma-vs-nonpharma`` (either order;
"control" means placebo/control; "non-pharma"/"pharmacological" are accepted).

Checking the numbers. The paper's Table IV itself could not be opened from here (the
publisher's page is not in the sources available to this project). What was verified, and
how:

* general setting N(−2.56, 1.74²) and adverse events, pharmacological vs placebo/control
  N(−1.87, 1.52²): as stated in the project's issue (taken from the paper) — tested;
* the whole table agrees cell by cell with two independent transcriptions of Table IV: the
  CRAN package bayesmeta (``TurnerEtAlParameters``, R/bayesmeta.R) and the CRAN package
  rnmamod (``table_tau2_prior``);
* structure: Turner et al. fitted outcome type and comparison type as additive effects on
  log τ², so every mean must equal row effect + column effect to within the table's rounding
  (±0.01); the test suite checks this for all 80 cells, which catches a mistyped cell.

The priors were derived for log odds ratios; using them for another measure is the analyst's
judgement (for SMDs see :mod:`bayesmeta.priors.rhodes2015`).
"""

from __future__ import annotations

from bayesmeta.errors import InputError

CITATION = ("Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT. Stat Med 2015;34:984-998, "
            "Table IV (predictive distribution of log tau^2 for a new meta-analysis of log "
            "odds ratios)")

#: Comparison types, in the column order of Table IV.
COMPARISONS = ("pharma-vs-placebo", "pharma-vs-pharma", "nonpharma-vs-placebo",
               "nonpharma-vs-pharma", "nonpharma-vs-nonpharma")

#: Outcome types: slug -> (description in the paper, means by comparison, sds by comparison).
#: The means and sds are those of log τ² (Table IV).
OUTCOMES: dict[str, tuple[str, tuple[float, ...], tuple[float, ...]]] = {
    "all-cause-mortality": (
        "all-cause mortality",
        (-3.95, -4.18, -4.17, -2.92, -3.50), (1.34, 1.41, 1.55, 1.02, 1.26)),
    "obstetric": (
        "obstetric outcomes",
        (-3.52, -3.75, -3.74, -2.49, -3.08), (1.74, 1.79, 1.91, 1.50, 1.68)),
    "cause-specific-mortality": (
        "cause-specific mortality / major morbidity event / composite (mortality or morbidity)",
        (-3.71, -3.95, -3.93, -2.68, -3.27), (1.74, 1.79, 1.91, 1.51, 1.68)),
    "resource-use": (
        "resource use / hospital stay / process",
        (-2.34, -2.58, -2.56, -1.31, -1.90), (1.74, 1.79, 1.91, 1.50, 1.68)),
    "surgical": (
        "surgical / device related success / failure",
        (-2.14, -2.37, -2.36, -1.11, -1.69), (1.74, 1.79, 1.91, 1.50, 1.68)),
    "withdrawals": (
        "withdrawals / drop-outs",
        (-2.99, -3.23, -3.21, -1.96, -2.55), (1.74, 1.79, 1.91, 1.51, 1.68)),
    "internal-structure": (
        "internal / structure-related outcomes",
        (-2.71, -2.94, -2.93, -1.67, -2.26), (1.74, 1.79, 1.92, 1.51, 1.68)),
    "general-physical-health": (
        "general physical health indicators",
        (-2.29, -2.53, -2.51, -1.26, -1.85), (1.53, 1.58, 1.72, 1.25, 1.46)),
    "adverse-events": (
        "adverse events",
        (-1.87, -2.10, -2.10, -0.84, -1.43), (1.52, 1.58, 1.71, 1.24, 1.45)),
    "infection": (
        "infection / onset of new disease",
        (-2.49, -2.73, -2.71, -1.46, -2.05), (1.52, 1.58, 1.71, 1.24, 1.45)),
    "signs-symptoms": (
        "signs / symptoms reflecting continuation / end of condition",
        (-2.06, -2.29, -2.28, -1.03, -1.61), (1.51, 1.58, 1.71, 1.24, 1.45)),
    "pain": (
        "pain",
        (-1.83, -2.06, -2.05, -0.80, -1.38), (1.52, 1.58, 1.71, 1.25, 1.45)),
    "quality-of-life": (
        "quality of life / functioning (dichotomised)",
        (-2.54, -2.78, -2.77, -1.51, -2.10), (1.54, 1.60, 1.73, 1.27, 1.47)),
    "mental-health": (
        "mental health indicators",
        (-2.12, -2.35, -2.34, -1.09, -1.67), (1.53, 1.60, 1.72, 1.27, 1.47)),
    "biological-markers": (
        "biological markers (dichotomised)",
        (-1.77, -2.00, -1.99, -0.74, -1.33), (1.52, 1.58, 1.71, 1.24, 1.45)),
    "subjective": (
        "subjective outcomes (various)",
        (-2.70, -2.93, -2.92, -1.67, -2.26), (1.52, 1.58, 1.71, 1.25, 1.45)),
}

#: General setting (any outcome, any comparison).
GENERAL = (-2.56, 1.74)

_OUTCOME_ALIASES = {
    "mortality": "all-cause-mortality", "all-cause": "all-cause-mortality",
    "obstetric-outcomes": "obstetric", "major-morbidity": "cause-specific-mortality",
    "composite": "cause-specific-mortality", "hospital-stay": "resource-use",
    "process": "resource-use", "device": "surgical", "surgical-device": "surgical",
    "drop-outs": "withdrawals", "dropouts": "withdrawals",
    "internal-structure-related": "internal-structure",
    "general-physical-health-indicators": "general-physical-health",
    "adverse-event": "adverse-events", "ae": "adverse-events", "aes": "adverse-events",
    "infections": "infection", "onset-of-new-disease": "infection",
    "signs": "signs-symptoms", "symptoms": "signs-symptoms", "qol": "quality-of-life",
    "functioning": "quality-of-life", "mental-health-indicators": "mental-health",
    "biological-marker": "biological-markers", "biomarkers": "biological-markers",
    "subjective-outcomes": "subjective",
}

_ARM_WORDS = {
    "pharma": "pharma", "pharmacological": "pharma", "drug": "pharma",
    "nonpharma": "nonpharma", "non-pharma": "nonpharma",
    "non-pharmacological": "nonpharma", "nonpharmacological": "nonpharma",
    "placebo": "placebo", "control": "placebo", "placebo-control": "placebo",
    "placebo/control": "placebo",
}


def comparison_arms(text: str) -> frozenset[str] | None:
    """The two arm types of ``"placebo-vs-pharmacological"`` ({"pharma", "placebo"}), in any
    order; None if not understood."""
    parts = text.strip().lower().replace("_", "-").replace(" ", "-").split("-vs-")
    if len(parts) != 2:
        return None
    arms = [_ARM_WORDS.get(p.strip()) for p in parts]
    if None in arms:
        return None
    return frozenset(arms)  # type: ignore[arg-type]


_COMPARISON_OF_ARMS = {
    frozenset({"pharma", "placebo"}): "pharma-vs-placebo",
    frozenset({"pharma"}): "pharma-vs-pharma",
    frozenset({"nonpharma", "placebo"}): "nonpharma-vs-placebo",
    frozenset({"nonpharma", "pharma"}): "nonpharma-vs-pharma",
    frozenset({"nonpharma"}): "nonpharma-vs-nonpharma",
}


def _comparison_index(text: str) -> int:
    name = _COMPARISON_OF_ARMS.get(comparison_arms(text) or frozenset())
    if name is None:
        raise InputError(f"unknown comparison '{text}' for turner:...; use one of "
                         f"{', '.join(COMPARISONS)}")
    return COMPARISONS.index(name)


def outcome_slug(text: str, outcomes, aliases, family: str) -> str:
    key = text.strip().lower().replace("_", "-").replace(" ", "-")
    key = aliases.get(key, key)
    if key not in outcomes:
        raise InputError(f"unknown outcome type '{text}' for {family}:...; use one of "
                         f"{', '.join(outcomes)}")
    return key


def turner_parameters(outcome: str | None = None,
                      comparison: str | None = None) -> tuple[float, float, str]:
    """(mean, sd) of log τ² and the canonical name, for an outcome and comparison type
    (both None: the general setting)."""
    if outcome is None and comparison is None:
        return GENERAL[0], GENERAL[1], "turner:general"
    if outcome is None or comparison is None:
        raise InputError("turner priors need OUTCOME:COMPARISON (e.g. "
                         "turner:adverse-events:pharma-vs-placebo) or 'general'")
    slug = outcome_slug(outcome, OUTCOMES, _OUTCOME_ALIASES, "turner")
    j = _comparison_index(comparison)
    _, means, sds = OUTCOMES[slug]
    return means[j], sds[j], f"turner:{slug}:{COMPARISONS[j]}"


def resolve(parts: list[str]):
    """Resolver for ``turner:...`` specifications (see :func:`register_named`)."""
    from bayesmeta.priors.spec import Prior

    parts = [p for p in parts if p]
    if parts in ([], ["general"], ["any"]):
        mean, sd, label = turner_parameters()
        what = "general setting"
    elif len(parts) == 2:
        mean, sd, label = turner_parameters(parts[0], parts[1])
        what = OUTCOMES[label.split(":")[1]][0] + ", " + label.split(":")[2]
    else:
        raise InputError("turner priors are 'turner:general' or 'turner:OUTCOME:COMPARISON', "
                         "e.g. turner:adverse-events:pharma-vs-placebo")
    return Prior("lognormal_tau2", (mean, sd), label=label,
                 source=f"{CITATION}; {what}; for log odds ratios")
