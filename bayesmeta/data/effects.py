"""Effect-size data: one estimate and its standard error (or variance) per study.

Columns: ``study, yi, sei`` or ``study, yi, vi`` (+ any extra columns, kept). Names used by
other tools are recognised without a mapping — ``y, sigma`` (R bayesmeta), ``TE, seTE``
(meta), ``es, se``, ``estimate, std_error``... — and any other name can be mapped with
``columns={"yi": "logHR", "sei": "se_logHR"}`` (``--col yi=logHR``). The mapping used is kept
in :attr:`EffectsData.column_map` and printed. When both ``sei`` and ``vi`` are given they
must agree (sei² = vi within 1%), so a column mix-up is caught instead of silently used.

Effects can also be *derived*: from arm-level binary counts (:func:`effects_from_binary`:
log OR, log RR, RD — with a continuity correction only when asked, and reported) or from
arm-level continuous data (:mod:`bayesmeta.data.continuous`: MD, SMD). :attr:`EffectsData.
derivation` says in words how the numbers were obtained.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bayesmeta.data import cells, studies
from bayesmeta.data.binary import BinaryData
from bayesmeta.data.effect_sizes import CC_RULES, binary_effects
from bayesmeta.data.table import Table, read_table, resolve_aliases
from bayesmeta.errors import InputError

#: The scales an effect can be on. Ratio measures are analysed on the log scale.
MEASURES: dict[str, str] = {
    "logOR": "log odds ratio",
    "logRR": "log risk ratio",
    "logHR": "log hazard ratio",
    "RD": "risk difference",
    "MD": "mean difference",
    "SMD": "standardised mean difference (Hedges' g)",
    "generic": "effect on the outcome's own scale",
}
#: Names accepted for a measure (case-insensitive).
MEASURE_ALIASES = {
    "or": "logOR", "logor": "logOR", "log_or": "logOR", "lnor": "logOR",
    "rr": "logRR", "logrr": "logRR", "log_rr": "logRR", "lnrr": "logRR",
    "hr": "logHR", "loghr": "logHR", "log_hr": "logHR", "lnhr": "logHR",
    "rd": "RD", "md": "MD", "smd": "SMD", "g": "SMD", "hedges_g": "SMD", "generic": "generic",
}
#: Measures whose exp() is a ratio users read (OR, RR, HR).
RATIO_NAMES = {"logOR": "or", "logRR": "rr", "logHR": "hr"}

#: Largest |estimate| and range of standard errors accepted. Beyond them the squares and
#: products the normal–normal model computes leave double precision (1e±308) — such a cell
#: is a typo or a unit mix-up, not data; rescale the outcome if it is real.
EFFECT_LIMIT = 1e100
SE_LIMITS = (1e-100, 1e100)
#: Largest continuity correction: a fraction of an event (0.5 usually; Sweeting et al.'s
#: treatment-arm corrections are below 1).
MAX_CC = 1.0

ALIASES: dict[str, tuple[str, ...]] = {
    "study": ("study", "studlab", "trial", "author", "publication", "label", "slab"),
    "yi": ("yi", "y", "te", "TE", "es", "effect", "estimate", "est"),
    "sei": ("sei", "sigma", "se", "seTE", "sete", "std_error", "stderr", "se_yi"),
    "vi": ("vi", "var", "variance", "v"),
    "n": ("n", "ni", "n_total", "total"),
}


def parse_measure(text: str | None, *, option: str = "--measure") -> str:
    """The canonical measure name for ``text`` (e.g. ``"OR"`` -> ``"logOR"``)."""
    if text is None:
        return "generic"
    key = str(text).strip()
    if key in MEASURES:
        return key
    canon = MEASURE_ALIASES.get(key.lower())
    if canon is None:
        raise InputError(f"unknown measure '{text}'; use one of {', '.join(MEASURES)}",
                         source=option)
    return canon


@dataclass(frozen=True)
class EffectsData:
    """Validated effect estimates ``yi`` with standard errors ``sei``, one per study."""

    study: tuple[str, ...]
    yi: np.ndarray
    sei: np.ndarray
    measure: str = "generic"
    source: str = "data frame"
    column_map: Mapping[str, str] = field(default_factory=dict)
    extra: pd.DataFrame = field(default_factory=pd.DataFrame)
    derivation: str = ""
    n: np.ndarray | None = None  # patients per study, when known (unit-information SD)
    details: Mapping[str, object] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return len(self.study)

    @property
    def vi(self) -> np.ndarray:
        return self.sei**2

    @property
    def measure_text(self) -> str:
        return MEASURES.get(self.measure, self.measure)

    def unit_information_sd(self) -> float | None:
        """sqrt(Σ n_i / Σ sei⁻²) (Röver et al. 2021), when the sample sizes are known."""
        if self.n is None:
            return None
        return float(np.sqrt(np.sum(self.n) / np.sum(1.0 / self.sei**2)))

    def to_frame(self) -> pd.DataFrame:
        return studies.with_extra(pd.DataFrame({"study": list(self.study), "yi": self.yi,
                                                "sei": self.sei}), self.extra)

    def select(self, column: str, value: str) -> EffectsData:
        """Keep the studies whose extra column ``column`` equals ``value`` (e.g. a subgroup)."""
        return self._keep(studies.subgroup_mask(self, column, value), self.details)

    def without(self, study: str) -> EffectsData:
        """The same data without one study (for leave-one-study-out refits). The other
        studies keep their estimates as they are (for effects derived from 2×2 tables: with
        the continuity correction they were given)."""
        keep = studies.leave_out_mask(self, study)
        details = {k: ([s for s in v if s != study] if k == "corrected_studies"
                       and isinstance(v, list) else v) for k, v in self.details.items()}
        return self._keep(keep, details)

    def _keep(self, keep: np.ndarray, details: Mapping[str, object]) -> EffectsData:
        return EffectsData(
            studies.kept_studies(self.study, keep), self.yi[keep], self.sei[keep],
            self.measure, self.source, self.column_map, studies.kept_extra(self.extra, keep),
            self.derivation, None if self.n is None else self.n[keep], details)


def read_effects(
    data: str | Path | pd.DataFrame,
    *,
    measure: str | None = None,
    columns: Mapping[str, str] | None = None,
    sep: str = ",",
    encoding: str = "utf-8",
) -> EffectsData:
    """Read and validate effect-size data from a CSV file or a DataFrame.

    Raises
    ------
    InputError
        One line naming file, row and column: a missing column, a non-number, a standard
        error or variance that is not positive, ``sei`` and ``vi`` that disagree, a repeated
        study label, fewer than two studies.
    """
    canon = parse_measure(measure)
    table = read_table(data, sep=sep, encoding=encoding, columns=columns)
    table, used = resolve_aliases(table, columns or {}, ALIASES)
    hint = ("map yours with --col yi=NAME --col sei=NAME (columns={'yi': 'NAME'}); "
            "a variance column can be given as vi instead of sei")
    cells.require_columns(table, ("study", "yi"), hint=hint)
    if not (table.has("sei") or table.has("vi")):
        cells.require_columns(table, ("sei",), hint=hint)
    study = cells.text_column(table, "study")
    yi = cells.float_column(table, "yi")
    _check_range(table, "yi", np.abs(yi), (0.0, EFFECT_LIMIT), "an effect estimate")
    sei = None
    if table.has("sei"):
        sei = cells.float_column(table, "sei", positive=True)
        _check_range(table, "sei", sei, SE_LIMITS, "a standard error")
    if table.has("vi"):
        vi = cells.float_column(table, "vi", positive=True)
        _check_range(table, "vi", vi, (SE_LIMITS[0] ** 2, SE_LIMITS[1] ** 2), "a variance")
        if sei is None:
            sei = np.sqrt(vi)
        else:
            bad = np.flatnonzero(np.abs(sei**2 - vi) > 0.02 * vi)
            if bad.size:
                i = int(bad[0])
                raise InputError(f"vi ({vi[i]:g}) is not sei² ({sei[i]:g}² = {sei[i]**2:g}); "
                                 "give one of the two, or check the columns",
                                 source=table.source, row=table.row_of(i), column="vi")
    n = None
    if table.has("n"):
        n = cells.count_column(table, "n", minimum=2).astype(float)
    cells.unique_labels(table, "study", study)
    cells.at_least_two_studies(table, len(study))
    ours = {"study", "yi", "sei", "vi", "n"}
    extra = table.frame.drop(columns=[c for c in table.frame.columns if c in ours])
    return EffectsData(tuple(study), yi, np.asarray(sei, dtype=float), canon, table.source,
                       {k: v for k, v in used.items() if k != v},
                       extra.reset_index(drop=True), "as given", n)


def _check_range(table: Table, column: str, values: np.ndarray,
                 limits: tuple[float, float], what: str) -> None:
    """Refuse a cell outside ``limits`` (see :data:`EFFECT_LIMIT`), naming it."""
    bad = np.flatnonzero((values < limits[0]) | (values > limits[1]))
    if bad.size:
        i = int(bad[0])
        size = "large" if values[i] > limits[1] else "small"
        allowed = (f"|{column}| up to {limits[1]:g}" if limits[0] == 0 else
                   f"{limits[0]:g} to {limits[1]:g}")
        raise InputError(f"{table.frame[column].iloc[i]} is implausibly {size} for {what} "
                         f"(allowed: {allowed}): a typo or a unit mix-up? rescale the "
                         "outcome if it is real",
                         source=table.source, row=table.row_of(i), column=column)


def check_derived_effects(study: tuple[str, ...], yi: np.ndarray, sei: np.ndarray,
                          source: str, how: str) -> None:
    """Effects computed from arm-level data must be finite and within the limits the model
    can compute with; name the first study whose are not (``how``: what it came from)."""
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(yi) & np.isfinite(sei) & (np.abs(yi) <= EFFECT_LIMIT)
                & (sei >= SE_LIMITS[0]) & (sei <= SE_LIMITS[1]))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"study '{study[i]}': its {how} gives an effect {yi[i]:g} with "
                         f"standard error {sei[i]:g}, beyond what can be computed with "
                         "(extreme means or SDs? check the cells and their units)",
                         source=source)


def effects_from_binary(data: BinaryData, *, measure: str = "logOR", cc: float | None = None,
                        cc_to: str = "only0", drop_double_zero: bool = True) -> EffectsData:
    """Log odds ratios, log risk ratios or risk differences from two-arm counts.

    No continuity correction unless ``cc`` is given: a table with a zero cell then has no
    finite log OR/RR and is an error that says so (and points to ``fit binary``, whose exact
    binomial likelihood needs no correction). With ``cc``, metafor's rules apply (``cc_to``:
    ``only0`` tables with a zero, ``all``, ``if0all``) and the corrected studies are named in
    :attr:`EffectsData.derivation`. Double-zero tables carry no information on an OR/RR and
    are dropped (also reported) unless ``drop_double_zero=False`` and a correction is given.
    """
    canon = parse_measure(measure)
    if canon not in ("logOR", "logRR", "RD"):
        raise InputError(f"binary counts give logOR, logRR or RD, not {canon}",
                         source="--measure")
    if cc is not None and not (0 < cc <= MAX_CC):
        raise InputError(f"the continuity correction must be a positive number up to "
                         f"{MAX_CC:g} — a fraction of an event, usually 0.5 (got {cc:g})",
                         source="--cc")
    if not drop_double_zero and cc is None:
        raise InputError("keeping double-zero studies needs a continuity correction "
                         "(--cc 0.5): without one their log OR/RR is 0/0", source=
                         "--keep-double-zero")
    if cc_to not in CC_RULES or cc_to == "none":
        raise InputError(f"unknown rule '{cc_to}' (use only0, all or if0all)",
                         source="--cc-to")
    ratio = canon in ("logOR", "logRR")
    dz = data.double_zero
    drop = dz & (ratio and (drop_double_zero or cc is None))
    a, c = data.events_t, data.events_c
    b, d = data.n_t - a, data.n_c - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if cc is None:
        problem = zero & ~drop if ratio else ((a == 0) | (b == 0)) & ((c == 0) | (d == 0))
        if problem.any():
            i = int(np.flatnonzero(problem)[0])
            what = ("a zero cell: its log " + ("OR" if canon == "logOR" else "RR")
                    + " is infinite" if ratio else
                    "no variability in either arm (all or no events): its RD has variance 0")
            raise InputError(
                f"study '{data.study[i]}' has {what}; give a continuity correction "
                f"(--cc 0.5, reported in the output) or use `bayesmeta fit binary`, whose exact "
                f"binomial likelihood needs none ({int(problem.sum())} such studies)",
                source=data.source)
    keep = ~drop
    if keep.sum() < 2:
        n_keep, n_drop = int(keep.sum()), int(drop.sum())
        raise InputError(
            f"only {n_keep} stud{'y' if n_keep == 1 else 'ies'} left after dropping {n_drop} "
            "double-zero stud" + ("y" if n_drop == 1 else "ies") + " (no finite log ratio); "
            "a meta-analysis needs at least two — `bayesmeta fit binary` keeps them",
            source=data.source)
    sub = {name: getattr(data, name)[keep] for name in ("events_t", "n_t", "events_c", "n_c")}
    eff = binary_effects(sub["events_t"], sub["n_t"], sub["events_c"], sub["n_c"],
                         measure={"logOR": "OR", "logRR": "RR", "RD": "RD"}[canon],
                         cc=0.5 if cc is None else cc, to="none" if cc is None else cc_to,
                         drop00=False)
    if canon == "RD" and cc is not None:
        # metafor does not correct RDs by default; when asked, apply the same cell rule.
        eff = _rd_with_correction(sub, cc, cc_to)
    studies = tuple(s for s, k in zip(data.study, keep, strict=True) if k)
    corrected = [s for s, c_ in zip(studies, eff.corrected, strict=True) if c_]
    dropped = [s for s, dr in zip(data.study, drop, strict=True) if dr]
    words = {"logOR": "log odds ratios", "logRR": "log risk ratios", "RD": "risk differences"}
    parts = [f"{words[canon]} (treatment vs control) from the 2×2 tables"]
    if corrected:
        parts.append(f"{cc:g} added to every cell of {len(corrected)} table(s) "
                     f"({'with a zero cell' if cc_to == 'only0' else cc_to}): "
                     + ", ".join(corrected))
    else:
        parts.append("no continuity correction")
    if dropped:
        parts.append(f"{len(dropped)} double-zero stud{'y' if len(dropped) == 1 else 'ies'} "
                     "dropped (no information on a ratio): " + ", ".join(dropped))
    extra = data.extra.loc[keep].reset_index(drop=True) if not data.extra.empty \
        else pd.DataFrame()
    details = {"from": "binary", "continuity_correction": cc, "cc_rule": cc_to if cc else None,
               "corrected_studies": corrected, "dropped_double_zero": dropped}
    return EffectsData(studies, eff.yi, np.sqrt(eff.vi), canon, data.source,
                       dict(data.column_map), extra, "; ".join(parts),
                       (sub["n_t"] + sub["n_c"]).astype(float), details)


def _rd_with_correction(sub: Mapping[str, np.ndarray], cc: float, cc_to: str):
    from bayesmeta.data.effect_sizes import Effects

    a = sub["events_t"].astype(float)
    c = sub["events_c"].astype(float)
    b = sub["n_t"] - a
    d = sub["n_c"] - c
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    corrected = {"only0": zero, "all": np.ones_like(zero), "if0all":
                 np.full_like(zero, zero.any())}[cc_to]
    add = np.where(corrected, cc, 0.0)
    a, b, c, d = a + add, b + add, c + add, d + add
    p1, p2 = a / (a + b), c / (c + d)
    vi = p1 * (1 - p1) / (a + b) + p2 * (1 - p2) / (c + d)
    return Effects(p1 - p2, vi, "RD", np.ones_like(zero), corrected, "")
