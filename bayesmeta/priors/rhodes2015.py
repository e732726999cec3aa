"""Rhodes et al. (2015) predictive priors for the heterogeneity of standardised mean differences.

Source: Rhodes KM, Turner RM, Higgins JPT. Predictive distributions were developed for the
extent of heterogeneity in meta-analyses of continuous outcome data. J Clin Epidemiol
2015;68(1):52–60, doi:10.1016/j.jclinepi.2014.08.012 — Table 3 (medical areas other than
respiratory diseases and cancer) and the appendix tables A.3.1 (respiratory) and A.3.2
(cancer). From 6,492 continuous-outcome Cochrane meta-analyses on the SMD scale, the
predictive distribution of the between-study variance of a new meta-analysis is a
log-Student-t with 5 degrees of freedom:

    log τ² ~ t₅(location, scale)      (family ``logt_tau2`` with nu = 5)

for 8 outcome types × 3 comparison types × 3 medical areas, and in the general setting
(beginning of Sec. 3.3) log τ² ~ t₅(−3.44, 2.59).

Names: ``rhodes:general`` and ``rhodes:OUTCOME:COMPARISON[:AREA]``, e.g.
``rhodes:mental-health:pharma-vs-placebo`` or ``rhodes:biological-markers:nonpharma:cancer``.
Comparisons: ``pharma-vs-placebo``, ``pharma-vs-pharma``, ``nonpharma`` (any comparison
involving a non-pharmacological intervention; ``nonpharma-vs-placebo`` etc. are accepted).
Areas: ``other`` (default), ``respiratory``, ``cancer``. The outcome "general physical
health" also covers adverse events, pain and quality of life / functioning, and
"signs-symptoms" covers infection / onset of new disease (as grouped by the authors); those
words are accepted as aliases.

Checking the numbers. The paper's tables could not be opened from here. What was verified:
the general setting t₅(−3.44, 2.59), and every cell agrees with two independent
transcriptions (CRAN bayesmeta ``RhodesEtAlParameters`` and CRAN rnmamod ``table_tau2_prior``;
rnmamod differs in one cell, cancer / resource use / pharma-vs-placebo, where it has −0.01 and
bayesmeta +0.01 — the additive structure below supports +0.01, which is used here).

The authors modelled outcome type, comparison type and area as additive effects on log τ², so
each location should be row + column effect within rounding. Two published cells break this
pattern and are kept *as published* (both transcriptions agree on them), flagged in
:data:`ANOMALIES` with the value the additive structure implies:

* other areas, mental health, non-pharmacological: published −3.85; structure implies −2.85;
* cancer, internal/external structure-related, pharma vs placebo: published −0.13;
  structure implies +0.13.

If you use one of these two settings, check the value against your copy of the paper.
"""

from __future__ import annotations

from bayesmeta.errors import InputError
from bayesmeta.priors.turner2015 import comparison_arms, outcome_slug

CITATION = ("Rhodes KM, Turner RM, Higgins JPT. J Clin Epidemiol 2015;68:52-60, Table 3 / "
            "A.3.1 / A.3.2 (predictive distribution of log tau^2 for a new meta-analysis of "
            "standardised mean differences, log-t with 5 df)")

NU = 5.0
COMPARISONS = ("pharma-vs-placebo", "pharma-vs-pharma", "nonpharma")
AREAS = ("other", "respiratory", "cancer")

#: Outcome slug -> description in the paper.
OUTCOMES: dict[str, str] = {
    "obstetric": "obstetric outcome",
    "resource-use": "resource use and hospital stay / process",
    "internal-structure": "internal and external structure-related outcome",
    "general-physical-health": "general physical health and adverse event and pain and "
                               "quality of life / functioning",
    "signs-symptoms": "signs / symptoms reflecting continuation / end of condition and "
                      "infection / onset of new acute / chronic disease",
    "mental-health": "mental health outcome",
    "biological-markers": "biological marker",
    "subjective": "various subjectively measured outcomes",
}

#: (area, outcome) -> locations by comparison, scales by comparison (of log τ²).
TABLE: dict[tuple[str, str], tuple[tuple[float, ...], tuple[float, ...]]] = {
    # Table 3: medical areas other than respiratory diseases and cancer
    ("other", "obstetric"): ((-4.13, -4.40, -3.99), (2.34, 2.31, 2.11)),
    ("other", "resource-use"): ((-2.55, -2.83, -2.41), (2.73, 2.70, 2.57)),
    ("other", "internal-structure"): ((-2.43, -2.70, -2.29), (2.50, 2.46, 2.32)),
    ("other", "general-physical-health"): ((-3.16, -3.44, -3.02), (2.50, 2.44, 2.27)),
    ("other", "signs-symptoms"): ((-3.00, -3.27, -2.86), (2.50, 2.47, 2.33)),
    ("other", "mental-health"): ((-2.99, -3.27, -3.85), (2.16, 2.14, 1.93)),
    ("other", "biological-markers"): ((-3.41, -3.68, -3.27), (2.83, 2.78, 2.66)),
    ("other", "subjective"): ((-2.76, -3.03, -2.62), (2.58, 2.59, 2.41)),
    # Table A.3.1: respiratory diseases
    ("respiratory", "obstetric"): ((-6.03, -6.31, -5.89), (2.36, 2.31, 2.21)),
    ("respiratory", "resource-use"): ((-4.46, -4.73, -4.32), (2.74, 2.70, 2.57)),
    ("respiratory", "internal-structure"): ((-4.33, -4.61, -4.19), (2.51, 2.46, 2.33)),
    ("respiratory", "general-physical-health"): ((-5.07, -5.34, -4.93), (2.51, 2.45, 2.28)),
    ("respiratory", "signs-symptoms"): ((-4.90, -5.18, -4.76), (2.50, 2.47, 2.33)),
    ("respiratory", "mental-health"): ((-4.90, -5.17, -4.76), (2.17, 2.14, 1.94)),
    ("respiratory", "biological-markers"): ((-5.31, -5.59, -5.17), (2.83, 2.78, 2.66)),
    ("respiratory", "subjective"): ((-4.66, -4.94, -4.52), (2.59, 2.59, 2.41)),
    # Table A.3.2: cancer
    ("cancer", "obstetric"): ((-1.57, -1.85, -1.43), (2.45, 2.41, 2.24)),
    ("cancer", "resource-use"): ((0.01, -0.27, 0.15), (2.83, 2.79, 2.68)),
    ("cancer", "internal-structure"): ((-0.13, -0.14, 0.27), (2.61, 2.56, 2.45)),
    ("cancer", "general-physical-health"): ((-0.60, -0.88, -0.46), (2.61, 2.55, 2.40)),
    ("cancer", "signs-symptoms"): ((-0.44, -0.71, -0.30), (2.60, 2.57, 2.46)),
    ("cancer", "mental-health"): ((-0.43, -0.71, -0.29), (2.28, 2.25, 2.08)),
    ("cancer", "biological-markers"): ((-0.85, -1.13, -0.71), (2.93, 2.87, 2.78)),
    ("cancer", "subjective"): ((-0.20, -0.48, -0.06), (2.68, 2.68, 2.53)),
}

