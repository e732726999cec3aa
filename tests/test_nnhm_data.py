"""Inputs of the normal–normal model: effect sizes, arm-level continuous data, 2×2 tables.

Every bad input is one InputError naming file, row and column (or the option); numbers are
checked against the reference files (the log ORs R bayesmeta was given, metafor escalc
values) and against the bundled Normand 1999 MD file (metadat's yi/vi).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bayesmeta import api
from bayesmeta.data.binary import read_binary
from bayesmeta.data.continuous import read_continuous
from bayesmeta.data.datasets import resolve
from bayesmeta.data.effects import effects_from_binary, read_effects
from bayesmeta.errors import InputError
from tests.conftest import REFERENCE, write_csv


def test_effects_aliases_and_column_map():
    eff = read_effects(resolve("eight_schools"))
    assert eff.k == 8 and eff.measure == "generic"
    assert dict(eff.column_map) == {"yi": "y", "sei": "sigma"}
    assert eff.yi[0] == 28.39 and eff.sei[0] == 14.9


def test_effects_from_variance_and_mapping(tmp_path):
    path = write_csv(tmp_path, "trial,logHR,var_logHR,subgroup\nA,-0.2,0.04,x\nB,0.1,0.09,y\n")
    eff = read_effects(path, measure="HR", columns={"study": "trial", "yi": "logHR",
                                                    "vi": "var_logHR"})
    assert eff.measure == "logHR"
    np.testing.assert_allclose(eff.sei, [0.2, 0.3])
    assert list(eff.extra.columns) == ["subgroup"]


@pytest.mark.parametrize("text, fragments", [
    ("study,yi,sei\nA,0.1,0.2\nB,0.3,0\n", ["row 3", "column 'sei'", "greater than 0"]),
    ("study,yi,sei\nA,0.1,0.2\nB,x,0.1\n", ["row 3", "column 'yi'", "not a number"]),
    ("study,yi,vi\nA,0.1,-0.2\nB,0.3,0.1\n", ["row 2", "column 'vi'", "greater than 0"]),
    ("study,yi,sei,vi\nA,0.1,0.2,0.04\nB,0.3,0.1,0.04\n", ["row 3", "column 'vi'", "sei"]),
    ("study,yi\nA,0.1\nB,0.3\n", ["missing column 'sei'", "vi"]),
    ("study,yi,sei\nA,0.1,0.2\nA,0.3,0.1\n", ["row 3", "repeats row 2"]),
    ("study,yi,sei\nA,0.1,0.2\n", ["only 1 study"]),
    ("study,yi,sei\nA,0.1,0.2\nB,,0.1\n", ["row 3", "column 'yi'", "missing"]),
])
def test_effects_errors_name_the_cell(tmp_path, text, fragments):
    path = write_csv(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_effects(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_unknown_measure():
    with pytest.raises(InputError, match="--measure: unknown measure 'OddsRatio'"):
        read_effects(resolve("eight_schools"), measure="OddsRatio")


@pytest.mark.parametrize("dataset, analysis", [
    ("crins2014_ar", "crinsAR_logOR_tauHN0.5_muN0sd4"),
    ("nissen2007_mi", "nissenMI_logOR_tauHN0.5_muN0sd4"),
])
def test_binary_to_log_or_matches_the_reference_inputs(dataset, analysis):
    """escalc(measure = "OR"), 0.5 added to tables with a zero, double zeros dropped."""
    ref = json.loads((REFERENCE / "bayesmeta_nnhm.json").read_text())[analysis]["data"]
    eff = effects_from_binary(read_binary(resolve(dataset)), cc=0.5)
    assert list(eff.study) == [d["study"] for d in ref]
    np.testing.assert_allclose(eff.yi, [d["y"] for d in ref], rtol=1e-12)
    np.testing.assert_allclose(eff.sei, [d["sigma"] for d in ref], rtol=1e-12)
    assert "0.5 added to every cell" in eff.derivation
    if dataset == "nissen2007_mi":
        assert "4 double-zero studies dropped" in eff.derivation
        assert len(eff.details["dropped_double_zero"]) == 4


def test_zero_cell_without_correction_is_an_error_that_says_what_to_do():
    with pytest.raises(InputError) as info:
        effects_from_binary(read_binary(resolve("crins2014_ar")))
    message = str(info.value)
    assert "Gras (2008)" in message and "--cc 0.5" in message and "fit binary" in message


def test_no_zero_cells_needs_no_correction():
    binary = read_binary(pd.DataFrame({"study": ["A", "B"], "events_t": [3, 5],
                                       "n_t": [20, 30], "events_c": [6, 4],
                                       "n_c": [21, 28]}))
    eff = effects_from_binary(binary, measure="RR")
    assert eff.measure == "logRR" and "no continuity correction" in eff.derivation
    assert eff.yi[0] == pytest.approx(np.log((3 / 20) / (6 / 21)))
    assert eff.sei[0] == pytest.approx(np.sqrt(1 / 3 - 1 / 20 + 1 / 6 - 1 / 21))
    rd = effects_from_binary(binary, measure="RD")
    assert rd.yi[1] == pytest.approx(5 / 30 - 4 / 28)


def test_normand_arms_give_the_bundled_mean_differences():
    """normand1999_md is metadat's yi/sqrt(vi); the arms must reproduce it (escalc MD)."""
    arms = read_continuous(resolve("normand1999_arms"), columns={"study": "source"})
    md = arms.effects("MD")
    ref = read_effects(resolve("normand1999_md"))
    assert md.study == ref.study
    np.testing.assert_allclose(md.yi, ref.yi, rtol=1e-12)
    np.testing.assert_allclose(md.sei, ref.sei, rtol=1e-10)
    assert md.n is not None and md.n[0] == 155 + 156


