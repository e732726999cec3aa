"""Reading effects per study and time: layouts, bundled datasets, one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesmeta.data.effect_sizes import continuous_effects
from bayesmeta.data.longitudinal import read_longitudinal
from bayesmeta.errors import InputError
from tests.conftest import DATA, write_csv


def test_contrasts_with_variances_and_missing_times():
    d = read_longitudinal(DATA / "ishak2007_long.csv", time_col="timepoint")
    assert (d.k, d.n_rows, d.n_times) == (46, 82, 4)
    assert d.studies_per_time().tolist() == [24, 22, 25, 11]
    assert d.time_unit == ""  # an index, not months
    first = d.to_frame().iloc[0]
    assert (first.study, first.time, first.yi) == ("Alegret (2001)", 1.0, -33.4)
    assert first.sei == pytest.approx(np.sqrt(14.3))
    assert d.times_per_study().max() == 4 and d.times_per_study().min() == 1


def test_open_ended_follow_up_needs_an_explicit_time(tmp_path):
    with pytest.raises(InputError, match=r"row 18, column 'months': missing time.*"
                                         r"--missing-time"):
        read_longitudinal(DATA / "ishak2007_long.csv")
    d = read_longitudinal(DATA / "ishak2007_long.csv", missing_time=24)
    assert d.times.tolist() == [3.0, 6.0, 12.0, 24.0] and d.assumed_time == 24.0
    assert "11 row(s) without a time" in d.notes[0] and "assumption" in d.notes[0]


def test_bundled_defaults_apply_by_name():
    from bayesmeta.api import load_longitudinal

    d = load_longitudinal("ishak2007")
    assert d.times.tolist() == [3.0, 6.0, 12.0, 24.0] and d.time_column == "months"
    d = load_longitudinal("ishak2007", time_col="timepoint")
    assert d.times.tolist() == [1.0, 2.0, 3.0, 4.0] and d.assumed_time is None


def test_arm_level_long_layout_gives_mean_differences():
    d = read_longitudinal(DATA / "deng2017_sle.csv", where={"outcome": "sledai"})
    assert d.k == 1 and d.measure == "MD" and d.times.tolist() == [6.0]
    eff = continuous_effects([-8.0], [4.0], [12], [-5.0], [8.0], [6])  # Deng 2017 Table 2
    assert d.yi[0] == pytest.approx(eff.yi[0]) and d.sei[0] == pytest.approx(eff.sei[0])
    assert any("only 1 study" in n for n in d.notes)
    smd = read_longitudinal(DATA / "deng2017_sle.csv", measure="SMD",
                            where={"outcome": "proteinuria_24h", "measure": "final_value"})
    ref = continuous_effects([1.0], [1.0], [12], [3.1], [2.7], [6], measure="SMD")
    assert smd.yi[0] == pytest.approx(ref.yi[0]) and smd.sei[0] == pytest.approx(ref.sei[0])


def test_arm_level_wide_layout(tmp_path):
    path = write_csv(tmp_path, "study,time,mean_t,sd_t,n_t,mean_c,sd_c,n_c\n"
                               "A,3,-2,1.5,20,-1,1.4,21\nA,6,-2.5,1.6,19,-1.2,1.5,20\n"
                               "B,6,-3,2,40,-1.5,2.1,38\n")
    d = read_longitudinal(path)
    assert d.k == 2 and d.n_rows == 3
    np.testing.assert_allclose(d.yi, [-1.0, -1.3, -1.5])
    assert d.sei[0] == pytest.approx(np.sqrt(1.5**2 / 20 + 1.4**2 / 21))


def test_a_data_frame_and_column_aliases():
    frame = pd.DataFrame({"trial": ["A", "A", "B"], "month": [1, 2, 1], "y": [0.1, 0.2, 0.3],
                          "se": [0.1, 0.1, 0.2]})
    d = read_longitudinal(frame)
    assert d.column_map == {"study": "trial", "time": "month", "yi": "y", "sei": "se"}


@pytest.mark.parametrize("text, fragments", [
    ("study,time,yi,sei\nA,3,1,0.5\nA,3,2,0.5\n",
     ["row 3", "column 'time'", "study 'A' has a second row for time 3 (first in row 2)"]),
    ("study,time,yi,sei\nA,3,1,0\nB,3,2,0.5\n", ["row 2", "column 'sei'", "greater than 0"]),
    ("study,time,yi,vi\nA,3,1,-1\n", ["row 2", "column 'vi'", "greater than 0"]),
    ("study,time,yi,sei\nA,,1,0.5\n", ["row 2", "column 'time'", "missing time"]),
    ("study,time,yi,sei\nA,-3,1,0.5\n", ["row 2", "column 'time'", "negative"]),
    ("study,time,yi,sei\nA,6 months,1,0.5\n", ["row 2", "column 'time'", "not a number"]),
    ("study,time,yi\nA,3,1\n", ["standard error column 'sei'"]),
    ("study,time,yi,sei,vi\nA,3,1,0.5,0.5\n", ["row 2", "disagrees with sqrt(vi)"]),
    ("study,yi,sei\nA,1,0.5\n", ["missing column 'time'", "--time-col"]),
    ("study,time,foo\nA,3,1\n", ["cannot tell the layout"]),
    ("study,time,arm,mean,sd,n\nA,3,treatment,1,1,10\nA,3,treatment,2,1,10\n",
     ["row 3", "column 'arm'", "second treatment arm"]),
    ("study,time,arm,mean,sd,n\nA,3,treatment,1,1,10\nA,3,other,2,1,10\n",
     ["row 3", "arm 'other' is neither"]),
    ("study,time,arm,mean,sd,n\nA,3,treatment,1,1,10\n", ["no control arm at time '3'"]),
    ("study,time,arm,mean,sd,n\nA,3,treatment,1,0,10\nA,3,control,1,1,10\n",
     ["row 2", "column 'sd'", "greater than 0"]),
])
def test_bad_input_is_one_line_naming_the_cell(tmp_path, text, fragments):
    path = write_csv(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_longitudinal(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_options_are_checked(tmp_path):
    path = write_csv(tmp_path, "study,time,yi,sei\nA,3,1,0.5\n")
    with pytest.raises(InputError, match="--time-col"):
        read_longitudinal(path, time_col="visit_month")
    with pytest.raises(InputError, match="--where"):
        read_longitudinal(path, where={"outcome": "x"})
    with pytest.raises(InputError, match="--measure"):
        read_longitudinal(path, measure="OR")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="--measure: these rows are effects"):
        read_longitudinal(path, measure="SMD")
    with pytest.raises(InputError, match="no rows with outcome = 'x'"):
        read_longitudinal(DATA / "deng2017_sle.csv", where={"outcome": "x"})
