"""Model specification files (TOML in ``models/``): a model name and its priors.

A file names the model and gives each prior as a specification string, with comments
saying where it comes from::

    model = "binomial_normal"
    title = "Günhan et al. (2020) defaults"
    [priors]
    baseline = "normal:0:10"
    effect = "normal:0:2.82"
    tau = "halfnormal:0.5"

A bundled file is chosen by its name (``--model binomial_normal``), any other by path.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from bayesmeta.errors import InputError
from bayesmeta.priors import Prior, parse_prior
from bayesmeta.resources import bundled_dir

#: Prior slots of each model and the support each needs.
MODEL_PRIOR_SLOTS: dict[str, dict[str, str]] = {
    "binomial_normal": {"baseline": "real", "effect": "real", "tau": "positive"},
    "nnhm": {"mu": "real", "tau": "positive"},
    "conditional_hypergeometric": {"effect": "real", "tau": "positive"},
    "poisson_normal": {"baseline": "real", "effect": "real", "tau": "positive"},
}


@dataclass(frozen=True)
class ModelSpec:
    model: str
    title: str
    priors: dict[str, Prior]
    path: Path


def bundled_model_files() -> dict[str, Path]:
    folder = bundled_dir("models")
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def load_model_spec(name_or_path: str | Path) -> ModelSpec:
    """Read a model file by bundled name or path; every problem is an :class:`InputError`."""
    path = Path(name_or_path)
    if not path.exists():
        bundled = bundled_model_files()
        if str(name_or_path) not in bundled:
            raise InputError(f"'{name_or_path}' is neither a model file nor a bundled model; "
                             f"bundled: {', '.join(bundled)}", source="--model")
        path = bundled[str(name_or_path)]
    if path.is_dir():
        raise InputError("is a directory, not a model file", source=path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", source=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"is not valid TOML ({exc})", source=path) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", source=path) from None
    if "configuration" in raw:
        raise InputError("is a prior set for `bayesmeta sensitivity --priors`, not a model "
                         "file", source=path)
    model = raw.get("model")
    if model not in MODEL_PRIOR_SLOTS:
        raise InputError(f"key 'model' must be one of {', '.join(MODEL_PRIOR_SLOTS)} "
                         f"(got {model!r})", source=path)
    slots = MODEL_PRIOR_SLOTS[model]
    table = raw.get("priors", {})
    if not isinstance(table, dict):
        raise InputError("[priors] must be a table of name = \"spec\" lines", source=path)
    priors: dict[str, Prior] = {}
    for key, value in table.items():
        if key not in slots:
            raise InputError(f"unknown prior '{key}' for {model}; its priors are "
                             f"{', '.join(slots)}", source=f"{path} [priors]")
        if not isinstance(value, str):
            raise InputError(f"'{key}' must be a string such as \"halfnormal:0.5\"",
                             source=f"{path} [priors]")
        priors[key] = parse_prior(value, option=f"{path} [priors] {key}", support=slots[key])
    return ModelSpec(model, str(raw.get("title", "")), priors, path)
