"""Compiled models kept on disk, so rerunning a fit skips PyMC and PyTensor altogether.

A nutpie fit needs, besides the two numba callbacks (cached by numba itself, see
:mod:`bayesmeta.inference.nutpie_compile`), a handful of facts about the model: the sizes,
the names, slices and shapes of the sampled and reported variables, dims and coordinates.
Getting them the usual way means importing PyMC and building and rewriting the PyTensor
graphs: ~1.5–2.5 s of every warm ``bayesmeta fit binary`` on the 2-core reference machine,
more than sampling and summarising together. This module writes those facts, with the
callbacks' cache key, to a small JSON file the first time a model is compiled and reads
them back on later runs, so a rerun only loads the callbacks.

What is cached is named by a key (:func:`model_key`) made of

* the model's name and every array that enters its graph as a constant (counts, study
  labels, sizes — given by the model module);
* a hash of the source of the whole ``bayesmeta`` package, so editing any module (a model,
  the callbacks) makes new entries;
* the versions of Python, numpy, PyMC, PyTensor, numba, llvmlite and nutpie, and
  ``PYTENSOR_FLAGS``.

Data that enter as *data* (the prior coefficients of
:mod:`bayesmeta.models.binomial_normal_prior_data`) are not part of the key: they are
nutpie's user data, given at every run. The files live beside PyTensor's numba cache
(``<pytensor base_compiledir>/bayesmeta``), so emptying PyTensor's cache empties this too.
If anything is missing or unreadable, the model is compiled as usual: the cache only ever
saves time. A loaded model and a freshly compiled one run the very same machine code from
the same start (``ZeroJitterStart``), so they give identical draws for the same seed
(``tests/test_compiled_cache.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: Bump when the layout of the files below changes.
FORMAT_VERSION = 1
_LIBRARIES = ("numpy", "pymc", "pytensor", "numba", "llvmlite", "nutpie")


def cache_dir() -> Path:
    """Where the files are: beside PyTensor's compile cache."""
    from pytensor import config

    return Path(config.base_compiledir) / "bayesmeta"


def model_key(name: str, constants: Mapping[str, Any]) -> str:
    """The key of model ``name`` whose graph holds ``constants`` (arrays or lists)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([FORMAT_VERSION, name, _environment()]).encode())
    for key in sorted(constants):
        value = np.asarray(constants[key])
        digest.update(f"|{key}|{value.dtype.str}|{value.shape}|".encode())
        if value.dtype.kind in "OUS":
            digest.update(json.dumps([str(v) for v in value.ravel()]).encode())
        else:
            digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()


@functools.cache
def _environment() -> list[str]:
    from importlib.metadata import version

    package = Path(__file__).resolve().parents[1]
    source = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        source.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    # Models are always compiled without fastmath (sampling.exact_float_arithmetic); other
    # PyTensor settings (e.g. floatX) would change the graphs.
    return [source.hexdigest(), sys.version, os.environ.get("PYTENSOR_FLAGS", ""),
            *(f"{lib}={version(lib)}" for lib in _LIBRARIES)]


def save(key: str, compiled: Any) -> None:
    """Record ``compiled`` (a nutpie model with a data vector, from
    :func:`~bayesmeta.inference.nutpie_compile.compile_for_nutpie` with ``zero_start``)
    under ``key``. Does nothing when its callbacks are not cached by numba."""
    spec = getattr(compiled, "callbacks", None)
    if spec is None or spec.cache_key is None:
        return
    names, slices, shapes = compiled.shape_info
    record = {  # numpy integers are written as numbers (_plain)
        "format": FORMAT_VERSION,
        "callbacks": dataclasses.asdict(spec),
        "shape_info": [list(names), [[s.start, s.stop] for s in slices],
                       [list(shape) for shape in shapes]],
        "dims": {name: list(dims) for name, dims in (compiled.dims or {}).items()},
        "coords": {name: list(values) for name, values in (compiled.coords or {}).items()},
        "data_name": compiled.data_name,
        "data_size": compiled.user_data.size,
    }
    text = json.dumps(record, default=_plain)
    folder = cache_dir()
    try:  # a cache that cannot be written (read-only home, full disk) only costs time
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        pass


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (for JSON)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot record {type(value).__name__} in the compiled-model cache")


def load(key: str, data: np.ndarray) -> Any | None:
    """The compiled model recorded under ``key``, with ``data`` as its data vector; None
    when there is none (or its callbacks are no longer in numba's cache)."""
    path = cache_dir() / f"{key}.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if record.get("format") != FORMAT_VERSION:
        return None
    import pandas as pd

    from bayesmeta.inference.nutpie_compile import (
        CallbackSpec,
        ZeroJitterStart,
        compile_callbacks,
        vector_data_model,
    )

    if np.shape(data) != (record["data_size"],):
        return None
    spec = CallbackSpec(**record["callbacks"])
    try:
        c_logp, c_expand = compile_callbacks(spec, {})
    except Exception:  # not in numba's cache (emptied, or another machine): compile anew
        return None
    names, slices, shapes = record["shape_info"]
    return vector_data_model(
        spec, c_logp, c_expand,
        shape_info=(names, [slice(a, b) for a, b in slices], [tuple(s) for s in shapes]),
        dims={k: tuple(v) for k, v in record["dims"].items()},
        coords={k: pd.Index(v) for k, v in record["coords"].items()},
        initial_point=ZeroJitterStart(spec.nd), data_name=record["data_name"], data=data)