def test_smd_is_hedges_g():
    arms = read_continuous(resolve("normand1999_arms"), columns={"study": "source"},
                           outcome_type="final")
    smd = arms.effects("SMD")
    # Edinburgh by hand: pooled SD, J = 1 - 3/(4 df - 1) to 1e-5, var 1/n1+1/n2+g²/(2N)
    n1, m1, s1, n2, m2, s2 = 155, 55, 47, 156, 75, 64
    sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    g = (1 - 3 / (4 * (n1 + n2 - 2) - 1)) * (m1 - m2) / sp
    assert smd.yi[0] == pytest.approx(g, rel=1e-5)
    assert smd.sei[0] ** 2 == pytest.approx(1 / n1 + 1 / n2 + smd.yi[0] ** 2 / (2 * (n1 + n2)))
    assert smd.details["outcome_type"] == "final" and "final values" in smd.derivation


LONG = """study,arm,mean,sd,n,outcome_type
A,treatment,10.2,3.1,20,change
A,control,12.0,3.3,21,change
B,control,11.1,2.9,30,final
B,treatment,9.0,3.0,31,final
"""


def test_long_layout_pairs_the_arms(tmp_path):
    arms = read_continuous(write_csv(tmp_path, LONG))
    assert arms.study == ("A", "B") and arms.outcome_type == ("change", "final")
    assert arms.mean_t.tolist() == [10.2, 9.0] and arms.n_c.tolist() == [21, 30]
    md = arms.effects("MD")
    assert md.details["outcome_type"] == "mixed"
    assert "combined" in md.derivation


def test_smd_refuses_mixing_final_values_and_changes(tmp_path):
    path = write_csv(tmp_path, LONG)
    with pytest.raises(InputError) as info:
        read_continuous(path).effects("SMD")
    message = str(info.value)
    assert "column 'outcome_type'" in message and "Cochrane Handbook" in message
    assert message.startswith(str(path))


@pytest.mark.parametrize("text, fragments", [
    ("study,mean_t,sd_t,n_t,mean_c,sd_c,n_c\nA,1,0,10,2,1,10\nB,1,1,10,2,1,10\n",
     ["row 2", "column 'sd_t'", "greater than 0"]),
    ("study,mean_t,sd_t,n_t,mean_c,sd_c,n_c\nA,1,1,10,2,1,1\nB,1,1,10,2,1,10\n",
     ["row 2", "column 'n_c'", "at least 2"]),
    ("study,mean_t,sd_t,n_t,mean_c,sd_c,n_c\nA,1,1,10,2,1,10\nB,1,1,10.5,2,1,10\n",
     ["row 3", "column 'n_t'", "whole number"]),
    ("study,mean_t,sd_t,n_t,mean_c,sd_c\nA,1,1,10,2,1\nB,1,1,10,2,1\n",
     ["missing column 'n_c'"]),
    ("study,mean_t,sd_t,n_t,mean_c,sd_c,n_c,outcome_type\nA,1,1,10,2,1,10,final\n"
     "B,1,1,10,2,1,10,baseline\n", ["row 3", "column 'outcome_type'", "'baseline'"]),
    ("study,arm,mean,sd,n\nA,treatment,1,1,10\nA,control,2,1,10\nB,treatment,1,1,10\n",
     ["row 4", "study 'B' has no control arm"]),
    ("study,arm,mean,sd,n\nA,treatment,1,1,10\nA,verum,2,1,10\n",
     ["row 3", "column 'arm'", "neither treatment nor control"]),
])
def test_continuous_errors_name_the_cell(tmp_path, text, fragments):
    path = write_csv(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_continuous(path).effects("MD")
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_outcome_type_option_must_agree_with_the_column(tmp_path):
    with pytest.raises(InputError, match="contradicts --outcome-type final"):
        read_continuous(write_csv(tmp_path, LONG), outcome_type="final")


def test_load_effects_detects_counts_and_refuses_arms():
    eff = api.load_effects("crins2014_ar", cc=0.5)
    assert eff.measure == "logOR" and eff.k == 6
    frame = pd.DataFrame({"study": ["A", "B"], "events_t": [3, 5], "n_t": [20, 30],
                          "events_c": [6, 4], "n_c": [21, 28]})
    assert api.load_effects(frame, measure="RR").measure == "logRR"
    with pytest.raises(InputError, match="fit continuous"):
        api.load_effects("normand1999_arms")
