"""The printed summary of any result object, chosen by its schema.

``bayesmeta fit ...`` and ``bayesmeta show FILE.nc`` print through the same renderer, so a
reloaded fit reads exactly as it did when fitted. A new model's result adds one line to
:data:`RENDERERS` (``schema -> "module:function"``, the function taking the result and a
``label``).
"""

from __future__ import annotations

import importlib
from typing import Any

RENDERERS: dict[str, str] = {
    "bayesmeta.fit.binary/1": "bayesmeta.presentation.binary_text:render_binary",
    "bayesmeta.fit.effects/1": "bayesmeta.presentation.effects_text:render_effects",
    "bayesmeta.fit.rates/1": "bayesmeta.presentation.rates_text:render_rates",
}


def render_result(result: Any, *, label: str | None = None) -> str:
    """The text summary of ``result`` (label: how its data are named; default: as fitted)."""
    schema = result.schema
    if schema not in RENDERERS:
        raise KeyError(f"no renderer for results of schema '{schema}'")
    module, _, function = RENDERERS[schema].partition(":")
    render = getattr(importlib.import_module(module), function)
    return render(result, label=label if label is not None else result.label)
