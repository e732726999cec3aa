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

The callbacks are written as source (:data:`_CALLBACKS_SOURCE`) and cached on disk by numba
under a key made of PyTensor's own hashes of the two functions' graphs, so a second process
with the same model and data loads them (~0.1 s) instead of compiling them (~2 s).
:mod:`bayesmeta.inference.nutpie_kernel` goes further for models with a hand-written
numba log density: no PyMC or PyTensor at all, one compile per machine.

nutpie is pinned to 0.16.x because this uses its internal helpers; if they move, we fall
back to ``nutpie.compile_pymc_model`` (slower, same results).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import numpy as np


def import_nutpie() -> Any:
    """Import nutpie without ArviZ's plotting stack when nothing has imported ArviZ yet.

    ``nutpie.sample`` does ``import arviz`` at import time and uses only
    ``arviz.from_dict`` and ``arviz.dict_to_dataset``, which are ``arviz_base``'s. The
    ``arviz`` package also imports ``arviz_plots`` and ``matplotlib.pyplot`` (~0.5 s of every
    fit, measured). While nutpie is first imported, ``arviz`` is a stand-in module holding
    ``arviz_base``'s names (the same objects ``arviz`` re-exports); any other name is looked
    up in the real ``arviz``. The stand-in leaves ``sys.modules`` at once, so ``import arviz``
    anywhere later gets the real package.
    """
    import sys

    if "nutpie" in sys.modules or "arviz" in sys.modules:
        import nutpie

        return nutpie
    import types

    import arviz_base

    stand_in = types.ModuleType("arviz", "arviz_base's names, for nutpie (see import_nutpie)")
    stand_in.__dict__.update({name: getattr(arviz_base, name) for name in arviz_base.__all__})
    stand_in.__getattr__ = _real_arviz_attribute  # type: ignore[attr-defined]
    sys.modules["arviz"] = stand_in
    try:
        import nutpie
    finally:
        if sys.modules.get("arviz") is stand_in:
            del sys.modules["arviz"]
    return nutpie


def _real_arviz_attribute(name: str) -> Any:
    import importlib

    return getattr(importlib.import_module("arviz"), name)


def compile_for_nutpie(model: Any) -> Any:
    """Return a nutpie compiled model for ``model`` (fast path, with a safe fallback)."""
    from bayesmeta.inference.sampling import exact_float_arithmetic

    exact_float_arithmetic()
    try:
        return _compile_fast(model)
    except (ImportError, AttributeError, TypeError):  # nutpie internals changed
        return import_nutpie().compile_pymc_model(model, backend="numba")


def _compile_fast(model: Any) -> Any:
    from pymc.initial_point import make_initial_point_fn

    cp = import_nutpie().compile_pymc
    initial_point_fn = cp._wrap_with_lock(make_initial_point_fn(
        model=model, default_strategy="support_point", jitter_rvs=set(model.free_RVs),
        return_transformed=True))
    n_dim, n_expanded, logp_pt, expand_pt, init_fn, shape_info, reparam = cp._make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True,
        pymc_initial_point_fn=initial_point_fn, var_names=None)
    dims, coords = cp._prepare_dims_and_coords(model, shape_info, reparam)
    inner = {"inner_logp": logp_pt.vm.jit_fn, "inner_expand": expand_pt.vm.jit_fn}

    vector = _single_vector_data(logp_pt, expand_pt)
    if vector is not None:
        # One 1-D float64 data vector (e.g. prior hyperparameters): user data is the array
        # itself, read with one carray; compiles ~3 s faster than nutpie's generic reader.
        values = vector.get_value()
        spec = _callback_spec(logp_pt, expand_pt, n_dim, n_expanded, values.size)
        c_logp, c_expand = compile_callbacks(spec, inner)
        return vector_data_model(n_dim, n_expanded, c_logp, c_expand, shape_info=shape_info,
                                 dims=dims, coords=coords, initial_point=init_fn,
                                 data_name=vector.name, data=values, logp_func=logp_pt,
                                 expand_func=expand_pt)
    if not logp_pt.get_shared() and not expand_pt.get_shared():
        shared_data, shared_keys = {}, {}
        user_data = cp.make_user_data(shared_keys, shared_data)
        spec = _callback_spec(logp_pt, expand_pt, n_dim, n_expanded, None)
        c_logp, c_expand = compile_callbacks(spec, inner)
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
        spec = CallbackSpec(n_dim, n_expanded, "extract_logp(x, user_data_)",
                            "extract_expand(x, user_data_)", cache_key=None)
        c_logp, c_expand = compile_callbacks(spec, {"extract_logp": extract_logp,
                                                    "extract_expand": extract_expand})
    return cp.CompiledPyMCModel(
        _n_dim=n_dim, dims=dims, _coords=coords, _shapes=_shapes(shape_info),
        compiled_logp_func=c_logp, compiled_expand_func=c_expand, initial_point_func=init_fn,
        shared_data=shared_data, shared_var_keys=shared_keys, user_data=user_data,
        n_expanded=n_expanded, shape_info=shape_info, logp_func=logp_pt,
        expand_func=expand_pt)


