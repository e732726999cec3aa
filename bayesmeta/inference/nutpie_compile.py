"""Compile a PyMC model for nutpie in about a second instead of four to eight.

``nutpie.compile_pymc_model`` wraps PyMC's numba-compiled log-density in two numba C
callbacks. PyTensor caches the log-density itself on disk (``~/.pytensor``), but the
callbacks are rebuilt in every process, and most of their build time goes into numba's
generic ``out[...] = grad`` array assignment. Measured on this project's 2-core machine
(Crins 2014, warm PyTensor cache): nutpie's own compile 4.3 s, this one 2.0 s (of which
0.7 s is PyMC building the PyTensor functions). The callbacks here are nutpie's, with the
array copies written as plain loops; everything else (the functions, shared data,
initial points, coordinates) is nutpie's own code, so sampling is unchanged.

A model whose only data variable is one float64 vector (the priors-as-data model,
:mod:`bayesmeta.models.binomial_normal_prior_data`) gets that vector as nutpie's user data
itself, read with one ``carray``; nutpie's generic shared-data reader (``literal_unroll``
over a record of pointers) would add ~3 s of numba compile to every process. Its
``with_data`` swaps the vector without recompiling.

nutpie is pinned to 0.16.x because this uses its internal helpers; if they move, we fall
back to ``nutpie.compile_pymc_model`` (slower, same results).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any
from uuid import uuid4

import numpy as np


def compile_for_nutpie(model: Any) -> Any:
    """Return a nutpie compiled model for ``model`` (fast path, with a safe fallback)."""
    from bayesmeta.inference.sampling import exact_float_arithmetic

    exact_float_arithmetic()
    try:
        return _compile_fast(model)
    except (ImportError, AttributeError, TypeError):  # nutpie internals changed
        import nutpie

        return nutpie.compile_pymc_model(model, backend="numba")


def _compile_fast(model: Any) -> Any:
    import numba
    from nutpie import compile_pymc as cp
    from pymc.initial_point import make_initial_point_fn

    initial_point_fn = cp._wrap_with_lock(make_initial_point_fn(
        model=model, default_strategy="support_point", jitter_rvs=set(model.free_RVs),
        return_transformed=True))
    n_dim, n_expanded, logp_pt, expand_pt, init_fn, shape_info, reparam = cp._make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True,
        pymc_initial_point_fn=initial_point_fn, var_names=None)

    vector = _single_vector_data(logp_pt, expand_pt)
    if vector is not None:
        # One 1-D float64 data vector (e.g. prior hyperparameters): user data is the array
        # itself, read with one carray; compiles ~3 s faster than nutpie's generic reader.
        values = np.array(vector.get_value(), dtype=np.float64, order="C", copy=True)
        values.flags.writeable = False
        key = uuid4().hex
        shared_data = {key: values}
        shared_keys = {vector: key}
        user_data = values
        extract_logp = _vector_extraction(logp_pt.vm.jit_fn, bool(logp_pt.get_shared()),
                                          values.size)
        extract_expand = _vector_extraction(expand_pt.vm.jit_fn,
                                            bool(expand_pt.get_shared()), values.size)
    else:
        shared_data, shared_keys = {}, {}
        for var in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
            if var in shared_keys:
                continue
            key = uuid4().hex
            shared_data[key] = np.array(var.get_value(), order="C", copy=True)
            shared_data[key].flags.writeable = False
            shared_keys[var] = key
        user_data = cp.make_user_data(shared_keys, shared_data)
        extract_logp = cp.make_extraction_fn(
            logp_pt.vm.jit_fn, shared_data, [shared_keys[v] for v in logp_pt.get_shared()],
            user_data.dtype)
        extract_expand = cp.make_extraction_fn(
            expand_pt.vm.jit_fn, shared_data,
            [shared_keys[v] for v in expand_pt.get_shared()], user_data.dtype)
    nd, ne = n_dim, n_expanded

    def logp_numba(dim, x_, out_, logp_, user_data_):  # pragma: no cover - runs in numba
        if dim != nd:
            return -1
        try:
            x = numba.carray(x_, (nd,))
            out = numba.carray(out_, (nd,))
            logp = numba.carray(logp_, ())
            logp_val, grad = extract_logp(x, user_data_)
            logp[()] = logp_val
            finite = True
            for i in range(nd):
                out[i] = grad[i]
                if not np.isfinite(grad[i]):
                    finite = False
            if not finite:
                return 3
            if not np.isfinite(logp_val):
                return 4
        except Exception:
            return 1
        return 0

    def expand_numba(dim, expanded, x_, out_, user_data_):  # pragma: no cover - numba
        if dim != nd or expanded != ne:
            return -1
        try:
            x = numba.carray(x_, (nd,))
            out = numba.carray(out_, (ne,))
            (values,) = extract_expand(x, user_data_)
            for i in range(ne):
                out[i] = values[i]
        except Exception:
            return -2
        return 0

    t = numba.types
    sig_logp = t.int64(t.uint64, t.CPointer(t.double), t.CPointer(t.double),
                       t.CPointer(t.double), t.voidptr)
    sig_expand = t.int64(t.uint64, t.uint64, t.CPointer(t.double), t.CPointer(t.double),
                         t.voidptr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaWarning)
        c_logp = numba.cfunc(sig_logp)(logp_numba)
        c_expand = numba.cfunc(sig_expand)(expand_numba)
    dims, coords = cp._prepare_dims_and_coords(model, shape_info, reparam)
    cls = _vector_model_class() if vector is not None else cp.CompiledPyMCModel
    return cls(
        _n_dim=n_dim, dims=dims, _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
        compiled_logp_func=c_logp, compiled_expand_func=c_expand, initial_point_func=init_fn,
        shared_data=shared_data, shared_var_keys=shared_keys, user_data=user_data,
        n_expanded=n_expanded, shape_info=shape_info, logp_func=logp_pt,
        expand_func=expand_pt)


def _single_vector_data(logp_pt: Any, expand_pt: Any) -> Any:
    """The model's only shared variable if it is one 1-D float64 vector, else None."""
    shared = []
    for var in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
        if var not in shared:
            shared.append(var)
    if len(shared) != 1:
        return None
    value = np.asarray(shared[0].get_value())
    return shared[0] if value.ndim == 1 and value.dtype == np.float64 else None


