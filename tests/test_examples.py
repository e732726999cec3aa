"""The worked examples run as scripts (small sampler settings: BAYESMETA_EXAMPLE_FAST=1)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.mcmc
def test_lupus_longitudinal_example_runs(tmp_path):
    env = dict(os.environ, BAYESMETA_EXAMPLE_FAST="1", BAYESMETA_EXAMPLE_OUT=str(tmp_path),
               MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "lupus_msc_longitudinal.py")],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for text in ("SLEDAI change, MSC - placebo: -3.0 points (95% CI -9.8 to 3.8)",
                 "P(mu < -4) =", "tau ~ half-normal(2)", "proteinuria (change_from_baseline)",
                 "assumed time 24 months", "between-study AR(1) correlation per month"):
        assert text in out, text
    assert (tmp_path / "ishak2007_effect_over_time.png").stat().st_size > 10_000


@pytest.mark.mcmc
def test_ishak_metafor_comparison_example_runs(tmp_path):
    env = dict(os.environ, BAYESMETA_EXAMPLE_FAST="1", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "ishak2007_vs_metafor.py")],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "HAR  phi" in proc.stdout and "AR   mu[1]      -25.942" in proc.stdout
