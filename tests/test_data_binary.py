"""Reading and validating arm-level binary data: every error names file, row and column."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from bayesmeta.data.binary import read_binary
from bayesmeta.errors import InputError
from tests.conftest import DATA, write_csv

GOOD = "study,events_t,n_t,events_c,n_c\nA,1,10,0,12\nB,0,20,0,18\nC,3,15,5,15\n"


def test_wide_file_reads_counts_and_keeps_double_zero(tmp_path):
    d = read_binary(write_csv(tmp_path, GOOD))
    assert d.study == ("A", "B", "C")
    assert d.events_t.tolist() == [1, 0, 3] and d.n_c.tolist() == [12, 18, 15]
    assert d.double_zero.tolist() == [False, True, False]
    assert d.any_zero.tolist() == [True, True, False]


def test_long_layout_matches_wide(tmp_path):
    long = ("study,arm,events,n,subgroup\nA,treatment,1,10,x\nA,control,0,12,x\n"
            "B,placebo,0,18,y\nB,exp,0,20,y\nC,t,3,15,x\nC,c,5,15,x\n")
    d = read_binary(write_csv(tmp_path, long))
    w = read_binary(write_csv(tmp_path, GOOD, "w.csv"))
    for name in ("events_t", "n_t", "events_c", "n_c"):
        assert getattr(d, name).tolist() == getattr(w, name).tolist()
    assert d.extra["subgroup"].tolist() == ["x", "y", "x"]


def test_long_layout_with_custom_arm_labels(tmp_path):
    text = "study,arm,events,n\nA,MSC,1,10\nA,saline,0,12\nB,MSC,2,9\nB,saline,1,8\n"
    d = read_binary(write_csv(tmp_path, text), control="saline", treatment="MSC")
    assert d.events_t.tolist() == [1, 2] and d.n_c.tolist() == [12, 8]


def test_other_tools_column_names_are_recognised_and_reported(tmp_path):
    text = "study,r_exp,n_exp,r_ctrl,n_ctrl\nA,1,10,0,12\nB,2,9,1,8\n"
    d = read_binary(write_csv(tmp_path, text))
    assert d.events_t.tolist() == [1, 2]
    assert d.column_map == {"events_t": "r_exp", "n_t": "n_exp", "events_c": "r_ctrl",
                            "n_c": "n_ctrl"}


def test_columns_can_be_mapped(tmp_path):
    text = "trial,deaths_msc,total_msc,deaths_pbo,total_pbo\nA,1,10,0,12\nB,2,9,1,8\n"
    d = read_binary(write_csv(tmp_path, text), columns={
        "study": "trial", "events_t": "deaths_msc", "n_t": "total_msc",
        "events_c": "deaths_pbo", "n_c": "total_pbo"})
    assert d.n_t.tolist() == [10, 9]


def test_dataframe_input_and_extra_columns():
    df = pd.DataFrame({"study": ["A", "B"], "events_t": [1, 2], "n_t": [10, 9],
                       "events_c": [0, 1], "n_c": [12, 8], "subgroup": ["x", "y"]})
    d = read_binary(df)
    assert d.k == 2 and d.extra.columns.tolist() == ["subgroup"]


def test_swap_arms_exchanges_counts(tmp_path):
    d = read_binary(write_csv(tmp_path, GOOD)).swap_arms()
    assert d.events_t.tolist() == [0, 0, 5] and d.n_t.tolist() == [12, 18, 15]


def test_select_subgroup():
    d = read_binary(DATA / "msc_serious_ae.csv").select("subgroup", "cerebral palsy")
    assert d.k == 6 and int(d.double_zero.sum()) == 4


# --- malformed input: (file text, expected fragments of the one-line message) -----------
HEADER = "study,events_t,n_t,events_c,n_c\n"
BAD_CASES = {
    "events exceed n": (HEADER + "A,1,10,0,12\nB,25,20,0,18\n",
                        ["row 3", "column 'events_t'", "events (25) exceed n_t (20)"]),
    "events exceed n, control": (HEADER + "A,1,10,13,12\nB,2,20,0,18\n",
                                 ["row 2", "column 'events_c'", "exceed n_c (12)"]),
    "negative count": (HEADER + "A,1,10,0,12\nB,-1,20,0,18\n",
                       ["row 3", "column 'events_t'", "negative"]),
    "non-integer count": (HEADER + "A,1.5,10,0,12\nB,1,20,0,18\n",
                          ["row 2", "column 'events_t'", "not a whole number"]),
    "missing value": (HEADER + "A,1,10,,12\nB,1,20,0,18\n",
                      ["row 2", "column 'events_c'", "missing value"]),
    "NA value": (HEADER + "A,1,10,0,12\nB,1,NA,0,18\n",
                 ["row 3", "column 'n_t'", "missing value"]),
    "n = 0": (HEADER + "A,0,0,0,12\nB,1,20,0,18\n",
              ["row 2", "column 'n_t'", "no patients"]),
    "duplicate study": (HEADER + "A,1,10,0,12\nA,1,20,0,18\n",
                        ["row 3", "column 'study'", "repeats row 2"]),
    "one study": (HEADER + "A,1,10,0,12\n", ["only 1 study", "at least two"]),
    "header only": (HEADER, ["no studies"]),
    "empty file": ("", ["file is empty"]),
    "blank file": ("\n\n  \n", ["file is empty"]),
    "missing column": ("study,events_t,n_t,events_c\nA,1,10,0\nB,1,20,0\n",
                       ["missing column 'n_c'", "columns found: study, events_t",
                        "--col"]),
    "non-numeric text": (HEADER + "A,1,ten,0,12\nB,1,20,0,18\n",
                         ["row 2", "column 'n_t'", "'ten' is not a number"]),
    "decimal comma": (HEADER + 'A,1,"10,5",0,12\nB,1,20,0,18\n',
                      ["row 2", "decimal comma"]),
    "ragged row": (HEADER + "A,1,10,0,12,7\nB,1,20,0,18\n",
                   ["row 2", "6 fields but the header has 5"]),
    "semicolon separated": ("study;events_t;n_t;events_c;n_c\nA;1;10;0;12\nB;1;20;0;18\n",
                            ["row 1", "semicolons", "--sep ';'"]),
    "missing study label": (HEADER + ",1,10,0,12\nB,1,20,0,18\n",
                            ["row 2", "column 'study'", "missing value"]),
    "infinite value": (HEADER + "A,1,inf,0,12\nB,1,20,0,18\n",
                       ["row 2", "not a finite number"]),
    "huge value": (HEADER + "A,1,1e12,0,12\nB,1,20,0,18\n", ["row 2", "implausibly large"]),
    "duplicate header": ("study,events_t,n_t,events_c,n_c,n_c\nA,1,10,0,12,1\n",
                         ["row 1", "'n_c' appears twice"]),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_malformed_csv_gives_one_line_error(tmp_path, case):
    text, fragments = BAD_CASES[case]
    path = write_csv(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_binary(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message, message


def test_not_a_csv_excel_file(tmp_path):
    path = tmp_path / "trials.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(InputError, match=r"Excel \(\.xlsx\) workbook.*CSV UTF-8"):
        read_binary(path)


def test_not_a_csv_binary_file(tmp_path):
    path = tmp_path / "trials.csv"
    path.write_bytes(np.arange(256, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match="binary file"):
        read_binary(path)


def test_not_utf8_names_encoding_option(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + "Müller,1,10,0,12\nB,1,20,0,18\n").encode("latin-1"))
    with pytest.raises(InputError, match=r"row 2.*not utf-8 text.*--encoding"):
        read_binary(path)
    assert read_binary(path, encoding="latin-1").study[0] == "Müller"


def test_missing_file():
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        read_binary("nope.csv")


def test_long_layout_errors(tmp_path):
    cases = {
        "study,arm,events,n\nA,treatment,1,10\nA,mystery,0,12\n": "arm 'mystery' is neither",
        "study,arm,events,n\nA,treatment,1,10\nA,treatment,0,12\n": "second treatment arm",
        "study,arm,events,n\nA,treatment,1,10\nB,control,0,12\nB,t,1,5\n": "no control arm",
        "study,arm,events,n\nA,t,11,10\nA,c,0,12\n": "events (11) exceed n (10)",
    }
    for text, fragment in cases.items():
        with pytest.raises(InputError, match=re.escape(fragment)):
            read_binary(write_csv(tmp_path, text))


def test_dataframe_errors_name_the_index():
    df = pd.DataFrame({"study": ["A", "B"], "events_t": [1, 30], "n_t": [10, 20],
                       "events_c": [0, 1], "n_c": [12, 8]}, index=[7, 8])
    with pytest.raises(InputError, match=r"data frame, index 8, column 'events_t'"):
        read_binary(df)
