"""Every lesson in examples/ runs end to end on its fast settings (BAYESMETA_EXAMPLE_FAST=1)
and is a valid jupytext percent-format notebook (header, markdown and code cells)."""

from __future__ import annotations

import runpy

import pytest

from tests.conftest import ROOT

#: Example scripts that are not notebook lessons (tested where they are used).
SCRIPTS = {"reports_msc_crins"}
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
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_lesson_runs_on_fast_settings(path, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BAYESMETA_EXAMPLE_FAST", "1")
    monkeypatch.setenv("BAYESMETA_EXAMPLE_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runpy.run_path(str(path), run_name="__main__")
    printed = capsys.readouterr().out
    assert "Wrote" in printed
    assert list(tmp_path.glob("*.png")), "every lesson draws at least one figure"