def vector_data_model(n_dim: int, n_expanded: int, c_logp: Any, c_expand: Any, *,
                      shape_info: Any, dims: dict[str, Any], coords: dict[str, Any],
                      initial_point: Callable[[Any], np.ndarray], data_name: str,
                      data: np.ndarray, logp_func: Any = None, expand_func: Any = None,
                      update: Callable[[np.ndarray, Any], np.ndarray] | None = None) -> Any:
    """nutpie's compiled model for C callbacks whose user data is the one float64 vector
    ``data`` (a read-only copy). ``with_data(**{data_name: value})`` swaps in
    ``update(data, value)`` (default: ``value`` itself). The PyTensor functions are kept
    when there are any; a model with a hand-written kernel has none."""
    values = np.array(data, dtype=np.float64, order="C", copy=True)
    values.flags.writeable = False
    key = "data"
    return _vector_model_class()(
        _n_dim=n_dim, dims=dims, _coords=coords, _shapes=_shapes(shape_info),
        compiled_logp_func=c_logp, compiled_expand_func=c_expand,
        initial_point_func=initial_point, shared_data={key: values},
        shared_var_keys={data_name: key}, user_data=values, n_expanded=n_expanded,
        shape_info=shape_info, logp_func=logp_func, expand_func=expand_func,
        data_name=data_name, update=update)


def _shapes(shape_info: Any) -> dict[str, tuple[int, ...]]:
    return {name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)}


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


#: nutpie's two C callbacks, written as source so numba can cache them on disk. ``{logp}``
#: and ``{expand}`` are calls of the PyTensor functions; nutpie's own callbacks are the same
#: with the array copies written as loops (numba compiles those much faster).
_CALLBACKS_SOURCE = """
def logp_numba(dim, x_, out_, logp_, user_data_):
    if dim != {nd}:
        return -1
    try:
        x = numba.carray(x_, ({nd},))
        out = numba.carray(out_, ({nd},))
        logp = numba.carray(logp_, ())
        logp_val, grad = {logp}
        logp[()] = logp_val
        finite = True
        for i in range({nd}):
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


def expand_numba(dim, expanded, x_, out_, user_data_):
    if dim != {nd} or expanded != {ne}:
        return -1
    try:
        x = numba.carray(x_, ({nd},))
        out = numba.carray(out_, ({ne},))
        (values,) = {expand}
        for i in range({ne}):
            out[i] = values[i]
    except Exception:
        return -2
    return 0
"""
#: Bump when the callbacks' source or calling convention changes (part of the cache key).
_CALLBACKS_VERSION = 1


@dataclass(frozen=True)
class CallbackSpec:
    """What defines the two callbacks: sizes, the calls of the PyTensor functions inside
    them, and the key they are cached under on disk (None: not cached)."""

    nd: int
    ne: int
    logp_call: str
    expand_call: str
    cache_key: str | None

    def source(self) -> str:
        return _CALLBACKS_SOURCE.format(nd=self.nd, ne=self.ne, logp=self.logp_call,
                                        expand=self.expand_call)


