"""Reading effect sizes for the normal–normal model: effect estimates, two-arm counts turned
into log ratios, and arm-level continuous data (means, SDs, ns)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd

from bayesmeta.api.common import load_table
from bayesmeta.data import datasets
from bayesmeta.data.binary import BinaryData, read_binary
from bayesmeta.data.continuous import ContinuousData, read_continuous
from bayesmeta.data.effects import ALIASES as EFFECT_ALIASES
from bayesmeta.data.effects import EffectsData, effects_from_binary, parse_measure, read_effects
from bayesmeta.errors import InputError

EffectsLike = EffectsData | BinaryData | pd.DataFrame | str | Path
ContinuousLike = ContinuousData | pd.DataFrame | str | Path


def _looks_binary(data: pd.DataFrame | str | Path, read_options: Mapping[str, object]) -> bool:
    """True when a table holds two-arm counts rather than effect estimates."""
    from bayesmeta.data.binary import WIDE_ALIASES
    from bayesmeta.data.table import read_table

    table = read_table(data, sep=str(read_options.get("sep", ",")),
                       encoding=str(read_options.get("encoding", "utf-8")))
    cols = set(table.frame.columns) | set(dict(read_options.get("columns") or {}))
    if cols & set(EFFECT_ALIASES["yi"]):
        return False
    return bool(cols & set(WIDE_ALIASES["events_t"])) or {"arm", "events"} <= cols


def load_effects(data: EffectsLike, *, measure: str | None = None,
                 subgroup: str | None = None, subgroup_column: str = "subgroup",
                 cc: float | None = None, cc_to: str = "only0",
                 drop_double_zero: bool = True, **read_options) -> EffectsData:
    """Effect estimates from an EffectsData, DataFrame, CSV path or bundled dataset name.

    Two-arm event counts (a BinaryData, a bundled binary dataset, or a table with
    ``events_t, n_t, events_c, n_c``) are turned into log ORs (``measure``: logOR [default],
    logRR or RD) — with a continuity correction only when ``cc`` is given
    (:func:`~bayesmeta.data.effects.effects_from_binary`).
    """
    if isinstance(data, EffectsData):
        _refuse_count_options(cc, cc_to, drop_double_zero, read_options)
        loaded = data
        if measure is not None and parse_measure(measure) != data.measure:
            if data.measure != "generic":
                raise InputError(f"the data hold {data.measure}, not {parse_measure(measure)}",
                                 source="--measure")
            loaded = replace(data, measure=parse_measure(measure))
    elif isinstance(data, BinaryData):
        if subgroup is not None:  # select the tables first: conversion may drop some
            data, subgroup = data.select(subgroup_column, subgroup), None
        loaded = effects_from_binary(data, measure=measure or "logOR", cc=cc, cc_to=cc_to,
                                     drop_double_zero=drop_double_zero)
    else:
        source: pd.DataFrame | Path
        if isinstance(data, pd.DataFrame):
            source, kind = data, None
        else:
            source = datasets.resolve(data)
            kind = next((d.kind for d in datasets.registry().values() if d.path == source),
                        None)
        if kind == "continuous":
            raise InputError(f"'{data}' holds arm-level continuous data: use `bayesmeta fit "
                             "continuous` (fit_continuous) with --measure MD or SMD")
        if kind not in (None, "binary", "effects"):
            raise InputError(f"bundled dataset '{data}' holds {kind} data, not effects")
        if kind == "binary" or (kind is None and _looks_binary(source, read_options)):
            binary = read_binary(source, **read_options)
            if subgroup is not None:  # select the tables first: conversion may drop some
                binary, subgroup = binary.select(subgroup_column, subgroup), None
            loaded = effects_from_binary(binary, measure=measure or "logOR", cc=cc,
                                         cc_to=cc_to, drop_double_zero=drop_double_zero)
        else:
            _refuse_count_options(cc, cc_to, drop_double_zero, read_options)
            allowed = {k: v for k, v in read_options.items()
                       if k in ("columns", "sep", "encoding")}
            loaded = read_effects(source, measure=measure, **allowed)
    if subgroup is not None:
        loaded = loaded.select(subgroup_column, subgroup)
    return loaded


#: Options that only two-arm event counts use, with their command-line names and the
#: value meaning "not given".
_COUNT_OPTIONS = {"layout": ("--layout", "auto"), "treatment": ("--treatment", None),
                  "control": ("--control", None)}


def _refuse_count_options(cc: float | None, cc_to: str, drop_double_zero: bool,
                          read_options: Mapping[str, object]) -> None:
    """Effect estimates (yi, sei) take no continuity correction and have no arms: an
    option for counts given with them is refused, not silently ignored."""
    given = [option for key, (option, unset) in _COUNT_OPTIONS.items()
             if read_options.get(key, unset) != unset]
    given += [option for option, is_given in (("--cc", cc is not None),
                                              ("--cc-to", cc_to != "only0"),
                                              ("--keep-double-zero", not drop_double_zero))
              if is_given]
    if given:
        raise InputError("applies to two-arm event counts, but the data are effect "
                         "estimates (yi with sei or vi): leave it out, or give the 2×2 "
                         "tables (study, events_t, n_t, events_c, n_c)", source=given[0])


def load_continuous(data: ContinuousLike, *, subgroup: str | None = None,
                    subgroup_column: str = "subgroup", **read_options) -> ContinuousData:
    """Arm-level means/SDs/ns from a ContinuousData, DataFrame, CSV path or bundled name."""
    return load_table(data, ContinuousData, read_continuous, "continuous", subgroup=subgroup,
                      subgroup_column=subgroup_column, read_options=read_options)

