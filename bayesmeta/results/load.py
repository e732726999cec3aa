"""Reload a saved fit (``--save FILE.nc``) as its result object, without refitting.

A saved file names its kind in the attribute ``bayesmeta_schema``; :data:`LOADERS` maps each
kind to the function that rebuilds its result object (``"module:function"``, taking the
opened tree and the file name). A new model's result adds one line here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from bayesmeta.errors import InputError

LOADERS: dict[str, str] = {
    "bayesmeta.fit.binary/1": "bayesmeta.results.binary:load_binary_result",
    "bayesmeta.fit.effects/1": "bayesmeta.results.effects_saved:load_effects_result",
    "bayesmeta.fit.rates/1": "bayesmeta.results.rates:load_rates_result",
}

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def load_result(path: str | Path) -> Any:
    """The result object saved in ``path``; an :class:`InputError` for anything else."""
    import xarray as xr

    p = Path(path)
    source = str(p)
    if not p.exists():
        raise InputError("file not found", source=source)
    if p.is_dir():
        raise InputError("is a directory, not a saved fit", source=source)
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head != _HDF5_MAGIC and not head.startswith(b"CDF"):
        raise InputError("is not a NetCDF file; give a file written by --save", source=source)
    try:
        with xr.open_datatree(p) as opened:
            tree = opened.load()
    except Exception as exc:  # h5py/netCDF raise many kinds of errors on damaged files
        raise InputError(f"cannot be read as NetCDF ({type(exc).__name__}); is it damaged?",
                         source=source) from None
    schema = tree.attrs.get("bayesmeta_schema")
    if schema is None:
        raise InputError("is a NetCDF file but not one saved by bayesmeta (no "
                         "'bayesmeta_schema' attribute)", source=source)
    if schema not in LOADERS:
        raise InputError(f"holds a '{schema}' result, which this version of bayesmeta cannot "
                         f"read (it reads: {', '.join(LOADERS)})", source=source)
    module, _, function = LOADERS[schema].partition(":")
    return getattr(importlib.import_module(module), function)(tree, source)
