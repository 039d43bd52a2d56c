"""Record-set grammar: prime-key value sets, recnum lists, SQL filters, segment lists."""

import numpy as np
import pytest

from sunpy_jsoc_cutout.testing.catalogue.errors import RecordSetError
from sunpy_jsoc_cutout.testing.catalogue.recordset import (
    KeyFilter,
    RecnumFilter,
    SqlFilter,
    ValueItem,
    evaluate_sql,
    parse_spec,
)


def test_positional_duration_skip_and_segments():
    spec = parse_spec("aia.lev1_euv_12s[2025-01-01T04:33:30.000/1m@12s][171]{image}")
    assert spec.series == "aia.lev1_euv_12s"
    assert spec.filters == [
        KeyFilter(None, (ValueItem("duration", "2025-01-01T04:33:30.000", duration="1m", skip="12s"),)),
        KeyFilter(None, (ValueItem("value", "171"),)),
    ]
    assert spec.segments == ["image"]


def test_empty_brackets_named_keys_lists_and_first_last():
    spec = parse_spec("su_rsb.NOAA_ActiveRegions[][11967]")
    assert spec.filters[0] == KeyFilter(None, ())
    spec = parse_spec("aia.lev1_euv_12s[T_REC=$][WAVELNTH=171,193]{**ALL**}")
    assert spec.filters[0] == KeyFilter("T_REC", (ValueItem("last"),))
    assert [i.start for i in spec.filters[1].items] == ["171", "193"]
    assert spec.segments is None


def test_recnum_lists():
    assert parse_spec("hmi.M_45s[:#5,#10-#12]").filters == [RecnumFilter(((5, 5), (10, 12)))]
    with pytest.raises(RecordSetError):
        parse_spec("hmi.M_45s[:5x]")


def test_sql_filter_with_brackets_inside_quotes_is_one_filter():
    spec = parse_spec("aia.lev1[2014.02.05_08:00/1h][? WAVELNTH = 171 AND T_OBS > '2014.02.05_08:30' ?]{image}")
    assert isinstance(spec.filters[1], SqlFilter)
    assert spec.filters[1].tree[0] == "and"
    assert spec.segments == ["image"]
    appended = parse_spec("aia.lev1[2014.02.05_08:00/1h]{image}[? drms.image_exists(quality) ?]")
    assert appended.segments == ["image"]
    assert appended.filters[1].tree == ("call", "drms.image_exists", (("ident", "quality"),))


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "[x]",
        "hmi.M_45s[2014",
        "hmi.M_45s{image",
        "aia.lev1[? (A=1 ?]",
        "aia.lev1[? A = = 1 ?]",
        "hmi.M_45s[x] junk",
        "hmi.M_45s{a}{b}",
    ],
)
def test_syntax_errors(bad):
    with pytest.raises(RecordSetError):
        parse_spec(bad)


class Ctx:
    """A table of three keywords for evaluating SQL filters."""

    def __init__(self):
        self.cols = {
            "WAVELNTH": np.array([171, 193, 304, 171]),
            "QUALITY": np.array([0, 4, 0, -2147483648]),
            "INSTRUME": np.array(["AIA_3", "AIA_2", "AIA_4", "AIA_3"], dtype=object),
            "T_OBS": np.array([10.0, 20.0, 30.0, 40.0]),
        }
        self.size = 4

    def column(self, name):
        return self.cols.get(name.upper())

    def is_time(self, name):
        return name.upper() == "T_OBS"

    def parse_time(self, text):
        return float(text)

    def image_exists(self):
        return self.cols["QUALITY"] >= 0


def where(text):
    return list(evaluate_sql(parse_spec(f"x[? {text} ?]").filters[0].tree, Ctx()))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WAVELNTH=171", [True, False, False, True]),
        ("WAVELNTH != 171", [False, True, True, False]),
        ("WAVELNTH <> 171", [False, True, True, False]),
        ("WAVELNTH < 200", [True, True, False, True]),
        ("WAVELNTH <= 193", [True, True, False, True]),
        ("WAVELNTH > 193", [False, False, True, False]),
        ("WAVELNTH >= 193", [False, True, True, False]),
        ("WAVELNTH = '304'", [False, False, True, False]),
        ("QUALITY = 0 AND WAVELNTH = 171", [True, False, False, False]),
        ("WAVELNTH = 193 OR WAVELNTH = 304", [False, True, True, False]),
        ("(WAVELNTH = 193 OR WAVELNTH = 171) AND QUALITY >= 0", [True, True, False, False]),
        ("WAVELNTH = 193 OR WAVELNTH = 171 AND QUALITY >= 0", [True, True, False, False]),
        ("NOT WAVELNTH = 171", [False, True, True, False]),
        ("INSTRUME = 'AIA_3'", [True, False, False, True]),
        ("T_OBS >= '25'", [False, False, True, True]),
        ("drms.image_exists(quality)", [True, True, True, False]),
        ("QUALITY >= 0 and drms.image_exists(QUALITY)", [True, True, True, False]),
    ],
)
def test_sql_semantics(text, expected):
    assert where(text) == expected


def test_sql_unknown_keyword_and_function():
    with pytest.raises(RecordSetError):
        where("NOPE = 1")
    with pytest.raises(RecordSetError):
        where("drms.nothing(quality)")
