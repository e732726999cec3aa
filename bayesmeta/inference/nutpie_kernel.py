"""nutpie models from a hand-written numba log density (a "kernel"), compiled once per machine.

A kernel module (e.g. :mod:`bayesmeta.models.binomial_normal_kernel`) provides numba
functions ``sizes(packed)``, ``log_density_and_gradient(x, packed, grad)`` and
``expand(x, packed, out)`` whose data are one float64 vector ``packed`` that starts with its
own length. The two C callbacks nutpie calls read that vector from nutpie's user-data
pointer and take every size from it at run time, so one compiled pair serves every data set
and every prior: nothing is compiled for a new data set, a prior sweep or a leave-one-out
refit.

The callbacks are cached on disk by numba, beside PyTensor's own numba cache
(``<pytensor base_compiledir>/numba``), under a key made of their source and the source of
the kernel's modules (``kernel.SOURCE_MODULES``), so editing a kernel compiles it anew and a
cache from another numba version or CPU is not used (numba checks both). Measured on the
2-core reference machine: compiling ~3 s, loading ~0.5 s.

Chains start at 0 + U(−1, 1) in every coordinate (:class:`ZeroJitterStart`): PyMC's start for
the PyMC twin of each kernel, whose support point is 0 everywhere.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from bayesmeta.inference.nutpie_compile import compile_callback_source, vector_data_model


@dataclass(frozen=True)
class ZeroJitterStart:
    """Initial point 0 + U(−1, 1) jitter in each of ``n_dim`` unconstrained coordinates,
    from the chain's seed: PyMC's default start for models whose support point is 0."""

    n_dim: int

    def __call__(self, seed: Any) -> np.ndarray:
        return np.random.default_rng(seed).uniform(-1.0, 1.0, self.n_dim)


#: The two callbacks in nutpie's calling convention; sizes come from the data vector.
_KERNEL_CALLBACKS_SOURCE = """
def logp_numba(dim, x_, out_, logp_, user_data_):
    size = int(numba.carray(user_data_, (1,), np.float64)[0])
    packed = numba.carray(user_data_, (size,), np.float64)
    n_dim, n_expanded = sizes(packed)
    if dim != n_dim:
        return -1
    try:
        x = numba.carray(x_, (n_dim,))
        out = numba.carray(out_, (n_dim,))
        logp = numba.carray(logp_, ())
        value = log_density_and_gradient(x, packed, out)
        logp[()] = value
        for i in range(n_dim):
            if not np.isfinite(out[i]):
                return 3
        if not np.isfinite(value):
            return 4
    except Exception:
        return 1
    return 0


def expand_numba(dim, expanded, x_, out_, user_data_):
    size = int(numba.carray(user_data_, (1,), np.float64)[0])
    packed = numba.carray(user_data_, (size,), np.float64)
    n_dim, n_expanded = sizes(packed)
    if dim != n_dim or expanded != n_expanded:
        return -1
    try:
        expand(numba.carray(x_, (n_dim,)), packed, numba.carray(out_, (n_expanded,)))
    except Exception:
        return -2
    return 0
"""
#: Bump when the callbacks' calling convention changes (part of the cache key).
_VERSION = 1


def cache_key(kernel: ModuleType) -> str:
    """The key the kernel's callbacks are cached under: their source and the kernel's."""
    digest = hashlib.sha256(f"bayesmeta-kernel-{_VERSION}|{_KERNEL_CALLBACKS_SOURCE}".encode())
    for name in kernel.SOURCE_MODULES:
        digest.update(f"|{name}|".encode())
        digest.update(Path(importlib.import_module(name).__file__).read_bytes())
    return digest.hexdigest()


@functools.cache
def callbacks(kernel: ModuleType) -> tuple[Any, Any]:
    """The kernel's two C callbacks: compiled once per machine, then loaded from numba's
    disk cache (once per process)."""
    functions = {"sizes": kernel.sizes, "expand": kernel.expand,
                 "log_density_and_gradient": kernel.log_density_and_gradient}
    return compile_callback_source(_KERNEL_CALLBACKS_SOURCE, functions, cache_key(kernel))


def kernel_model(kernel: ModuleType, packed: np.ndarray, *, study: Sequence[str]) -> Any:
    """nutpie's compiled model of ``kernel`` on the data vector ``packed``.

    ``study``: the study labels (coordinate ``study``, the dimension of every vector-valued
    variable of ``kernel.variables``). ``with_data(prior_values=...)`` gives the same
    model under other priors (``kernel.with_priors``), without compiling anything.
    """
    import pandas as pd

    c_logp, c_expand = callbacks(kernel)
    names, slices, shapes = kernel.variables(list(study))
    # The Python function itself: calling the jitted one would compile it (~0.5 s).
    n_dim, n_expanded = kernel.sizes.py_func(np.asarray(packed, dtype=float))
    sampled = [f"{name}_{i}" if shape else name
               for name, part, shape in zip(names, slices, shapes, strict=True)
               if part.stop <= n_dim for i in range(part.stop - part.start)]
    coords = {"study": pd.Index(list(study)), "unconstrained_parameter": pd.Index(sampled)}
    return vector_data_model(
        n_dim, n_expanded, c_logp, c_expand, shape_info=(names, slices, shapes),
        dims={name: ("study",) for name, shape in zip(names, shapes, strict=True) if shape},
        coords=coords,
        initial_point=ZeroJitterStart(n_dim), data_name=kernel.PRIOR_VALUES, data=packed,
        update=kernel.with_priors)
