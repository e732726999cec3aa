"""Bundled datasets: every registered file exists, reads, and is cited."""

from __future__ import annotations

import pandas as pd
import pytest

from bayesmeta.data.binary import read_binary
from bayesmeta.data.datasets import registry, resolve
from tests.conftest import DATA


def test_registry_files_exist_and_are_cited():
    for ds in registry().values():
        assert ds.path.is_file(), ds.path
        assert ds.citation and ds.title and ds.kind in {"binary", "effects", "continuous",
                                                        "longitudinal", "rates"}
        assert ds.path.name in (DATA / "SOURCES.md").read_text()


@pytest.mark.parametrize("name", [n for n, d in registry().items() if d.kind == "binary"])
def test_binary_datasets_read(name):
    d = read_binary(resolve(name))
    assert d.k >= 2


def test_crins_counts_match_the_published_table():
    d = read_binary(resolve("crins2014_ar"))
    assert d.events_t.tolist() == [14, 16, 3, 9, 4, 0]
    assert d.n_c.tolist() == [20, 28, 12, 54, 36, 34]


def test_nissen_has_42_trials_and_known_totals():
    mi = read_binary(resolve("nissen2007_mi"))
    # Nissen & Wolski 2007: 86 myocardial infarctions under rosiglitazone, 72 under
    # control; 39 vs 22 deaths from cardiovascular causes
    assert (mi.k, int(mi.events_t.sum()), int(mi.events_c.sum())) == (42, 86, 72)
    cv = read_binary(resolve("nissen2007_cvdeath"))
    assert (int(cv.events_t.sum()), int(cv.events_c.sum())) == (39, 22)


def test_msc_rows_keep_their_source():
    for name in ("msc_serious_ae", "msc_death", "msc_any_ae"):
        frame = pd.read_csv(resolve(name))
        assert frame["source"].notna().all() and (frame["source"].str.len() > 10).all()
        assert set(frame["confidence"]) <= {"high", "medium", "low"}
