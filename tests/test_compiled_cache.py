"""The compiled-model cache and the start of chains it relies on.

A cached model must be found only for the very same graph (data, labels, code, libraries),
must never be used when anything is missing, and must start its chains where PyMC would.
That a loaded model and a freshly compiled one give byte-identical fits is tested with
whole processes in ``tests/test_outputs_safety.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from bayesmeta.data.binary import BinaryData
from bayesmeta.inference import compiled_cache
from bayesmeta.inference.nutpie_compile import CallbackSpec, ZeroJitterStart
from bayesmeta.models import binomial_normal_prior_data as prior_data
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from tests.conftest import ROOT


def crins_like(**changes) -> BinaryData:
    import bayesmeta as bm

    data = bm.load_binary("crins2014_ar")
    return data if not changes else type(data)(**{**data.__dict__, **changes})


def key_of(data: BinaryData) -> str:
    return compiled_cache.model_key("binomial_normal_prior_data",
                                    prior_data.graph_constants(data))


def test_key_changes_with_every_constant_of_the_graph_and_only_with_them():
    base = crins_like()
    assert key_of(base) == key_of(crins_like())
    events = base.events_t.copy()
    events[0] += 1
    n_c = base.n_c.copy()
    n_c[-1] += 1
    changed = [crins_like(events_t=events), crins_like(n_c=n_c),
               crins_like(study=np.array(["other", *base.study[1:]], dtype=object))]
    keys = {key_of(d) for d in changed}
    assert len(keys) == 3 and key_of(base) not in keys
    # Priors are data, not part of the graph: the key does not depend on them.
    assert prior_data.graph_constants(base) == prior_data.graph_constants(base)
    other = compiled_cache.model_key("binomial_normal", prior_data.graph_constants(base))
    assert other != key_of(base)


def test_key_includes_the_package_source_and_library_versions():
    environment = compiled_cache._environment()
    assert len(environment[0]) == 64  # sha256 of bayesmeta's source files
    assert any(item.startswith("pytensor=") for item in environment)
    assert any(item.startswith("nutpie=") for item in environment)


def test_missing_unreadable_or_mismatched_records_are_not_used(tmp_path, monkeypatch):
    monkeypatch.setattr(compiled_cache, "cache_dir", lambda: tmp_path)
    values = prior_data.encode_priors(BinomialNormalPriors())
    assert compiled_cache.load("absent", values) is None
    (tmp_path / "garbled.json").write_text("{not json")
    assert compiled_cache.load("garbled", values) is None
    record = {"format": compiled_cache.FORMAT_VERSION + 1}
    (tmp_path / "future.json").write_text(json.dumps(record))
    assert compiled_cache.load("future", values) is None
    record = {"format": compiled_cache.FORMAT_VERSION, "data_size": values.size + 1}
    (tmp_path / "resized.json").write_text(json.dumps(record))
    assert compiled_cache.load("resized", values) is None
    # A record whose callbacks numba does not have (cache emptied, another machine):
    # loading them would need compiling, which needs the functions they call.
    record = {"format": compiled_cache.FORMAT_VERSION, "data_size": values.size,
              "callbacks": {"nd": 3, "ne": 4, "logp_call": "inner_logp(x)",
                            "expand_call": "inner_expand(x)", "cache_key": "never-stored"}}
    (tmp_path / "gone.json").write_text(json.dumps(record))
    assert compiled_cache.load("gone", values) is None


def test_saving_where_nothing_can_be_written_is_not_an_error(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setattr(compiled_cache, "cache_dir", lambda: blocked / "sub")

    spec = CallbackSpec(nd=1, ne=1, logp_call="f(x)", expand_call="g(x)", cache_key="k")
    compiled = SimpleNamespace(callbacks=spec, shape_info=(["a"], [slice(0, 1)], [()]),
                               dims={}, coords={}, data_name="v", user_data=np.zeros(2))
    compiled_cache.save("key", compiled)  # no exception, nothing written
    assert not (blocked / "sub").exists()


def test_zero_jitter_start_is_pymcs_support_point_plus_uniform_jitter():
    """The prior-data model's PyMC support point is 0 in every unconstrained coordinate, so
    starting at 0 + U(-1, 1) is PyMC's default start; same seed, same start."""
    model = prior_data.build_binomial_normal_prior_data(crins_like())
    point = model.initial_point()
    assert all(np.all(np.asarray(v) == 0.0) for v in point.values()), point
    start = ZeroJitterStart(9)
    assert np.array_equal(start(3), start(3)) and not np.array_equal(start(3), start(4))
    draws = np.concatenate([start(seed) for seed in range(200)])
    assert draws.min() >= -1 and draws.max() < 1 and abs(draws.mean()) < 0.05


@pytest.mark.parametrize("arviz_first", [False, True])
def test_nutpie_is_imported_without_arvizs_plotting_stack(arviz_first):
    """nutpie's `import arviz` would import matplotlib.pyplot (~0.5 s per fit): it gets
    arviz_base's functions, and the real arviz is what anyone importing it later gets."""
    code = ("import sys\n"
            + ("import arviz\n" if arviz_first else "")
            + "from bayesmeta.inference.nutpie_compile import import_nutpie\n"
            "nutpie = import_nutpie()\n"
            "import arviz_base\n"
            "from nutpie import sample as s\n"
            "assert s.arviz.from_dict is arviz_base.from_dict\n"
            "assert s.arviz.dict_to_dataset is arviz_base.dict_to_dataset\n"
            "print('pyplot' if 'matplotlib.pyplot' in sys.modules else 'no pyplot')\n"
            "import arviz\n"
            "assert hasattr(arviz, 'plot_forest') and arviz.from_dict is arviz_base.from_dict\n")
    # `from nutpie import sample` gives the module: nutpie's package re-exports the function
    code = code.replace("from nutpie import sample as s", "s = sys.modules['nutpie.sample']")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("pyplot" if arviz_first else "no pyplot")
