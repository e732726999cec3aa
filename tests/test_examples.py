"""Every lesson in examples/ runs end to end on its fast settings (BAYESMETA_EXAMPLE_FAST=1)
and is a valid jupytext percent-format notebook (header, markdown and code cells)."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys

import pytest

from tests.conftest import ROOT

#: Example scripts that are not notebook lessons (tested where they are used).
SCRIPTS = {"reports_msc_crins"}
#: Lessons with their own run test below (they check printed numbers).
OWN_RUN_TEST = {"lupus_msc_longitudinal", "ishak2007_vs_metafor"}
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if p.stem not in SCRIPTS)


def test_there_are_four_lessons():
    assert {p.stem for p in EXAMPLES} >= {"msc_safety", "crins_continuity_corrections",
                                          "rosiglitazone_double_zeros",
                                          "rare_events_simulation"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_lesson_is_a_percent_format_notebook(path):
    text = path.read_text(encoding="utf-8")
    assert "format_name: percent" in text.split("# ---", 2)[1]
    assert text.count("# %% [markdown]") >= 3
    assert text.count("\n# %%\n") >= 3
    # lessons use only the public API: `import bayesmeta as bm` and its attributes
    assert "from bayesmeta" not in text and "import bayesmeta." not in text


@pytest.mark.mcmc
@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.stem not in OWN_RUN_TEST],
                         ids=lambda p: p.stem)
def test_lesson_runs_on_fast_settings(path, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BAYESMETA_EXAMPLE_FAST", "1")
    monkeypatch.setenv("BAYESMETA_EXAMPLE_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runpy.run_path(str(path), run_name="__main__")
    printed = capsys.readouterr().out
    assert "Wrote" in printed
    assert list(tmp_path.glob("*.png")), "every lesson draws at least one figure"


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
