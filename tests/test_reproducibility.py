"""Same data, settings and seed give identical numbers; another seed does not."""

from __future__ import annotations

import json

import pytest

import bayesmeta as bm

SMALL = dict(chains=2, draws=300, tune=300)


@pytest.mark.mcmc
def test_same_seed_same_numbers(crins_fit):
    a = bm.fit_binary("crins2014_ar", seed=5, **SMALL)
    b = bm.fit_binary("crins2014_ar", seed=5, **SMALL)
    doc_a, doc_b = a.to_dict(), b.to_dict()
    assert json.dumps(doc_a, sort_keys=True) == json.dumps(doc_b, sort_keys=True)
    c = bm.fit_binary("crins2014_ar", seed=6, **SMALL)
    assert c.posterior("log_or").median != a.posterior("log_or").median


@pytest.mark.mcmc
def test_pymc_sampler_is_reproducible_too():
    a = bm.fit_binary("crins2014_ptld", sampler="pymc", seed=3, **SMALL)
    b = bm.fit_binary("crins2014_ptld", sampler="pymc", seed=3, **SMALL)
    assert a.posterior("log_or").summary() == b.posterior("log_or").summary()
