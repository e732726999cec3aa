"""Reading events over person-time: aliases, the bundled dataset, one-line errors."""

from __future__ import annotations

import pandas as pd
import pytest

import bayesmeta as bm
from bayesmeta.data.datasets import resolve
from bayesmeta.data.rates import is_rate_table, read_rates
from bayesmeta.errors import InputError
from tests.conftest import write_csv


def test_hart_dataset_matches_the_published_table():
    d = read_rates(resolve("hart1999_warfarin"))
    # Hart et al. 1999 (metadat dat.hart1999): strokes 53 warfarin vs 133 control
    assert d.k == 6 and int(d.events_t.sum()) == 53 and int(d.events_c.sum()) == 133
    assert d.exposure_t.tolist()[:2] == [413.0, 263.0]


def test_metafor_column_names_are_recognised():
    frame = pd.DataFrame({"trial": ["A", "B"], "x1i": [1, 0], "t1i": [10.5, 20.0],
                          "x2i": [2, 3], "t2i": [11.0, 19.0]})
    d = read_rates(frame)
    assert d.study == ("A", "B") and d.column_map["exposure_t"] == "t1i"
    assert is_rate_table(frame)
    assert isinstance(bm.load_data(frame), bm.RateData)


@pytest.mark.parametrize("text, fragments", [
    ("study,events_t,exposure_t,events_c,exposure_c\nA,1,0,2,10\nB,1,5,1,5\n",
     ["row 2", "column 'exposure_t'", "greater than 0"]),
    ("study,events_t,exposure_t,events_c,exposure_c\nA,1.5,10,2,10\nB,1,5,1,5\n",
     ["row 2", "column 'events_t'", "whole number"]),
    ("study,events_t,exposure_t,events_c\nA,1,10,2\nB,1,5,1\n",
     ["missing column 'exposure_c'"]),
    ("study,events_t,exposure_t,events_c,exposure_c\nA,1,10,2,10\nA,1,5,1,5\n",
     ["row 3", "repeats row 2"]),
])
def test_bad_rate_files_name_the_cell(tmp_path, text, fragments):
    path = write_csv(tmp_path, text)
    with pytest.raises(InputError) as err:
        read_rates(path)
    message = str(err.value)
    assert "\n" not in message
    for fragment in [str(path), *fragments]:
        assert fragment in message


def test_bundled_rates_are_refused_as_binary():
    with pytest.raises(InputError, match="holds rates data, not binary"):
        bm.load_binary("hart1999_warfarin")


def test_rate_subgroups():
    primary = bm.load_rates("hart1999_warfarin", subgroup="primary",
                            subgroup_column="prevention")
    assert primary.k == 5 and "EAFT" not in primary.study
    with pytest.raises(InputError, match="leaves 1 studies"):
        bm.load_rates("hart1999_warfarin", subgroup="secondary", subgroup_column="prevention")
