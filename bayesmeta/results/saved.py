"""Pieces every saved fit (``--save FILE.nc``) shares: its attributes and how to read them back.

A saved fit is an ``xarray.DataTree`` written as NetCDF; its root attributes (strings, JSON
where structured) say what it is and how it was made. :func:`fit_attributes` writes the
common ones; the ``*_from_attrs`` readers rebuild priors, sampler settings, diagnostics and
extra data columns exactly as they were, so that a reloaded result prints and documents
itself byte for byte as the fitted one did. A reader that meets a damaged or incomplete file
raises ``KeyError``/``TypeError``/``ValueError``, which each loader turns into one
:class:`~bayesmeta.errors.InputError` naming the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from bayesmeta.priors import Prior
from bayesmeta.results.jsonable import clean


def fit_attributes(*, schema: str, model: str, method: str, settings: Mapping[str, Any],
                   priors: Mapping[str, Prior], seed: int | None, source: str,
                   label: str | None, column_map: Mapping[str, str], extra: pd.DataFrame,
                   diagnostics: Mapping[str, Any] | None) -> dict[str, str | int]:
    """The root attributes of a saved fit (documented in docs/json.md, "Saved fits").

    ``bayesmeta_seed`` is written only when the fit has one (exact methods have none).
    """
    settings = clean(dict(settings))
    attrs: dict[str, str | int] = {
        "bayesmeta_schema": schema,
        "bayesmeta_model": model,
        "bayesmeta_method": method,
        "bayesmeta_version": settings["versions"].get("bayesmeta", ""),
        "bayesmeta_settings": json.dumps(settings, ensure_ascii=False),
        "bayesmeta_versions": json.dumps(settings["versions"]),
        "bayesmeta_priors": json.dumps({slot: prior_fields(p) for slot, p in priors.items()},
                                       ensure_ascii=False),
        "bayesmeta_data_source": source,
        "bayesmeta_label": label if label is not None else "",
        "bayesmeta_column_map": json.dumps(dict(column_map), ensure_ascii=False),
        "bayesmeta_extra": extra_to_json(extra),
    }
    if seed is not None:
        attrs["bayesmeta_seed"] = int(seed)
    if diagnostics is not None:
        attrs["bayesmeta_diagnostics"] = json.dumps(dict(diagnostics))
    return attrs


def prior_fields(prior: Prior) -> dict[str, Any]:
    """Everything that makes up a :class:`Prior` (the ``settings`` document holds its
    spec and description; this holds the fields that rebuild it exactly)."""
    return {"family": prior.family, "params": [float(p) for p in prior.params],
            "label": prior.label, "source": prior.source}


def priors_from_attrs(attrs: Mapping[str, Any]) -> dict[str, Prior]:
    """The priors by slot, as they were fitted. Files written before ``bayesmeta_priors``
    existed hold only the ``settings`` document: the prior is rebuilt from its spec,
    family, parameters and source there (a label is kept when the spec is not the
    family's generic ``family:param`` form)."""
    if "bayesmeta_priors" not in attrs:
        out = {}
        for slot, doc in settings_from_attrs(attrs)["priors"].items():
            generic = ":".join([doc["family"], *(f"{p:g}" for p in doc["params"])])
            out[slot] = Prior(doc["family"], tuple(float(p) for p in doc["params"]),
                              label=None if doc["spec"] == generic else doc["spec"],
                              source=doc.get("source", ""))
        return out
    doc = json.loads(attrs["bayesmeta_priors"])
    return {slot: Prior(f["family"], tuple(float(p) for p in f["params"]), label=f["label"],
                        source=f["source"]) for slot, f in doc.items()}


def settings_from_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(attrs["bayesmeta_settings"])


def sampler_from_settings(settings: Mapping[str, Any]):
    """The :class:`SamplerSettings` of an MCMC fit (None for exact fits)."""
    from bayesmeta.inference.sampling import SamplerSettings

    doc = settings.get("sampler")
    return None if doc is None else SamplerSettings(**doc)


def diagnostics_from_attrs(attrs: Mapping[str, Any], *, idata: Any = None,
                           var_names: list[str] | None = None):
    """The sampler's :class:`Diagnostics`, with its problems and remedies. A file written
    before they were saved has them recomputed from its draws (``idata``, ``var_names``:
    the same checks on the same draws as at fitting time)."""
    from bayesmeta.inference.diagnostics import Diagnostics, Problem, diagnose

    if "bayesmeta_diagnostics" not in attrs and idata is not None:
        return diagnose(idata, var_names=var_names)
    doc = json.loads(attrs["bayesmeta_diagnostics"])
    problems = tuple(Problem(**p) for p in doc.pop("problems"))
    for key in ("ok", "thresholds", "method"):
        doc.pop(key, None)
    doc = {k: (math.nan if v is None else v) for k, v in doc.items()}
    return Diagnostics(**doc, problems=problems)


def extra_to_json(extra: pd.DataFrame) -> str:
    """Extra data columns (e.g. ``subgroup``) as text, by study."""
    text = extra.astype(str)
    return json.dumps({"columns": [str(c) for c in text.columns],
                       "rows": text.values.tolist()}, ensure_ascii=False)


def extra_from_attrs(attrs: Mapping[str, Any]) -> pd.DataFrame:
    doc = json.loads(attrs.get("bayesmeta_extra", '{"columns": [], "rows": []}'))
    if not doc["columns"]:
        return pd.DataFrame()
    return pd.DataFrame(doc["rows"], columns=doc["columns"], dtype=object)


def versions_from_settings(settings: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in settings["versions"].items()}


def draws_from_tree(tree: Any) -> Any:
    """The draws of a saved MCMC fit (groups ``posterior``, ``sample_stats``) as the
    ``xarray.DataTree`` a fitted result holds."""
    import xarray as xr

    return xr.DataTree.from_dict({
        "posterior": xr.DataTree(tree["posterior"].to_dataset()),
        "sample_stats": xr.DataTree(tree["sample_stats"].to_dataset())})