#: Published cells that break the additive structure: (area, outcome, comparison) ->
#: (published location, location implied by the other cells).
ANOMALIES: dict[tuple[str, str, str], tuple[float, float]] = {
    ("other", "mental-health", "nonpharma"): (-3.85, -2.85),
    ("cancer", "internal-structure", "pharma-vs-placebo"): (-0.13, 0.13),
}

#: General setting (any outcome, comparison and area).
GENERAL = (-3.44, 2.59)

_OUTCOME_ALIASES = {
    "obstetric-outcome": "obstetric", "obstetric-outcomes": "obstetric",
    "hospital-stay": "resource-use", "process": "resource-use",
    "structure-related": "internal-structure",
    "internal-external-structure": "internal-structure",
    "general-physical-health-indicators": "general-physical-health",
    "adverse-events": "general-physical-health", "adverse-event": "general-physical-health",
    "pain": "general-physical-health", "quality-of-life": "general-physical-health",
    "qol": "general-physical-health", "functioning": "general-physical-health",
    "signs": "signs-symptoms", "symptoms": "signs-symptoms", "infection": "signs-symptoms",
    "mental-health-outcome": "mental-health", "biological-marker": "biological-markers",
    "biomarkers": "biological-markers", "subjective-outcomes": "subjective",
}


def _comparison(text: str) -> str:
    key = text.strip().lower().replace("_", "-")
    if key in {"nonpharma", "non-pharma", "non-pharmacological", "nonpharmacological"}:
        return "nonpharma"
    arms = comparison_arms(key)
    if arms is not None and "nonpharma" in arms:
        return "nonpharma"
    if arms == frozenset({"pharma", "placebo"}):
        return "pharma-vs-placebo"
    if arms == frozenset({"pharma"}):
        return "pharma-vs-pharma"
    raise InputError(f"unknown comparison '{text}' for rhodes:...; use one of "
                     f"{', '.join(COMPARISONS)}")


def rhodes_parameters(outcome: str | None = None, comparison: str | None = None,
                      area: str = "other") -> tuple[float, float, str]:
    """(location, scale) of log τ² ~ t₅ and the canonical name; no outcome: general setting."""
    if outcome is None and comparison is None:
        return GENERAL[0], GENERAL[1], "rhodes:general"
    if outcome is None or comparison is None:
        raise InputError("rhodes priors need OUTCOME:COMPARISON[:AREA] (e.g. "
                         "rhodes:mental-health:pharma-vs-placebo) or 'general'")
    slug = outcome_slug(outcome, OUTCOMES, _OUTCOME_ALIASES, "rhodes")
    comp = _comparison(comparison)
    area_key = area.strip().lower()
    if area_key not in AREAS:
        raise InputError(f"unknown medical area '{area}' for rhodes:...; use one of "
                         f"{', '.join(AREAS)}")
    locations, scales = TABLE[(area_key, slug)]
    j = COMPARISONS.index(comp)
    label = f"rhodes:{slug}:{comp}" + ("" if area_key == "other" else f":{area_key}")
    return locations[j], scales[j], label


def resolve(parts: list[str]):
    """Resolver for ``rhodes:...`` specifications (see :func:`register_named`)."""
    from bayesmeta.priors.spec import Prior

    parts = [p for p in parts if p]
    if parts in ([], ["general"], ["any"]):
        loc, scale, label = rhodes_parameters()
        what = "general setting"
    elif len(parts) in (2, 3):
        loc, scale, label = rhodes_parameters(*parts)
        bits = label.split(":")
        what = f"{OUTCOMES[bits[1]]}, {bits[2]}, area {bits[3] if len(bits) > 3 else 'other'}"
        key = (bits[3] if len(bits) > 3 else "other", bits[1], bits[2])
        if key in ANOMALIES:
            published, implied = ANOMALIES[key]
            what += (f" (published location {published:g}; the table's additive structure "
                     f"implies {implied:g} — check against the paper)")
    else:
        raise InputError("rhodes priors are 'rhodes:general' or "
                         "'rhodes:OUTCOME:COMPARISON[:AREA]', e.g. "
                         "rhodes:mental-health:pharma-vs-placebo")
    return Prior("logt_tau2", (NU, loc, scale), label=label,
                 source=f"{CITATION}; {what}; for standardised mean differences")
