"""Classical (frequentist) meta-analysis, and every method side by side (``compare``).

The classical estimators (scipy.optimize) and the comparison registry load only when asked
for, so ``import bayesmeta.api`` stays quick.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bayesmeta.api.binary import DataLike
from bayesmeta.api.rates import RateLike
from bayesmeta.data.loading import load_data
from bayesmeta.data.rates import RateData

if TYPE_CHECKING:  # classical estimators load only when asked for (scipy.optimize)
    from bayesmeta.inference.classical.result import ClassicalFit


def fit_classical(data: DataLike | RateLike, method: str = "REML", *,
                  measure: str | None = None, cc: float = 0.5, cc_to: str = "only0",
                  cc_method: str = "constant", drop00: bool | None = None,
                  test: str = "z", level: float = 0.95,
                  subgroup: str | None = None) -> ClassicalFit:
    """A classical (frequentist) meta-analysis, for comparison with the Bayesian models.

    ``method``: ``"MH"``, ``"Peto"``, ``"FE"``, ``"DL"``, ``"REML"``, ``"ML"``, ``"PM"`` or
    ``"GLMM"``; ``measure``: ``"OR"`` (default), ``"RR"``, ``"RD"`` for binary data,
    ``"IRR"`` (default) or ``"IRD"`` for rates. The zero-cell rule of the inverse-variance
    methods: ``cc`` added (``cc_method="constant"``, or ``"tacc"`` for the treatment-arm
    correction) to the tables chosen by ``cc_to`` (``"only0"``, ``"all"``, ``"if0all"``,
    ``"none"`` = no correction: tables with a zero cell are left out); ``drop00`` drops
    double-zero tables (default: True for binary data, False for rates, as metafor).
    ``test="knha"`` gives the Hartung–Knapp–Sidik–Jonkman interval. See
    :mod:`bayesmeta.inference.classical`.
    """
    loaded = load_data(data)
    if subgroup is not None:
        loaded = loaded.select("subgroup", subgroup)
    if isinstance(loaded, RateData):
        from bayesmeta.inference.classical.analyses import classical_rates

        return classical_rates(loaded, method, measure=measure or "IRR", cc=cc, cc_to=cc_to,
                               drop00=bool(drop00), test=test, level=level)
    from bayesmeta.inference.classical.analyses import classical_binary

    return classical_binary(loaded, method, measure=measure or "OR", cc=cc, cc_to=cc_to,
                            cc_method=cc_method, drop00=True if drop00 is None else drop00,
                            test=test, level=level)


def compare(data: DataLike | RateLike, methods: Iterable[str] | None = None, **options):
    """Every classical method and every Bayesian model on the same data, in one table.

    See :func:`bayesmeta.api.comparison.compare` for the options (``measure``, sampler
    settings, ``progress``); ``bayesmeta.api.comparison.METHODS`` lists the methods.
    """
    from bayesmeta.api.comparison import compare as run_compare

    return run_compare(data, methods=methods, **options)
