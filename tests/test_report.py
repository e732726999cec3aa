"""The HTML report: self-contained, every section and figure present and rendered by a real
browser (headless Chromium), the numbers it prints equal to the result's, never written
over a file without --force; and the example script that makes the MSC and Crins reports."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import struct
import subprocess
import sys

import pytest
from click.testing import CliRunner

import bayesmeta as bm
from bayesmeta.cli import cli
from bayesmeta.presentation.report import register_sensitivity_renderer
from bayesmeta.presentation.text import prob_equals
from bayesmeta.results.versions import software_versions
from tests.browser import rendered, screenshot
from tests.conftest import ROOT

pytestmark = pytest.mark.mcmc

SECTIONS = ["summary", "data", "model", "priors", "results", "harm", "sensitivity",
            "influence", "diagnostics", "methods", "software", "references"]
FIGURES = {"figure-tau", "figure-forest", "figure-posterior", "figure-trace", "figure-rank"}
FAST = ["--chains", "2", "--draws", "300", "--tune", "300", "-q"]


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def crins_report(crins_fit) -> str:
    return bm.build_report(crins_fit, label="crins2014_ar")


def png_size(uri: str) -> tuple[int, int]:
    """Width and height from a base64 PNG data URI's IHDR chunk."""
    raw = base64.b64decode(uri.split(",", 1)[1], validate=True)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR"
    return struct.unpack(">II", raw[16:24])


def test_report_is_self_contained(crins_report):
    html = crins_report
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", html)
    uris = re.findall(r'<img src="([^"]+)"', html)
    assert len(uris) == len(FIGURES)
    for uri in uris:
        assert uri.startswith("data:image/png;base64,")
        width, height = png_size(uri)
        assert width > 300 and height > 150
    assert set(re.findall(r'<figure id="([^"]+)"', html)) == FIGURES


def test_report_sections_and_numbers(crins_report, crins_fit):
    html = crins_report
    assert re.findall(r'<section id="([^"]+)"', html) == SECTIONS
    n = crins_fit.settings.chains * crins_fit.settings.draws
    p = prob_equals("P(OR > 1)", crins_fit.prob_harm(1.0), n)
    assert p.replace(">", "&gt;").replace("<", "&lt;") in html
    # the fixture's --threshold 0.5 is reported too, in words
    p05 = prob_equals("P(OR > 0.5)", crins_fit.prob_harm(0.5), n)
    assert p05.replace(">", "&gt;").replace("<", "&lt;") in html
    assert html.count('<math display="block"') == 4
    assert "half-normal(scale=0.5)" in html and "normal(mean=0, sd=2.82)" in html
    assert "No prior-sensitivity analysis is part of this report" in html
    assert "Influence was not computed for this report" in html
    methods = re.search(r'<div class="methods" id="methods-text">(.*?)</div>', html, re.S)[1]
    versions = software_versions()
    for words in ("Günhan et al. 2020", "Abril-Pla et al. 2023", "Kumar et al. 2019",
                  "Hoffman &amp; Gelman 2014", f"PyMC {versions['pymc']}",
                  f"nutpie {versions['nutpie']}", f"ArviZ {versions['arviz']}",
                  "random seed 11", "4 chains of 2,000 draws", "6 studies"):
        assert words in methods, words
    assert "Research Synthesis Methods 2020;11(1):74–90" in methods
    assert f"<td>{versions['pymc']}</td>" in html and "<td>11</td>" in html  # seed


def test_same_fit_same_report(crins_report, crins_fit):
    again = bm.build_report(crins_fit, label="crins2014_ar")
    assert hashlib.sha256(again.encode()).digest() == hashlib.sha256(
        crins_report.encode()).digest()


def test_sensitivity_section_renders_a_registered_result(crins_fit):
    class Sweep:  # stands in for a prior-sensitivity result (issue 5)
        pass

    register_sensitivity_renderer(Sweep, lambda ctx, s: "<p>tau prior swept: 3 priors</p>")
    html = bm.build_report(crins_fit, sensitivity=Sweep())
    section = re.search(r'<section id="sensitivity">(.*?)</section>', html, re.S)[1]
    assert "tau prior swept: 3 priors" in section
    assert "No prior-sensitivity analysis" not in section


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory):
    """`bayesmeta report` with leave-one-study-out refits (6 small refits)."""
    out = tmp_path_factory.mktemp("cli") / "crins.html"
    js = out.with_suffix(".json")
    result = run("report", "crins2014_ar", "--model", "binary", "-o", str(out),
                 "--threshold", "0.5", "--json", str(js), *FAST)
    assert result.exit_code == 0, result.output
    return out


