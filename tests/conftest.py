"""Shared fixtures: the owners' reference files, and small fixed-seed fits reused by tests.

Fits are session-scoped: each distinct model is compiled once per test run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
REFERENCE = ROOT / "tests" / "reference"

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return REFERENCE


def read_reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name)


@pytest.fixture(scope="session")
def crins_fit():
    """Crins 2014 acute rejection, default priors, 4 × 2000 draws, seed 11."""
    import bayesmeta as bm

    return bm.fit_binary("crins2014_ar", draws=2000, tune=1000, seed=11, thresholds=[0.5])


@pytest.fixture(scope="session")
def nissen_fit():
    """Nissen 2007 MI (42 trials, double zeros kept), default priors, 4 × 2000 draws."""
    import bayesmeta as bm

    return bm.fit_binary("nissen2007_mi", draws=2000, tune=1000, seed=12)


def write_csv(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