def _vector_extraction(inner: Any, uses_vector: bool, size: int) -> Any:
    """A numba function calling the PyTensor function ``inner`` with the data vector
    read from nutpie's user-data pointer (which points at the float64 array itself)."""
    import numba

    if not uses_vector:
        @numba.njit(inline="always")
        def extract_plain(x, user_data_):  # pragma: no cover - runs in numba
            return inner(x)

        return extract_plain

    @numba.njit(inline="always")
    def extract(x, user_data_):  # pragma: no cover - runs in numba
        values = numba.carray(user_data_, (size,), np.float64)
        return inner(x, values)

    return extract


@functools.cache
def _vector_model_class() -> Any:
    import dataclasses

    from nutpie.compile_pymc import CompiledPyMCModel

    @dataclasses.dataclass(frozen=True)
    class VectorDataModel(CompiledPyMCModel):
        """nutpie's compiled model whose user data is one float64 vector (see above)."""

        def with_data(self, **updates: Any) -> Any:
            (var, key), = self.shared_var_keys.items()
            unknown = set(updates) - {var.name}
            if unknown:
                raise KeyError(f"unknown data variable(s): {', '.join(sorted(unknown))}")
            if var.name not in updates:
                return self
            old = self.shared_data[key]
            new = np.array(updates[var.name], dtype=np.float64, order="C", copy=True)
            if new.shape != old.shape:
                raise ValueError(f"'{var.name}' must keep its shape {old.shape}, "
                                 f"got {new.shape}")
            new.flags.writeable = False
            return dataclasses.replace(self, shared_data={key: new}, user_data=new)

    return VectorDataModel
