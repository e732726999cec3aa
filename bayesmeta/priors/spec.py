"""Prior specifications: a family, its parameters, and where the choice comes from.

Priors are values, written the same way on the command line, in TOML model files and in
Python: ``"halfnormal:0.5"``, ``"normal:0:2.82"``, ``"uniform:0:5"``, and named priors from
the literature such as ``"turner:adverse-events:pharma-vs-placebo"`` (resolvers for named
priors register themselves with :func:`register_named`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesmeta.errors import InputError
from bayesmeta.priors.families import FAMILIES, Family, lookup


@dataclass(frozen=True)
class Prior:
    """A prior distribution: ``family`` with ``params``; ``label`` is the name it was chosen
    by (for named priors), ``source`` a citation for the choice."""

    family: str
    params: tuple[float, ...] = ()
    label: str | None = None
    source: str = ""

    def __post_init__(self) -> None:
        fam = FAMILIES.get(self.family)
        if fam is None:
            raise InputError(f"unknown prior family '{self.family}'; known: {known_names()}")
        if len(self.params) != len(fam.params):
            raise InputError(f"{self.family} takes {len(fam.params)} parameter(s) "
                             f"({', '.join(fam.params) or 'none'}), got {len(self.params)}")
        problem = fam.check(tuple(float(p) for p in self.params))
        if problem:
            raise InputError(f"{self.family}: {problem}")

    @property
    def spec(self) -> str:
        """The prior written as a specification string (round-trips through :func:`parse_prior`)."""
        if self.label:
            return self.label
        return ":".join([self.family, *(f"{p:g}" for p in self.params)])

    def __str__(self) -> str:
        return self.spec

    @property
    def fam(self) -> Family:
        return FAMILIES[self.family]

    @property
    def support(self) -> str:
        return self.fam.support

    @property
    def proper(self) -> bool:
        return self.fam.proper

    def describe(self) -> str:
        """Readable form, e.g. ``half-normal(scale=0.5)``."""
        values = {name: f"{value:g}" for name, value in zip(self.fam.params, self.params,
                                                            strict=True)}
        text = self.fam.math.format(**values)
        return f"{text} [{self.label}]" if self.label else text

    def to_pymc(self, name: str, **kwargs: Any):
        """Create the PyMC random variable ``name`` with this prior (inside a model context)."""
        if self.fam.pymc is None:
            raise InputError(f"the prior '{self.spec}' is improper and can only be used with "
                             "exact methods (--method exact), not MCMC")
        # float64 numpy scalars: PyTensor would store a "round" Python float such as 10.0
        # as a float32 constant, and compute e.g. log(sigma) in single precision
        return self.fam.pymc(name, *(np.float64(p) for p in self.params), **kwargs)

    def dist(self):
        """A frozen scipy-like distribution (logpdf, pdf, cdf, ppf, rvs); None if improper."""
        return None if self.fam.scipy is None else self.fam.scipy(*self.params)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log density at ``x`` (improper priors: 0 on their support, i.e. up to a constant)."""
        x = np.asarray(x, dtype=float)
        if self.family == "jeffreys":
            raise InputError("the Jeffreys prior of τ depends on the studies' standard errors; "
                             "only the exact normal–normal model (--method exact) uses it")
        d = self.dist()
        if d is None:
            if self.support == "positive":
                return np.where(x >= 0, 0.0, -np.inf)
            return np.zeros_like(x)
        return d.logpdf(x)

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec, "family": self.family, "params": list(self.params),
                "description": self.describe(), "source": self.source}


NamedResolver = Callable[[list[str]], Prior]
_NAMED: dict[str, NamedResolver] = {}


def register_named(prefix: str, resolver: NamedResolver) -> None:
    """Register ``resolver`` for specifications that start with ``prefix:``."""
    _NAMED[prefix.lower()] = resolver


def known_names() -> str:
    return ", ".join([*FAMILIES, *(f"{p}:..." for p in _NAMED)])


def parse_prior(text: str | Prior, *, option: str = "prior",
                support: str | None = None) -> Prior:
    """Parse ``"family:param:param"`` or a named prior into a :class:`Prior`.

    ``option`` names where the text came from (``--tau-prior``), for the error message;
    ``support`` ("positive" for τ) refuses a prior on the wrong space.
    """
    prior = text if isinstance(text, Prior) else _parse(str(text), option)
    if support is not None and prior.support != support:
        want = "positive values (a scale such as τ)" if support == "positive" else "real values"
        raise InputError(f"'{prior.spec}' is a prior on {prior.support} values; this one "
                         f"needs {want}", source=option)
    return prior


def _parse(text: str, option: str) -> Prior:
    parts = [p.strip() for p in text.strip().split(":")]
    head = parts[0].lower()
    if not head:
        raise InputError("empty prior specification", source=option)
    if head in _NAMED:
        try:
            return _NAMED[head](parts[1:])
        except InputError as exc:
            raise InputError(exc.reason, source=option) from None
    fam = lookup(head)
    if fam is None:
        raise InputError(f"unknown prior '{parts[0]}'; known: {known_names()}", source=option)
    values: list[float] = []
    for raw in parts[1:]:
        try:
            values.append(float(raw))
        except ValueError:
            raise InputError(f"'{raw}' is not a number in '{text}'", source=option) from None
        if not np.isfinite(values[-1]):
            raise InputError(f"'{raw}' is not a finite number in '{text}'", source=option)
    try:
        return Prior(fam.name, tuple(values))
    except InputError as exc:
        raise InputError(f"{exc.reason} in '{text}'", source=option) from None
