"""Prior sets for sensitivity analyses: TOML files naming several prior configurations.

A prior set names the model, default priors, and one ``[[configuration]]`` per analysis;
a configuration changes some priors and inherits the rest from ``[defaults]``::

    model = "binomial_normal"
    title = "Rare adverse events: heterogeneity and effect priors"
    reference = "HN(0.5)"            # optional; the first configuration otherwise

    [defaults]
    baseline = "normal:0:10"
    effect = "normal:0:2.82"
    tau = "halfnormal:0.5"

    [[configuration]]
    name = "HN(0.5)"
    source = "Günhan et al. 2020"    # optional, shown in the JSON
    # (no prior keys: the defaults)

    [[configuration]]
    name = "HC(0.5)"
    tau = "halfcauchy:0.5"

Bundled sets live in ``models/`` next to the model files and are chosen by name
(``--priors sensitivity_rare_events``); any other file by path. Every problem is an
:class:`~bayesmeta.errors.InputError` naming the file and the key.

A set for the normal–normal model (``model = "nnhm"``, slots ``mu`` and ``tau``) may say
which effect measures its priors are written for (``measures = ["logOR", "logRR"]``): a
between-study SD means something else on another scale, so the sweep refuses other data.
Slots a configuration leaves out come from ``[defaults]``, then from the model's defaults
(for the NNHM: the measure's defaults, passed in as ``defaults=``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bayesmeta.errors import InputError
from bayesmeta.models.spec_files import MODEL_PRIOR_SLOTS, bundled_model_files
from bayesmeta.priors import Prior, parse_prior

TOP_KEYS = {"model", "title", "reference", "defaults", "configuration", "measures"}
CONFIG_META_KEYS = {"name", "source", "note"}


@dataclass(frozen=True)
class PriorConfiguration:
    """One analysis of a sweep: a name, every prior slot filled, and why it was chosen."""

    name: str
    priors: dict[str, Prior]
    source: str = ""

    def changed_from(self, other: PriorConfiguration) -> dict[str, Prior]:
        """The priors in which this configuration differs from ``other``."""
        return {slot: p for slot, p in self.priors.items() if other.priors.get(slot) != p}


@dataclass(frozen=True)
class PriorSet:
    """Several prior configurations for one model; ``reference`` is the one compared to."""

    model: str
    title: str
    configurations: tuple[PriorConfiguration, ...]
    reference: str
    path: Path | None = None
    measures: tuple[str, ...] = ()  # effect measures the priors are written for (NNHM)

    def __post_init__(self) -> None:
        names = [c.name for c in self.configurations]
        if not names:
            raise InputError("a prior set needs at least one configuration", source=self.where)
        if self.reference not in names:
            raise InputError(f"reference '{self.reference}' is not a configuration name; "
                             f"names: {', '.join(names)}", source=self.where)

    @property
    def where(self) -> str:
        return str(self.path) if self.path else "prior set"

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.configurations]

    def get(self, name: str) -> PriorConfiguration:
        for c in self.configurations:
            if c.name == name:
                return c
        raise InputError(f"no configuration '{name}'; names: {', '.join(self.names)}",
                         source=self.where)

    @property
    def reference_configuration(self) -> PriorConfiguration:
        return self.get(self.reference)


def bundled_prior_sets() -> dict[str, Path]:
    """Bundled TOML files in ``models/`` that are prior sets (they have configurations)."""
    out = {}
    for name, path in bundled_model_files().items():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if "configuration" in raw:
            out[name] = path
    return out


def load_prior_set(name_or_path: str | Path, *, model: str, option: str = "--priors",
                   defaults: Mapping[str, Prior] | None = None) -> PriorSet:
    """Read a prior set for ``model`` by bundled name or path (see the module docstring)."""
    path = Path(name_or_path)
    if not path.exists():
        bundled = bundled_prior_sets()
        if str(name_or_path) not in bundled:
            raise InputError(f"'{name_or_path}' is neither a file nor a bundled prior set; "
                             f"bundled: {', '.join(bundled) or 'none'}", source=option)
        path = bundled[str(name_or_path)]
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", source=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"is not valid TOML ({exc})", source=path) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", source=path) from None
    return prior_set_from_dict(raw, model=model, source=path, defaults=defaults)


def prior_set_from_dict(raw: Mapping[str, Any], *, model: str,
                        source: str | Path | None = None,
                        defaults: Mapping[str, Prior] | None = None) -> PriorSet:
    """Build a :class:`PriorSet` from the parsed TOML (or an equivalent dict).

    ``defaults``: priors for slots that neither a configuration nor ``[defaults]`` gives
    (default: the model's own defaults, see :func:`_model_defaults`)."""
    where = str(source) if source is not None else "prior set"
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(sorted(unknown))}; a prior set has "
                         f"{', '.join(sorted(TOP_KEYS))}", source=where)
    file_model = raw.get("model", model)
    if file_model != model:
        raise InputError(f"key 'model' is '{file_model}', but this analysis needs a prior set "
                         f"for '{model}'", source=where)
    slots = MODEL_PRIOR_SLOTS.get(model)
    if slots is None:
        raise InputError(f"no prior slots known for model '{model}'", source=where)
    defaults_raw = raw.get("defaults", {})
    if not isinstance(defaults_raw, Mapping):
        raise InputError("[defaults] must be a table of name = \"spec\" lines", source=where)
    file_defaults = _priors(defaults_raw, slots, f"{where} [defaults]", allow_meta=False)
    base = dict(_model_defaults(model) if defaults is None else defaults)
    measures = _measures(raw.get("measures", []), where)
    configs_raw = raw.get("configuration")
    if not isinstance(configs_raw, list) or not configs_raw:
        raise InputError("needs [[configuration]] tables, one per prior configuration",
                         source=where)
    configurations = []
    seen: set[str] = set()
    for i, entry in enumerate(configs_raw, start=1):
        place = f"{where} [[configuration]] {i}"
        if not isinstance(entry, Mapping):
            raise InputError("must be a table", source=place)
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InputError("key 'name' is missing or empty", source=place)
        name = name.strip()
        place = f"{where} [[configuration]] '{name}'"
        if name in seen:
            raise InputError("the name is used twice", source=place)
        seen.add(name)
        own = _priors(entry, slots, place, allow_meta=True)
        priors = {**base, **file_defaults, **own}
        missing = [s for s in slots if s not in priors]
        if missing:
            raise InputError(f"no prior for {', '.join(missing)} (give it here or in "
                             "[defaults])", source=place)
        source_text = entry.get("source", "")
        if not isinstance(source_text, str):
            raise InputError("key 'source' must be a string", source=place)
        configurations.append(PriorConfiguration(name, priors, source_text))
    reference = raw.get("reference", configurations[0].name)
    if not isinstance(reference, str):
        raise InputError("key 'reference' must be a configuration name", source=where)
    return PriorSet(model=model, title=str(raw.get("title", "")),
                    configurations=tuple(configurations), reference=reference,
                    path=Path(source) if source is not None else None, measures=measures)