def test_cli_report_with_influence(cli_report):
    html = cli_report.read_text(encoding="utf-8")
    doc = json.loads(cli_report.with_suffix(".json").read_text())
    assert len(doc["influence"]["leave_one_out"]) == 6
    assert doc["influence"]["threshold"] == 0.5
    section = re.search(r'<section id="influence">(.*?)</section>', html, re.S)[1]
    for study in doc["data"]["studies"]:
        assert study in section
    command = re.search(r"<code>(bayesmeta report [^<]*)</code>", html)[1]  # for the record
    assert command.startswith("bayesmeta report crins2014_ar --chains 2 --draws 300")
    assert "--model binary --threshold 0.5" in command


def test_cli_report_never_overwrites_without_force(cli_report):
    before = cli_report.read_bytes()
    result = run("report", "crins2014_ar", "-o", str(cli_report), *FAST)
    assert result.exit_code == 2 and "--force" in result.output
    assert cli_report.read_bytes() == before


def test_report_from_a_saved_fit(crins_fit, tmp_path):
    saved = crins_fit.to_netcdf(tmp_path / "fit.nc")
    out = tmp_path / "r.html"
    result = run("report", str(saved), "--no-refits", "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    median = crins_fit.posterior("or").median
    assert f"<strong>{median:.2f}</strong>" in html
    refused = run("report", str(saved), "--tau-prior", "halfnormal:1", "-o",
                  str(tmp_path / "x.html"))
    assert refused.exit_code == 2 and "cannot change a saved fit" in refused.output


@pytest.fixture(scope="module")
def example_reports(tmp_path_factory):
    """examples/reports_msc_crins.py on small settings (BAYESMETA_EXAMPLE_FAST=1)."""
    outdir = tmp_path_factory.mktemp("examples")
    env = {**os.environ, "BAYESMETA_EXAMPLE_FAST": "1"}
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "reports_msc_crins.py"),
                           str(outdir)], capture_output=True, text=True, env=env,
                          timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return sorted(outdir.glob("*.html"))


def test_example_script_writes_the_msc_and_crins_reports(example_reports):
    names = [p.name for p in example_reports]
    assert names == ["crins2014_acute_rejection.html", "msc_serious_adverse_events.html"]
    msc = example_reports[1].read_text(encoding="utf-8")
    assert "Mesenchymal stromal cell therapy" in msc and "P(OR &gt; 2)" in msc
    assert "Leave-one-study-out refits were not run" in msc  # said, not faked
    again = subprocess.run([sys.executable, str(ROOT / "examples" / "reports_msc_crins.py"),
                            str(example_reports[0].parent)], capture_output=True, text=True,
                           timeout=120, cwd=ROOT)
    assert again.returncode != 0 and "--force" in again.stderr


def _check_rendered(page):
    out = rendered(page)
    assert [s["id"] for s in out["sections"]] == SECTIONS
    for s in out["sections"]:
        assert s["title"] and s["size"][0] > 300 and s["size"][1] > 20, s
    assert {img["figure"] for img in out["images"]} == FIGURES
    for img in out["images"]:
        assert img["complete"] and img["width"] > 300 and img["height"] > 150, img
        assert img["colours"] >= 2, img  # decoded into a picture, not one flat colour
        assert img["shown"][0] > 100 and img["shown"][1] > 50, img
    assert len(out["math"]) >= 4
    for m in out["math"]:  # MathML laid out by the browser, not shown as raw text
        assert "math" in m["display"] and m["size"][0] > 20 and m["size"][1] > 10, m
    assert [r for r in out["resources"] if not r.startswith("data:")] == []
    assert "Probability of harm" in out["text"] and "Methods paragraph" in out["text"]
    return out


def test_cli_report_renders_in_chromium(cli_report):
    out = _check_rendered(cli_report)
    assert "Leaving out" in out["text"]  # the influence table's summary sentence


def test_example_reports_render_in_chromium(example_reports):
    for page in example_reports:
        _check_rendered(page)


def test_report_screenshot_is_not_blank(cli_report, tmp_path):
    from matplotlib.image import imread

    image = imread(screenshot(cli_report, tmp_path / "shot.png"))
    assert image.shape[0] >= 2000 and image.shape[1] >= 1200
    assert float(image[..., :3].std()) > 0.05
