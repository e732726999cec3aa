"""The real datasets bundled with bayesmeta, by name.

The registry is ``data/datasets.toml``: one table per dataset with its file, kind
(``binary``, ``effects``, ``continuous``, ``longitudinal``), a title, the outcome, and the
citation. A bundled name works wherever a path does (``bayesmeta fit binary crins2014_ar``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from bayesmeta.errors import InputError
from bayesmeta.resources import bundled_dir


@dataclass(frozen=True)
class Dataset:
    """One bundled dataset: its name, file and provenance."""

    name: str
    path: Path
    kind: str
    title: str
    outcome: str
    citation: str
    notes: str = ""
    #: Reading options a bundled dataset needs (e.g. which column is time), from its
    #: ``[name.defaults]`` table; an option given by the user overrides them.
    defaults: dict = field(default_factory=dict, hash=False)


@cache
def registry() -> dict[str, Dataset]:
    """All bundled datasets, by name, in the order of ``datasets.toml``."""
    folder = bundled_dir("data")
    with open(folder / "datasets.toml", "rb") as fh:
        raw = tomllib.load(fh)
    return {
        name: Dataset(name=name, path=folder / spec["file"], kind=spec["kind"],
                      title=spec["title"], outcome=spec.get("outcome", ""),
                      citation=spec["citation"], notes=spec.get("notes", ""),
                      defaults=dict(spec.get("defaults", {})))
        for name, spec in raw.items()
    }


def get_dataset(name: str) -> Dataset:
    """The bundled dataset called ``name``; an :class:`InputError` lists the names if unknown."""
    reg = registry()
    if name not in reg:
        raise InputError(f"no bundled dataset '{name}'; bundled: {', '.join(reg)}")
    return reg[name]


def resolve(path_or_name: str | Path, *, kind: str | None = None) -> Path:
    """Return a path for a file path or a bundled dataset's name.

    An existing file wins over a dataset of the same name. With ``kind`` given, a bundled
    dataset of another kind is refused ("crins2014_ar holds binary data, not effects").
    """
    p = Path(path_or_name)
    if p.exists():
        return p
    name = str(path_or_name)
    reg = registry()
    if name in reg:
        ds = reg[name]
        if kind is not None and ds.kind != kind:
            raise InputError(f"bundled dataset '{name}' holds {ds.kind} data, not {kind}")
        return ds.path
    looks_like_path = p.suffix or "/" in name or "\\" in name
    if looks_like_path:
        raise InputError("file not found", source=name)
    matching = [n for n, d in reg.items() if kind is None or d.kind == kind]
    raise InputError(f"'{name}' is neither a file nor a bundled dataset; bundled"
                     f"{' ' + kind if kind else ''} datasets: {', '.join(matching)}")
