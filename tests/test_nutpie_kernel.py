"""nutpie models from hand-written kernels: cache key, data swaps, start of chains, imports.

That a kernel loaded from numba's disk cache and a freshly compiled one give byte-identical
fits is tested with whole processes in ``tests/test_outputs_safety.py``.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bayesmeta.data.binary import BinaryData
from bayesmeta.inference import nutpie_kernel
from bayesmeta.inference.nutpie_kernel import ZeroJitterStart
from bayesmeta.models import binomial_normal_kernel as kernel
from bayesmeta.models import binomial_normal_prior_data as prior_data
from bayesmeta.models.binomial_normal import BinomialNormalPriors
from bayesmeta.priors import Prior
from tests.conftest import ROOT


def crins_like() -> BinaryData:
    import bayesmeta as bm

    return bm.load_binary("crins2014_ar")


def test_cache_key_changes_with_the_kernels_source(monkeypatch):
    """Editing the kernel (or the prior layout it reads) must not load stale code."""
    key = nutpie_kernel.cache_key(kernel)
    assert key == nutpie_kernel.cache_key(kernel) and len(key) == 64
    monkeypatch.setattr(nutpie_kernel, "_KERNEL_CALLBACKS_SOURCE",
                        nutpie_kernel._KERNEL_CALLBACKS_SOURCE + "\n")
    assert nutpie_kernel.cache_key(kernel) != key
    assert "bayesmeta.models.binomial_normal_prior_data" in kernel.SOURCE_MODULES


def test_kernel_model_swaps_priors_without_touching_the_data():
    data = crins_like()
    default = prior_data.encode_priors(BinomialNormalPriors())
    model = nutpie_kernel.kernel_model(kernel, kernel.pack(data, default),
                                       study=list(data.study))
    other = prior_data.encode_priors(BinomialNormalPriors(tau=Prior("halfcauchy", (1.0,))))
    swapped = model.with_data(prior_values=other)
    np.testing.assert_array_equal(swapped.user_data, kernel.pack(data, other))
    np.testing.assert_array_equal(model.user_data, kernel.pack(data, default))
    assert swapped.compiled_logp_func is model.compiled_logp_func
    assert model.n_dim == 2 * len(data.study) + 3
    names = list(model.coords["unconstrained_parameter"])  # as nutpie names PyMC's
    assert names[:2] == ["mu_0", "mu_1"] and names[-2:] == ["z_5", "z_new"]
    assert len(names) == model.n_dim and "tau_unconstrained" in names
    assert list(model.coords["study"]) == list(data.study)
    assert model.dims == {"mu": ("study",), "z": ("study",), "theta_study": ("study",)}
    with pytest.raises(KeyError):
        model.with_data(other_name=other)


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