def _measures(value: Any, where: str) -> tuple[str, ...]:
    """The ``measures`` key: effect measures (logOR, SMD, ...) the set is written for."""
    from bayesmeta.data.effects import parse_measure

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("key 'measures' must be a list of effect measures such as "
                         "[\"logOR\", \"logRR\"]", source=where)
    out = []
    for v in value:
        try:
            out.append(parse_measure(v))
        except InputError as exc:
            raise InputError(f"key 'measures': {exc.reason}", source=where) from None
    return tuple(out)


def _priors(table: Mapping[str, Any], slots: Mapping[str, str], place: str, *,
            allow_meta: bool) -> dict[str, Prior]:
    out: dict[str, Prior] = {}
    for key, value in table.items():
        if allow_meta and key in CONFIG_META_KEYS:
            continue
        if key not in slots:
            allowed = [*slots, *(sorted(CONFIG_META_KEYS) if allow_meta else [])]
            raise InputError(f"unknown key '{key}'; allowed: {', '.join(allowed)}",
                             source=place)
        if isinstance(value, Prior):
            prior = value
        elif isinstance(value, str):
            prior = parse_prior(value, option=f"{place} {key}", support=slots[key])
        else:
            raise InputError(f"'{key}' must be a string such as \"halfnormal:0.5\"",
                             source=place)
        out[key] = parse_prior(prior, option=f"{place} {key}", support=slots[key])
    return out


def _model_defaults(model: str) -> dict[str, Prior]:
    """The model's own default priors (used for slots a prior set does not name)."""
    if model == "binomial_normal":
        from bayesmeta.models.binomial_normal import BinomialNormalPriors

        return BinomialNormalPriors().as_dict()
    return {}