def _callback_spec(logp_pt: Any, expand_pt: Any, nd: int, ne: int,
                   data_size: int | None) -> CallbackSpec:
    """The callbacks calling the PyTensor functions directly, with ``data_size`` float64
    values read from nutpie's user-data pointer if the model has a data vector.

    They are cached when PyTensor cached both functions (it then knows them by a hash of
    their graphs): the key is that pair of hashes with this source, so another process with
    the same model and data loads them instead of compiling them.
    """
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    def call(fn: Any, name: str) -> str:
        if fn.get_shared():
            return f"{name}(x, numba.carray(user_data_, ({data_size},), np.float64))"
        return f"{name}(x)"

    inner_keys = [CACHED_SRC_FUNCTIONS.get(getattr(fn.vm.jit_fn, "py_func", None))
                  for fn in (logp_pt, expand_pt)]
    cache_key = None if None in inner_keys else f"{inner_keys}"
    return CallbackSpec(nd, ne, call(logp_pt, "inner_logp"), call(expand_pt, "inner_expand"),
                        cache_key)


def compile_callbacks(spec: CallbackSpec, functions: dict[str, Any]) -> tuple[Any, Any]:
    """Compile the two callbacks (or load them from numba's disk cache, when ``spec`` has a
    cache key and they are there). ``functions``: the PyTensor functions they call, by the
    names in ``spec``."""
    source = spec.source()
    key = None
    if spec.cache_key is not None:
        key = f"bayesmeta-callbacks-{_CALLBACKS_VERSION}|{spec.cache_key}|{source}"
    return compile_callback_source(source, functions, key)


def compile_callback_source(source: str, functions: dict[str, Any],
                            cache_key: str | None) -> tuple[Any, Any]:
    """nutpie's two C callbacks ``logp_numba`` and ``expand_numba`` defined in ``source``,
    calling ``functions`` (by name); cached on disk by numba (PyTensor's numba cache
    directory) under keys derived from ``cache_key``, or not cached when it is None."""
    import hashlib

    import numba
    from pytensor.link.numba.cache import compile_numba_function_src

    env = {"__name__": __name__, "numba": numba, "np": np, **functions}
    t = numba.types
    signatures = {
        "logp_numba": t.int64(t.uint64, t.CPointer(t.double), t.CPointer(t.double),
                              t.CPointer(t.double), t.voidptr),
        "expand_numba": t.int64(t.uint64, t.uint64, t.CPointer(t.double),
                                t.CPointer(t.double), t.voidptr),
    }
    compiled = []
    for name, signature in signatures.items():
        key = None
        if cache_key is not None:
            key = hashlib.sha256(f"{cache_key}|{name}".encode()).hexdigest()
        function = compile_numba_function_src(source, name, global_env=dict(env),
                                              cache_key=key)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", numba.NumbaWarning)
            compiled.append(numba.cfunc(signature, cache=key is not None)(function))
    return compiled[0], compiled[1]


@functools.cache
def _vector_model_class() -> Any:
    import dataclasses

    CompiledPyMCModel = import_nutpie().compile_pymc.CompiledPyMCModel

    @dataclasses.dataclass(frozen=True)
    class VectorDataModel(CompiledPyMCModel):
        """nutpie's compiled model whose user data is one float64 vector (see
        :func:`vector_data_model`)."""

        data_name: str = ""
        update: Callable[[np.ndarray, Any], np.ndarray] | None = None

        def with_data(self, **updates: Any) -> Any:
            (key,) = self.shared_data
            name = self.data_name
            unknown = set(updates) - {name}
            if unknown:
                raise KeyError(f"unknown data variable(s): {', '.join(sorted(unknown))}")
            if name not in updates:
                return self
            old = self.shared_data[key]
            value = updates[name] if self.update is None else self.update(old, updates[name])
            new = np.array(value, dtype=np.float64, order="C", copy=True)
            if new.shape != old.shape:
                raise ValueError(f"'{name}' must keep its shape {old.shape}, "
                                 f"got {new.shape}")
            new.flags.writeable = False
            return dataclasses.replace(self, shared_data={key: new}, user_data=new)

    return VectorDataModel
